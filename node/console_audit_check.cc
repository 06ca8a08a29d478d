// The auditor's export download and export check (spec/web-console.md §4a):
// GET /audit/export answers the file `cbx audit export` writes; POST
// /audit/check verifies uploaded exports and reconciles two of them with
// the auditor's own checks (client/audit: VerifyExport, Reconcile), against
// this node's pinned genesis and clock, and shows what `cbx audit
// verify-export` and `cbx audit reconcile` print, in the page's language.
// Nothing uploaded is stored.
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/audit/export.h"
#include "client/audit/reconcile.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/console_audit_pages.h"
#include "node/console_case_forms.h"

namespace cbx::node {
namespace {

using client::audit::AuditExport;
using client::audit::Orphan;
using client::audit::ReconcileReport;
using client::audit::VerifiedExport;
using console::Escape;
using console::First;

namespace msg = i18n::msg;

std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}

std::string Code(std::string_view text) {
  return absl::StrCat("<code>", Escape(text), "</code>");
}

std::string Utc(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

// An entry number as typed: empty, or a whole number.
bool ReadNumber(const std::string& text, std::optional<uint64_t>* out) {
  if (text.empty()) return true;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  *out = n;
  return true;
}

std::string Row(const std::string& label_html, const std::string& value_html) {
  return absl::StrCat("<dt>", label_html, "</dt><dd>", value_html, "</dd>");
}

std::string Head(std::initializer_list<i18n::MessageId> columns,
                 i18n::Lang lang) {
  std::string out = "<tr>";
  for (i18n::MessageId c : columns) {
    absl::StrAppend(&out, "<th scope=\"col\">", T(c, lang), "</th>");
  }
  return out + "</tr>\n";
}

// What one uploaded export gave: its heading, and either the verified
// export or the failure in its box.
struct Checked {
  std::string heading;  // HTML
  std::optional<VerifiedExport> verified;
  int http = 200;       // 400: does not parse; 422: does not verify
  std::string failure;  // HTML, the error box
  absl::Status status;  // what the audit entry records
};

std::string ErrorBox(const std::string& framing_html,
                     absl::string_view reason) {
  return absl::StrCat("<div class=\"error\" role=\"alert\"><p>", framing_html,
                      "</p><p><code>", Escape(std::string(reason)),
                      "</code></p></div>\n");
}

}  // namespace

std::string AuditPages::ExportForm(const std::string& from,
                                   const std::string& to,
                                   i18n::Lang lang) const {
  return absl::StrCat(
      "<h2>", T(msg::kConsoleAuditExportHeading, lang),
      "</h2>\n<form method=\"get\" action=\"/audit/export\"><p><label "
      "for=\"from\">",
      T(msg::kConsoleAuditExportFrom, lang),
      "</label> <input id=\"from\" name=\"from\" inputmode=\"numeric\" "
      "value=\"",
      Escape(from), "\"></p><p><label for=\"to\">",
      T(msg::kConsoleAuditExportTo, lang),
      "</label> <input id=\"to\" name=\"to\" inputmode=\"numeric\" value=\"",
      Escape(to), "\"></p><p><button type=\"submit\">",
      T(msg::kConsoleAuditExportDownload, lang), "</button></p></form>\n<p>",
      HtmlFormat(msg::kConsoleAuditExportHint, lang,
                 {Code("cbx audit export"), Code("cbx audit verify-export")}),
      "</p>\n");
}

absl::StatusOr<std::string> AuditPages::ExportFile(uint64_t from,
                                                   std::optional<uint64_t> to,
                                                   std::string* name) const {
  if (!to.has_value()) {
    // As `cbx audit export` without --to: up to the latest checkpoint.
    ASSIGN_OR_RETURN(std::string best, office_->BestCheckpoint());
    ASSIGN_OR_RETURN(note::Note parsed, note::ParseNote(best));
    ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpoint(parsed.text));
    to = cp.size;
  }
  v1::AuditExportRequest request;
  request.set_begin(from);
  request.set_end(*to);
  AuditExport file;
  file.member = ctx_->self();
  file.directory_versions = office_->DirectoryVersions();
  RETURN_IF_ERROR(
      office_->Export(request, [&file](const v1::AuditExportChunk& chunk) {
        if (file.checkpoint.empty()) file.checkpoint = chunk.checkpoint();
        for (const v1::AuditExportedEntry& e : chunk.entries()) {
          file.entries.push_back(client::audit::ExportedEntry{
              e.index(), e.leaf(),
              std::vector<Bytes>(e.inclusion_proof().begin(),
                                 e.inclusion_proof().end())});
        }
        return true;
      }));
  *name =
      absl::StrCat("cbx-audit-", ctx_->self(), "-", from, "-", *to, ".json");
  return client::audit::FormatExport(file);
}

