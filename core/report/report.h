// The monthly transparency report (spec/cooperation.md §7): the one
// computation of its figures from audit entries, shared by the node
// (Office.GetReport) and the auditor (`cbx audit report`), so that both get
// the same bytes from the same entries. Pure functions, no I/O; callable
// from any thread.
#ifndef CBX_CORE_REPORT_REPORT_H_
#define CBX_CORE_REPORT_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"
#include "cbx/v1/report.pb.h"

namespace cbx::report {

// A calendar month in UTC: [start_ms, end_ms).
struct Month {
  std::string name;  // "YYYY-MM"
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// Parses "YYYY-MM" (exactly seven characters, year 1970–9999, month
// 01–12). INVALID_ARGUMENT otherwise.
absl::StatusOr<Month> ParseMonth(std::string_view text);

// The month that contains `time_ms` (>= 0).
Month MonthOf(int64_t time_ms);

struct ReportInput {
  std::string member;
  Month month;
  uint32_t min_cell = 5;  // directory::ReportMinCell of the policy
  // The log positions the entries came from: [log_begin, log_end).
  uint64_t log_begin = 0;
  uint64_t log_end = 0;
  // When open items are judged (spec §7.1): AsOfMs below.
  int64_t as_of_ms = 0;
};

// The as_of_ms of spec §7.1: the month's end if the log holds an entry at
// or after it (`next_entry_time_ms`, negative if there is none), else the
// time of the last entry of the month (`last_entry_time_ms`, negative if
// none), else the month's start.
int64_t AsOfMs(const Month& month, int64_t last_entry_time_ms,
               int64_t next_entry_time_ms);

// Computes the report of `input.month` from `entries`: the log's entries
// [log_begin, log_end) in log order. Entries whose time_ms lies outside the
// month are ignored (spec §7.1). Figures sorted by (name, peer); every
// value 1 .. min_cell - 1 suppressed. Deterministic: the same input gives
// the same serialized Report.
v1::Report ComputeReport(const ReportInput& input,
                         const std::vector<v1::AuditEntry>& entries);

// The figure's value as shown: "<5" (with min_cell 5) if suppressed.
std::string ShownValue(const v1::ReportFigure& figure, uint32_t min_cell);

// One difference between two reports, for `cbx audit report`.
struct FigureDifference {
  std::string name;
  std::string peer;
  std::string expected;  // as shown in the first report ("absent" if none)
  std::string actual;    // in the second
};

// Every header field and figure in which `a` and `b` differ ("member",
// "month", "log_begin", ... as names for the header), in figure order.
std::vector<FigureDifference> CompareReports(const v1::Report& a,
                                             const v1::Report& b);

}  // namespace cbx::report

#endif  // CBX_CORE_REPORT_REPORT_H_
