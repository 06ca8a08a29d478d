#include "client/audit/report_output.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/json_output.h"
#include "client/table.h"
#include "core/util/bytes.h"

namespace cbx::client::audit {
namespace {

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string PeerName(const v1::ReportFigure& f) {
  return f.peer().empty() ? "all" : f.peer();
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool IsTime(const v1::ReportFigure& f) {
  return f.name().rfind("time_to_", 0) == 0;
}

// One horizontal bar chart: a row per (label, value, suppressed).
struct Bar {
  std::string label;
  uint64_t value = 0;
  bool suppressed = false;
};

std::string BarChart(const std::string& title, const std::vector<Bar>& bars,
                     uint32_t min_cell) {
  constexpr int kRow = 22, kLabel = 300, kWidth = 320;
  uint64_t max = 1;
  for (const Bar& b : bars) max = std::max(max, b.value);
  const int height = kRow * static_cast<int>(bars.size()) + 30;
  std::string svg = absl::StrCat(
      "<figure><figcaption>", Escape(title), "</figcaption>\n",
      "<svg width=\"", kLabel + kWidth + 80,
      "\" height=\"", height, "\" role=\"img\" aria-label=\"", Escape(title),
      "\">\n");
  int y = 10;
  for (const Bar& b : bars) {
    const int w =
        b.suppressed ? 0 : static_cast<int>(b.value * kWidth / max);
    absl::StrAppend(&svg, "<text x=\"0\" y=\"", y + 14, "\">",
                    Escape(b.label), "</text>");
    if (b.suppressed) {
      absl::StrAppend(&svg, "<rect x=\"", kLabel, "\" y=\"", y, "\" width=\"",
                      kWidth / 20, "\" height=\"16\" class=\"suppressed\"/>");
    } else {
      absl::StrAppend(&svg, "<rect x=\"", kLabel, "\" y=\"", y, "\" width=\"",
                      std::max(w, 1), "\" height=\"16\" class=\"bar\"/>");
    }
    absl::StrAppend(&svg, "<text x=\"", kLabel + (b.suppressed ? kWidth / 20 : w) + 6,
                    "\" y=\"", y + 14, "\">",
                    b.suppressed ? Escape(absl::StrCat("<", min_cell))
                                 : absl::StrCat(b.value),
                    "</text>\n");
    y += kRow;
  }
  svg += "</svg></figure>\n";
  return svg;
}

}  // namespace

std::string ReportText(const v1::Report& report) {
  std::string out = absl::StrCat(
      "transparency report of ", report.member(), " for ", report.month(),
      " (UTC)\n", "audit log entries ", report.log_begin(), "..",
      report.log_end(), " (exclusive); open items judged at ",
      Utc(report.as_of_ms()), "; counts under ", report.min_cell(),
      " shown as <", report.min_cell(), "\n");
  if (report.signed_at_ms() != 0) {
    absl::StrAppend(&out, "signed by the node at ", Utc(report.signed_at_ms()),
                    "\n");
  }
  Table table({"FIGURE", "PEER", "VALUE"});
  for (const v1::ReportFigure& f : report.figures()) {
    table.AddRow({f.name(), PeerName(f),
                  report::ShownValue(f, report.min_cell())});
  }
  return out + table.Render();
}

std::string ReportJson(const v1::Report& report,
                       const v1::SignedReport* signed_) {
  return JsonLine(ReportJsonValue(report, signed_));
}

Json ReportJsonValue(const v1::Report& report,
                     const v1::SignedReport* signed_) {
  Json j;
  j["member"] = report.member();
  j["month"] = report.month();
  j["month_start_ms"] = report.month_start_ms();
  j["month_end_ms"] = report.month_end_ms();
  j["log_begin"] = report.log_begin();
  j["log_end"] = report.log_end();
  j["as_of_ms"] = report.as_of_ms();
  j["min_cell"] = report.min_cell();
  j["signed_at_ms"] = report.signed_at_ms();
  Json figures = Json::array();
  for (const v1::ReportFigure& f : report.figures()) {
    Json one;
    one["name"] = f.name();
    one["peer"] = f.peer();
    if (f.suppressed()) {
      one["suppressed"] = true;
    } else {
      one["value"] = f.value();
    }
    figures.push_back(std::move(one));
  }
  j["figures"] = std::move(figures);
  if (signed_ != nullptr) {
    j["signed"] = {{"report_hex", HexEncode(signed_->report())},
                   {"key_id_hex", HexEncode(signed_->key_id())},
                   {"signature_hex", HexEncode(signed_->signature())}};
  }
  return j;
}

absl::StatusOr<v1::SignedReport> ParseSignedReportJson(std::string_view text) {
  Json j = Json::parse(std::string(text), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("not JSON (want `cbx report --json`)");
  }
  if (!j.contains("signed") || !j["signed"].is_object()) {
    return absl::InvalidArgumentError(
        "no \"signed\" object (want the output of `cbx report --json`)");
  }
  v1::SignedReport out;
  const std::pair<const char*, std::string*> fields[] = {
      {"report_hex", out.mutable_report()},
      {"key_id_hex", out.mutable_key_id()},
      {"signature_hex", out.mutable_signature()}};
  for (const auto& [name, dest] : fields) {
    const Json& v = j["signed"][name];
    if (!v.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signed.", name, ": missing or not a string"));
    }
    absl::StatusOr<Bytes> bytes = HexDecode(v.get<std::string>());
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signed.", name, ": not hex"));
    }
    *dest = *std::move(bytes);
  }
  return out;
}

// Its length comes from the page's parts, each a few lines.
std::string ReportHtml(const v1::Report& report) {
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
  const std::string title = absl::StrCat("cbx transparency report: ",
                                         report.member(), ", ", report.month());
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"",
      kReportCsp, "\">\n<title>", Escape(title),
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222;background:#fff}\n"
      "svg text{font-size:13px;fill:#222}\n"
      ".bar{fill:#2b6cb0}.suppressed{fill:#bbb}\n"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
      "padding:2px 8px;text-align:left}\n"
      "figure{margin:1em 0}figcaption{font-weight:bold}\n"
      "</style></head><body>\n<h1>",
      Escape(title), "</h1>\n<p>Audit log entries ", report.log_begin(), "..",
      report.log_end(), " (exclusive); open items judged at ",
      Escape(Utc(report.as_of_ms())), ". Counts from 1 to ",
      report.min_cell() - 1, " are shown as ",
      Escape(absl::StrCat("<", report.min_cell())), ".</p>\n");
  html += BarChart("The node's figures", totals, report.min_cell());
  if (!times.empty()) {
    html += BarChart("Times (ms)", times, report.min_cell());
  }
  for (const auto& [peer, bars] : per_peer) {
    html += BarChart("With " + peer, bars, report.min_cell());
  }
  html += "<table><tr><th>Figure</th><th>Peer</th><th>Value</th></tr>\n";
  for (const v1::ReportFigure& f : report.figures()) {
    absl::StrAppend(&html, "<tr><td>", Escape(f.name()), "</td><td>",
                    Escape(PeerName(f)), "</td><td>",
                    Escape(report::ShownValue(f, report.min_cell())),
                    "</td></tr>\n");
  }
  html += "</table>\n</body></html>\n";
  return html;
}

std::vector<std::string> DifferenceLines(
    const std::vector<report::FigureDifference>& differences) {
  std::vector<std::string> out;
  for (const report::FigureDifference& d : differences) {
    out.push_back(absl::StrCat(d.name, d.peer.empty() ? "" : "@" + d.peer,
                               ": the node's report shows ", d.expected,
                               ", the export gives ", d.actual));
  }
  return out;
}

}  // namespace cbx::client::audit
