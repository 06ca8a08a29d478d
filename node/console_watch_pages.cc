#include "node/console_watch_pages.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/time_format.h"
#include "core/i18n/catalog.h"
#include "node/console_calls.h"
#include "node/console_case_forms.h"
#include "node/console_hit_pages.h"

namespace cbx::node {
namespace {

namespace msg = i18n::msg;
using console::Escape;
using console::First;
using console::Form;

constexpr uint32_t kDayS = 86'400;

std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}
std::string PlainText(i18n::MessageId id, i18n::Lang lang) {
  return std::string(i18n::Text(id, lang));
}

std::string Codes(const google::protobuf::RepeatedPtrField<std::string>& m) {
  return m.empty() ? "—" : Escape(absl::StrJoin(m, ", "));
}

std::string Alert(const FormFieldRefusal& refusal,
                  const std::string& node_reason, i18n::Lang lang) {
  if (!node_reason.empty()) return case_forms::Refusal(node_reason, lang);
  if (refusal.text.empty()) return "";
  return absl::StrCat("<p class=\"error\" role=\"alert\">",
                      Escape(refusal.text), "</p>\n");
}

// One watch's row: what it watches, and its renew link and cancel button.
std::string WatchRow(const console::Request& r, const v1::Watch& w,
                     i18n::Lang lang) {
  std::vector<std::string> types;
  for (int t : w.identifier_types()) {
    types.push_back(
        T(IdentifierTypeMessage(static_cast<v1::IdentifierType>(t)), lang));
  }
  return absl::StrCat(
      "<tr><td><code>", Escape(w.watch_id()), "</code></td><td>",
      Escape(w.purpose().case_number()), "</td><td>",
      Escape(w.purpose().legal_basis()), "</td><td>",
      absl::StrJoin(types, "<br>"), "</td><td>", Codes(w.peers()), "</td><td>",
      w.needs_refresh().empty()
          ? "—"
          : absl::StrCat("<strong class=\"disjoint\">",
                         Codes(w.needs_refresh()), "</strong>"),
      "</td><td>", w.hits(), "</td><td>",
      client::FormatTimestamp(w.expires_at_ms()),
      "</td><td><a href=\"/watches/renew?id=", console::UrlEncode(w.watch_id()),
      "\">", T(msg::kConsoleWatchRenew, lang),
      "</a><form method=\"post\" action=\"/watches/remove\">",
      case_forms::FormToken(r),
      "<input type=\"hidden\" name=\"watch_id\" value=\"", Escape(w.watch_id()),
      "\"><button type=\"submit\">", T(msg::kConsoleWatchCancel, lang),
      "</button></form></td></tr>\n");
}

std::string WatchTable(const console::Request& r,
                       const v1::ListWatchesResponse& list, i18n::Lang lang) {
  std::string out = "<table><tr>";
  for (i18n::MessageId column :
       {msg::kConsoleWatchId, msg::kConsoleCoopOurCase,
        msg::kConsoleQueryLegalBasis, msg::kConsoleWatchTypes,
        msg::kConsoleWatchPeers, msg::kConsoleWatchNeedsRefresh,
        msg::kConsoleNavHits, msg::kConsoleWatchExpires,
        msg::kConsoleWatchActions}) {
    absl::StrAppend(&out, "<th scope=\"col\">", T(column, lang), "</th>");
  }
  out += "</tr>\n";
  bool refresh = false;
  for (const v1::Watch& w : list.watches()) {
    out += WatchRow(r, w, lang);
    refresh = refresh || !w.needs_refresh().empty();
  }
  out += "</table>\n";
  if (refresh) {
    absl::StrAppend(&out, "<p class=\"warning\" role=\"note\">",
                    T(msg::kConsoleWatchRefreshHint, lang), "</p>\n");
  }
  return out;
}

}  // namespace

WatchPages::WatchPages(std::string self, OfficeService* office,
                       const ConsoleLanguage* language, Peers peers, Runner run)
    : self_(std::move(self)),
      office_(office),
      language_(language),
      peers_(std::move(peers)),
      run_(std::move(run)) {}

