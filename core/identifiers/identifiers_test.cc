#include "core/identifiers/identifiers.h"

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/util/bytes.h"
#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::identifiers {
namespace {

using v1::IdentifierType;
constexpr IdentifierType kUserId = v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID;
constexpr IdentifierType kUsername = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
constexpr IdentifierType kChat = v1::IDENTIFIER_TYPE_TELEGRAM_CHAT;
constexpr IdentifierType kPhone = v1::IDENTIFIER_TYPE_PHONE;
constexpr IdentifierType kEmail = v1::IDENTIFIER_TYPE_EMAIL;
constexpr IdentifierType kHandle = v1::IDENTIFIER_TYPE_PLATFORM_HANDLE;
constexpr IdentifierType kContent = v1::IDENTIFIER_TYPE_CONTENT_SHA256;
constexpr IdentifierType kUnspecified = v1::IDENTIFIER_TYPE_UNSPECIFIED;

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// One row of the normalization table: `input` of `type` is accepted and
// normalized to `want`, or (accept == false) refused with INVALID_ARGUMENT
// whose message contains `want`.
struct Case {
  IdentifierType type;
  std::string input;
  bool accept;
  std::string want;
};

// Readable test names in failure output.
void PrintTo(const Case& c, std::ostream* os) {
  *os << TypeName(c.type) << " '" << c.input << "'";
}

Case Ok(IdentifierType type, std::string input, std::string normalized) {
  return {type, std::move(input), true, std::move(normalized)};
}
Case No(IdentifierType type, std::string input, std::string reason) {
  return {type, std::move(input), false, std::move(reason)};
}

std::vector<Case> Cases() {
  const std::string sha(kEmptySha256);
  return {
      // telegram_user_id
      Ok(kUserId, "123456789", "123456789"),
      Ok(kUserId, " 0042\n", "42"),
      Ok(kUserId, "\t777000 ", "777000"),
      Ok(kUserId, "1", "1"),
      Ok(kUserId, "9223372036854775807", "9223372036854775807"),
      No(kUserId, "0", "is 0; Telegram user ids start at 1"),
      No(kUserId, "000", "is 0"),
      No(kUserId, "9223372036854775808", "larger than 9223372036854775807"),
      No(kUserId, "123456789012345678901234", "larger than"),
      No(kUserId, "-5", "enter it as telegram_chat"),
      No(kUserId, "+38970123456", "a phone number is entered as phone"),
      No(kUserId, "@some_user", "telegram_username"),
      No(kUserId, "1 234 567", "contains a space"),
      No(kUserId, "1,234,567", "contains ','"),
      No(kUserId, "1.23457E+09", "scientific notation"),
      No(kUserId, "12a4", "contains 'a'; a Telegram user id is decimal"),
      No(kUserId, "\xd9\xa1\xd9\xa2\xd9\xa3", "is not a number"),

      // telegram_username
      Ok(kUsername, "@Some_User", "some_user"),
      Ok(kUsername, "some_user", "some_user"),
      Ok(kUsername, "https://t.me/Some_User/", "some_user"),
      Ok(kUsername, "HTTP://T.ME/some_user", "some_user"),
      Ok(kUsername, "t.me/some_user", "some_user"),
      Ok(kUsername, "telegram.me/some_user", "some_user"),
      Ok(kUsername, "https://www.telegram.me/some_user", "some_user"),
      Ok(kUsername, "telegram.dog/some_user", "some_user"),
      Ok(kUsername, "https://some_user.t.me", "some_user"),
      Ok(kUsername, "https://t.me/some_user?start=abc", "some_user"),
      Ok(kUsername, "@jack", "jack"),
      Ok(kUsername, "@A2345678901234567890123456789012",
         "a2345678901234567890123456789012"),
      Ok(kUsername, "\xe2\x80\x8b@some_user\xe2\x80\x8b", "some_user"),
      No(kUsername, "@abc",
         "has 3 characters; Telegram usernames have at "
         "least 4"),
      No(kUsername, "@1user",
         "starts with '1'; Telegram usernames start with "
         "a letter"),
      No(kUsername, "@user_", "ends with '_'"),
      No(kUsername, "@some.user", "contains '.'"),
      No(kUsername, "@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80",
         "contains '\xd0\xbf' (U+043F)"),
      No(kUsername, "@A23456789012345678901234567890123", "at most 32"),
      No(kUsername, "t.me/+AbCdEfGh12345678", "private invite link"),
      No(kUsername, "t.me/joinchat/AAAAAEHbEkejzxUjAUCzYg",
         "private invite link"),
      No(kUsername, "https://t.me/c/1234567890/4", "private group or channel"),
      No(kUsername, "https://t.me/some_channel/123", "link to a post"),
      No(kUsername, "t.me/s/some_channel", "web preview"),
      No(kUsername, "t.me/", "no username in it"),
      No(kUsername, "@", "no username in it"),
      No(kUsername, "123456789", "enter a numeric id as telegram_user_id"),
      No(kUsername, "some user", "contains a space"),
      No(kUsername, "+38970123456", "a phone number is entered as phone"),
      No(kUsername, "https://t.me/ab",
         "gives the username 'ab', which has 2 "
         "characters"),

      // telegram_chat
      Ok(kChat, "-1001234567890", "-1001234567890"),
      Ok(kChat, "-0042", "-42"),
      Ok(kChat, "-9223372036854775807", "-9223372036854775807"),
      Ok(kChat, "@Some_Channel", "some_channel"),
      Ok(kChat, "some_channel", "some_channel"),
      Ok(kChat, "https://t.me/some_channel", "some_channel"),
      Ok(kChat, "https://t.me/some_channel/1234?single", "some_channel"),
      Ok(kChat, "https://t.me/s/some_channel", "some_channel"),
      Ok(kChat, "t.me/some_forum/12/345", "some_forum"),
      Ok(kChat, "some_channel.t.me/77", "some_channel"),
      Ok(kChat, "https://t.me/c/1234567890/55", "-1001234567890"),
      Ok(kChat, "t.me/c/1234567890", "-1001234567890"),
      Ok(kChat, "https://t.me/+AbCdEfGh12345678", "+AbCdEfGh12345678"),
      Ok(kChat, "+AbCdEfGh12345678", "+AbCdEfGh12345678"),
      Ok(kChat, "t.me/joinchat/AAAAAEHbEkejzxUjAUCzYg",
         "+AAAAAEHbEkejzxUjAUCzYg"),
      No(kChat, "1234567890", "is positive"),
      No(kChat, "-0", "is 0, which is not a chat id"),
      No(kChat, "-", "has no digits after '-'"),
      No(kChat, "-100 123 456", "contains a space"),
      No(kChat, "-9223372036854775808", "out of range"),
      No(kChat, "t.me/+38970123456", "enter the number as phone"),
      No(kChat, "+389 70 123 456", "enter the number as phone"),
      No(kChat, "t.me/+abc", "invite hashes have 8 to 64"),
      No(kChat, "t.me/+AbCd!fGh12345678", "containing '!'"),
      No(kChat, "t.me/some_channel/about", "more after the chat name"),
      No(kChat, "t.me/c/abc/1", "t.me/c/<channel id>"),
      No(kChat, "https://t.me", "no chat name"),
      No(kChat, "@12345", "numeric chat id without '@'"),

      // phone
      Ok(kPhone, "+389 70 123 456", "+38970123456"),
      Ok(kPhone, "00381 (63) 123-4567", "+381631234567"),
      Ok(kPhone, "+387 61/123-456", "+38761123456"),
      Ok(kPhone, "+44 (0)20 7946 0958", "+442079460958"),
      Ok(kPhone, "\xe2\x80\xaa+385 91 234 5678\xe2\x80\xac", "+385912345678"),
      Ok(kPhone, "+888 0123 4567", "+88801234567"),
      Ok(kPhone, "tel:+382-67-123-456", "+38267123456"),
      Ok(kPhone, "+355.69.123.4567", "+355691234567"),
      Ok(kPhone, "+683 1234", "+6831234"),
      Ok(kPhone,
         "+386\xc2\xa0"
         "40\xc2\xa0"
         "123\xc2\xa0"
         "456",
         "+38640123456"),
      Ok(kPhone, "+383 44 123 456", "+38344123456"),
      Ok(kPhone, "+39 06 1234 5678", "+390612345678"),  // Italy keeps its 0
      No(kPhone, "070 123 456",
         "phone: '070 123 456' has no country code; write '+' and the "
         "country code, then the number as dialled from abroad"),
      No(kPhone, "38970123456", "write +38970123456"),
      No(kPhone, "+00389 70 123 456", "country codes never start with 0"),
      No(kPhone, "+389 070 123 456",
         "has a 0 after the country code +389; that 0 is dialled only inside "
         "the country: write +389 70123456"),
      No(kPhone, "0044 (0) 020 7946 0958", "write +44 2079460958"),
      No(kPhone, "+389 70 123 456 ext 12", "contains the letter 'e'"),
      No(kPhone, "+1234567890123456", "has 16 digits"),
      No(kPhone, "+123456", "has 6 digits"),
      No(kPhone, "+389 70 123 456 / +389 71 000 000", "not at the start"),
      No(kPhone, "+", "has no digits"),
      No(kPhone, "+389#70123456", "contains '#'"),
      No(kPhone, "00", "no digits after the international prefix"),

      // email
      Ok(kEmail, "Some.User+Tag@GMail.com", "some.user+tag@gmail.com"),
      Ok(kEmail, "mailto:ana@primer.mk.", "ana@primer.mk"),
      Ok(kEmail, "user@xn--e1afmkfd.xn--d1alf", "user@xn--e1afmkfd.xn--d1alf"),
      Ok(kEmail, " Ana.Petrovska@Mail.GOV.mk ", "ana.petrovska@mail.gov.mk"),
      No(kEmail, "user@example", "domain without a '.'"),
      No(kEmail, "a@b@example.com", "more than one '@'"),
      No(kEmail, "userexample.com", "has no '@'"),
      No(kEmail, "@example.com", "nothing before '@'"),
      No(kEmail, "user@", "nothing after '@'"),
      No(kEmail, "user@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.mk",
         "punycode form (xn--...)"),
      No(kEmail, "user name@example.com", "contains a space"),
      No(kEmail, "\xd1\x98\xd0\xbe\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xb0@example.com",
         "before the '@'"),
      No(kEmail, "user@exa_mple.com", "has '_' in its domain"),
      No(kEmail, "user@example..com", "empty part"),
      No(kEmail, "<user@example.com>", "contains '<'"),
      No(kEmail, "user@[192.0.2.1]", "IP address"),
      No(kEmail, "user@-example.com", "starting or ending with '-'"),

      // platform_handle
      Ok(kHandle, "Instagram:@Some.User", "instagram:some.user"),
      Ok(kHandle, "twitter: SomeUser", "x:someuser"),
      Ok(kHandle, "tiktok : @some_user", "tiktok:some_user"),
      Ok(kHandle, "matrix:@user:example.org", "matrix:user:example.org"),
      Ok(kHandle, "ig:some.user", "instagram:some.user"),
      Ok(kHandle, "vk:id12345", "vk:id12345"),
      No(kHandle, "some.user", "has no ':'"),
      No(kHandle, "https://instagram.com/some.user", "is a link"),
      No(kHandle, "telegram:some_user", "has its own types"),
      No(kHandle, ":some.user", "no platform"),
      No(kHandle, "instagram:", "no handle"),
      No(kHandle, "instagram:@", "no handle"),
      No(kHandle, "insta gram:user", "platform name containing a space"),
      No(kHandle, "instagram:Some User", "containing a space"),
      No(kHandle, "instagram:\xd0\x88\xd0\xbe\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xb0",
         "not the display name"),
      No(kHandle, "instagram:instagram.com/some.user", "not a link"),

      // content_sha256
      Ok(kContent,
         "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA4"
         "95991B7852B855",
         sha),
      Ok(kContent, sha, sha),
      Ok(kContent, "SHA-256: " + sha, sha),
      No(kContent, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
         "expected 64 hex digits, got 40: is this a SHA-1?"),
      No(kContent, "d41d8cd98f00b204e9800998ecf8427e", "is this an MD5?"),
      No(kContent, sha + "  photo.jpg", "a file name?"),
      No(kContent, sha.substr(0, 63) + "g", "contains 'g'"),
      No(kContent,
         "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "looks like base64"),
      No(kContent, "sha256:", "has no hash"),
      No(kContent, sha.substr(0, 32) + " " + sha.substr(32),
         "contains a space"),

      // Every type: type, emptiness, controls, encoding, size.
      No(kUnspecified, "123456789", "unspecified or unknown"),
      No(static_cast<IdentifierType>(99), "123456789", "type 99"),
      No(kUsername, "   ", "is empty"),
      No(kPhone, "\xe2\x80\x8b", "is empty"),
      No(kEmail, std::string("user@example.com\0", 17),
         "contains the control character U+0000"),
      No(kUsername, "some\nuser", "'some<U+000A>user' contains the control"),
      No(kChat, "\xff\xfe", "is not valid UTF-8"),
      No(kHandle, "x:\xc2\x85user", "control character U+0085"),
      No(kEmail, std::string(2000, 'a'), "no identifier is longer than 1024"),
  };
}

class NormalizeTest : public ::testing::TestWithParam<Case> {};

TEST_P(NormalizeTest, AcceptsOrRefuses) {
  const Case& c = GetParam();
  absl::StatusOr<std::string> got = Normalize(c.type, c.input);
  if (c.accept) {
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.want);
    // The rule is idempotent: a normalized value normalizes to itself.
    absl::StatusOr<std::string> again = Normalize(c.type, *got);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *got);
    // NormalizedOprfInput is Normalize then OprfInput.
    absl::StatusOr<Bytes> input = NormalizedOprfInput(c.type, c.input);
    ASSERT_TRUE(input.ok()) << input.status();
    EXPECT_EQ(*input, OprfInput(c.type, c.want));
  } else {
    ASSERT_FALSE(got.ok()) << "accepted as " << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.want), std::string::npos)
        << "message: " << got.status().message() << "\nwanted: " << c.want;
    // Refusals name the type first, so the office sees which field is wrong.
    std::string prefix = std::string(TypeName(c.type)) + ": '";
    if (!TypeName(c.type).empty()) {
      EXPECT_EQ(std::string(got.status().message()).rfind(prefix, 0), 0u)
          << got.status().message();
    }
    EXPECT_EQ(NormalizedOprfInput(c.type, c.input).status(), got.status());
  }
}