void AuditPages::Download(const Request& r, Reply reply) const {
  const std::string from_text = First(r.query, "from");
  const std::string to_text = First(r.query, "to");
  std::optional<uint64_t> from, to;
  if (!ReadNumber(from_text, &from) || !ReadNumber(to_text, &to)) {
    // Nothing is asked of the node for numbers it cannot read (as `cbx`).
    const i18n::Lang lang = language_->For(r);
    reply(language_->Page(
        r, std::string(i18n::Text(msg::kConsoleAuditExportTitle, lang)),
        absl::StrCat("<p class=\"error\" role=\"alert\">",
                     T(msg::kConsoleAuditExportBadNumber, lang), "</p>\n",
                     ExportForm(from_text, to_text, lang)),
        400));
    return;
  }
  AsCaller(
      r, reply,
      [this, r, from, to, from_text, to_text](const OfficeCaller& who) {
        const i18n::Lang lang = language_->For(r);
        std::string file, name;
        absl::Status status = office_->AuditedFor(
            who, "Office.AuditExport", "audit_export", [&]() -> absl::Status {
              ASSIGN_OR_RETURN(file, ExportFile(from.value_or(0), to, &name));
              return absl::OkStatus();
            });
        if (!status.ok()) {
          return Refused(
              r, std::string(i18n::Text(msg::kConsoleAuditExportTitle, lang)),
              ExportForm(from_text, to_text, lang), status);
        }
        console::Response answer{200, "application/json; charset=utf-8",
                                 std::move(file), ""};
        answer.attachment = name;
        return answer;
      });
}

