// Normalization of the three Telegram types (spec/identifiers.md,
// "telegram_user_id", "telegram_username", "telegram_chat").
#include <optional>
#include <string>
#include <string_view>

#include "core/identifiers/rules.h"
#include "core/identifiers/text.h"

namespace cbx::identifiers::internal {
namespace {

constexpr std::string_view kUserId = "telegram_user_id";
constexpr std::string_view kUsername = "telegram_username";
constexpr std::string_view kChat = "telegram_chat";

// Bounds of Telegram's username rule. Usernames a user sets are 5 to 32
// characters; collectible usernames sold on Fragment may be shorter, down to
// 4, and are resolved exactly like the others.
constexpr size_t kMinUsername = 4;
constexpr size_t kMaxUsername = 32;

// Private invite hashes are base64url text: 16 characters today, 22 in the
// older t.me/joinchat/ links. The bounds only catch truncated or run-on
// pastes.
constexpr size_t kMinInviteHash = 8;
constexpr size_t kMaxInviteHash = 64;

std::string Plural(size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// Why `s`, expected to be an integer, is not one: names its first offending
// character. Spreadsheets turn long ids into "1.23457E+09"; say so, since the
// digits are lost and must be copied again from the source.
std::string NotDigitsReason(std::string_view s, std::string_view what) {
  if (s.find("E+") != std::string_view::npos ||
      s.find("e+") != std::string_view::npos) {
    return "looks like a spreadsheet's scientific notation, which has lost "
           "digits; copy the id again from its source, formatted as text";
  }
  size_t pos = 0;
  char32_t cp = 0;
  while (DecodeUtf8(s, &pos, &cp)) {
    if (cp > 0x7F || !IsAsciiDigit(static_cast<char>(cp))) break;
  }
  if (IsTrimmedSpace(cp) || cp == 0x3000) {
    return "contains a space; write " + std::string(what) +
           " as digits only, without separators";
  }
  if (cp == '.' || cp == ',' || cp == '\'' || cp == '_') {
    return "contains " + DescribeCodePoint(cp) + "; write " +
           std::string(what) + " as digits only, without separators";
  }
  return "contains " + DescribeCodePoint(cp) + "; " + std::string(what) +
         " is decimal digits only";
}

// True when `s` is made of digits and the separators people write phone
// numbers with, with at least 7 digits.
bool LooksLikePhoneNumber(std::string_view s) {
  size_t digits = 0;
  for (char c : s) {
    if (IsAsciiDigit(c)) {
      ++digits;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' &&
               c != '/') {
      return false;
    }
  }
  return digits >= 7;
}

// A t.me link, split. `path` is what follows the host and its "/", without
// any "?query" or "#fragment" and without one trailing "/"; `subdomain` is
// the name of a "name.t.me" link.
struct TelegramLink {
  std::string_view path;
  std::string_view subdomain;
};

// Recognizes [http[s]://][www.](t.me|telegram.me|telegram.dog)[/path] and
// [http[s]://]name.t.me[/path], ignoring ASCII case in scheme and host.
std::optional<TelegramLink> ParseTelegramLink(std::string_view s) {
  std::string_view rest = s;
  if (StartsWithNoCase(rest, "https://")) {
    rest.remove_prefix(8);
  } else if (StartsWithNoCase(rest, "http://")) {
    rest.remove_prefix(7);
  }
  size_t host_end = rest.find_first_of("/?#");
  std::string_view host = rest.substr(0, host_end);
  std::string_view after =
      host_end == std::string_view::npos ? "" : rest.substr(host_end);
  if (StartsWithNoCase(host, "www.")) host.remove_prefix(4);
  std::string lower_host = AsciiLower(host);

  TelegramLink link;
  if (lower_host == "t.me" || lower_host == "telegram.me" ||
      lower_host == "telegram.dog") {
    // The bare host is a link too, one with no name in it.
  } else if (lower_host.size() > 5 &&
             lower_host.compare(lower_host.size() - 5, 5, ".t.me") == 0) {
    link.subdomain = host.substr(0, host.size() - 5);
  } else {
    return std::nullopt;
  }
  std::string_view path = after;
  size_t cut = path.find_first_of("?#");
  if (cut != std::string_view::npos) path = path.substr(0, cut);
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  link.path = path;
  return link;
}

// Whether `path` is empty or "/"-separated decimal numbers (a post id, or a
// forum topic id and a post id).
bool IsPostPath(std::string_view path) {
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment.empty() || !AllAsciiDigits(segment)) return false;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

// Telegram's username rule, applied to `name` (what is left of `value` once
// "@" or a link is removed); the result is `name` in lower case.
absl::StatusOr<std::string> UsernameBody(std::string_view type_name,
                                         std::string_view value,
                                         std::string_view name) {
  std::string subject = name == value
                            ? std::string()
                            : "gives the username " + Quote(name) + ", which ";
  if (name.empty()) {
    return Refuse(type_name, value, "has no username in it");
  }
  size_t pos = 0;
  while (pos < name.size()) {
    char32_t cp;
    DecodeUtf8(name, &pos, &cp);  // Clean() guarantees valid UTF-8
    if (cp < 0x80 && (IsAsciiAlnum(static_cast<char>(cp)) || cp == '_')) {
      continue;
    }
    std::string what =
        cp == ' ' ? std::string("a space") : DescribeCodePoint(cp);
    return Refuse(type_name, value,
                  subject + "contains " + what +
                      "; Telegram usernames use only the letters a-z, the "
                      "digits 0-9 and '_'");
  }
  if (AllAsciiDigits(name)) {
    return Refuse(
        type_name, value,
        subject + "is a number, not a username; " +
            (type_name == kUsername
                 ? "enter a numeric id as telegram_user_id"
                 : "enter a numeric chat id without '@' or link, e.g. "
                   "-1001234567890"));
  }
  if (!IsAsciiAlpha(name.front())) {
    return Refuse(type_name, value,
                  subject + "starts with '" + std::string(1, name.front()) +
                      "'; Telegram usernames start with a letter");
  }
  if (name.back() == '_') {
    return Refuse(type_name, value,
                  subject + "ends with '_'; Telegram usernames cannot");
  }
  if (name.size() < kMinUsername) {
    return Refuse(type_name, value,
                  subject + "has " + Plural(name.size(), "character") +
                      "; Telegram usernames have at least 4 (5 unless bought "
                      "on Fragment)");
  }
  if (name.size() > kMaxUsername) {
    return Refuse(type_name, value,
                  subject + "has " + Plural(name.size(), "character") +
                      "; Telegram usernames have at most 32");
  }
  return AsciiLower(name);
}

// The hash of a private invite link, kept in its case: "+" || hash.
absl::StatusOr<std::string> InviteHash(std::string_view value,
                                       std::string_view hash) {
  if (hash.empty()) {
    return Refuse(kChat, value, "has no invite hash after '+'");
  }
  if (LooksLikePhoneNumber(hash)) {
    return Refuse(kChat, value,
                  "is a phone number (or a t.me/+ link to one), not an invite "
                  "link; enter the number as phone");
  }
  for (size_t i = 0; i < hash.size(); ++i) {
    char c = hash[i];
    if (IsAsciiAlnum(c) || c == '-' || c == '_') continue;
    size_t pos = i;
    char32_t cp;
    DecodeUtf8(hash, &pos, &cp);
    return Refuse(kChat, value,
                  "has an invite hash containing " + DescribeCodePoint(cp) +
                      "; invite hashes use only letters, digits, '-' and "
                      "'_': copy the link again");
  }
  if (hash.size() < kMinInviteHash || hash.size() > kMaxInviteHash) {
    return Refuse(kChat, value,
                  "has an invite hash of " + Plural(hash.size(), "character") +
                      "; invite hashes have 8 to 64: copy the whole link "
                      "again");
  }
  return "+" + std::string(hash);
}

// A Bot API chat id: "-" followed by the canonical decimal magnitude.
absl::StatusOr<std::string> NumericChat(std::string_view value) {
  bool negative = value.front() == '-';
  std::string_view body = negative ? value.substr(1) : value;
  if (body.empty()) return Refuse(kChat, value, "has no digits after '-'");
  if (!AllAsciiDigits(body)) {
    return Refuse(kChat, value, NotDigitsReason(body, "a chat id"));
  }
  std::string_view digits = StripLeadingZeros(body);
  if (digits.empty()) {
    return Refuse(kChat, value, "is 0, which is not a chat id");
  }
  if (!negative) {
    return Refuse(kChat, value,
                  "is positive; write group and channel ids in the Bot API "
                  "form: -100 then the id for channels and supergroups (e.g. "
                  "-1001234567890), - then the id for basic groups; a "
                  "positive id is a user: enter it as telegram_user_id");
  }
  if (!DecimalAtMost(digits, kInt64MaxDecimal)) {
    return Refuse(kChat, value,
                  "is out of range; chat ids lie between "
                  "-9223372036854775807 and -1");
  }
  return "-" + std::string(digits);
}

// A "t.me/c/<id>[/<post>...]" link (a message in a private channel or
// supergroup), whose id is the channel's bare id: the Bot API chat id is
// -100 followed by it.
absl::StatusOr<std::string> PrivateChannelLink(std::string_view value,
                                               std::string_view rest) {
  size_t slash = rest.find('/');
  std::string_view id = rest.substr(0, slash);
  std::string_view posts =
      slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (id.empty() || !AllAsciiDigits(id) || !IsPostPath(posts)) {
    return Refuse(kChat, value,
                  "is not a t.me/c/ link of the form t.me/c/<channel id>/<post "
                  "id>; copy the link again");
  }
  std::string digits = "100" + std::string(StripLeadingZeros(id));
  if (digits == "100") {
    return Refuse(kChat, value, "has channel id 0, which is not a chat id");
  }
  if (!DecimalAtMost(digits, kInt64MaxDecimal)) {
    return Refuse(kChat, value, "has a channel id that is out of range");
  }
  return "-" + digits;
}

absl::StatusOr<std::string> ChatFromLink(std::string_view value,
                                         const TelegramLink& link) {
  std::string_view path = link.path;
  if (!link.subdomain.empty()) {
    if (!IsPostPath(path)) {
      return Refuse(kChat, value,
                    "has more after the chat name than a post number; enter "
                    "the link to the chat itself (name.t.me)");
    }
    return UsernameBody(kChat, value, link.subdomain);
  }
  if (path.empty()) {
    return Refuse(kChat, value, "is a link with no chat name in it");
  }
  if (path.front() == '+') return InviteHash(value, path.substr(1));
  if (StartsWithNoCase(path, "joinchat/")) {
    return InviteHash(value, path.substr(9));
  }
  if (StartsWithNoCase(path, "c/")) {
    return PrivateChannelLink(value, path.substr(2));
  }
  if (StartsWithNoCase(path, "s/")) path.remove_prefix(2);  // web preview
  size_t slash = path.find('/');
  std::string_view name = path.substr(0, slash);
  if (slash != std::string_view::npos && !IsPostPath(path.substr(slash + 1))) {
    return Refuse(kChat, value,
                  "has more after the chat name than a post number; enter the "
                  "link to the chat itself (t.me/name)");
  }
  return UsernameBody(kChat, value, name);
}

}  // namespace

absl::StatusOr<std::string> NormalizeTelegramUserId(std::string_view value) {
  char first = value.front();
  if (first == '-') {
    return Refuse(kUserId, value,
                  "is negative; negative ids are groups and channels: enter "
                  "it as telegram_chat");
  }
  if (first == '+') {
    return Refuse(kUserId, value,
                  "starts with '+'; a Telegram user id is digits only (a "
                  "phone number is entered as phone)");
  }
  if (!IsAsciiDigit(first)) {
    return Refuse(kUserId, value,
                  "is not a number; a Telegram user id is digits only "
                  "(usernames and t.me links are entered as "
                  "telegram_username)");
  }
  if (!AllAsciiDigits(value)) {
    return Refuse(kUserId, value, NotDigitsReason(value, "a Telegram user id"));
  }
  std::string_view digits = StripLeadingZeros(value);
  if (digits.empty()) {
    return Refuse(kUserId, value, "is 0; Telegram user ids start at 1");
  }
  if (!DecimalAtMost(digits, kInt64MaxDecimal)) {
    return Refuse(kUserId, value,
                  "is larger than 9223372036854775807 (2^63-1), the largest "
                  "Telegram id");
  }
  return std::string(digits);
}

absl::StatusOr<std::string> NormalizeTelegramUsername(std::string_view value) {
  if (value.front() == '@') {
    return UsernameBody(kUsername, value, value.substr(1));
  }
  if (value.front() == '+') {
    return Refuse(kUsername, value,
                  "starts with '+'; a phone number is entered as phone, a "
                  "t.me/+ invite link as telegram_chat");
  }
  std::optional<TelegramLink> link = ParseTelegramLink(value);
  if (!link.has_value()) return UsernameBody(kUsername, value, value);

  std::string_view path = link->path;
  if (!link->subdomain.empty()) {
    if (!path.empty()) {
      return Refuse(kUsername, value,
                    "is a link to a post, not to an account; enter only the "
                    "username, or the channel as telegram_chat");
    }
    return UsernameBody(kUsername, value, link->subdomain);
  }
  if (path.empty()) {
    return Refuse(kUsername, value, "is a link with no username in it");
  }
  if (path.front() == '+' || StartsWithNoCase(path, "joinchat/")) {
    return Refuse(kUsername, value,
                  "is a private invite link, not a username; enter it as "
                  "telegram_chat");
  }
  if (StartsWithNoCase(path, "c/")) {
    return Refuse(kUsername, value,
                  "is a link to a message in a private group or channel; "
                  "enter it as telegram_chat");
  }
  if (StartsWithNoCase(path, "s/")) {
    return Refuse(kUsername, value,
                  "is a link to a channel's web preview; enter the channel "
                  "as telegram_chat");
  }
  if (path.find('/') != std::string_view::npos) {
    return Refuse(kUsername, value,
                  "is a link to a post, not to an account; enter only the "
                  "username, or the channel as telegram_chat");
  }
  return UsernameBody(kUsername, value, path);
}

absl::StatusOr<std::string> NormalizeTelegramChat(std::string_view value) {
  char first = value.front();
  if (first == '-' || IsAsciiDigit(first)) return NumericChat(value);
  if (first == '+') return InviteHash(value, value.substr(1));
  if (first == '@') return UsernameBody(kChat, value, value.substr(1));
  std::optional<TelegramLink> link = ParseTelegramLink(value);
  if (link.has_value()) return ChatFromLink(value, *link);
  return UsernameBody(kChat, value, value);
}

}  // namespace cbx::identifiers::internal
