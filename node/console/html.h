// Small pieces of HTML and HTTP form handling for the web console: escaping
// every text that goes into a page, decoding URL-encoded forms and query
// strings, and the page frame every page shares.
//
// Threading: pure functions.
#ifndef CBX_NODE_CONSOLE_HTML_H_
#define CBX_NODE_CONSOLE_HTML_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/i18n/catalog.h"
#include "core/util/html_escape.h"

namespace cbx::node::console {

// `text` with &, <, >, " and ' replaced by character references: safe in
// element content and in a double- or single-quoted attribute value. The
// project's one escaper (core/util/html_escape.h), under the short name
// the pages use.
inline std::string Escape(std::string_view text) {
  return util::HtmlEscape(text);
}

// A decoded application/x-www-form-urlencoded body or query string: each
// name with its values in order. INVALID_ARGUMENT for a bad %-escape, a
// name or value that is not UTF-8 or holds a control character other than
// tab, CR and LF (values only), or more than `max_fields` fields.
using Form = std::map<std::string, std::vector<std::string>>;
absl::StatusOr<Form> ParseForm(std::string_view encoded,
                               size_t max_fields = 256);

// OK if `s` is UTF-8 without control characters (tab, CR and LF allowed
// where `allow_lines`); INVALID_ARGUMENT saying which is wrong otherwise.
absl::Status CheckText(std::string_view s, bool allow_lines);

// `text` %-encoded for a query string's value (RFC 3986 unreserved
// characters kept).
std::string UrlEncode(std::string_view text);

// The first value of `name` in `form`, or "" if it has none.
std::string First(const Form& form, const std::string& name);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view header, std::string_view name);

// A whole page: doctype, <html lang>, the console's stylesheet, a header
// naming the node and the caller with the language chooser, `body`
// (already HTML) and a footer. `title` and the header texts are escaped
// here.
//
// The chooser (spec/web-console.md §5) is a form posting to /language:
// a select of every language of the catalog, each in its own name and
// with its `lang` attribute, the page's language selected, and a button;
// it carries the session's form token as every POST does and `return_to`,
// the page to come back to. A frame without a form token (the server's own
// error pages, answered before a session is checked) has no chooser.
struct PageFrame {
  i18n::Lang lang;
  std::string title;
  std::string node;    // "MK"
  std::string caller;  // "MK/PPO-Skopje (prosecutor)"
  std::string form_token;
  std::string return_to = "/";  // a path of this console
};
std::string Page(const PageFrame& frame, std::string_view body);

// The language chooser of `frame` (part of Page; empty without a form
// token).
std::string LanguageChooser(const PageFrame& frame);

// The console's stylesheet (served at /console.css; the CSP allows styles
// from the console's own origin only).
std::string_view Stylesheet();

}  // namespace cbx::node::console

#endif  // CBX_NODE_CONSOLE_HTML_H_
