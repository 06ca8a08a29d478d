#include "client/time_format.h"

#include <optional>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cbx::client {
namespace {

std::string Format(const char* format, int64_t ms) {
  return absl::FormatTime(format, absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

// Parses exactly `digits` ASCII digits.
std::optional<int> ParseDigits(std::string_view s, size_t digits) {
  if (s.size() != digits) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

absl::Status DateError(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError("'" + std::string(text) + "' " +
                                    std::string(why));
}

}  // namespace

std::string FormatTimestamp(int64_t ms) {
  if (ms == 0) return "";
  return Format("%Y-%m-%dT%H:%M:%SZ", ms);
}

std::string FormatTimestampPrecise(int64_t ms) {
  if (ms == 0) return "";
  return Format("%Y-%m-%dT%H:%M:%E*SZ", ms);
}

std::string FormatDate(int64_t ms) { return Format("%Y-%m-%d", ms); }

absl::StatusOr<int64_t> ParseDate(std::string_view text, DateBound bound) {
  // YYYY-MM or YYYY-MM-DD, nothing else (no times, no other separators).
  if (text.size() != 7 && text.size() != 10) {
    return DateError(text, "is not a date: use YYYY-MM-DD or YYYY-MM");
  }
  if (text[4] != '-' || (text.size() == 10 && text[7] != '-')) {
    return DateError(text, "is not a date: use YYYY-MM-DD or YYYY-MM");
  }
  std::optional<int> year = ParseDigits(text.substr(0, 4), 4);
  std::optional<int> month = ParseDigits(text.substr(5, 2), 2);
  std::optional<int> day =
      text.size() == 10 ? ParseDigits(text.substr(8, 2), 2) : 1;
  if (!year || !month || !day) {
    return DateError(text, "is not a date: use YYYY-MM-DD or YYYY-MM");
  }
  if (*year < 1970) return DateError(text, "is before 1970");
  // absl normalizes out-of-range fields (2025-02-30 becomes 2025-03-02);
  // a date that does not survive the round trip does not exist.
  absl::CivilDay civil(*year, *month, *day);
  if (civil.year() != *year || civil.month() != *month || civil.day() != *day) {
    return DateError(text, "is not a calendar date");
  }
  absl::CivilDay end_exclusive = civil + 1;
  if (text.size() == 7) {
    absl::CivilMonth next_month = absl::CivilMonth(civil) + 1;
    end_exclusive = absl::CivilDay(next_month);
  }
  absl::Time t = bound == DateBound::kStart
                     ? absl::FromCivil(civil, absl::UTCTimeZone())
                     : absl::FromCivil(end_exclusive, absl::UTCTimeZone()) -
                           absl::Milliseconds(1);
  return absl::ToUnixMillis(t);
}

absl::Status ValidateMonth(std::string_view text) {
  if (text.size() != 7) {
    return DateError(text, "is not a month: use YYYY-MM");
  }
  return ParseDate(text, DateBound::kStart).status();
}

}  // namespace cbx::client
