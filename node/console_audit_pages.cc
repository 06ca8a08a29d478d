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

namespace msg = i18n::msg;

std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}

std::string Code(std::string_view command) {
  return absl::StrCat("<code>", Escape(command), "</code>");
}

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string Error(const std::string& text) {
  return absl::StrCat("<p class=\"error\" role=\"alert\">", Escape(text),
                      "</p>\n");
}

// An error already in HTML (a translated message).
std::string ErrorHtml(const std::string& html) {
  return absl::StrCat("<p class=\"error\" role=\"alert\">", html, "</p>\n");
}

}  // namespace

AuditPages::AuditPages(NodeContext* ctx, OfficeService* office,
                       const ConsoleLanguage* language, ConsoleRunner run,
                       v1::SignedDirectory genesis)
    : ctx_(ctx),
      office_(office),
      language_(language),
      run_(std::move(run)),
      genesis_(std::move(genesis)) {}

void AuditPages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  auto bind = [this](void (AuditPages::*page)(const Request&, Reply) const) {
    return [this, page](const Request& r, Reply reply) {
      (this->*page)(r, std::move(reply));
    };
  };
  routes[{"GET", "/audit"}] = bind(&AuditPages::Overview);
  routes[{"GET", "/audit/report"}] = bind(&AuditPages::Report);
  routes[{"GET", "/audit/export"}] = bind(&AuditPages::Download);
  routes[{"GET", "/audit/check"}] = bind(&AuditPages::CheckForm);
  routes[{"POST", "/audit/check"}] = bind(&AuditPages::Check);
}

void AuditPages::AsCaller(
    const Request& r, const Reply& reply,
    std::function<console::Response(const OfficeCaller&)> work) const {
  const i18n::Lang lang = language_->For(r);
  const std::string title(i18n::Text(msg::kConsoleAuditTitle, lang));
  absl::StatusOr<OfficeCaller> caller = OfficeCallerOf(r.caller);
  if (!caller.ok()) {
    reply(language_->Page(r, title,
                          Error(std::string(caller.status().message())), 500));
    return;
  }
  language_->Later(run_, r, reply, [work = std::move(work), who = *caller] {
    return work(who);
  });
}

console::Response AuditPages::Refused(const Request& r,
                                      const std::string& title,
                                      const std::string& before,
                                      const absl::Status& status) const {
  // The role is refused (and logged) by AuditedFor as on the Office port;
  // the page says it in words.
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return language_->Page(
        r, title,
        ErrorHtml(
            HtmlFormat(msg::kConsoleAuditNotForRole, language_->For(r),
                       {Escape(RoleText(r.caller.role, language_->For(r)))})),
        403);
  }
  return language_->Page(r, title,
                         before + Error(std::string(status.message())),
                         HttpStatusOf(status.code()));
}