namespace {

std::string CheckFormHtml(const console::Request& r, i18n::Lang lang) {
  return absl::StrCat(
      "<p>", T(msg::kConsoleAuditCheckIntro, lang),
      "</p>\n<form method=\"post\" action=\"/audit/check\" "
      "enctype=\"multipart/form-data\">",
      case_forms::FormToken(r), "<p><label for=\"export\">",
      T(msg::kConsoleAuditCheckFirstFile, lang),
      "</label> <input type=\"file\" id=\"export\" name=\"export\" "
      "accept=\".json,application/json\" required></p><p><label "
      "for=\"other\">",
      T(msg::kConsoleAuditCheckSecondFile, lang),
      "</label> <input type=\"file\" id=\"other\" name=\"other\" "
      "accept=\".json,application/json\"></p><p><button type=\"submit\">",
      T(msg::kConsoleAuditCheckSubmit, lang), "</button></p></form>\n");
}

// One verified export: what `cbx audit verify-export` prints of it.
std::string VerifiedHtml(const VerifiedExport& e, i18n::Lang lang) {
  const client::audit::CheckpointReport& c = e.checkpoint;
  std::string cosigners;
  for (const std::string& m : c.WitnessMembers()) {
    absl::StrAppend(&cosigners, cosigners.empty() ? "" : ", ", Code(m));
  }
  if (cosigners.empty()) cosigners = T(msg::kConsoleAuditCheckNone, lang);
  std::string html = absl::StrCat(
      "<p class=\"ok\" role=\"status\">",
      T(msg::kConsoleAuditCheckVerified, lang), "</p>\n<dl>",
      Row(T(msg::kConsoleAuditMember, lang), Escape(c.member)),
      Row(T(msg::kConsoleAuditCheckEntries, lang),
          e.entries.empty() ? T(msg::kConsoleAuditCheckNone, lang)
                            : absl::StrCat("[", e.begin, ", ", e.end, ")")),
      Row(T(msg::kConsoleAuditLog, lang), Code(c.origin)),
      Row(T(msg::kConsoleAuditCheckCheckpointSize, lang),
          absl::StrCat(c.checkpoint.size)),
      Row(T(msg::kConsoleAuditRootHash, lang),
          Code(HexEncode(c.checkpoint.root_hash))),
      Row(T(msg::kConsoleAuditCheckCosigners, lang),
          absl::StrCat(
              cosigners, "; ",
              HtmlFormat(msg::kConsoleAuditCosignedOf, lang,
                         {absl::StrCat(c.witnesses), absl::StrCat(c.threshold),
                          T(c.witnessed ? msg::kConsoleAuditWitnessed
                                        : msg::kConsoleAuditNotWitnessed,
                            lang)}))),
      Row(T(msg::kConsoleAuditCheckDirectory, lang),
          HtmlFormat(msg::kConsoleAuditCheckDirectoryValue, lang,
                     {absl::StrCat(c.directory_version),
                      absl::StrCat(e.directory.versions.size())})),
      "</dl>\n");
  // The verifier's own words (English), as `cbx` prints them.
  if (!c.log_chain.empty()) {
    absl::StrAppend(&html, "<p>", Code(c.log_chain), "</p>\n");
  }
  for (const std::string& w : c.warnings) {
    absl::StrAppend(&html, "<p class=\"warning\">",
                    T(msg::kConsoleAuditCheckWarning, lang), " ", Escape(w),
                    "</p>\n");
  }
  return html;
}

std::string OrphansHtml(i18n::MessageId heading,
                        const std::vector<Orphan>& orphans,
                        const ReconcileReport& r, i18n::Lang lang) {
  std::string html =
      absl::StrCat("<h3>", T(heading, lang), " (", orphans.size(), ")</h3>\n");
  if (orphans.empty()) {
    return absl::StrCat(html, "<p>", T(msg::kConsoleAuditCheckNone, lang),
                        "</p>\n");
  }
  absl::StrAppend(
      &html, "<table>",
      Head({msg::kConsoleAuditCheckColSide, msg::kConsoleAuditCheckColIndex,
            msg::kConsoleAuditCheckColOrphan, msg::kConsoleAuditCheckColKind,
            msg::kConsoleAuditCheckColRpc, msg::kConsoleAuditCheckColTime,
            msg::kConsoleAuditCheckColOffice},
           lang));
  for (const Orphan& o : orphans) {
    absl::StrAppend(&html, "<tr><td>", Escape(r.sides[o.side].member),
                    "</td><td>", o.index, "</td><td>",
                    T(o.kind == client::audit::OrphanKind::kSentNotReceived
                          ? msg::kConsoleAuditCheckSentNotReceived
                          : msg::kConsoleAuditCheckReceivedNotSent,
                      lang),
                    "</td><td>", Escape(o.entry.kind()), "</td><td>",
                    Escape(o.entry.rpc()), "</td><td>", Utc(o.entry.time_ms()),
                    "</td><td>", Escape(o.entry.office()), "</td></tr>\n");
  }
  return html + "</table>\n";
}

std::string SidesHtml(const ReconcileReport& r, i18n::Lang lang) {
  std::string html = absl::StrCat(
      "<table>",
      Head({msg::kConsoleAuditCheckColSide, msg::kConsoleAuditCheckColRange,
            msg::kConsoleAuditCheckColFirst, msg::kConsoleAuditCheckColLast,
            msg::kConsoleAuditCheckColSent, msg::kConsoleAuditCheckColReceived,
            msg::kConsoleAuditCheckColOther},
           lang));
  for (const client::audit::ReconcileSide& s : r.sides) {
    absl::StrAppend(
        &html, "<tr><td>", Escape(s.member), "</td><td>",
        s.has_entries ? absl::StrCat("[", s.begin, ", ", s.end, ")") : "",
        "</td><td>", s.has_entries ? Utc(s.first_ms) : "", "</td><td>",
        s.has_entries ? Utc(s.last_ms) : "", "</td><td>", s.sent, "</td><td>",
        s.received, "</td><td>", s.other, "</td></tr>\n");
  }
  return html + "</table>\n";
}

std::string StepRow(i18n::MessageId name, const client::audit::ThreadStep& s,
                    i18n::Lang lang) {
  const std::string not_logged = T(msg::kConsoleAuditCheckNotLogged, lang);
  return absl::StrCat("<tr><td>", T(name, lang), "</td><td>",
                      s.sent ? Utc(s.sent_ms) : not_logged, "</td><td>",
                      s.received ? Utc(s.received_ms) : not_logged, "</td><td>",
                      s.code == 0 ? "" : absl::StrCat(s.code), "</td><td>",
                      s.received && s.received_status != 0
                          ? absl::StrCat(s.received_status)
                          : "",
                      "</td></tr>\n");
}

// Who answered what, when: one table per cooperation thread.
std::string ThreadsHtml(const ReconcileReport& r, i18n::Lang lang) {
  std::string html = absl::StrCat(
      "<h3>", T(msg::kConsoleAuditCheckCooperation, lang), "</h3>\n");
  if (r.cooperation.empty()) {
    return absl::StrCat(html, "<p>", T(msg::kConsoleAuditCheckNone, lang),
                        "</p>\n");
  }
  for (const client::audit::CooperationThread& t : r.cooperation) {
    const bool withdrawal = t.opening.kind == "withdrawal";
    const std::string id = Code(t.id.substr(0, 8));
    absl::StrAppend(
        &html, "<table><caption>",
        withdrawal ? HtmlFormat(msg::kConsoleAuditCheckThreadWithdrawal, lang,
                                {id, Escape(t.opener), Escape(t.answerer)})
                   : HtmlFormat(msg::kConsoleAuditCheckThreadRequest, lang,
                                {id, Escape(t.opener), Escape(t.answerer),
                                 absl::StrCat(t.type)}),
        "</caption>",
        Head(
            {msg::kConsoleAuditCheckColStep, msg::kConsoleAuditCheckColSentAt,
             msg::kConsoleAuditCheckColReceivedAt,
             msg::kConsoleAuditCheckColCode, msg::kConsoleAuditCheckColRefused},
            lang),
        StepRow(withdrawal ? msg::kConsoleAuditCheckStepWithdrawal
                           : msg::kConsoleAuditCheckStepRequest,
                t.opening, lang),
        StepRow(withdrawal ? msg::kConsoleAuditCheckStepDeletionReceipt
                           : msg::kConsoleAuditCheckStepReceipt,
                t.receipt, lang));
    if (!withdrawal) {
      absl::StrAppend(
          &html, StepRow(msg::kConsoleAuditCheckStepResponse, t.response, lang),
          StepRow(msg::kConsoleAuditCheckStepResponseReceipt,
                  t.response_receipt, lang));
    }
    html += "</table>\n";
    for (const std::string& p : t.problems) {
      absl::StrAppend(&html, "<p class=\"warning\">",
                      T(msg::kConsoleAuditCheckGap, lang), " ", Escape(p),
                      "</p>\n");
    }
  }
  return html;
}

// What `cbx audit reconcile` prints, in the page's language.
std::string ReconcileHtml(const ReconcileReport& r, i18n::Lang lang) {
  const std::string verdict =
      r.orphans.empty()
          ? absl::StrCat("<p class=\"ok\" role=\"status\">",
                         T(msg::kConsoleAuditCheckReconciled, lang), "</p>\n")
          : absl::StrCat("<p class=\"error\" role=\"alert\">",
                         HtmlFormat(msg::kConsoleAuditCheckNotReconciled, lang,
                                    {absl::StrCat(r.orphans.size())}),
                         "</p>\n");
  return absl::StrCat(
      "<section><h2>", T(msg::kConsoleAuditCheckReconcile, lang), "</h2>\n",
      verdict, SidesHtml(r, lang), "<dl>",
      Row(T(msg::kConsoleAuditCheckMargin, lang),
          HtmlFormat(msg::kConsoleAuditCheckMarginValue, lang,
                     {absl::StrCat(r.margin_ms / 1000)})),
      Row(T(msg::kConsoleAuditCheckMatched, lang), absl::StrCat(r.matched)),
      Row(T(msg::kConsoleAuditCheckMatchedRefused, lang),
          absl::StrCat(r.matched_refused)),
      "</dl>\n",
      OrphansHtml(msg::kConsoleAuditCheckOrphans, r.orphans, r, lang),
      OrphansHtml(msg::kConsoleAuditCheckOutside, r.outside, r, lang),
      OrphansHtml(msg::kConsoleAuditCheckUndelivered, r.undelivered, r, lang),
      ThreadsHtml(r, lang), "</section>\n");
}

// Parses and verifies one upload as `cbx audit verify-export` does (the
// checkpoint must be witnessed).
Checked CheckOne(const console::UploadedFile& upload, i18n::MessageId which,
                 const v1::SignedDirectory& genesis, int64_t now_ms,
                 i18n::Lang lang) {
  Checked out;
  out.heading = HtmlFormat(which, lang, {Escape(upload.filename)});
  const std::string name = Code(upload.filename);
  absl::StatusOr<AuditExport> parsed =
      client::audit::ParseExport(upload.content);
  if (!parsed.ok()) {
    out.http = 400;
    out.status = parsed.status();
    out.failure =
        ErrorBox(HtmlFormat(msg::kConsoleAuditCheckNotExport, lang, {name}),
                 parsed.status().message());
    return out;
  }
  client::audit::ExportCheckOptions options;
  options.now_ms = now_ms;
  options.require_witnessed = true;
  absl::StatusOr<VerifiedExport> verified =
      client::audit::VerifyExport(genesis, *std::move(parsed), options);
  if (!verified.ok()) {
    out.http = 422;
    // Not the verifier's code: a DATA_LOSS here is the export's, never
    // this node's log's.
    out.status = absl::FailedPreconditionError(verified.status().message());
    out.failure =
        ErrorBox(HtmlFormat(msg::kConsoleAuditCheckNotVerified, lang, {name}),
                 verified.status().message());
    return out;
  }
  out.verified = *std::move(verified);
  return out;
}

std::string CheckedHtml(const Checked& c, i18n::Lang lang) {
  return absl::StrCat(
      "<section><h2>", c.heading, "</h2>\n",
      c.verified.has_value() ? VerifiedHtml(*c.verified, lang) : c.failure,
      "</section>\n");
}

// An uploaded file, or null for an input left empty.
const console::UploadedFile* Upload(const console::Request& r,
                                    const std::string& name) {
  if (r.files == nullptr) return nullptr;
  auto it = r.files->find(name);
  if (it == r.files->end() ||
      (it->second.filename.empty() && it->second.content.empty())) {
    return nullptr;
  }
  return &it->second;
}

}  // namespace

