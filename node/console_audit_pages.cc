#include "node/console_audit_pages.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cbx/v1/report.pb.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/report/report_html.h"
#include "core/util/bytes.h"
#include "core/util/status_macros.h"
#include "node/directory_adoption.h"
#include "node/storage/io_health.h"

namespace cbx::node {
namespace {

using console::Escape;
using console::First;

// The pages' words (English; the console's catalog translates them).
constexpr char kAuditTitle[] = "Audit";
constexpr char kReportTitle[] = "Transparency report";
constexpr char kNotForRole[] =
    "These pages are for auditors; your certificate's role is ";
constexpr char kStopping[] = "The node is stopping; try again in a moment.";
constexpr char kOwnLogHeading[] = "This node's audit log";
constexpr char kWitnessedHeading[] =
    "The peers' audit logs, as this node witnesses them";
constexpr char kAlertsHeading[] = "Alerts";
constexpr char kNoAlerts[] =
    "No alerts: every peer's log is consistent with what this node cosigned, "
    "the disk answers and the directory is in order.";
constexpr char kWitnessed[] = "witnessed";
constexpr char kNotYetWitnessed[] = "not yet witnessed";
constexpr char kConsistent[] = "consistent";
constexpr char kNeverCosigned[] = "not cosigned yet";
constexpr char kVerifyYourself[] =
    "To verify the whole log yourself, export it with <code>cbx audit "
    "export</code> and check it with <code>cbx audit verify-export</code>; "
    "to match this node's exchanges against a peer's, use <code>cbx audit "
    "reconcile</code> on both exports (README, the auditors' guide).";
constexpr char kRecompute[] =
    "Recompute it from a verified export: <code>cbx audit report --export "
    "FILE --month ";

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string Error(const std::string& text) {
  return absl::StrCat("<p class=\"error\" role=\"alert\">", Escape(text),
                      "</p>\n");
}

}  // namespace

AuditPages::AuditPages(NodeContext* ctx, OfficeService* office,
                       ConsoleRunner run)
    : ctx_(ctx), office_(office), run_(std::move(run)) {}

void AuditPages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  auto bind = [this](void (AuditPages::*page)(const Request&, Reply) const) {
    return [this, page](const Request& r, Reply reply) {
      (this->*page)(r, std::move(reply));
    };
  };
  routes[{"GET", "/audit"}] = bind(&AuditPages::Overview);
  routes[{"GET", "/audit/report"}] = bind(&AuditPages::Report);
}

console::Response AuditPages::Framed(const Request& r, const std::string& title,
                                     const std::string& body,
                                     int status) const {
  console::PageFrame frame;
  frame.title = title;
  frame.node = ctx_->self();
  frame.caller = r.caller.Display();
  const std::string nav =
      "<nav><a href=\"/\">Home</a> · <a href=\"/audit\">Audit</a> · "
      "<a href=\"/audit/report\">Transparency report</a></nav>\n";
  return console::Response{status, "text/html; charset=utf-8",
                           console::Page(frame, nav + body), ""};
}

void AuditPages::AsCaller(
    const Request& r, const Reply& reply,
    std::function<console::Response(const OfficeCaller&)> work) const {
  absl::StatusOr<OfficeCaller> caller = OfficeCallerOf(r.caller);
  if (!caller.ok()) {
    reply(Framed(r, std::string(kAuditTitle),
                 Error(std::string(caller.status().message())), 500));
    return;
  }
  const bool queued = run_(
      [reply, work = std::move(work), who = *caller] { reply(work(who)); });
  if (!queued)
    reply(Framed(r, std::string(kAuditTitle), Error(kStopping), 503));
}

console::Response AuditPages::Refused(const Request& r,
                                      const std::string& title,
                                      const std::string& before,
                                      const absl::Status& status) const {
  // The role is refused (and logged) by AuditedFor as on the Office port;
  // the page says it in words.
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return Framed(r, title,
                  Error(absl::StrCat(kNotForRole, r.caller.role, ".")), 403);
  }
  return Framed(r, title, before + Error(std::string(status.message())),
                HttpStatusOf(status.code()));
}

absl::StatusOr<std::string> AuditPages::OwnLog() const {
  ASSIGN_OR_RETURN(std::string signed_note, office_->BestCheckpoint());
  ASSIGN_OR_RETURN(note::Note parsed, note::ParseNote(signed_note));
  ASSIGN_OR_RETURN(note::Checkpoint checkpoint,
                   note::ParseCheckpoint(parsed.text));
  std::vector<std::string> witnesses;
  for (const note::Signature& s : parsed.signatures) {
    if (s.name != checkpoint.origin) witnesses.push_back(s.name);
  }
  const uint32_t threshold =
      ctx_->directory->Current()->policy().witness_threshold();
  std::string html = absl::StrCat(
      "<dl><dt>Log</dt><dd><code>", Escape(checkpoint.origin),
      "</code></dd><dt>Entries</dt><dd>", checkpoint.size,
      "</dd><dt>Root hash</dt><dd><code>", HexEncode(checkpoint.root_hash),
      "</code></dd><dt>Cosignatures</dt><dd>", witnesses.size(), " of ",
      threshold, " needed: ",
      witnesses.size() >= threshold ? kWitnessed : kNotYetWitnessed,
      "</dd></dl>\n");
  if (!witnesses.empty()) {
    html += "<ul>";
    for (const std::string& w : witnesses) {
      absl::StrAppend(&html, "<li><code>", Escape(w), "</code></li>");
    }
    html += "</ul>\n";
  }
  return html;
}

