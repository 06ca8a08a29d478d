#include "client/identifier_arg.h"

#include <string>

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

// 2025-01-01T00:00:00.000Z and 2025-06-30T23:59:59.999Z.
constexpr int64_t kJan1 = 1735689600000;
constexpr int64_t kJun30End = 1751327999999;
constexpr std::string_view kSha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

v1::Identifier MustParse(std::string_view arg) {
  auto id = ParseIdentifierArg(arg);
  EXPECT_TRUE(id.ok()) << arg << ": " << id.status();
  return id.ok() ? *id : v1::Identifier();
}

// The error for `arg`, which must be INVALID_ARGUMENT.
std::string Reject(std::string_view arg,
                   WindowPolicy policy = WindowPolicy::kAllowed) {
  auto id = ParseIdentifierArg(arg, policy);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << arg;
  return std::string(id.status().message());
}

TEST(IdentifierArgTest, ParsesEveryType) {
  struct {
    std::string arg;
    v1::IdentifierType type;
    std::string value;
  } cases[] = {
      {"telegram_user_id:123456789", v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID,
       "123456789"},
      {"telegram_username:@smokva_admin", v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
       "@smokva_admin"},
      {"telegram_chat:https://t.me/balkan_room",
       v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, "https://t.me/balkan_room"},
      {"telegram_chat:-1001234567890", v1::IDENTIFIER_TYPE_TELEGRAM_CHAT,
       "-1001234567890"},
      {"phone:+389 70 123 456", v1::IDENTIFIER_TYPE_PHONE, "+389 70 123 456"},
      {"email:Ana@Primer.mk", v1::IDENTIFIER_TYPE_EMAIL, "Ana@Primer.mk"},
      {"platform_handle:instagram:@some.user",
       v1::IDENTIFIER_TYPE_PLATFORM_HANDLE, "instagram:@some.user"},
      {"platform_handle:matrix:@user:example.org",
       v1::IDENTIFIER_TYPE_PLATFORM_HANDLE, "matrix:@user:example.org"},
      {"content_sha256:" + std::string(kSha),
       v1::IDENTIFIER_TYPE_CONTENT_SHA256, std::string(kSha)},
  };
  for (const auto& c : cases) {
    v1::Identifier id = MustParse(c.arg);
    EXPECT_EQ(id.type(), c.type) << c.arg;
    // The value travels as entered; the node normalizes it.
    EXPECT_EQ(id.value(), c.value) << c.arg;
    EXPECT_EQ(id.observed_from_ms(), 0) << c.arg;
    EXPECT_EQ(id.observed_to_ms(), 0) << c.arg;
  }
}

TEST(IdentifierArgTest, ParsesWindows) {
  v1::Identifier id = MustParse("phone@2025-01-01..2025-06-30:+38970123456");
  EXPECT_EQ(id.type(), v1::IDENTIFIER_TYPE_PHONE);
  EXPECT_EQ(id.value(), "+38970123456");
  EXPECT_EQ(id.observed_from_ms(), kJan1);
  EXPECT_EQ(id.observed_to_ms(), kJun30End);

  id = MustParse("phone@2025-01..2025-06:+38970123456");
  EXPECT_EQ(id.observed_from_ms(), kJan1);
  EXPECT_EQ(id.observed_to_ms(), kJun30End);

  id = MustParse("phone@2025-01-01..:+38970123456");
  EXPECT_EQ(id.observed_from_ms(), kJan1);
  EXPECT_EQ(id.observed_to_ms(), 0);

  id = MustParse("phone@..2025-06-30:+38970123456");
  EXPECT_EQ(id.observed_from_ms(), 0);
  EXPECT_EQ(id.observed_to_ms(), kJun30End);

  // One date is that whole day; one month that whole month.
  id = MustParse("phone@2025-01-01:+38970123456");
  EXPECT_EQ(id.observed_from_ms(), kJan1);
  EXPECT_EQ(id.observed_to_ms(), kJan1 + 86400000 - 1);
  id = MustParse("phone@2024-02:+38970123456");
  EXPECT_EQ(id.observed_to_ms() - id.observed_from_ms() + 1,
            29LL * 86400000);  // 2024 is a leap year
}

// The window sits between the type and the first ':', so every '@' in a
// value stays part of the value.
TEST(IdentifierArgTest, AtSignsInValuesAreNotWindows) {
  v1::Identifier id =
      MustParse("telegram_username@2025-03..2025-04:@smokva_admin");
  EXPECT_EQ(id.value(), "@smokva_admin");
  EXPECT_NE(id.observed_from_ms(), 0);

  id = MustParse("telegram_username:@smokva_admin");
  EXPECT_EQ(id.value(), "@smokva_admin");
  EXPECT_EQ(id.observed_from_ms(), 0);

  id = MustParse("email@2025-01-01..2025-06-30:ana.p@mail.gov.mk");
  EXPECT_EQ(id.value(), "ana.p@mail.gov.mk");
  EXPECT_EQ(id.observed_from_ms(), kJan1);

  id = MustParse("platform_handle@2025-01:matrix:@user:example.org");
  EXPECT_EQ(id.value(), "matrix:@user:example.org");
}