absl::Status AuditPages::CheckUploads(const Request& r, i18n::Lang lang,
                                      std::string* body, int* http) const {
  const console::UploadedFile* first = Upload(r, "export");
  const console::UploadedFile* second = Upload(r, "other");
  if (first == nullptr) {
    *http = 400;
    *body = absl::StrCat("<p class=\"error\" role=\"alert\">",
                         T(msg::kConsoleAuditCheckNoFile, lang), "</p>\n",
                         CheckFormHtml(r, lang));
    return absl::InvalidArgumentError("no export was uploaded");
  }
  const int64_t now = ctx_->clock->NowMs();
  std::vector<Checked> checked;
  checked.push_back(
      CheckOne(*first, msg::kConsoleAuditCheckFirst, genesis_, now, lang));
  if (second != nullptr) {
    checked.push_back(
        CheckOne(*second, msg::kConsoleAuditCheckSecond, genesis_, now, lang));
  }
  absl::Status status;
  *http = 200;
  for (const Checked& c : checked) {
    absl::StrAppend(body, CheckedHtml(c, lang));
    if (c.http == 400 || (c.http == 422 && *http == 200)) *http = c.http;
    if (status.ok()) status = c.status;
  }
  if (checked.size() == 2 && checked[0].verified && checked[1].verified) {
    absl::StatusOr<ReconcileReport> report =
        client::audit::Reconcile(*checked[0].verified, *checked[1].verified);
    if (report.ok()) {
      absl::StrAppend(body, ReconcileHtml(*report, lang));
    } else {
      *http = 400;
      status = report.status();
      absl::StrAppend(body,
                      ErrorBox(T(msg::kConsoleAuditCheckCannotReconcile, lang),
                               report.status().message()));
    }
  }
  absl::StrAppend(body, "<p><a href=\"/audit/check\">",
                  T(msg::kConsoleAuditCheckAgain, lang), "</a></p>\n");
  return status;
}

