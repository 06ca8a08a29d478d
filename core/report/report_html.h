// The transparency report's figures as HTML (spec/cooperation.md §7.6): a
// paragraph saying what the report covers, horizontal bar charts in inline
// SVG (the node's counts, its times, each peer's counts) and the table of
// every figure. Shared by `cbx report --html` (a self-contained page that
// adds its own inline style) and the node's web console (which serves its
// own stylesheet under a CSP that allows no inline style), so the two show
// the same figures the same way.
//
// No <style>, no script, no attribute that styles: the charts' bars carry
// the classes `bar` and `suppressed` for the page's stylesheet. Every text
// from the report is HTML-escaped. Pure functions; any thread.
#ifndef CBX_CORE_REPORT_REPORT_HTML_H_
#define CBX_CORE_REPORT_REPORT_HTML_H_

#include <string>
#include <string_view>

#include "cbx/v1/report.pb.h"

namespace cbx::report {

// The report's body: the coverage paragraph, the charts and the table.
std::string ReportBodyHtml(const v1::Report& report);

}  // namespace cbx::report

#endif  // CBX_CORE_REPORT_REPORT_HTML_H_
