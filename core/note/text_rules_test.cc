#include "core/note/text_rules.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;

TEST(TextRulesTest, AcceptsUtf8AndNewlines) {
  EXPECT_TRUE(CheckNoteCharacters("", "t").ok());
  EXPECT_TRUE(CheckNoteCharacters("plain\nlines\n", "t").ok());
  EXPECT_TRUE(CheckNoteCharacters("ed \xC3\xA8 subito sera\n", "t").ok());
  EXPECT_TRUE(CheckNoteCharacters("\xE2\x80\x94 \xF0\x9F\x98\x80\n", "t").ok());
  EXPECT_TRUE(CheckNoteCharacters("\x7F", "t").ok());  // DEL is not < U+0020
  EXPECT_TRUE(CheckNoteCharacters("\xEF\xBF\xBD", "t").ok());  // U+FFFD
}

TEST(TextRulesTest, RejectsControlCharacters) {
  for (const std::string& bad :
       {std::string("a\tb"), std::string("a\rb\n"), std::string("\0", 1),
        std::string("x\x1F"), std::string("\x0B")}) {
    EXPECT_EQ(CheckNoteCharacters(bad, "t").code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TextRulesTest, RejectsInvalidUtf8) {
  for (const char* bad : {
           "\x80",              // continuation byte alone
           "\xC3",              // truncated
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong
           "\xED\xA0\x80",      // surrogate U+D800
           "\xF4\x90\x80\x80",  // above U+10FFFF
           "\xF8\x88\x80\x80\x80", "\xFF",
           "ok\xE2\x80",  // truncated at the end
       }) {
    EXPECT_EQ(CheckNoteCharacters(bad, "t").code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TextRulesTest, KeyNames) {
  EXPECT_TRUE(IsValidKeyName("example.com/foo"));
  EXPECT_TRUE(IsValidKeyName("cbx/DE/audit"));
  EXPECT_TRUE(IsValidKeyName("caf\xC3\xA9"));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("a b"));
  EXPECT_FALSE(IsValidKeyName("a+b"));
  EXPECT_FALSE(IsValidKeyName("a\tb"));
  EXPECT_FALSE(IsValidKeyName("a\nb"));
  EXPECT_FALSE(IsValidKeyName("a\xC2\xA0z"));      // U+00A0 no-break space
  EXPECT_FALSE(IsValidKeyName("a\xE3\x80\x80z"));  // U+3000 ideographic space
  EXPECT_FALSE(IsValidKeyName("a\xE2\x80\xA8z"));  // U+2028 line separator
  EXPECT_FALSE(IsValidKeyName("a\xC2\x85z"));      // U+0085 next line
  EXPECT_FALSE(IsValidKeyName("\xC3"));            // invalid UTF-8
}

}  // namespace
}  // namespace cbx::note