absl::StatusOr<std::string> AuditPages::OwnLog(i18n::Lang lang) const {
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
  const std::string cosigned = HtmlFormat(
      msg::kConsoleAuditCosignedOf, lang,
      {absl::StrCat(witnesses.size()), absl::StrCat(threshold),
       T(witnesses.size() >= threshold ? msg::kConsoleAuditWitnessed
                                       : msg::kConsoleAuditNotWitnessed,
         lang)});
  std::string html = absl::StrCat(
      "<dl><dt>", T(msg::kConsoleAuditLog, lang), "</dt><dd><code>",
      Escape(checkpoint.origin), "</code></dd><dt>",
      T(msg::kConsoleAuditEntries, lang), "</dt><dd>", checkpoint.size,
      "</dd><dt>", T(msg::kConsoleAuditRootHash, lang), "</dt><dd><code>",
      HexEncode(checkpoint.root_hash), "</code></dd><dt>",
      T(msg::kConsoleAuditCosignatures, lang), "</dt><dd>", cosigned,
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

absl::StatusOr<std::string> AuditPages::WitnessedLogs(std::string* alerts,
                                                      i18n::Lang lang) const {
  std::string rows;
  for (const v1::Member& m : ctx_->directory->Current()->proto().members()) {
    if (m.code() == ctx_->self()) continue;
    ASSIGN_OR_RETURN(WitnessedPeer seen, office_->DescribeWitnessed(m.code()));
    std::string state(i18n::Text(seen.cosigned_size == 0
                                     ? msg::kConsoleAuditNeverCosigned
                                     : msg::kConsoleAuditConsistent,
                                 lang));
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
  std::string head = "<table><tr>";
  for (i18n::MessageId column :
       {msg::kConsoleAuditMember, msg::kConsoleAuditName,
        msg::kConsoleAuditEntriesCosigned, msg::kConsoleAuditCosignedAt,
        msg::kConsoleAuditState}) {
    absl::StrAppend(&head, "<th scope=\"col\">", T(column, lang), "</th>");
  }
  return absl::StrCat(head, "</tr>\n", rows, "</table>\n");
}

void AuditPages::Overview(const Request& r, Reply reply) const {
  AsCaller(r, reply, [this, r](const OfficeCaller& who) {
    const i18n::Lang lang = language_->For(r);
    const std::string title(i18n::Text(msg::kConsoleAuditTitle, lang));
    std::string body;
    absl::Status status = office_->AuditedFor(
        who, "Office.AuditCheckpoint", "audit_checkpoint",
        [&]() -> absl::Status {
          std::string alerts;
          ASSIGN_OR_RETURN(std::string own, OwnLog(lang));
          ASSIGN_OR_RETURN(std::string peers, WitnessedLogs(&alerts, lang));
          if (std::string io = IoHealth::Get().Alert(); !io.empty()) {
            absl::StrAppend(&alerts, "<li>", Escape(io), "</li>");
          }
          absl::StatusOr<std::string> dir = DirectoryAlert(
              *ctx_->storage, ctx_->directory->Current()->version());
          if (!dir.ok()) {
            absl::StrAppend(&alerts, "<li>",
                            Escape(std::string(dir.status().message())),
                            "</li>");
          } else if (!dir->empty()) {
            absl::StrAppend(&alerts, "<li>", Escape(*dir), "</li>");
          }
          body = absl::StrCat(
              "<h2>", T(msg::kConsoleAuditAlerts, lang), "</h2>\n",
              alerts.empty()
                  ? absl::StrCat("<p>", T(msg::kConsoleAuditNoAlerts, lang),
                                 "</p>\n")
                  : absl::StrCat("<ul class=\"error\" role=\"alert\">", alerts,
                                 "</ul>\n"),
              "<h2>", T(msg::kConsoleAuditOwnLog, lang), "</h2>\n", own, "<h2>",
              T(msg::kConsoleAuditPeers, lang), "</h2>\n", peers,
              ExportForm("0", "", lang), "<p>",
              HtmlFormat(msg::kConsoleAuditCheckOverview, lang,
                         {absl::StrCat("<a href=\"/audit/check\">",
                                       T(msg::kConsoleAuditCheckTitle, lang),
                                       "</a>")}),
              "</p>\n<p>",
              HtmlFormat(
                  msg::kConsoleAuditVerifyYourself, lang,
                  {Code("cbx audit export"), Code("cbx audit verify-export"),
                   Code("cbx audit reconcile")}),
              "</p>\n");
          return absl::OkStatus();
        });
    if (!status.ok()) return Refused(r, title, "", status);
    return language_->Page(r, title, body);
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
    const i18n::Lang lang = language_->For(r);
    const std::string title(i18n::Text(msg::kConsoleAuditReportTitle, lang));
    v1::SignedReport signed_report;
    absl::Status status = office_->AuditedFor(
        who, "Office.GetReport", "get_report", [&]() -> absl::Status {
          ASSIGN_OR_RETURN(signed_report, office_->Report(month));
          return absl::OkStatus();
        });
    const std::string form = absl::StrCat(
        "<form method=\"get\" action=\"/audit/report\"><label "
        "for=\"month\">",
        T(msg::kConsoleAuditMonth, lang),
        "</label> <input type=\"month\" id=\"month\" name=\"month\" value=\"",
        Escape(month), "\" required> <button type=\"submit\">",
        T(msg::kConsoleAuditShow, lang), "</button></form>\n");
    v1::Report report;
    if (status.ok() && !report.ParseFromString(signed_report.report())) {
      status = absl::InternalError("the node's signed report does not parse");
    }
    if (!status.ok()) {
      return Refused(r, title, form, status);
    }
    return language_->Page(
        r,
        i18n::Format(msg::kConsoleAuditReportOf, lang,
                     {report.member(), report.month()}),
        absl::StrCat(
            form, "<p>",
            HtmlFormat(msg::kConsoleAuditSignedAt, lang,
                       {Escape(Utc(report.signed_at_ms())),
                        Code(HexEncode(signed_report.key_id()))}),
            "</p>\n", report::ReportBodyHtml(report), "<p>",
            HtmlFormat(msg::kConsoleAuditRecompute, lang,
                       {Code(absl::StrCat("cbx audit report --export FILE "
                                          "--month ",
                                          report.month()))}),
            "</p>\n"));
  });
}

}  // namespace cbx::node
