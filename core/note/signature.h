// One signature line of a signed note (c2sp.org/signed-note):
//
//   U+2014 (em dash) SP key-name SP base64(4-byte key ID || signature) LF
#ifndef CBX_CORE_NOTE_SIGNATURE_H_
#define CBX_CORE_NOTE_SIGNATURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/note/key_id.h"
#include "core/util/bytes.h"

namespace cbx::note {

// A signature line, parsed but not verified.
struct Signature {
  std::string name;
  uint32_t key_id = 0;
  Bytes signature;  // the bytes after the key ID (algorithm-specific)

  friend bool operator==(const Signature&, const Signature&) = default;
};

// A signature a known key has checked.
struct VerifiedSignature {
  std::string name;
  uint32_t key_id = 0;
  SignatureType type = SignatureType::kEd25519;
  // The cosignature's POSIX time, for SignatureType::kCosignatureV1 only.
  std::optional<uint64_t> timestamp;

  friend bool operator==(const VerifiedSignature&,
                         const VerifiedSignature&) = default;
};

// "— <name> <base64(key ID || signature)>\n". Does not validate the name;
// FormatNote does.
std::string FormatSignatureLine(const Signature& signature);

// Parses one signature line given without its final newline.
// INVALID_ARGUMENT unless it is the em dash and a space, a valid key name,
// one space, and canonical padded base64 of at least 5 bytes.
absl::StatusOr<Signature> ParseSignatureLine(std::string_view line);

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_SIGNATURE_H_
