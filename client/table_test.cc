#include "client/table.h"

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

}  // namespace
}  // namespace cbx::client
