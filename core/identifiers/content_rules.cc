// Normalization of content hashes (spec/identifiers.md, "content_sha256").
#include <string>
#include <string_view>

#include "core/identifiers/rules.h"
#include "core/identifiers/text.h"

namespace cbx::identifiers::internal {
namespace {

constexpr std::string_view kContent = "content_sha256";
constexpr size_t kSha256HexSize = 64;

// What a hex string of the wrong length most likely is.
std::string_view LengthHint(size_t n) {
  switch (n) {
    case 32:
      return ": is this an MD5?";
    case 40:
      return ": is this a SHA-1?";
    case 56:
      return ": is this a SHA-224?";
    case 96:
      return ": is this a SHA-384?";
    case 128:
      return ": is this a SHA-512?";
    default:
      return "";
  }
}

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (!IsAsciiHex(c)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> NormalizeContentSha256(std::string_view value) {
  std::string_view s = value;
  if (StartsWithNoCase(s, "sha256:")) {
    s.remove_prefix(7);
  } else if (StartsWithNoCase(s, "sha-256:")) {
    s.remove_prefix(8);
  }
  s = TrimAsciiSpaces(s);
  if (s.empty()) return Refuse(kContent, value, "has no hash after 'sha256:'");

  if (FirstSpace(s).has_value()) {
    // sha256sum prints "<hash>  <file name>".
    size_t space = s.find_first_of(" \t");
    if (space == kSha256HexSize && AllHex(s.substr(0, space))) {
      return Refuse(kContent, value,
                    "has other text (a file name?) after the hash; enter only "
                    "the 64 hex digits");
    }
    return Refuse(kContent, value,
                  "contains a space; enter the 64 hex digits without spaces");
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsAsciiHex(s[i])) continue;
    if (s.size() == 44 && s.back() == '=') {
      return Refuse(kContent, value,
                    "looks like base64; enter the SHA-256 as 64 hex digits");
    }
    size_t pos = i;
    char32_t cp;
    DecodeUtf8(s, &pos, &cp);  // Clean() guarantees valid UTF-8
    return Refuse(kContent, value,
                  "contains " + DescribeCodePoint(cp) +
                      ", which is not a hex digit; expected 64 hex digits "
                      "(0-9, a-f)");
  }
  if (s.size() != kSha256HexSize) {
    return Refuse(kContent, value,
                  "is not a SHA-256: expected 64 hex digits, got " +
                      std::to_string(s.size()) +
                      std::string(LengthHint(s.size())));
  }
  return AsciiLower(s);
}

}  // namespace cbx::identifiers::internal
