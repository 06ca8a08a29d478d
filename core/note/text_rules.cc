#include "core/note/text_rules.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace cbx::note {
namespace {

// Decodes one UTF-8 sequence at `text[*pos]` into `*cp` and advances `*pos`.
// False on any invalid sequence (RFC 3629).
bool DecodeUtf8(std::string_view text, size_t* pos, char32_t* cp) {
  const auto byte = [&](size_t i) {
    return static_cast<uint8_t>(text[*pos + i]);
  };
  const uint8_t b0 = byte(0);
  size_t len;
  char32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    *pos += 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return false;
  }
  if (text.size() - *pos < len) return false;
  for (size_t i = 1; i < len; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (byte(i) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    return false;
  }
  *pos += len;
  return true;
}

// Unicode White_Space, as Go's unicode.IsSpace (which the reference note
// implementation, golang.org/x/mod/sumdb/note, uses for key names).
bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

absl::Status CheckNoteCharacters(std::string_view text, std::string_view what) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    char32_t cp;
    if (!DecodeUtf8(text, &pos, &cp)) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(what), " is not valid UTF-8 at byte ", at));
    }
    if (cp < 0x20 && cp != '\n') {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(what), " has a control character at byte ", at));
    }
  }
  return absl::OkStatus();
}

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  size_t pos = 0;
  while (pos < name.size()) {
    char32_t cp;
    if (!DecodeUtf8(name, &pos, &cp)) return false;
    if (cp < 0x20 || cp == '+' || IsUnicodeSpace(cp)) return false;
  }
  return true;
}

}  // namespace cbx::note
