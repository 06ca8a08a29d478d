// Times as the CLI shows and reads them: UTC, ISO 8601.
#ifndef CBX_CLIENT_TIME_FORMAT_H_
#define CBX_CLIENT_TIME_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cbx::client {

// "2025-03-14T09:26:53Z" (whole seconds, for tables); "" for 0, which the
// Office API uses for "not set".
std::string FormatTimestamp(int64_t ms);
// "2025-03-14T09:26:53.120Z", the fraction only when not zero (for JSON);
// "" for 0.
std::string FormatTimestampPrecise(int64_t ms);
// "2025-03-14", the UTC day of `ms`.
std::string FormatDate(int64_t ms);

// Which end of a day or month a date names.
enum class DateBound { kStart, kEnd };

// Parses "YYYY-MM-DD" (a day) or "YYYY-MM" (a month), UTC, and returns the
// first millisecond of that day/month (kStart) or its last one (kEnd).
// INVALID_ARGUMENT saying what is wrong for anything else, including dates
// that do not exist (2025-02-30) and years outside 1970..9999.
absl::StatusOr<int64_t> ParseDate(std::string_view text, DateBound bound);

// OK for "YYYY-MM" with a month 01..12 and a year 1970..9999;
// INVALID_ARGUMENT otherwise.
absl::Status ValidateMonth(std::string_view text);

}  // namespace cbx::client

#endif  // CBX_CLIENT_TIME_FORMAT_H_
