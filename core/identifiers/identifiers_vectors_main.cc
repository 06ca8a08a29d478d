// Prints spec/vectors/identifiers.json: the normalization, OPRF input and tag
// vectors of spec/identifiers.md, computed by this implementation. Each input
// below is either accepted or refused with a reason containing the given
// text; the program fails if the implementation disagrees, so the file is
// only rewritten on purpose. identifiers_test.cc checks every vector.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/identifiers/identifiers.h"
#include "core/util/bytes.h"
#include "nlohmann/json.hpp"

namespace cbx::identifiers {
namespace {

struct Case {
  v1::IdentifierType type;
  std::string input;
  std::string error_contains;  // empty: the input is accepted
};

std::vector<Case> Cases() {
  using v1::IdentifierType;
  constexpr IdentifierType kUserId = v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID;
  constexpr IdentifierType kUsername = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
  constexpr IdentifierType kChat = v1::IDENTIFIER_TYPE_TELEGRAM_CHAT;
  constexpr IdentifierType kPhone = v1::IDENTIFIER_TYPE_PHONE;
  constexpr IdentifierType kEmail = v1::IDENTIFIER_TYPE_EMAIL;
  constexpr IdentifierType kHandle = v1::IDENTIFIER_TYPE_PLATFORM_HANDLE;
  constexpr IdentifierType kContent = v1::IDENTIFIER_TYPE_CONTENT_SHA256;
  return {
      {kUserId, "123456789", ""},
      {kUserId, " 0042\n", ""},
      {kUserId, "9223372036854775807", ""},
      {kUserId, "9223372036854775808", "larger than 9223372036854775807"},
      {kUserId, "0", "is 0"},
      {kUserId, "-1001234567890", "enter it as telegram_chat"},
      {kUserId, "1 234 567", "contains a space"},
      {kUserId, "1.23457E+09", "scientific notation"},

      {kUsername, "@Some_User", ""},
      {kUsername, "https://t.me/Some_User/", ""},
      {kUsername, "telegram.me/some_user", ""},
      {kUsername, "some_user.t.me", ""},
      {kUsername, "@jack", ""},
      {kUsername, "@abc", "has 3 characters"},
      {kUsername, "@1user", "start with a letter"},
      {kUsername, "@user_", "ends with '_'"},
      {kUsername, "@some.user", "contains '.'"},
      {kUsername, "@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80",
       "contains '\xd0\xbf' (U+043F)"},
      {kUsername, "t.me/+AbCdEfGh12345678", "enter it as telegram_chat"},

      {kChat, "-1001234567890", ""},
      {kChat, "-0042", ""},
      {kChat, "@Some_Channel", ""},
      {kChat, "https://t.me/some_channel/1234?single", ""},
      {kChat, "https://t.me/c/1234567890/55", ""},
      {kChat, "https://t.me/+AbCdEfGh12345678", ""},
      {kChat, "t.me/joinchat/AAAAAEHbEkejzxUjAUCzYg", ""},
      {kChat, "1234567890", "is positive"},
      {kChat, "t.me/+38970123456", "enter the number as phone"},
      {kChat, "t.me/+abc", "invite hashes have 8 to 64"},

      {kPhone, "+389 70 123 456", ""},
      {kPhone, "00381 (63) 123-4567", ""},
      {kPhone, "+387 61/123-456", ""},
      {kPhone, "+44 (0)20 7946 0958", ""},
      {kPhone, "\xe2\x80\xaa+385 91 234 5678\xe2\x80\xac", ""},
      {kPhone, "+888 0123 4567", ""},
      {kPhone, "070 123 456", "has no country code"},
      {kPhone, "38970123456", "write +38970123456"},
      {kPhone, "+00389 70 123 456", "country codes never start with 0"},
      {kPhone, "+389 070 123 456", "0 after the country code +389"},
      {kPhone, "+39 06 1234 5678", ""},
      {kPhone, "+389 70 123 456 ext 12", "contains the letter"},
      {kPhone, "+1234567890123456", "has 16 digits"},

      {kEmail, "Some.User+Tag@GMail.com", ""},
      {kEmail, "mailto:ana@primer.mk.", ""},
      {kEmail, "user@example", "domain without a '.'"},
      {kEmail, "a@b@example.com", "more than one '@'"},
      {kEmail, "user@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.mk",
       "punycode"},

      {kHandle, "Instagram:@Some.User", ""},
      {kHandle, "twitter: SomeUser", ""},
      {kHandle, "matrix:@user:example.org", ""},
      {kHandle, "some.user", "has no ':'"},
      {kHandle, "https://instagram.com/some.user", "is a link"},
      {kHandle, "telegram:some_user", "has its own types"},

      {kContent,
       "sha256:"
       "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
       ""},
      {kContent, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
       "expected 64 hex digits, got 40: is this a SHA-1?"},
      {kContent,
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  "
       "photo.jpg",
       "a file name?"},

      {v1::IDENTIFIER_TYPE_UNSPECIFIED, "123456789", "unspecified or unknown"},
      {kUsername, "   ", "is empty"},
      {kEmail, std::string("user@example.com\0", 17), "control character"},
  };
}

nlohmann::json Tags() {
  nlohmann::json out = nlohmann::json::array();
  Bytes counting;
  for (int i = 0; i < 32; ++i) counting.push_back(static_cast<char>(i));
  // The output of RFC 9497 Appendix A.3.1 Test Vector 1 (OPRF, P256-SHA256).
  Bytes rfc9497 = *HexDecode(
      "a0b34de5fa4c5b6da07e72af73cc507cceeb48981b97b7285fc375345fe495dd");
  for (const Bytes& y : {Bytes(32, '\0'), counting, rfc9497}) {
    out.push_back(
        {{"y_hex", HexEncode(y)}, {"tag_hex", HexEncode(TagBytes(TagOf(y)))}});
  }
  return out;
}

int Main() {
  nlohmann::json vectors = nlohmann::json::array();
  for (const Case& c : Cases()) {
    absl::StatusOr<std::string> normalized = Normalize(c.type, c.input);
    nlohmann::json v = {{"type", std::string(TypeName(c.type))},
                        {"input", c.input}};
    if (c.error_contains.empty()) {
      if (!normalized.ok()) {
        std::cerr << "expected to accept " << c.input << ": "
                  << normalized.status() << "\n";
        return 1;
      }
      v["normalized"] = *normalized;
      v["oprf_input_hex"] = HexEncode(OprfInput(c.type, *normalized));
    } else {
      if (normalized.ok() ||
          normalized.status().code() != absl::StatusCode::kInvalidArgument ||
          normalized.status().message().find(c.error_contains) ==
              std::string::npos) {
        std::cerr << "expected to refuse " << c.input << " with '"
                  << c.error_contains << "', got "
                  << (normalized.ok() ? *normalized
                                      : normalized.status().ToString())
                  << "\n";
        return 1;
      }
      v["error_contains"] = c.error_contains;
    }
    vectors.push_back(v);
  }
  nlohmann::json file = {
      {"description",
       "Identifier normalization, OPRF input and tag vectors for "
       "spec/identifiers.md. 'identifiers': an input of a type is either "
       "normalized to 'normalized', whose OPRF input is 'oprf_input_hex', or "
       "refused with INVALID_ARGUMENT whose message contains "
       "'error_contains'; type '' is IDENTIFIER_TYPE_UNSPECIFIED. 'tags': "
       "the tag of OPRF output y, as 8 bytes big-endian. Generated by "
       "core/identifiers/identifiers_vectors_main.cc."},
      {"identifiers", vectors},
      {"tags", Tags()},
  };
  // ensure_ascii: invisible and non-ASCII characters appear as \uXXXX.
  std::cout << file.dump(2, ' ', /*ensure_ascii=*/true) << "\n";
  return 0;
}

}  // namespace
}  // namespace cbx::identifiers

int main() { return cbx::identifiers::Main(); }
