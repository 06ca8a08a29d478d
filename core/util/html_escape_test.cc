#include "core/util/html_escape.h"

#include "gtest/gtest.h"

namespace cbx::util {
namespace {

TEST(HtmlEscapeTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(HtmlEscapeTest, LeavesOtherTextAsItIs) {
  EXPECT_EQ(HtmlEscape("Кривично дело; t.me/x?a=1"),
            "Кривично дело; t.me/x?a=1");
  EXPECT_EQ(HtmlEscape(""), "");
}

}  // namespace
}  // namespace cbx::util