INSTANTIATE_TEST_SUITE_P(Table, NormalizeTest, ::testing::ValuesIn(Cases()));

TEST(NormalizeTableTest, IsLargeEnough) {
  size_t refused = 0;
  for (const Case& c : Cases()) refused += c.accept ? 0 : 1;
  EXPECT_GE(Cases().size(), 60u);
  EXPECT_GE(refused, 25u);
}

TEST(TypeNameTest, RoundTrips) {
  const std::vector<std::pair<IdentifierType, std::string>> names = {
      {kUserId, "telegram_user_id"},
      {kUsername, "telegram_username"},
      {kChat, "telegram_chat"},
      {kPhone, "phone"},
      {kEmail, "email"},
      {kHandle, "platform_handle"},
      {kContent, "content_sha256"},
  };
  for (const auto& [type, name] : names) {
    EXPECT_EQ(TypeName(type), name);
    absl::StatusOr<IdentifierType> parsed = ParseType(name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(TypeName(kUnspecified), "");
  EXPECT_EQ(TypeName(static_cast<IdentifierType>(42)), "");
}

TEST(TypeNameTest, ParseRefusesOtherNames) {
  for (std::string_view name : {"", "Phone", "telegram", "phone "}) {
    absl::StatusOr<IdentifierType> parsed = ParseType(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(
                  "telegram_user_id, telegram_username, telegram_chat, phone, "
                  "email, platform_handle, content_sha256"),
              std::string::npos)
        << parsed.status();
  }
}

TEST(OprfInputTest, ExactBytes) {
  // "cbx/v1/id" 00 "phone" 00 "+38970123456"
  EXPECT_EQ(HexEncode(OprfInput(kPhone, "+38970123456")),
            "6362782f76312f69640070686f6e65002b3338393730313233343536");
  EXPECT_EQ(OprfInput(kUsername, "some_user"),
            std::string("cbx/v1/id\0telegram_username\0some_user", 37));
  absl::StatusOr<Bytes> input = NormalizedOprfInput(kPhone, "00389 70 123-456");
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(HexEncode(*input),
            "6362782f76312f69640070686f6e65002b3338393730313233343536");
}

TEST(OprfInputTest, TypesAreSeparated) {
  // "+AbCdEfGh12345678" is a telegram_chat invite; the same text can never
  // collide with another type's value because the type is part of the input.
  EXPECT_NE(OprfInput(kChat, "some_user"), OprfInput(kUsername, "some_user"));
}

TEST(TagTest, KnownAnswers) {
  // printf 'cbx/v1/tag' | sha256sum               -> e51de7e7a87f4117...
  EXPECT_EQ(TagOf(""), 0xe51de7e7a87f4117u);
  // printf 'cbx/v1/tagy' | sha256sum              -> 07a4977a8bc70299...
  EXPECT_EQ(TagOf("y"), 0x07a4977a8bc70299u);
  // (printf 'cbx/v1/tag'; head -c 32 /dev/zero) | sha256sum -> 8bc7fac4...
  EXPECT_EQ(TagOf(std::string(32, '\0')), 0x8bc7fac4d1750dcau);
}

TEST(TagTest, BytesRoundTrip) {
  EXPECT_EQ(HexEncode(TagBytes(0x0102030405060708u)), "0102030405060708");
  EXPECT_EQ(TagBytes(0), std::string(8, '\0'));
  for (uint64_t tag :
       {uint64_t{0}, uint64_t{1}, uint64_t{0x8bc7fac4d1750dca}, ~uint64_t{0}}) {
    Bytes bytes = TagBytes(tag);
    EXPECT_EQ(bytes.size(), kTagSize);
    absl::StatusOr<uint64_t> back = TagFromBytes(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, tag);
  }
}

TEST(TagTest, FromBytesRefusesOtherLengths) {
  for (size_t n : {0, 7, 9, 32}) {
    absl::StatusOr<uint64_t> tag = TagFromBytes(std::string(n, 'x'));
    ASSERT_FALSE(tag.ok()) << n;
    EXPECT_EQ(tag.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(tag.status().message().find("8 bytes"), std::string::npos);
  }
}

TEST(ObservedWindowTest, Validate) {
  EXPECT_TRUE(ValidateObservedWindow(0, 0).ok());
  EXPECT_TRUE(ValidateObservedWindow(1000, 0).ok());
  EXPECT_TRUE(ValidateObservedWindow(0, 1000).ok());
  EXPECT_TRUE(ValidateObservedWindow(1000, 1000).ok());
  EXPECT_EQ(ValidateObservedWindow(2000, 1000).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateObservedWindow(-1, 1000).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateObservedWindow(0, -5).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ObservedWindowTest, Overlap) {
  EXPECT_TRUE(ObservedWindowsOverlap(10, 20, 15, 30));
  EXPECT_TRUE(ObservedWindowsOverlap(10, 20, 20, 30));  // inclusive
  EXPECT_FALSE(ObservedWindowsOverlap(10, 20, 21, 30));
  EXPECT_FALSE(ObservedWindowsOverlap(21, 30, 10, 20));
  EXPECT_TRUE(ObservedWindowsOverlap(0, 0, 10, 20));  // unknown: open
  EXPECT_TRUE(ObservedWindowsOverlap(10, 0, 0, 5000));
  EXPECT_FALSE(ObservedWindowsOverlap(10, 0, 0, 5));  // seen from 10 on
  EXPECT_FALSE(ObservedWindowsOverlap(0, 5, 10, 0));
}

// Untrusted input never crashes the node: random byte strings are either
// refused with INVALID_ARGUMENT or normalized to printable ASCII that
// normalizes to itself.
TEST(RandomInputTest, NeverCrashesAndStaysCanonical) {
  std::mt19937 rng(20240601);
  const std::string alphabet =
      "+-@:/._0123456789abcdefABCDEF tme \t\n\x00\x7f\xc2\xa0\xd0\xbf\xe2\x80"
      "\x8b\xff";
  for (int i = 0; i < 20000; ++i) {
    auto type = static_cast<IdentifierType>(rng() % 9);
    std::string value;
    size_t len = rng() % 40;
    for (size_t k = 0; k < len; ++k) {
      value.push_back(rng() % 4 == 0 ? static_cast<char>(rng() & 0xFF)
                                     : alphabet[rng() % alphabet.size()]);
    }
    absl::StatusOr<std::string> got = Normalize(type, value);
    if (!got.ok()) {
      ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_FALSE(got->empty());
    for (char c : *got) ASSERT_TRUE(c > 0x20 && c < 0x7F) << *got;
    absl::StatusOr<std::string> again = Normalize(type, *got);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *got);
  }
}

IdentifierType TypeFromVector(const std::string& name) {
  if (name.empty()) return kUnspecified;
  absl::StatusOr<IdentifierType> type = ParseType(name);
  EXPECT_TRUE(type.ok()) << type.status();
  return type.value_or(kUnspecified);
}

TEST(SpecVectorsTest, Identifiers) {
  nlohmann::json file = cbx::testing::LoadJson(
      std::string(CBX_SPEC_VECTORS_DIR) + "/identifiers.json");
  const nlohmann::json& vectors = file.at("identifiers");
  ASSERT_GE(vectors.size(), 40u);
  for (const nlohmann::json& v : vectors) {
    std::string input = v.at("input").get<std::string>();
    SCOPED_TRACE(v.dump());
    IdentifierType type = TypeFromVector(v.at("type").get<std::string>());
    absl::StatusOr<std::string> got = Normalize(type, input);
    if (v.contains("normalized")) {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, v.at("normalized").get<std::string>());
      Bytes want = cbx::testing::Unhex(v.at("oprf_input_hex"));
      EXPECT_EQ(OprfInput(type, *got), want);
      absl::StatusOr<Bytes> input_bytes = NormalizedOprfInput(type, input);
      ASSERT_TRUE(input_bytes.ok());
      EXPECT_EQ(*input_bytes, want);
    } else {
      ASSERT_FALSE(got.ok()) << *got;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(got.status().message().find(
                    v.at("error_contains").get<std::string>()),
                std::string::npos)
          << got.status();
    }
  }
}

TEST(SpecVectorsTest, Tags) {
  nlohmann::json file = cbx::testing::LoadJson(
      std::string(CBX_SPEC_VECTORS_DIR) + "/identifiers.json");
  const nlohmann::json& tags = file.at("tags");
  ASSERT_FALSE(tags.empty());
  for (const nlohmann::json& v : tags) {
    Bytes y = cbx::testing::Unhex(v.at("y_hex"));
    Bytes want = cbx::testing::Unhex(v.at("tag_hex"));
    EXPECT_EQ(TagBytes(TagOf(y)), want) << v.dump();
    absl::StatusOr<uint64_t> tag = TagFromBytes(want);
    ASSERT_TRUE(tag.ok());
    EXPECT_EQ(*tag, TagOf(y));
  }
}

// A number in national form is refused with the fix for the entering
// office's own country, never another's (a wrong country code would make a
// wrong identifier); an unknown home gets the general fix.
TEST(IdentifiersTest, NationalFormHintFollowsTheOfficesCountry) {
  auto refusal = [](std::string_view value, std::string_view home) {
    absl::StatusOr<std::string> r =
        Normalize(v1::IDENTIFIER_TYPE_PHONE, value, home);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_EQ(refusal("069 555 0111", "AL"),
            "phone: '069 555 0111' has no country code; write it as +355 69 "
            "555 0111 if it is a number from Albania: '+', the country code, "
            "then the number without its leading 0");
  EXPECT_EQ(refusal("064/555-0101", "RS"),
            "phone: '064/555-0101' has no country code; write it as +381 "
            "64/555-0101 if it is a number from Serbia: '+', the country "
            "code, then the number without its leading 0");
  EXPECT_NE(refusal("070 123 456", "MK").find("write it as +389 70 123 456"),
            std::string::npos);
  // Hungary drops "06"; Italy keeps its 0.
  EXPECT_NE(refusal("06 20 123 4567", "HU")
                .find("write it as +36 20 123 4567 if it is a number from "
                      "Hungary: '+', the country code, then the number "
                      "without its leading 06"),
            std::string::npos);
  EXPECT_NE(refusal("06 1234 5678", "IT")
                .find("write it as +39 06 1234 5678 if it is a number from "
                      "Italy: '+', the country code, then the number with "
                      "its leading 0"),
            std::string::npos);
  // No guess: unknown home, a member without a trunk prefix, a number that
  // does not start with the home's trunk prefix.
  for (auto [value, home] :
       {std::pair{"069 555 0111", ""}, std::pair{"069 555 0111", "PL"},
        std::pair{"069 555 0111", "ZZ"}, std::pair{"0 20 123 4567", "HU"}}) {
    std::string message = refusal(value, home);
    EXPECT_NE(message.find("has no country code; write '+' and the country "
                           "code, then the number as dialled from abroad"),
              std::string::npos)
        << value << " at " << home << ": " << message;
    EXPECT_EQ(message.find("+389"), std::string::npos) << message;
  }
  // The home changes only the wording, never a result.
  EXPECT_EQ(*Normalize(v1::IDENTIFIER_TYPE_PHONE, "+355 69 555 0111", "RS"),
            "+355695550111");
}

// What a form's country selector does to a number written in national
// form: the hint Normalize gives, applied (spec/web-console.md §4).
TEST(IdentifiersTest, InternationalPhoneAppliesTheCountrysTrunkPrefix) {
  EXPECT_EQ(InternationalPhone("069 555 0111", "AL"), "+355695550111");
  EXPECT_EQ(InternationalPhone("064/555-01.01", "RS"), "+381645550101");
  EXPECT_EQ(InternationalPhone("06 30 123 4567", "HU"), "+36301234567");
  EXPECT_EQ(InternationalPhone("06 1234 5678", "IT"), "+390612345678");
  // Each one normalizes to what the international form does.
  EXPECT_EQ(*Normalize(v1::IDENTIFIER_TYPE_PHONE,
                       InternationalPhone("070 555 0101", "MK")),
            *Normalize(v1::IDENTIFIER_TYPE_PHONE, "+389 70 555 0101"));
  // Anything else is Normalize's to judge, unchanged.
  for (const char* same : {"+381 64 555 0101", "00381 64 555 0101",
                           "@balkan_leaks", "0 abc", "", "  ", "5550101"}) {
    EXPECT_EQ(InternationalPhone(same, "RS"), same) << same;
  }
  EXPECT_EQ(InternationalPhone("0601 234 567", "CZ"), "0601 234 567");
  EXPECT_EQ(InternationalPhone("30 123 4567", "HU"), "30 123 4567");
  // The selector's list: the countries whose national form is known.
  bool mk = false;
  for (const PhoneCountry& c : PhoneCountries()) {
    mk = mk || (c.member == "MK" && c.calling_code == "389");
  }
  EXPECT_TRUE(mk);
}

}  // namespace
}  // namespace cbx::identifiers
