#include "client/audit/report_output.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/json_output.h"
#include "client/table.h"
#include "core/report/report_html.h"
#include "core/util/bytes.h"
#include "core/util/html_escape.h"

namespace cbx::client::audit {
namespace {

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string PeerName(const v1::ReportFigure& f) {
  return f.peer().empty() ? "all" : f.peer();
}

std::string Escape(std::string_view s) { return util::HtmlEscape(s); }

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

std::string ReportHtml(const v1::Report& report) {
  const std::string title = absl::StrCat("cbx transparency report: ",
                                         report.member(), ", ", report.month());
  return absl::StrCat(
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
      Escape(title), "</h1>\n", report::ReportBodyHtml(report),
      "</body></html>\n");
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
