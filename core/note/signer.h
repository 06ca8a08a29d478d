// A named Ed25519 key that signs notes (signature type 0x01): the node's
// checkpoint key, whose name is the log origin "cbx/<CC>/audit".
//
// Immutable; Sign may be called from several threads at once.
#ifndef CBX_CORE_NOTE_SIGNER_H_
#define CBX_CORE_NOTE_SIGNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/signer.h"
#include "core/note/signature.h"
#include "core/note/verifier.h"

namespace cbx::note {

class NoteSigner {
 public:
  // INVALID_ARGUMENT if `name` is not a valid key name.
  static absl::StatusOr<NoteSigner> Create(std::string_view name,
                                           crypto::Ed25519PrivateKey key);
  // The same with a key wherever it is kept (core/crypto/signer.h), shared
  // with the caller.
  static absl::StatusOr<NoteSigner> Create(
      std::string_view name, std::shared_ptr<const crypto::Signer> signer);

  // Parses golang.org/x/mod/sumdb/note's private key string,
  // "PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>" (not
  // part of the C2SP spec; used by Go tooling and test vectors).
  // INVALID_ARGUMENT if malformed or if the ID is not the derived key's;
  // UNIMPLEMENTED for another algorithm byte.
  static absl::StatusOr<NoteSigner> FromGoPrivateKey(std::string_view skey);

  // The Go private key string for this key. Secret. Empty for a key that
  // is not held in memory (a token's never leaves it).
  std::string EncodeGoPrivateKey() const;

  // Signs the note text `text`. INVALID_ARGUMENT unless it is a valid note
  // text: non-empty, ending in a newline, valid UTF-8 without control
  // characters other than newline, and at most kMaxNoteSize bytes; the
  // signer's error if it cannot sign (a token).
  absl::StatusOr<Signature> Sign(std::string_view text) const;

  const std::string& name() const { return verifier_.name(); }
  uint32_t key_id() const { return verifier_.key_id(); }
  // The matching verifier, for publishing as a verifier key string.
  const Verifier& verifier() const { return verifier_; }

 private:
  NoteSigner(std::shared_ptr<const crypto::Signer> signer, Verifier verifier)
      : signer_(std::move(signer)), verifier_(std::move(verifier)) {}

  std::shared_ptr<const crypto::Signer> signer_;
  Verifier verifier_;
};

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_SIGNER_H_
