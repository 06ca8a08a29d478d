// The transparency report's three forms (spec/cooperation.md §7.6) — a
// table, JSON, one self-contained HTML page with inline SVG charts — and
// the JSON file `cbx audit report --signed` reads back. Used by `cbx
// report` and `cbx audit report`. Pure functions; any thread.
#ifndef CBX_CLIENT_AUDIT_REPORT_OUTPUT_H_
#define CBX_CLIENT_AUDIT_REPORT_OUTPUT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/report.pb.h"
#include "client/json_output.h"
#include "core/report/report.h"

namespace cbx::client::audit {

// The header lines and one row per figure: name, peer ("all" for the
// node's total), value as shown ("<5" for a suppressed one).
std::string ReportText(const v1::Report& report);

// {"member", "month", ..., "figures": [{"name", "peer", "value"} or
// {"name", "peer", "suppressed": true}], "signed": {"report_hex",
// "key_id_hex", "signature_hex"}} — "signed" only if `signed_` is given.
// One line, ending in a newline.
std::string ReportJson(const v1::Report& report,
                       const v1::SignedReport* signed_);
// The same as a JSON value.
Json ReportJsonValue(const v1::Report& report,
                     const v1::SignedReport* signed_);

// Reads the "signed" object of ReportJson's output. INVALID_ARGUMENT naming
// what is missing or not hex.
absl::StatusOr<v1::SignedReport> ParseSignedReportJson(std::string_view text);

// One HTML page, self-contained: inline CSS, inline SVG bar charts (the
// node's count figures; per peer, each peer's), the table; no script, no
// external resource, a Content-Security-Policy meta tag
// (kReportCsp). Every text from the report is HTML-escaped.
inline constexpr char kReportCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'";
std::string ReportHtml(const v1::Report& report);

// What `cbx audit report` found comparing the node's signed report with
// the recomputation: the differences as lines "name[@peer]: node shows X,
// the export gives Y".
std::vector<std::string> DifferenceLines(
    const std::vector<report::FigureDifference>& differences);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_REPORT_OUTPUT_H_