void WatchPages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  auto bind = [this](void (WatchPages::*page)(const Request&, Reply) const) {
    return [this, page](const Request& r, Reply reply) {
      (this->*page)(r, std::move(reply));
    };
  };
  routes[{"GET", "/watches"}] = bind(&WatchPages::List);
  routes[{"GET", "/watches/new"}] = bind(&WatchPages::NewForm);
  routes[{"POST", "/watches"}] = bind(&WatchPages::Add);
  routes[{"GET", "/watches/renew"}] = bind(&WatchPages::RenewForm);
  routes[{"POST", "/watches/renew"}] = bind(&WatchPages::Renew);
  routes[{"POST", "/watches/remove"}] = bind(&WatchPages::Remove);
}

std::vector<std::string> WatchPages::OpenCases(
    const std::string& office) const {
  std::vector<std::string> cases;
  std::string token;
  do {
    absl::StatusOr<CaseList> page =
        office_->scope().ListCases(office, false, 1000, token);
    if (!page.ok()) break;
    for (const v1::Case& c : page->cases) cases.push_back(c.case_number());
    token = page->next_page_token;
  } while (!token.empty());
  return cases;
}

console::Response WatchPages::Refused(const Request& r,
                                      const std::string& title,
                                      const absl::Status& status) const {
  const i18n::Lang lang = language_->For(r);
  if (r.caller.role != "prosecutor") {
    return language_->NotForRole(r, msg::kConsoleHitsNotForRole);
  }
  return language_->Page(
      r, title, case_forms::Refusal(std::string(status.message()), lang),
      HttpStatusOf(status.code()));
}

std::string WatchPages::DaysField(const Form& form,
                                  const FormFieldRefusal& refusal,
                                  i18n::Lang lang) const {
  const uint32_t max_days = office_->WatchMaxSeconds() / kDayS;
  const std::string error =
      refusal.field == "days" && !refusal.text.empty()
          ? absl::StrCat("<p class=\"error\" id=\"days_error\">",
                         Escape(refusal.text), "</p>\n")
          : "";
  return absl::StrCat(
      "<label for=\"days\">", T(msg::kConsoleWatchDays, lang),
      "</label>\n<p class=\"hint\" id=\"days_hint\">",
      HtmlFormat(msg::kConsoleWatchDaysHint, lang, {std::to_string(max_days)}),
      "</p>\n", error,
      "<input type=\"number\" id=\"days\" name=\"days\" min=\"1\" max=\"",
      max_days, "\" required aria-describedby=\"days_hint\" value=\"",
      Escape(First(form, "days")), "\">\n");
}

std::optional<FormFieldRefusal> WatchPages::DaysFromForm(
    const Form& form, i18n::Lang lang, uint32_t& duration_s) const {
  const uint32_t max_days = office_->WatchMaxSeconds() / kDayS;
  uint32_t days = 0;
  if (!absl::SimpleAtoi(First(form, "days"), &days) || days == 0 ||
      days > max_days) {
    return FormFieldRefusal{"days",
                            i18n::Format(msg::kConsoleWatchErrDays, lang,
                                         {std::to_string(max_days)})};
  }
  duration_s = days * kDayS;
  return std::nullopt;
}

void WatchPages::List(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    const std::string title = PlainText(msg::kConsoleWatchTitle, lang);
    v1::ListWatchesResponse list;
    const absl::Status read =
        ProsecutorCallFor(*office_, r.caller, office_calls::kListWatches,
                          office_->ListWatchesBody(&list));
    if (!read.ok()) return Refused(r, title, read);
    std::string body = absl::StrCat(
        "<p>", T(msg::kConsoleWatchIntro, lang), "</p>\n<p><a href=\"",
        "/watches/new\">", T(msg::kConsoleWatchNew, lang), "</a></p>\n");
    if (list.watches().empty()) {
      absl::StrAppend(&body, "<p>", T(msg::kConsoleWatchNone, lang), "</p>\n");
    } else {
      body += WatchTable(r, list, lang);
    }
    return language_->Page(r, title, body);
  });
}

