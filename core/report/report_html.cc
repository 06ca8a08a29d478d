#include "core/report/report_html.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/report/report.h"
#include "core/util/html_escape.h"

namespace cbx::report {
namespace {

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string PeerName(const v1::ReportFigure& f) {
  return f.peer().empty() ? "all" : f.peer();
}

bool IsTime(const v1::ReportFigure& f) {
  return f.name().rfind("time_to_", 0) == 0;
}

// One bar of a chart.
struct Bar {
  std::string label;
  uint64_t value = 0;
  bool suppressed = false;
};

// One horizontal bar chart, a row per bar; a suppressed value is a short
// grey bar labelled "<min_cell".
std::string BarChart(const std::string& title, const std::vector<Bar>& bars,
                     uint32_t min_cell) {
  // The label column fits the longest label at about 8 px a character
  // (13 px text), so that a bar never covers its label.
  constexpr int kRow = 22, kWidth = 320;
  int label_width = 200;
  uint64_t max = 1;
  for (const Bar& b : bars) {
    max = std::max(max, b.value);
    label_width =
        std::max(label_width, 8 * static_cast<int>(b.label.size()) + 12);
  }
  const int height = kRow * static_cast<int>(bars.size()) + 30;
  std::string svg = absl::StrCat(
      "<figure><figcaption>", util::HtmlEscape(title), "</figcaption>\n",
      "<svg width=\"", label_width + kWidth + 80, "\" height=\"", height,
      "\" role=\"img\" aria-label=\"", util::HtmlEscape(title), "\">\n");
  int y = 10;
  for (const Bar& b : bars) {
    const int w = b.suppressed ? 0 : static_cast<int>(b.value * kWidth / max);
    absl::StrAppend(&svg, "<text x=\"0\" y=\"", y + 14, "\">",
                    util::HtmlEscape(b.label), "</text>");
    absl::StrAppend(&svg, "<rect x=\"", label_width, "\" y=\"", y,
                    "\" width=\"", b.suppressed ? kWidth / 20 : std::max(w, 1),
                    "\" height=\"16\" class=\"",
                    b.suppressed ? "suppressed" : "bar", "\"/>");
    absl::StrAppend(&svg, "<text x=\"",
                    label_width + (b.suppressed ? kWidth / 20 : w) + 6,
                    "\" y=\"", y + 14, "\">",
                    b.suppressed ? util::HtmlEscape(absl::StrCat("<", min_cell))
                                 : absl::StrCat(b.value),
                    "</text>\n");
    y += kRow;
  }
  svg += "</svg></figure>\n";
  return svg;
}

}  // namespace

std::string ReportBodyHtml(const v1::Report& report) {
  std::vector<Bar> totals, times;
  std::map<std::string, std::vector<Bar>> per_peer;
  for (const v1::ReportFigure& f : report.figures()) {
    Bar bar{f.name(), f.value(), f.suppressed()};
    if (!f.peer().empty()) {
      per_peer[f.peer()].push_back(bar);
    } else if (IsTime(f)) {
      times.push_back(bar);
    } else {
      totals.push_back(bar);
    }
  }
  std::string html = absl::StrCat(
      "<p>Audit log entries ", report.log_begin(), "..", report.log_end(),
      " (exclusive); open items judged at ",
      util::HtmlEscape(Utc(report.as_of_ms())), ". Counts from 1 to ",
      report.min_cell() - 1, " are shown as ",
      util::HtmlEscape(absl::StrCat("<", report.min_cell())), ".</p>\n");
  html += BarChart("The node's figures", totals, report.min_cell());
  if (!times.empty()) {
    html += BarChart("Times (ms)", times, report.min_cell());
  }
  for (const auto& [peer, bars] : per_peer) {
    html += BarChart("With " + peer, bars, report.min_cell());
  }
  html +=
      "<table><tr><th scope=\"col\">Figure</th><th scope=\"col\">Peer</th>"
      "<th scope=\"col\">Value</th></tr>\n";
  for (const v1::ReportFigure& f : report.figures()) {
    absl::StrAppend(&html, "<tr><td>", util::HtmlEscape(f.name()), "</td><td>",
                    util::HtmlEscape(PeerName(f)), "</td><td>",
                    util::HtmlEscape(ShownValue(f, report.min_cell())),
                    "</td></tr>\n");
  }
  html += "</table>\n";
  return html;
}

}  // namespace cbx::report
