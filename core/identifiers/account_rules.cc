// Normalization of phone numbers, e-mail addresses and handles on other
// platforms (spec/identifiers.md, "phone", "email", "platform_handle").
#include <string>
#include <string_view>
#include <vector>

#include "core/identifiers/rules.h"
#include "core/identifiers/text.h"

namespace cbx::identifiers::internal {
namespace {

constexpr std::string_view kPhone = "phone";
constexpr std::string_view kEmail = "email";
constexpr std::string_view kHandle = "platform_handle";

// E.164 allows at most 15 digits. The shortest numbers in use have 7 (Niue
// +683 and Tokelau +690, 4-digit subscriber numbers).
constexpr size_t kMinPhoneDigits = 7;
constexpr size_t kMaxPhoneDigits = 15;

// Characters people write between the digits of a phone number: spaces
// (including the no-break spaces word processors insert), hyphens and
// dashes, dots, parentheses and the slash common in ex-Yugoslav notation
// ("070/123-456").
bool IsPhoneSeparator(char32_t cp) {
  return cp == ' ' || cp == 0x00A0 || cp == 0x2007 || cp == 0x202F ||
         cp == 0x3000 || cp == '-' || (cp >= 0x2010 && cp <= 0x2013) ||
         cp == 0x2212 || cp == '.' || cp == '(' || cp == ')' || cp == '/';
}

// Country codes of the region and of the countries its offices most often
// meet whose numbering plans use a national trunk prefix 0 that is dropped
// in international form, so that no number under them starts with 0:
// "+389 070 ..." is a mistake for "+389 70 ...", and accepting it would make
// the same number two identifiers. (Not so everywhere: Italian numbers keep
// their 0 after +39, so the check cannot be universal.) E.164 country codes
// are prefix-free, so at most one entry matches.
std::string_view TrunkZeroCountryCode(std::string_view digits) {
  static constexpr std::string_view kCodes[] = {
      "355", "381", "382", "383", "385", "386", "387", "389",  // W. Balkans
      "359", "40",                                             // neighbours
      "31",  "32",  "33",  "41",  "43",  "44",  "46",  "49",  "90"};
  for (std::string_view cc : kCodes) {
    if (digits.size() > cc.size() && digits.starts_with(cc) &&
        digits[cc.size()] == '0') {
      return cc;
    }
  }
  return "";
}

std::string Count(size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// The digits of the phone number `s` and a leading '+': separators and a
// "(0)" trunk prefix written after the country code ("+44 (0)20 ...")
// dropped, anything else refused. `value` is what the office typed.
absl::StatusOr<std::string> CompactPhone(std::string_view s,
                                         std::string_view value) {
  std::string compact;
  size_t pos = 0;
  while (pos < s.size()) {
    if (!compact.empty() && s.substr(pos, 3) == "(0)") {
      pos += 3;
      continue;
    }
    char32_t cp;
    DecodeUtf8(s, &pos, &cp);  // Clean() guarantees valid UTF-8
    if (cp < 0x80 && IsAsciiDigit(static_cast<char>(cp))) {
      compact.push_back(static_cast<char>(cp));
    } else if (cp == '+') {
      if (!compact.empty()) {
        return Refuse(kPhone, value,
                      "has a '+' that is not at the start; enter one number, "
                      "starting with '+' and the country code");
      }
      compact.push_back('+');
    } else if (IsPhoneSeparator(cp)) {
      continue;
    } else if (cp < 0x80 && IsAsciiAlpha(static_cast<char>(cp))) {
      return Refuse(kPhone, value,
                    "contains the letter " + DescribeCodePoint(cp) +
                        "; write the number with digits only (no extension, "
                        "no letters)");
    } else {
      return Refuse(kPhone, value,
                    "contains " + DescribeCodePoint(cp) +
                        ", which is not part of a phone number");
    }
  }
  if (compact.empty() || compact == "+") {
    return Refuse(kPhone, value, "has no digits");
  }
  return compact;
}

// How the offices of one member write their own country's numbers in
// national form: the country code and the national trunk prefix they drop
// for the international form ("0"; Hungary's is "06"), or keep (Italy).
// Members whose numbers have no trunk prefix (Czechia, Denmark, Estonia,
// Greece, Cyprus, Latvia, Luxembourg, Malta, Poland, Portugal, Spain) and
// Lithuania (prefix changed in 2025) are left out: their offices get the
// general hint, never a guess.
struct HomeNumbering {
  std::string_view member;
  std::string_view country_code;
  std::string_view country;  // "a number from <country>"
  std::string_view trunk_prefix;
  bool keeps_trunk_prefix = false;
};

constexpr HomeNumbering kHomeNumbering[] = {
    {"AL", "355", "Albania", "0"},
    {"AT", "43", "Austria", "0"},
    {"BA", "387", "Bosnia and Herzegovina", "0"},
    {"BE", "32", "Belgium", "0"},
    {"BG", "359", "Bulgaria", "0"},
    {"DE", "49", "Germany", "0"},
    {"FI", "358", "Finland", "0"},
    {"FR", "33", "France", "0"},
    {"HR", "385", "Croatia", "0"},
    {"HU", "36", "Hungary", "06"},
    {"IE", "353", "Ireland", "0"},
    {"IT", "39", "Italy", "0", /*keeps_trunk_prefix=*/true},
    {"ME", "382", "Montenegro", "0"},
    {"MK", "389", "North Macedonia", "0"},
    {"NL", "31", "the Netherlands", "0"},
    {"RO", "40", "Romania", "0"},
    {"RS", "381", "Serbia", "0"},
    {"SE", "46", "Sweden", "0"},
    {"SI", "386", "Slovenia", "0"},
    {"SK", "421", "Slovakia", "0"},
    {"XK", "383", "Kosovo", "0"},
};

// The refusal of a number in national form (`compact` starts with 0), with
// the fix for `home_member`'s own country when its offices' national form
// is known and `compact` starts with its trunk prefix, the general fix
// otherwise. `s` is the number as written, `value` what the office typed.
absl::Status RefuseNationalForm(std::string_view compact, std::string_view s,
                                std::string_view value,
                                std::string_view home_member) {
  for (const HomeNumbering& home : kHomeNumbering) {
    if (home.member != home_member || !compact.starts_with(home.trunk_prefix)) {
      continue;
    }
    // The number as written, without the trunk prefix's digits.
    std::string national(TrimAsciiSpaces(s));
    if (!home.keeps_trunk_prefix) {
      for (char digit : home.trunk_prefix) {
        national.erase(national.find(digit), 1);
      }
      national = std::string(TrimAsciiSpaces(national));
    }
    std::string fix = "has no country code; write it as +";
    fix += home.country_code;
    fix += " " + national + " if it is a number from ";
    fix += home.country;
    fix += ": '+', the country code, then the number ";
    fix += home.keeps_trunk_prefix ? "with" : "without";
    fix += " its leading ";
    fix += home.trunk_prefix;
    return Refuse(kPhone, value, fix);
  }
  return Refuse(kPhone, value,
                "has no country code; write '+' and the country code, then "
                "the number as dialled from abroad (in most countries without "
                "its leading 0)");
}

// The digits after the international prefix ('+' or "00") of `compact`,
// checked: a country code, no trunk 0 after it, 7 to 15 digits. `s` is
// the number as written (for the hint), `value` what the office typed.
absl::StatusOr<std::string_view> InternationalDigits(
    std::string_view compact, std::string_view s, std::string_view value,
    std::string_view home_member) {
  std::string_view digits;
  if (compact.front() == '+') {
    digits = compact.substr(1);
  } else if (compact.starts_with("00")) {
    digits = compact.substr(2);
  } else if (compact.front() == '0') {
    return RefuseNationalForm(compact, s, value, home_member);
  } else {
    return Refuse(kPhone, value,
                  "has no '+' or '00' before the country code; if it starts "
                  "with the country code write +" +
                      std::string(compact) +
                      ", otherwise add '+' and the country code");
  }
  if (digits.empty()) {
    return Refuse(kPhone, value,
                  "has no digits after the international prefix");
  }
  if (digits.front() == '0') {
    return Refuse(kPhone, value,
                  "has a 0 right after the international prefix; country "
                  "codes never start with 0 (write +389 70 123 456, not "
                  "+00389 70 123 456)");
  }
  if (std::string_view cc = TrunkZeroCountryCode(digits); !cc.empty()) {
    return Refuse(kPhone, value,
                  "has a 0 after the country code +" + std::string(cc) +
                      "; that 0 is dialled only inside the country: write +" +
                      std::string(cc) + " " +
                      std::string(digits.substr(cc.size() + 1)));
  }
  if (digits.size() < kMinPhoneDigits || digits.size() > kMaxPhoneDigits) {
    return Refuse(kPhone, value,
                  "has " + Count(digits.size(), "digit") +
                      " after the international prefix; an international "
                      "number has 7 to 15, country code included");
  }
  return digits;
}

// Refuses an address with a space or a non-ASCII character, saying where.
absl::Status CheckEmailCharacters(std::string_view s, std::string_view value) {
  if (FirstSpace(s).has_value()) {
    return Refuse(kEmail, value,
                  "contains a space; enter only the address, e.g. "
                  "name@example.com");
  }
  if (std::optional<char32_t> cp = FirstNonAscii(s); cp.has_value()) {
    size_t first = 0;
    while (static_cast<unsigned char>(s[first]) < 0x80) ++first;
    size_t at = s.find('@');
    if (at != std::string_view::npos && first > at) {
      return Refuse(kEmail, value,
                    "has " + DescribeCodePoint(*cp) +
                        " in its domain; write the domain in its punycode "
                        "form (xn--...), as the mail provider shows it");
    }
    return Refuse(kEmail, value,
                  "contains " + DescribeCodePoint(*cp) +
                      " before the '@'; addresses that are not ASCII there "
                      "cannot be entered (only a domain has an ASCII "
                      "punycode form)");
  }
  return absl::OkStatus();
}

// The part before '@' (lower-cased already).
absl::Status CheckEmailLocalPart(std::string_view local,
                                 std::string_view value) {
  if (local.empty()) return Refuse(kEmail, value, "has nothing before '@'");
  for (char c : local) {
    if (std::string_view("()<>[]\\,;:\"").find(c) != std::string_view::npos) {
      return Refuse(kEmail, value,
                    "contains '" + std::string(1, c) +
                        "'; enter only the address, e.g. name@example.com");
    }
  }
  if (local.size() > 64) {
    return Refuse(kEmail, value,
                  "has " + Count(local.size(), "character") +
                      " before '@'; an address has at most 64 there");
  }
  return absl::OkStatus();
}

// One label of the domain (between dots).
absl::Status CheckDomainLabel(std::string_view label, std::string_view value) {
  if (label.empty()) {
    return Refuse(kEmail, value,
                  "has an empty part in its domain ('..' or a '.' right "
                  "after '@')");
  }
  for (char c : label) {
    if (!IsAsciiLower(c) && !IsAsciiDigit(c) && c != '-') {
      return Refuse(kEmail, value,
                    "has '" + std::string(1, c) +
                        "' in its domain; a domain has only letters, "
                        "digits, '-' and '.'");
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return Refuse(kEmail, value,
                  "has a domain part starting or ending with '-'");
  }
  if (label.size() > 63) {
    return Refuse(kEmail, value, "has a domain part longer than 63 characters");
  }
  return absl::OkStatus();
}

// The domain (lower-cased, without a final dot): a host name of at least
// two labels, no IP address.
absl::Status CheckEmailDomain(std::string_view domain, std::string_view value) {
  if (domain.empty()) return Refuse(kEmail, value, "has nothing after '@'");
  if (domain.front() == '[') {
    return Refuse(kEmail, value,
                  "has an IP address as its domain, which is not supported");
  }
  size_t labels = 0;
  std::string_view rest = domain;
  while (true) {
    size_t dot = rest.find('.');
    ++labels;
    if (absl::Status s = CheckDomainLabel(rest.substr(0, dot), value);
        !s.ok()) {
      return s;
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2) {
    return Refuse(kEmail, value,
                  "has a domain without a '.'; enter the full domain, e.g. "
                  "name@example.com");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizePhone(std::string_view value,
                                           std::string_view home_member) {
  std::string_view s = value;
  if (StartsWithNoCase(s, "tel:")) s = TrimAsciiSpaces(s.substr(4));
  absl::StatusOr<std::string> compact = CompactPhone(s, value);
  if (!compact.ok()) return compact.status();
  absl::StatusOr<std::string_view> digits =
      InternationalDigits(*compact, s, value, home_member);
  if (!digits.ok()) return digits.status();
  return "+" + std::string(*digits);
}

absl::StatusOr<std::string> NormalizeEmail(std::string_view value) {
  std::string_view s = value;
  if (StartsWithNoCase(s, "mailto:")) s.remove_prefix(7);
  if (absl::Status st = CheckEmailCharacters(s, value); !st.ok()) return st;
  std::string address = AsciiLower(s);
  size_t at = address.find('@');
  if (at == std::string::npos) {
    return Refuse(kEmail, value, "has no '@'");
  }
  if (address.find('@', at + 1) != std::string::npos) {
    return Refuse(kEmail, value, "has more than one '@'; enter one address");
  }
  std::string_view local = std::string_view(address).substr(0, at);
  std::string_view domain = std::string_view(address).substr(at + 1);
  if (absl::Status st = CheckEmailLocalPart(local, value); !st.ok()) return st;
  // A final dot is either the root of a fully qualified domain or the full
  // stop of a sentence the address was copied from; both mean the same
  // address.
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (absl::Status st = CheckEmailDomain(domain, value); !st.ok()) return st;
  std::string normalized = std::string(local) + "@" + std::string(domain);
  if (domain.size() > 253 || normalized.size() > 254) {
    return Refuse(kEmail, value,
                  "is longer than an e-mail address can be (254 characters)");
  }
  return normalized;
}

absl::StatusOr<std::string> NormalizePlatformHandle(std::string_view value) {
  size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    return Refuse(kHandle, value,
                  "has no ':'; write it as platform:handle, e.g. "
                  "instagram:some.user");
  }
  std::string platform = AsciiLower(TrimAsciiSpaces(value.substr(0, colon)));
  std::string_view handle = TrimAsciiSpaces(value.substr(colon + 1));
  if (platform == "http" || platform == "https" || handle.starts_with("//")) {
    return Refuse(kHandle, value,
                  "is a link; write it as platform:handle, e.g. "
                  "instagram:some.user for instagram.com/some.user");
  }
  if (platform.empty()) {
    return Refuse(kHandle, value,
                  "has no platform before ':'; write it as platform:handle, "
                  "e.g. instagram:some.user");
  }
  size_t pos = 0;
  while (pos < platform.size()) {
    char32_t cp;
    DecodeUtf8(platform, &pos, &cp);
    if (cp < 0x80 &&
        (IsAsciiLower(static_cast<char>(cp)) ||
         IsAsciiDigit(static_cast<char>(cp)) || cp == '.' || cp == '-')) {
      continue;
    }
    return Refuse(
        kHandle, value,
        "has a platform name containing " +
            (cp == ' ' ? std::string("a space") : DescribeCodePoint(cp)) +
            "; platform names use only a-z, 0-9, '.' and '-' "
            "(e.g. instagram, tiktok, x)");
  }
  // Other names of the same platforms. Part of the rule: adding an alias
  // later changes the OPRF input of values already indexed under it.
  if (platform == "twitter") platform = "x";
  if (platform == "ig") platform = "instagram";
  if (platform == "fb") platform = "facebook";
  if (platform == "vkontakte") platform = "vk";
  if (platform == "telegram" || platform == "tg" || platform == "t.me" ||
      platform == "telegram.me") {
    return Refuse(kHandle, value,
                  "names Telegram, which has its own types: enter it as "
                  "telegram_username, telegram_user_id or telegram_chat");
  }
  if (!handle.empty() && handle.front() == '@') handle.remove_prefix(1);
  if (handle.empty()) {
    return Refuse(kHandle, value, "has no handle after ':'");
  }
  if (FirstSpace(handle).has_value()) {
    return Refuse(kHandle, value,
                  "has a handle containing a space; enter the handle (the "
                  "name in the profile's address), not the display name");
  }
  if (std::optional<char32_t> cp = FirstNonAscii(handle); cp.has_value()) {
    return Refuse(kHandle, value,
                  "has a handle containing " + DescribeCodePoint(*cp) +
                      "; enter the handle (the name in the profile's "
                      "address), not the display name");
  }
  if (handle.find('/') != std::string_view::npos) {
    return Refuse(kHandle, value,
                  "has a handle containing '/'; enter only the handle, not a "
                  "link");
  }
  return platform + ":" + AsciiLower(handle);
}

std::vector<PhoneCountryRule> PhoneCountryRules() {
  std::vector<PhoneCountryRule> out;
  for (const HomeNumbering& home : kHomeNumbering) {
    out.push_back({std::string(home.member), std::string(home.country_code)});
  }
  return out;
}

std::string InNationalForm(std::string_view value, std::string_view member) {
  const std::string written(TrimAsciiSpaces(value));
  if (written.empty() || written[0] != '0' || written.starts_with("00")) {
    return std::string(value);
  }
  for (char c : written) {
    if (!(c >= '0' && c <= '9') &&
        !IsPhoneSeparator(static_cast<char32_t>(c))) {
      return std::string(value);  // not a number as written
    }
  }
  for (const HomeNumbering& home : kHomeNumbering) {
    if (home.member != member) continue;
    std::string digits;
    for (char c : written) {
      if (c >= '0' && c <= '9') digits += c;
    }
    if (!digits.starts_with(home.trunk_prefix)) return std::string(value);
    if (!home.keeps_trunk_prefix) digits.erase(0, home.trunk_prefix.size());
    return "+" + std::string(home.country_code) + digits;
  }
  return std::string(value);
}

}  // namespace cbx::identifiers::internal