console::Response WatchPages::AddPage(const Request& r, const Form& form,
                                      const FormFieldRefusal& refusal,
                                      const std::string& node_reason,
                                      int status) const {
  const i18n::Lang lang = language_->For(r);
  const std::string body = absl::StrCat(
      Alert(refusal, node_reason, lang), "<p>",
      T(msg::kConsoleWatchIntro, lang),
      "</p>\n<form method=\"post\" action=\"/watches\">",
      case_forms::FormToken(r), "\n",
      PurposeFieldsHtml(form, refusal, OpenCases(r.caller.office), lang),
      IdentifierRowsHtml(form, refusal, self_, lang),
      PeerBoxesHtml(form, refusal, peers_(), lang),
      DaysField(form, refusal, lang), "<p><button type=\"submit\">",
      T(msg::kConsoleWatchAddSubmit, lang), "</button>",
      case_forms::MoreRowsButton(case_forms::RowsShown(form, kQueryFormRows),
                                 lang),
      "</p>\n</form>\n");
  return language_->Page(r, PlainText(msg::kConsoleWatchNew, lang), body,
                         status);
}

void WatchPages::NewForm(const Request& r, Reply reply) const {
  // As the query form: the form itself calls nothing; its POST is the call.
  if (r.caller.role != "prosecutor") {
    return reply(Refused(r, "", absl::PermissionDeniedError(r.caller.role)));
  }
  language_->Later(run_, r, reply,
                   [this, r] { return AddPage(r, {}, {}, "", 200); });
}

void WatchPages::Add(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    // One more row to fill: nothing is sent. Another role goes on to the
    // call below, which refuses it and logs the refusal.
    if (case_forms::AddsRow(r.form) && r.caller.role == "prosecutor") {
      return AddPage(r, r.form, {}, "", 200);
    }
    FormFieldRefusal refusal;
    v1::AddWatchRequest req;
    v1::AddWatchResponse added;
    const absl::Status status = ProsecutorCallFor(
        *office_, r.caller, office_calls::kAddWatch,
        [&](const OfficeCaller& caller, OfficeService::OfficeAudit& audit) {
          v1::QueryRequest q;
          std::optional<FormFieldRefusal> page = ReadQueryFields(
              r.form, lang, self_, OpenCases(caller.Name()), peers_(), q);
          uint32_t duration_s = 0;
          if (!page.has_value()) page = DaysFromForm(r.form, lang, duration_s);
          if (page.has_value()) {
            // The page's own refusal: nothing sent, nothing logged.
            refusal = *std::move(page);
            audit.logged = true;
            return absl::InvalidArgumentError(refusal.text);
          }
          *req.mutable_identifiers() = q.identifiers();
          *req.mutable_purpose() = q.purpose();
          *req.mutable_peers() = q.peers();
          req.set_duration_s(duration_s);
          return office_->AddWatchBody(req, &added)(caller, audit);
        });
    if (status.ok()) return console::Response{303, "", "", "/watches"};
    if (r.caller.role != "prosecutor") {
      return Refused(r, PlainText(msg::kConsoleWatchNew, lang), status);
    }
    return AddPage(r, r.form, refusal,
                   refusal.text.empty() ? std::string(status.message()) : "",
                   refusal.text.empty() ? HttpStatusOf(status.code()) : 400);
  });
}

