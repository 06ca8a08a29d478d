#include "core/identifiers/text.h"

#include <cstdio>

#include "core/identifiers/identifiers.h"

namespace cbx::identifiers::internal {

bool DecodeUtf8(std::string_view s, size_t* pos, char32_t* cp) {
  size_t i = *pos;
  if (i >= s.size()) return false;
  unsigned char b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    *pos = i + 1;
    return true;
  }
  size_t len;
  char32_t value;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < len) return false;
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return false;
  }
  *cp = value;
  *pos = i + len;
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsTrimmedSpace(char32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x00A0 ||
         cp == 0x2007 || cp == 0x202F;
}

bool IsInvisibleFormat(char32_t cp) {
  return (cp >= 0x200B && cp <= 0x200F) ||  // ZWSP, ZWNJ, ZWJ, LRM, RLM
         (cp >= 0x202A && cp <= 0x202E) ||  // bidi embeddings/overrides
         cp == 0x2060 ||                    // word joiner
         (cp >= 0x2066 && cp <= 0x2069) ||  // bidi isolates
         cp == 0xFEFF;                      // byte order mark
}

bool IsControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

namespace {

std::string CodePointName(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

bool IsShownEscaped(char32_t cp) {
  return IsControl(cp) || IsInvisibleFormat(cp) ||
         (IsTrimmedSpace(cp) && cp != ' ') || cp == 0x3000;
}

}  // namespace

std::string DescribeCodePoint(char32_t cp) {
  if (IsShownEscaped(cp)) return CodePointName(cp);
  std::string out = "'";
  AppendUtf8(out, cp);
  out += "'";
  if (cp >= 0x80) out += " (" + CodePointName(cp) + ")";
  return out;
}

std::string Quote(std::string_view value) {
  constexpr size_t kMaxShown = 64;
  std::string out = "'";
  size_t pos = 0;
  size_t shown = 0;
  while (pos < value.size()) {
    if (shown == kMaxShown) {
      out += "...";
      break;
    }
    char32_t cp;
    if (!DecodeUtf8(value, &pos, &cp)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "<0x%02X>",
                    static_cast<unsigned char>(value[pos]));
      out += buf;
      ++pos;
    } else if (IsShownEscaped(cp)) {
      out += "<" + CodePointName(cp) + ">";
    } else {
      AppendUtf8(out, cp);
    }
    ++shown;
  }
  out += "'";
  return out;
}

absl::Status Refuse(std::string_view type_name, std::string_view value,
                    std::string_view reason) {
  std::string message(type_name);
  message += ": ";
  message += Quote(value);
  message += " ";
  message += reason;
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<std::string> Clean(std::string_view type_name,
                                  std::string_view value) {
  if (value.size() > kMaxValueSize) {
    return Refuse(type_name, value,
                  "is " + std::to_string(value.size()) +
                      " bytes long; no identifier is longer than " +
                      std::to_string(kMaxValueSize));
  }
  // Valid UTF-8, without invisible formatting characters.
  std::u32string cps;
  size_t pos = 0;
  while (pos < value.size()) {
    char32_t cp;
    if (!DecodeUtf8(value, &pos, &cp)) {
      return Refuse(type_name, value,
                    "is not valid UTF-8 text (byte " + std::to_string(pos) +
                        "); retype the value");
    }
    if (!IsInvisibleFormat(cp)) cps.push_back(cp);
  }
  // Trim.
  size_t begin = 0, end = cps.size();
  while (begin < end && IsTrimmedSpace(cps[begin])) ++begin;
  while (end > begin && IsTrimmedSpace(cps[end - 1])) --end;
  if (begin == end) return Refuse(type_name, value, "is empty");
  std::string cleaned;
  for (size_t i = begin; i < end; ++i) {
    if (IsControl(cps[i])) {
      return Refuse(type_name, value,
                    "contains the control character " +
                        DescribeCodePoint(cps[i]) +
                        "; enter the value on one line, as plain text");
    }
    AppendUtf8(cleaned, cps[i]);
  }
  return cleaned;
}

std::optional<char32_t> FirstNonAscii(std::string_view s) {
  size_t pos = 0;
  char32_t cp;
  while (DecodeUtf8(s, &pos, &cp)) {
    if (cp >= 0x80) return cp;
  }
  return std::nullopt;
}

std::optional<char32_t> FirstSpace(std::string_view s) {
  size_t pos = 0;
  char32_t cp;
  while (DecodeUtf8(s, &pos, &cp)) {
    if (IsTrimmedSpace(cp) || cp == 0x3000) return cp;
  }
  return std::nullopt;
}

bool AllAsciiDigits(std::string_view s) {
  for (char c : s) {
    if (!IsAsciiDigit(c)) return false;
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (IsAsciiUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (IsAsciiUpper(c)) c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

std::string_view TrimAsciiSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string_view StripLeadingZeros(std::string_view digits) {
  while (!digits.empty() && digits.front() == '0') digits.remove_prefix(1);
  return digits;
}

bool DecimalAtMost(std::string_view digits, std::string_view max) {
  if (digits.size() != max.size()) return digits.size() < max.size();
  return digits <= max;
}

}  // namespace cbx::identifiers::internal