void AuditPages::Check(const Request& r, Reply reply) const {
  AsCaller(r, reply, [this, r](const OfficeCaller& who) {
    const i18n::Lang lang = language_->For(r);
    const std::string title(i18n::Text(msg::kConsoleAuditCheckTitle, lang));
    std::string body;
    int http = 200;
    bool ran = false;
    absl::Status outcome;
    absl::Status status = office_->AuditedFor(
        who, "Console.CheckExports", "check_exports", [&]() -> absl::Status {
          ran = true;
          outcome = CheckUploads(r, lang, &body, &http);
          return outcome;
        });
    // Refused before the check (role, damaged log), or the check's entry
    // could not be logged: the refusal, never the result.
    if (!ran || status.code() != outcome.code()) {
      return Refused(r, title, "", status);
    }
    return language_->Page(r, title, body, http);
  });
}

void AuditPages::CheckForm(const Request& r, Reply reply) const {
  // The form reads nothing of the node, so no call is made for it; another
  // role is refused as on every auditor page, and its POST is refused and
  // logged by the check's own call.
  const i18n::Lang lang = language_->For(r);
  const std::string title(i18n::Text(msg::kConsoleAuditCheckTitle, lang));
  if (r.caller.role != "auditor") {
    reply(Refused(r, title, "",
                  absl::PermissionDeniedError("the role is not auditor")));
    return;
  }
  reply(language_->Page(r, title, CheckFormHtml(r, lang)));
}

}  // namespace cbx::node
