#include "client/table.h"

#include "client/strings.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

TEST(TableTest, AlignsColumns) {
  Table t({"MEMBER", "STATUS", "COUNT"});
  t.AddRow({"RS", "active", "1200"});
  t.AddRow({"BA", "suspended", "7"});
  EXPECT_EQ(t.Render(),
            "MEMBER  STATUS     COUNT\n"
            "RS      active     1200\n"
            "BA      suspended  7\n");
  EXPECT_EQ(t.row_count(), 2u);
}

TEST(TableTest, CountsCodePointsNotBytes) {
  Table t({"LANG", "LABEL", "X"});
  t.AddRow({"mk", "Сајбер демнење", "1"});
  t.AddRow({"sq", "Përndjekje", "2"});
  EXPECT_EQ(t.Render(),
            "LANG  LABEL           X\n"
            "mk    Сајбер демнење  1\n"
            "sq    Përndjekje      2\n");
}

TEST(TableTest, MultiLineCellsSpanLines) {
  Table t({"CASE", "IDENTIFIERS", "STATUS"});
  t.AddRow({"MK-1", "phone:+38970123456\ntelegram_username:@x_admin", "open"});
  t.AddRow({"MK-2", "email:a@b.mk", "closed"});
  EXPECT_EQ(t.Render(),
            "CASE  IDENTIFIERS                 STATUS\n"
            "MK-1  phone:+38970123456          open\n"
            "      telegram_username:@x_admin\n"
            "MK-2  email:a@b.mk                closed\n");
}

TEST(TableTest, PadsMissingCellsAndDropsExtras) {
  Table t({"A", "B"});
  t.AddRow({"1"});
  t.AddRow({"2", "x", "ignored"});
  EXPECT_EQ(t.Render(),
            "A  B\n"
            "1\n"
            "2  x\n");
}

TEST(TableTest, HeaderOnlyWhenEmpty) {
  Table t({"A", "LONG HEADER"});
  EXPECT_EQ(t.Render(), "A  LONG HEADER\n");
}

TEST(RenderFieldsTest, AlignsValuesAndIndents) {
  EXPECT_EQ(RenderFields({{"case", "MK-1"},
                          {"identifiers", "phone:+389\nemail:a@b.mk"},
                          {"status", ""}},
                         2),
            "  case         MK-1\n"
            "  identifiers  phone:+389\n"
            "               email:a@b.mk\n"
            "  status\n");
}

// Tables fit the width asked for: the widest columns are cut with an
// ellipsis, the narrow ones keep their text (issue 14).
TEST(TableTest, FitsTheWidthByCuttingTheWidestColumns) {
  Table t({"CASE", "CONTACT", "TOKEN"});
  t.AddRow({"MK-1", std::string(60, 'c'), std::string(64, 'f')});
  t.AddRow({"MK-2", "short", "ab"});
  const std::string fitted = t.Render(100);
  for (const std::string& line : SplitLines(fitted)) {
    EXPECT_LE(DisplayWidth(line), 100u) << line;
  }
  EXPECT_NE(fitted.find("MK-1  ccc"), std::string::npos) << fitted;
  EXPECT_NE(fitted.find("\u2026"), std::string::npos) << fitted;
  EXPECT_NE(fitted.find("MK-2  short"), std::string::npos) << fitted;
  // Unlimited (--wide): every character.
  const std::string wide = t.Render();
  EXPECT_NE(wide.find(std::string(64, 'f')), std::string::npos);
  EXPECT_EQ(wide.find("\u2026"), std::string::npos);
  // A table that fits is the same either way.
  Table small({"A", "B"});
  small.AddRow({"x", "y"});
  EXPECT_EQ(small.Render(100), small.Render());
  // Cyrillic is cut by characters, not bytes.
  Table cyr({"X"});
  cyr.AddRow({"Дељење интимног материјала"});
  EXPECT_EQ(SplitLines(cyr.Render(7))[1], "Дељење\u2026");
}

}  // namespace
}  // namespace cbx::client
