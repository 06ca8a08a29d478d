// `cbx audit report`: a month's transparency report recomputed from a
// verified export with core/report (the node's own code), and, given the
// node's signed report, its signature checked against the export's
// directory and its figures compared one by one (spec/cooperation.md §7.5).
// Pure functions, no I/O; any thread.
#ifndef CBX_CLIENT_AUDIT_REPORT_CHECK_H_
#define CBX_CLIENT_AUDIT_REPORT_CHECK_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/report.pb.h"
#include "client/audit/export.h"
#include "core/report/report.h"

namespace cbx::client::audit {

struct ReportCheck {
  v1::Report recomputed;
  // The node's report as signed, if one was given (signature verified).
  std::optional<v1::Report> node;
  // Where the two differ (empty without a node report, or if equal).
  std::vector<report::FigureDifference> differences;
};

// Recomputes `month`'s report of the export's member from `exported`
// (already verified by VerifyExport). Without `signed_`: over the export's
// entries of the month, with the latest directory's report_min_cell.
// With it: checks its signature (VerifySignedReport against the export's
// latest directory version; UNAUTHENTICATED) and that it is the export's
// member's and `month`'s (INVALID_ARGUMENT), then recomputes over its
// [log_begin, log_end) with its min_cell — FAILED_PRECONDITION if the
// export does not hold those entries — and compares.
// INVALID_ARGUMENT for a malformed month.
absl::StatusOr<ReportCheck> CheckReport(const VerifiedExport& exported,
                                        const std::string& month,
                                        const v1::SignedReport* signed_);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_REPORT_CHECK_H_
