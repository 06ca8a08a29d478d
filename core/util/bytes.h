// Byte strings and their text encodings.
//
// cbx carries binary values as std::string (as protobuf does for `bytes`), so
// values move between the wire and the library without copies or casts.
#ifndef CBX_CORE_UTIL_BYTES_H_
#define CBX_CORE_UTIL_BYTES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cbx {

using Bytes = std::string;

// Lower-case hex of `data`.
std::string HexEncode(std::string_view data);
// Parses hex (either case, even length). INVALID_ARGUMENT otherwise.
absl::StatusOr<Bytes> HexDecode(std::string_view hex);

// Standard base64 (RFC 4648 section 4) with padding.
std::string Base64Encode(std::string_view data);
// Parses standard padded base64; INVALID_ARGUMENT on any other input.
absl::StatusOr<Bytes> Base64Decode(std::string_view text);

// Big-endian fixed-width integer encodings (RFC 8017 I2OSP for small widths).
void AppendUint16BE(Bytes& out, uint16_t v);
void AppendUint32BE(Bytes& out, uint32_t v);
void AppendUint64BE(Bytes& out, uint64_t v);
uint64_t ReadUint64BE(std::string_view in);  // in.size() must be >= 8

// Constant-time comparison of two byte strings of public length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace cbx

#endif  // CBX_CORE_UTIL_BYTES_H_
