#include "client/time_format.h"

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

TEST(TimeFormatTest, FormatsUtcIso8601) {
  EXPECT_EQ(FormatTimestamp(1741944413120), "2025-03-14T09:26:53Z");
  EXPECT_EQ(FormatTimestampPrecise(1741944413120), "2025-03-14T09:26:53.12Z");
  EXPECT_EQ(FormatTimestampPrecise(1741944413000), "2025-03-14T09:26:53Z");
  EXPECT_EQ(FormatTimestamp(0), "");
  EXPECT_EQ(FormatTimestampPrecise(0), "");
  EXPECT_EQ(FormatDate(1741944413120), "2025-03-14");
}

TEST(TimeFormatTest, ParsesDaysAndMonths) {
  EXPECT_EQ(*ParseDate("2025-03-14", DateBound::kStart), 1741910400000);
  EXPECT_EQ(*ParseDate("2025-03-14", DateBound::kEnd), 1741996799999);
  EXPECT_EQ(*ParseDate("2025-03", DateBound::kStart), 1740787200000);
  EXPECT_EQ(*ParseDate("2025-12", DateBound::kEnd), 1767225599999);
  EXPECT_EQ(*ParseDate("2024-02-29", DateBound::kStart), 1709164800000);
}

TEST(TimeFormatTest, RejectsNonDates) {
  for (std::string_view bad :
       {"", "2025", "2025-3-14", "2025/03/14", "2025-03-14T00:00", "2025-02-29",
        "2025-00", "2025-13-01", "2025-04-31", "20a5-01-01", "1969-12-31",
        "+025-01-01", "2025-03-1 "}) {
    EXPECT_EQ(ParseDate(bad, DateBound::kStart).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TimeFormatTest, ValidatesMonths) {
  EXPECT_TRUE(ValidateMonth("2026-01").ok());
  EXPECT_EQ(ValidateMonth("2026-01-01").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateMonth("2026-13").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateMonth("26-01").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::client