absl::StatusOr<std::string> AuditPages::WitnessedLogs(
    std::string* alerts) const {
  std::string rows;
  for (const v1::Member& m : ctx_->directory->Current()->proto().members()) {
    if (m.code() == ctx_->self()) continue;
    ASSIGN_OR_RETURN(WitnessedPeer seen, office_->DescribeWitnessed(m.code()));
    std::string state(seen.cosigned_size == 0 ? kNeverCosigned : kConsistent);
    if (!seen.alert.empty()) {
      state = seen.alert;
      absl::StrAppend(alerts, "<li>", Escape(m.code()), ": ",
                      Escape(seen.alert), "</li>");
    }
    absl::StrAppend(&rows, "<tr><td>", Escape(m.code()), "</td><td>",
                    Escape(m.display_name()), "</td><td>", seen.cosigned_size,
                    "</td><td>",
                    seen.cosigned_at_ms == 0 ? "" : Utc(seen.cosigned_at_ms),
                    "</td><td", seen.alert.empty() ? "" : " class=\"error\"",
                    ">", Escape(state), "</td></tr>\n");
  }
  return absl::StrCat(
      "<table><tr><th scope=\"col\">Member</th><th scope=\"col\">Name</th>"
      "<th scope=\"col\">Entries cosigned</th><th scope=\"col\">Cosigned "
      "at</th><th scope=\"col\">State</th></tr>\n",
      rows, "</table>\n");
}

void AuditPages::Overview(const Request& r, Reply reply) const {
  AsCaller(r, reply, [this, r](const OfficeCaller& who) {
    std::string body;
    absl::Status status = office_->AuditedFor(
        who, "Office.AuditCheckpoint", "audit_checkpoint",
        [&]() -> absl::Status {
          std::string alerts;
          ASSIGN_OR_RETURN(std::string own, OwnLog());
          ASSIGN_OR_RETURN(std::string peers, WitnessedLogs(&alerts));
          if (std::string io = IoHealth::Get().Alert(); !io.empty()) {
            absl::StrAppend(&alerts, "<li>", Escape(io), "</li>");
          }
          absl::StatusOr<std::string> dir = DirectoryAlert(*ctx_->storage);
          if (!dir.ok()) {
            absl::StrAppend(&alerts, "<li>",
                            Escape(std::string(dir.status().message())),
                            "</li>");
          } else if (!dir->empty()) {
            absl::StrAppend(&alerts, "<li>", Escape(*dir), "</li>");
          }
          body = absl::StrCat(
              "<h2>", kAlertsHeading, "</h2>\n",
              alerts.empty()
                  ? absl::StrCat("<p>", kNoAlerts, "</p>\n")
                  : absl::StrCat("<ul class=\"error\" role=\"alert\">", alerts,
                                 "</ul>\n"),
              "<h2>", kOwnLogHeading, "</h2>\n", own, "<h2>", kWitnessedHeading,
              "</h2>\n", peers, "<p>", kVerifyYourself, "</p>\n");
          return absl::OkStatus();
        });
    if (!status.ok()) return Refused(r, std::string(kAuditTitle), "", status);
    return Framed(r, std::string(kAuditTitle), body);
  });
}

void AuditPages::Report(const Request& r, Reply reply) const {
  std::string month = First(r.query, "month");
  if (month.empty()) {
    month =
        absl::FormatTime("%Y-%m", absl::FromUnixMillis(ctx_->clock->NowMs()),
                         absl::UTCTimeZone());
  }
  AsCaller(r, reply, [this, r, month](const OfficeCaller& who) {
    v1::SignedReport signed_report;
    absl::Status status = office_->AuditedFor(
        who, "Office.GetReport", "get_report", [&]() -> absl::Status {
          ASSIGN_OR_RETURN(signed_report, office_->Report(month));
          return absl::OkStatus();
        });
    const std::string form = absl::StrCat(
        "<form method=\"get\" action=\"/audit/report\"><label "
        "for=\"month\">Month (UTC)</label> <input type=\"month\" id=\"month\" "
        "name=\"month\" value=\"",
        Escape(month),
        "\" required> <button type=\"submit\">Show</button>"
        "</form>\n");
    v1::Report report;
    if (status.ok() && !report.ParseFromString(signed_report.report())) {
      status = absl::InternalError("the node's signed report does not parse");
    }
    if (!status.ok()) {
      return Refused(r, std::string(kReportTitle), form, status);
    }
    return Framed(
        r,
        absl::StrCat(kReportTitle, ": ", report.member(), ", ", report.month()),
        absl::StrCat(form, "<p>Signed by the node at ",
                     Escape(Utc(report.signed_at_ms())), " with key <code>",
                     HexEncode(signed_report.key_id()), "</code>.</p>\n",
                     report::ReportBodyHtml(report), "<p>", kRecompute,
                     Escape(report.month()), "</code>.</p>\n"));
  });
}

}  // namespace cbx::node