console::Response WatchPages::RenewPage(const Request& r, const std::string& id,
                                        const Form& form,
                                        const FormFieldRefusal& refusal,
                                        const std::string& node_reason,
                                        int status) const {
  const i18n::Lang lang = language_->For(r);
  const std::string title =
      i18n::Format(msg::kConsoleWatchRenewTitle, lang, {id});
  v1::ListWatchesResponse list;
  const absl::Status read =
      ProsecutorCallFor(*office_, r.caller, office_calls::kListWatches,
                        office_->ListWatchesBody(&list));
  if (!read.ok()) return Refused(r, title, read);
  const v1::Watch* watch = nullptr;
  for (const v1::Watch& w : list.watches()) {
    if (w.watch_id() == id) watch = &w;
  }
  if (watch == nullptr) {
    return language_->Page(
        r, title,
        absl::StrCat("<p class=\"error\">", T(msg::kConsoleWatchNoSuch, lang),
                     "</p>"),
        404);
  }
  // A new form starts from the watch's case and offence: the renewal
  // needs a new purpose, most often another legal basis.
  Form filled = form;
  if (filled.empty()) {
    filled["case_number"] = {watch->purpose().case_number()};
    filled["offence"] = {std::to_string(watch->purpose().offence())};
  }
  const std::string body = absl::StrCat(
      Alert(refusal, node_reason, lang), "<p>",
      T(msg::kConsoleWatchRenewIntro, lang), "</p>\n<table>\n<tr><th>",
      T(msg::kConsoleQueryLegalBasis, lang), "</th><td>",
      Escape(watch->purpose().legal_basis()), "</td></tr>\n<tr><th>",
      T(msg::kConsoleWatchExpires, lang), "</th><td>",
      client::FormatTimestamp(watch->expires_at_ms()),
      "</td></tr>\n</table>\n<form method=\"post\" action=\"/watches/renew\">",
      case_forms::FormToken(r),
      "<input type=\"hidden\" name=\"watch_id\" value=\"", Escape(id), "\">\n",
      PurposeFieldsHtml(filled, refusal, OpenCases(r.caller.office), lang),
      DaysField(filled, refusal, lang), "<p><button type=\"submit\">",
      T(msg::kConsoleWatchRenewSubmit, lang), "</button></p>\n</form>\n");
  return language_->Page(r, title, body, status);
}

void WatchPages::RenewForm(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    return RenewPage(r, First(r.query, "id"), {}, {}, "", 200);
  });
}

void WatchPages::Renew(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    const std::string id = First(r.form, "watch_id");
    FormFieldRefusal refusal;
    v1::RenewWatchRequest req;
    v1::Watch renewed;
    const absl::Status status = ProsecutorCallFor(
        *office_, r.caller, office_calls::kRenewWatch,
        [&](const OfficeCaller& caller, OfficeService::OfficeAudit& audit) {
          req.set_watch_id(id);
          uint32_t duration_s = 0;
          std::optional<FormFieldRefusal> page = ReadPurposeFields(
              r.form, lang, OpenCases(caller.Name()), *req.mutable_purpose());
          if (!page.has_value()) page = DaysFromForm(r.form, lang, duration_s);
          if (page.has_value()) {
            refusal = *std::move(page);
            audit.logged = true;
            return absl::InvalidArgumentError(refusal.text);
          }
          req.set_duration_s(duration_s);
          return office_->RenewWatchBody(req, &renewed)(caller, audit);
        });
    if (status.ok()) return console::Response{303, "", "", "/watches"};
    if (r.caller.role != "prosecutor") {
      return Refused(r, i18n::Format(msg::kConsoleWatchRenewTitle, lang, {id}),
                     status);
    }
    return RenewPage(r, id, r.form, refusal,
                     refusal.text.empty() ? std::string(status.message()) : "",
                     refusal.text.empty() ? HttpStatusOf(status.code()) : 400);
  });
}

void WatchPages::Remove(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    v1::RemoveWatchRequest req;
    req.set_watch_id(First(r.form, "watch_id"));
    v1::Watch removed;
    const absl::Status status =
        ProsecutorCallFor(*office_, r.caller, office_calls::kRemoveWatch,
                          office_->RemoveWatchBody(req, &removed));
    if (status.ok()) return console::Response{303, "", "", "/watches"};
    const std::string title = PlainText(msg::kConsoleWatchTitle, lang);
    if (absl::IsNotFound(status) ||
        (absl::IsPermissionDenied(status) && r.caller.role == "prosecutor")) {
      // Another office's watch is "no such watch" here, as /case is.
      return language_->Page(
          r, title,
          absl::StrCat("<p class=\"error\">", T(msg::kConsoleWatchNoSuch, lang),
                       "</p>"),
          404);
    }
    return Refused(r, title, status);
  });
}

}  // namespace cbx::node
