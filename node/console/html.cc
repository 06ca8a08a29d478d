#include "node/console/html.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/identifiers/text.h"

namespace cbx::node::console {
namespace {

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }
std::string_view S(absl::string_view s) { return {s.data(), s.size()}; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `part` with '+' as space and %XX decoded.
absl::StatusOr<std::string> Unescape(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      const bool two = i + 2 < part.size();
      const int hi = two ? HexDigit(part[i + 1]) : -1;
      const int lo = two ? HexDigit(part[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            "the form holds a '%' that is not followed by two hex digits");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::Status CheckText(std::string_view s, bool allow_lines) {
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = 0;
    if (!identifiers::internal::DecodeUtf8(s, &pos, &cp)) {
      return absl::InvalidArgumentError(
          "the form holds text that is not UTF-8");
    }
    const bool line = cp == '\t' || cp == '\r' || cp == '\n';
    if ((cp < 0x20 && !(allow_lines && line)) || cp == 0x7f) {
      return absl::InvalidArgumentError("the form holds a control character");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Form> ParseForm(std::string_view encoded, size_t max_fields) {
  Form form;
  size_t fields = 0;
  for (absl::string_view part : absl::StrSplit(A(encoded), '&')) {
    const std::string_view pair = S(part);
    if (pair.empty()) continue;
    if (++fields > max_fields) {
      return absl::InvalidArgumentError(
          absl::StrCat("the form has more than ", max_fields, " fields"));
    }
    const size_t eq = pair.find('=');
    absl::StatusOr<std::string> name = Unescape(pair.substr(0, eq));
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value =
        Unescape(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value.ok()) return value.status();
    if (absl::Status s = CheckText(*name, false); !s.ok()) return s;
    if (absl::Status s = CheckText(*value, true); !s.ok()) return s;
    form[*name].push_back(std::move(*value));
  }
  return form;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string First(const Form& form, const std::string& name) {
  auto it = form.find(name);
  return it == form.end() || it->second.empty() ? "" : it->second.front();
}

std::string CookieValue(std::string_view header, std::string_view name) {
  for (absl::string_view piece : absl::StrSplit(A(header), ';')) {
    const std::string_view part = S(absl::StripAsciiWhitespace(piece));
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return "";
}

std::string LanguageChooser(const PageFrame& frame) {
  if (frame.form_token.empty()) return "";
  std::string out = absl::StrCat(
      "<form class=\"language\" method=\"post\" action=\"/language\">"
      "<input type=\"hidden\" name=\"form_token\" value=\"",
      Escape(frame.form_token),
      "\"><input type=\"hidden\" name=\"return_to\" value=\"",
      Escape(frame.return_to), "\"><label for=\"language\">",
      Escape(i18n::Text(i18n::msg::kConsoleLanguageLabel, frame.lang)),
      "</label> <select name=\"language\" id=\"language\">");
  for (i18n::Lang lang : i18n::Languages()) {
    absl::StrAppend(&out, "<option value=\"", Escape(lang.code()), "\" lang=\"",
                    Escape(lang.code()), "\"",
                    lang == frame.lang ? " selected" : "", ">",
                    Escape(i18n::LanguageName(lang)), "</option>");
  }
  absl::StrAppend(
      &out, "</select> <button type=\"submit\">",
      Escape(i18n::Text(i18n::msg::kConsoleLanguageSubmit, frame.lang)),
      "</button></form>");
  return out;
}

std::string Page(const PageFrame& frame, std::string_view body) {
  return absl::StrCat(
      "<!doctype html>\n<html lang=\"", Escape(frame.lang.code()),
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>",
      Escape(frame.title), " — cbx ", Escape(frame.node),
      "</title>\n<link rel=\"stylesheet\" href=\"/console.css\">\n"
      "</head>\n<body>\n<header><span class=\"node\">cbx ",
      Escape(frame.node), "</span> <span class=\"caller\">",
      Escape(frame.caller), "</span>", LanguageChooser(frame),
      "</header>\n<main>\n<h1>", Escape(frame.title), "</h1>\n", A(body),
      "\n</main>\n</body>\n</html>\n");
}

std::string_view Stylesheet() {
  return R"(body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#17324d;color:#fff;padding:.6em 1em;display:flex;gap:1em}
header .node{font-weight:bold}
header .language{margin-left:auto}
header .language label{display:inline;color:#fff}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
main{max-width:70em;margin:1em auto;padding:0 1em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #ccc}
.error{background:#fde8e8;border-left:4px solid #b00020;padding:.5em 1em}
.warning{background:#fff4e0;border-left:4px solid #b36b00;padding:.5em 1em}
.ok{background:#e6f4ea;border-left:4px solid #1e6b34;padding:.5em 1em}
form label{display:block;margin:.4em 0}
svg text{font-size:13px;fill:#1b1b1b}
svg .bar{fill:#17324d}
svg .suppressed{fill:#999}
figure{margin:1em 0}
figcaption{font-weight:bold}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #b36b00;outline-offset:2px}
.hint{color:#444;margin:.2em 0}
code.hash{word-break:break-all}
fieldset.row{margin:.5em 0}
.disjoint{color:#8a0012}
.hit{border:1px solid #ccc;background:#fff;padding:.5em 1em;margin:1em 0}
@media print{header,nav,form,.noprint{display:none}body{background:#fff}.hit{border:0}}
)";
}

}  // namespace cbx::node::console
