// Text helpers shared by the normalization rules: UTF-8 decoding, the steps
// common to every type, ASCII predicates and the wording of refusals.
// Internal to core/identifiers; not part of its API.
#ifndef CBX_CORE_IDENTIFIERS_TEXT_H_
#define CBX_CORE_IDENTIFIERS_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cbx::identifiers::internal {

// Decodes the UTF-8 code point starting at s[*pos] into *cp and advances
// *pos past it. Strict (RFC 3629): false, leaving *pos unchanged, on a
// truncated or overlong sequence, a surrogate or a value above U+10FFFF.
bool DecodeUtf8(std::string_view s, size_t* pos, char32_t* cp);

// Appends the UTF-8 encoding of a valid code point.
void AppendUtf8(std::string& out, char32_t cp);

// Whitespace trimmed from both ends of every value: ASCII space, tab, LF,
// VT, FF, CR, and the no-break spaces word processors put into numbers
// (U+00A0, U+2007, U+202F).
bool IsTrimmedSpace(char32_t cp);

// Invisible formatting characters that copy and paste brings along (zero
// width spaces and joiners, direction marks and embeddings, word joiner,
// byte order mark). No normalized value contains them, so they are removed
// wherever they appear.
bool IsInvisibleFormat(char32_t cp);

// C0 controls, DEL and C1 controls.
bool IsControl(char32_t cp);

// How a refusal names a character: "'é' (U+00E9)" for a visible one,
// "U+0009" for an invisible one.
std::string DescribeCodePoint(char32_t cp);

// The value as quoted in a refusal: between single quotes, controls and
// invisible characters written as <U+XXXX>, malformed bytes as <0xNN>, and
// cut after 64 characters.
std::string Quote(std::string_view value);

// INVALID_ARGUMENT "<type_name>: '<value>' <reason>".
absl::Status Refuse(std::string_view type_name, std::string_view value,
                    std::string_view reason);

// The steps every type shares (spec/identifiers.md, "Common steps"): size
// limit, UTF-8 validity, removal of invisible formatting characters,
// trimming, emptiness and controls. Returns the cleaned value or a refusal
// worded with `type_name`.
absl::StatusOr<std::string> Clean(std::string_view type_name,
                                  std::string_view value);

// The first code point of `s` outside ASCII, if any. `s` must be valid
// UTF-8 (as Clean's output is).
std::optional<char32_t> FirstNonAscii(std::string_view s);

// The first code point of `s` that is whitespace (IsTrimmedSpace, or U+3000
// ideographic space), if any.
std::optional<char32_t> FirstSpace(std::string_view s);

inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsAsciiAlpha(char c) { return IsAsciiLower(c) || IsAsciiUpper(c); }
inline bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
inline bool IsAsciiHex(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool AllAsciiDigits(std::string_view s);  // true for ""

// ASCII lower-casing; other bytes unchanged.
std::string AsciiLower(std::string_view s);

// Whether `s` starts with the lower-case ASCII `prefix`, ignoring ASCII case.
bool StartsWithNoCase(std::string_view s, std::string_view prefix);

// Strips ASCII spaces from both ends.
std::string_view TrimAsciiSpaces(std::string_view s);

// Canonical decimal of a string of ASCII digits: leading zeros removed, ""
// for zero. `digits` must be non-empty and all digits.
std::string_view StripLeadingZeros(std::string_view digits);

// Whether canonical decimal digits (no leading zeros) are <= `max`, given
// as canonical decimal too.
bool DecimalAtMost(std::string_view digits, std::string_view max);

inline constexpr std::string_view kInt64MaxDecimal = "9223372036854775807";

}  // namespace cbx::identifiers::internal

#endif  // CBX_CORE_IDENTIFIERS_TEXT_H_
