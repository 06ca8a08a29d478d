// The one HTML escaper of the project: the web console's pages
// (node/console/html.h) and the transparency report's HTML
// (core/report/report_html.h) write every outside text through it.
//
// Threading: pure function.
#ifndef CBX_CORE_UTIL_HTML_ESCAPE_H_
#define CBX_CORE_UTIL_HTML_ESCAPE_H_

#include <string>
#include <string_view>

namespace cbx::util {

// `text` with &, <, >, " and ' replaced by character references: safe in
// element content and in a double- or single-quoted attribute value.
std::string HtmlEscape(std::string_view text);

}  // namespace cbx::util

#endif  // CBX_CORE_UTIL_HTML_ESCAPE_H_
