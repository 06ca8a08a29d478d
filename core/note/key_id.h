// Signature types and key IDs of c2sp.org/signed-note.
//
//   key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]
//
// read as a big-endian uint32. The (name, key ID) pair names a key and its
// algorithm; the ID is an identifier, not a fingerprint (see verifier.h).
#ifndef CBX_CORE_NOTE_KEY_ID_H_
#define CBX_CORE_NOTE_KEY_ID_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace cbx::note {

// The signature types cbx uses. Others (ECDSA 0x02, RFC 6962 0x05, ML-DSA
// 0x06, ...) are recognised by the parsers only as "unsupported".
enum class SignatureType : uint8_t {
  kEd25519 = 0x01,        // a note signature over the note text
  kCosignatureV1 = 0x04,  // c2sp.org/tlog-cosignature, Ed25519, timestamped
};

// The key ID of the key `public_key` named `name` for signature `type`.
uint32_t KeyId(std::string_view name, SignatureType type,
               std::string_view public_key);

// Parses a key ID written as exactly 8 hex digits (either case), as in
// verifier keys. INVALID_ARGUMENT otherwise.
absl::StatusOr<uint32_t> ParseKeyIdHex(std::string_view hex);

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_KEY_ID_H_
