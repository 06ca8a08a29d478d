// Ed25519 checkpoint cosignatures, cosignature/v1 (c2sp.org/tlog-cosignature).
//
// A cosignature is a note signature line on a checkpoint by a cosigner
// (witness) key, signature type 0x04, whose signature bytes are
//
//   8-byte big-endian timestamp || Ed25519 signature (64 bytes)
//
// over the message
//
//   "cosignature/v1\n" "time " <timestamp, decimal> "\n" <checkpoint text>
//
// It states that, as of that POSIX time, the checkpoint is the largest tree
// the cosigner has seen for that origin that is consistent with everything
// it saw before. The message does not name the cosigner, so one Ed25519 key
// must serve only one cosigner identity. Verification is Verifier::Verify
// with a kCosignatureV1 verifier.
#ifndef CBX_CORE_NOTE_COSIGNATURE_H_
#define CBX_CORE_NOTE_COSIGNATURE_H_

#include <cstddef>
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

inline constexpr size_t kCosignatureTimestampSize = 8;
// The spec caps timestamps at 2^63 - 1.
inline constexpr uint64_t kMaxCosignatureTimestamp = (uint64_t{1} << 63) - 1;

// The signed message for `timestamp` and the checkpoint note text `text`.
std::string CosignatureMessage(uint64_t timestamp, std::string_view text);

// A named cosigner key. Immutable; Cosign may run on several threads.
class Cosigner {
 public:
  // INVALID_ARGUMENT if `name` is not a valid key name.
  static absl::StatusOr<Cosigner> Create(std::string_view name,
                                         crypto::Ed25519PrivateKey key);
  // The same with a key wherever it is kept (core/crypto/signer.h), shared
  // with the caller.
  static absl::StatusOr<Cosigner> Create(
      std::string_view name, std::shared_ptr<const crypto::Signer> signer);

  // Cosigns the checkpoint note text `checkpoint_text` at `timestamp`.
  // INVALID_ARGUMENT if the text is not a valid checkpoint (ParseCheckpoint)
  // or the timestamp exceeds kMaxCosignatureTimestamp. Checking that the
  // checkpoint is consistent with what this cosigner signed before is the
  // caller's duty: that check is what a cosignature vouches for. The
  // signer's error if it cannot sign (a token).
  absl::StatusOr<Signature> Cosign(std::string_view checkpoint_text,
                                   uint64_t timestamp) const;

  const std::string& name() const { return verifier_.name(); }
  uint32_t key_id() const { return verifier_.key_id(); }
  // The matching kCosignatureV1 verifier.
  const Verifier& verifier() const { return verifier_; }

 private:
  Cosigner(std::shared_ptr<const crypto::Signer> signer, Verifier verifier)
      : signer_(std::move(signer)), verifier_(std::move(verifier)) {}

  std::shared_ptr<const crypto::Signer> signer_;
  Verifier verifier_;
};

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_COSIGNATURE_H_
