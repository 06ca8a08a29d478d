// A known public key that can check note signatures: a "verifier key" of
// c2sp.org/signed-note, encoded as
//
//   <name>+<key ID as 8 hex digits>+<base64(signature type || public key)>
//
// e.g. "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".
// Supported types: Ed25519 note signatures (0x01) and Ed25519 cosignature/v1
// (0x04, c2sp.org/tlog-cosignature). The key ID is an identifier, not a
// fingerprint: anyone can make a key with a colliding ID, which is harmless
// because a verifier is always configured with the full public key.
//
// Immutable; safe to share between threads.
#ifndef CBX_CORE_NOTE_VERIFIER_H_
#define CBX_CORE_NOTE_VERIFIER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/crypto/ed25519.h"
#include "core/note/key_id.h"
#include "core/note/signature.h"

namespace cbx::note {

class Verifier {
 public:
  // Parses a verifier key string. INVALID_ARGUMENT if it is not three
  // '+'-separated fields, the name is invalid, the ID is not 8 hex digits,
  // the key is not canonical base64 of a type byte and a valid 32-byte
  // Ed25519 point, or the ID is not the one the name and key give.
  // UNIMPLEMENTED for a well-formed key of another signature type.
  static absl::StatusOr<Verifier> Parse(std::string_view vkey);

  // The verifier for `public_key` under `name` (INVALID_ARGUMENT if the name
  // is not a valid key name).
  static absl::StatusOr<Verifier> Create(std::string_view name,
                                         SignatureType type,
                                         const crypto::Ed25519PublicKey& key);

  // The verifier key string (Parse(v.Encode()) == v).
  std::string Encode() const;

  // Checks `signature`, which must carry this verifier's name and key ID
  // (else INVALID_ARGUMENT), over the note text `text`. For kEd25519 the
  // signed message is `text`; for kCosignatureV1 the signature is an 8-byte
  // big-endian timestamp (at most 2^63 - 1) and an Ed25519 signature over
  // CosignatureMessage(timestamp, text). UNAUTHENTICATED if it does not verify
  // (including a signature of the wrong length).
  absl::StatusOr<VerifiedSignature> Verify(std::string_view text,
                                           const Signature& signature) const;

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  SignatureType type() const { return type_; }
  const crypto::Ed25519PublicKey& public_key() const { return key_; }

 private:
  Verifier(std::string name, SignatureType type, crypto::Ed25519PublicKey key);

  std::string name_;
  SignatureType type_;
  crypto::Ed25519PublicKey key_;
  uint32_t key_id_;
};

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_VERIFIER_H_
