#include "client/audit/report_check.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "core/report/report_signature.h"
#include "core/util/status_macros.h"

namespace cbx::client::audit {
namespace {

// The entries [begin, end) of the export, or FAILED_PRECONDITION.
absl::StatusOr<std::vector<v1::AuditEntry>> Slice(const VerifiedExport& e,
                                                  uint64_t begin,
                                                  uint64_t end) {
  if (begin > end || (begin < end && (begin < e.begin || end > e.end))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the report covers log entries ", begin, "..", end,
        " (exclusive) but the export holds ", e.begin, "..", e.end,
        "; export a range that includes them"));
  }
  std::vector<v1::AuditEntry> out;
  for (const VerifiedEntry& v : e.entries) {
    if (v.index >= begin && v.index < end) out.push_back(v.entry);
  }
  return out;
}

// The time of entry `index` if the export holds it, else -1.
int64_t TimeAt(const VerifiedExport& e, uint64_t index) {
  if (index < e.begin || index >= e.end) return -1;
  return e.entries[index - e.begin].entry.time_ms();
}

}  // namespace

absl::StatusOr<ReportCheck> CheckReport(const VerifiedExport& exported,
                                        const std::string& month_text,
                                        const v1::SignedReport* signed_) {
  ASSIGN_OR_RETURN(report::Month month, report::ParseMonth(month_text));
  const directory::Directory& dir = *exported.directory.latest;
  report::ReportInput input{.member = exported.file.member,
                            .month = month,
                            .min_cell = directory::ReportMinCell(dir.policy())};
  ReportCheck check;
  if (signed_ == nullptr) {
    // The export's entries of the month: the first at or after its start
    // to the first at or after its end.
    input.log_begin = input.log_end = exported.end;
    for (const VerifiedEntry& v : exported.entries) {
      if (v.entry.time_ms() >= month.start_ms && input.log_begin == exported.end)
        input.log_begin = v.index;
      if (v.entry.time_ms() >= month.end_ms) {
        input.log_end = v.index;
        break;
      }
    }
    input.log_begin = std::min(input.log_begin, input.log_end);
  } else {
    ASSIGN_OR_RETURN(v1::Report node, report::VerifySignedReport(*signed_, dir));
    if (node.member() != exported.file.member || node.month() != month.name) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the signed report is ", node.member(), "'s for ", node.month(),
          ", not ", exported.file.member, "'s for ", month.name));
    }
    input.log_begin = node.log_begin();
    input.log_end = node.log_end();
    input.min_cell = node.min_cell();
    check.node = std::move(node);
  }
  ASSIGN_OR_RETURN(std::vector<v1::AuditEntry> entries,
                   Slice(exported, input.log_begin, input.log_end));
  const int64_t last = entries.empty() ? -1 : entries.back().time_ms();
  const int64_t next = TimeAt(exported, input.log_end);
  input.as_of_ms = report::AsOfMs(month, last, next);
  // An export that ends at log_end cannot show whether the log went on
  // past the month: the node's month end is then taken (spec §7.5).
  if (check.node.has_value() && next < 0 &&
      check.node->as_of_ms() == month.end_ms) {
    input.as_of_ms = month.end_ms;
  }
  check.recomputed = report::ComputeReport(input, entries);
  if (check.node.has_value()) {
    check.differences = report::CompareReports(*check.node, check.recomputed);
  }
  return check;
}

}  // namespace cbx::client::audit