TEST(IdentifierArgTest, NationalFormHintIsInTheOfficesTerms) {
  auto al =
      ParseIdentifierArg("phone:069 555 0111", WindowPolicy::kAllowed, "AL");
  EXPECT_EQ(al.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(al.status().message().find("write it as +355 69 555 0111"),
            std::string::npos)
      << al.status();
  auto unknown = ParseIdentifierArg("phone:069 555 0111");
  EXPECT_EQ(unknown.status().message().find("+389"), std::string::npos)
      << unknown.status();
}

TEST(IdentifierArgTest, RejectsMalformedArguments) {
  EXPECT_NE(Reject("+38970123456").find("write TYPE:VALUE"), std::string::npos);
  EXPECT_NE(Reject("@smokva_admin").find("write TYPE:VALUE"),
            std::string::npos);
  EXPECT_NE(Reject("mobile:+38970123456").find("unknown identifier type"),
            std::string::npos);
  EXPECT_NE(Reject("Phone:+38970123456").find("unknown identifier type"),
            std::string::npos);
  EXPECT_NE(Reject(":+38970123456").find("no identifier type"),
            std::string::npos);
  EXPECT_NE(Reject("@2025-01:+38970123456").find("no identifier type"),
            std::string::npos);
  EXPECT_NE(Reject("phone:").find("no value"), std::string::npos);
  // The unknown type message lists the valid ones.
  EXPECT_NE(Reject("tg:x").find("telegram_username"), std::string::npos);
}

TEST(IdentifierArgTest, RejectsMalformedWindows) {
  EXPECT_NE(Reject("phone@:+38970123456").find("empty observed window"),
            std::string::npos);
  EXPECT_NE(Reject("phone@..:+38970123456").find("open on both sides"),
            std::string::npos);
  EXPECT_NE(Reject("phone@2025-06-30..2025-01-01:+38970123456")
                .find("ends before it starts"),
            std::string::npos);
  EXPECT_NE(
      Reject("phone@2025-02-30..:+38970123456").find("not a calendar date"),
      std::string::npos);
  EXPECT_NE(Reject("phone@2025-13..:+38970123456").find("not a calendar date"),
            std::string::npos);
  EXPECT_NE(Reject("phone@2025-1-1..2025-06-30:+38970123456")
                .find("use YYYY-MM-DD or YYYY-MM"),
            std::string::npos);
  EXPECT_NE(Reject("phone@01.01.2025..:+38970123456").find("not a date"),
            std::string::npos);
  EXPECT_NE(Reject("phone@2025-01-01...2025-02-01:+38970123456")
                .find("observed window end"),
            std::string::npos);
  EXPECT_NE(Reject("phone@1969-12-31..:+38970123456").find("before 1970"),
            std::string::npos);
  EXPECT_NE(Reject("phone@2025-01-01T10:00..:+38970123456").find("date"),
            std::string::npos);
}

// "TYPE:VALUE@WINDOW" is not this syntax; say where the window goes rather
// than letting the normalizer complain about the value.
TEST(IdentifierArgTest, PointsTrailingWindowsToTheirPlace) {
  std::string why = Reject("phone:+38970123456@2025-01-01..2025-06-30");
  EXPECT_NE(why.find("between the type and the ':'"), std::string::npos) << why;
  why = Reject("telegram_username:@name_x@2025-01..2025-02");
  EXPECT_NE(why.find("between the type and the ':'"), std::string::npos) << why;
}

TEST(IdentifierArgTest, RejectsValuesTheNodeCannotNormalize) {
  // The node's own rule speaks: no country code.
  std::string why = Reject("phone:070 123 456");
  EXPECT_NE(why.find("country code"), std::string::npos) << why;
  EXPECT_EQ(ParseIdentifierArg("telegram_username:@abc").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIdentifierArg("email:userexample.com").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIdentifierArg("content_sha256:abcd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIdentifierArg("telegram_user_id:@some_user").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IdentifierArgTest, WindowsCanBeForbidden) {
  EXPECT_TRUE(
      ParseIdentifierArg("phone:+38970123456", WindowPolicy::kForbidden).ok());
  EXPECT_NE(Reject("phone@2025-01:+38970123456", WindowPolicy::kForbidden)
                .find("not used here"),
            std::string::npos);
}

TEST(IdentifierArgTest, FormatsAndRoundTrips) {
  EXPECT_EQ(FormatWindow(0, 0), "");
  EXPECT_EQ(FormatWindow(kJan1, kJun30End), "2025-01-01..2025-06-30");
  EXPECT_EQ(FormatWindow(kJan1, 0), "2025-01-01..");
  EXPECT_EQ(FormatWindow(0, kJun30End), "..2025-06-30");
  for (std::string_view arg :
       {"phone@2025-01-01..2025-06-30:+38970123456",
        "telegram_username@..2025-06-30:@smokva_admin",
        "email@2025-01-01..:ana@primer.mk", "telegram_user_id:123456789"}) {
    v1::Identifier id = MustParse(arg);
    EXPECT_EQ(FormatIdentifierArg(id), arg);
    v1::Identifier again = MustParse(FormatIdentifierArg(id));
    EXPECT_EQ(again.SerializeAsString(), id.SerializeAsString());
  }
}

}  // namespace
}  // namespace cbx::client
