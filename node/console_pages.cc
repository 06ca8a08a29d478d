#include "node/console_pages.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/i18n/catalog.h"
#include "node/console_calls.h"
#include "node/console_case_forms.h"

namespace cbx::node {
namespace {

using console::Escape;
using console::First;
using console::Form;

// How many identifier rows the registration form offers.
constexpr int kIdentifierRows = 6;

using case_forms::DateText;
using case_forms::IntField;
using case_forms::LabelOf;
using case_forms::Refusal;
using case_forms::Select;

// The console's HTML texts (console_language.h), by their short names.
std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}

std::string THtml(i18n::MessageId id, i18n::Lang lang,
                  std::initializer_list<std::string_view> html) {
  return HtmlFormat(id, lang, html);
}

// "YYYY-MM-DD" as case_forms::DateMs, or INVALID_ARGUMENT naming the field
// in `lang`; `row` is the identifier row's number from 1.
absl::StatusOr<int64_t> DateMs(const std::string& text, bool end, int row,
                               i18n::Lang lang) {
  std::optional<int64_t> ms = case_forms::DateMs(text, end);
  if (ms.has_value()) return *ms;
  return absl::InvalidArgumentError(
      i18n::Format(end ? i18n::msg::kConsoleFormBadDateUntil
                       : i18n::msg::kConsoleFormBadDateFrom,
                   lang, {std::to_string(row), text}));
}

// The case an AddCase form describes; INVALID_ARGUMENT naming the field
// (in `lang`) for a date that does not parse (the rest is CaseBook's to
// check).
absl::StatusOr<v1::Case> CaseFromForm(const Form& form, i18n::Lang lang,
                                      const std::string& self) {
  v1::Case c;
  c.set_case_number(First(form, "case_number"));
  c.set_contact_point(First(form, "contact_point"));
  c.set_opened_month(First(form, "opened_month"));
  c.set_role(static_cast<v1::PerpetratorRole>(IntField(form, "role")));
  if (auto it = form.find("offence"); it != form.end()) {
    for (const std::string& code : it->second) {
      int v = 0;
      if (absl::SimpleAtoi(code, &v)) {
        c.add_offences()->set_code(static_cast<v1::OffenceCode>(v));
      }
    }
  }
  for (int i = 0; i < case_forms::RowsShown(form, kIdentifierRows); ++i) {
    const int type = IntField(form, absl::StrCat("id_type_", i));
    const std::string value = case_forms::WithPhoneCountry(
        form, absl::StrCat("id_cc_", i), type,
        First(form, absl::StrCat("id_value_", i)), self);
    if (value.empty()) continue;
    v1::Identifier* id = c.add_identifiers();
    id->set_type(static_cast<v1::IdentifierType>(type));
    id->set_value(value);
    absl::StatusOr<int64_t> from =
        DateMs(First(form, absl::StrCat("id_from_", i)), false, i + 1, lang);
    if (!from.ok()) return from.status();
    absl::StatusOr<int64_t> to =
        DateMs(First(form, absl::StrCat("id_to_", i)), true, i + 1, lang);
    if (!to.ok()) return to.status();
    id->set_observed_from_ms(*from);
    id->set_observed_to_ms(*to);
  }
  return c;
}

// The registration form's table of identifier rows.
std::string IdentifierRows(const Form& form, const std::string& self,
                           i18n::Lang lang) {
  std::string out = absl::StrCat(
      "<table><tr><th>", T(i18n::msg::kConsoleLabelType, lang), "</th><th>",
      T(i18n::msg::kConsoleLabelValue, lang), "</th><th>",
      T(i18n::msg::kConsoleFormPhoneCountry, lang), "</th><th>",
      T(i18n::msg::kConsoleLabelSeenFrom, lang), "</th><th>",
      T(i18n::msg::kConsoleLabelSeenUntil, lang), "</th></tr>\n");
  // A cell's control has only its column's <th> around it: WCAG wants an
  // accessible name of its own ("Type 2").
  auto aria = [lang](i18n::MessageId column, int row) {
    return absl::StrCat(std::string(i18n::Text(column, lang)), " ", row + 1);
  };
  auto label = [&aria](i18n::MessageId column, int row) {
    return absl::StrCat(" aria-label=\"", Escape(aria(column, row)), "\"");
  };
  const int rows = case_forms::RowsShown(form, kIdentifierRows);
  for (int i = 0; i < rows; ++i) {
    const std::string n = std::to_string(i);
    absl::StrAppend(&out, "<tr><td>",
                    Select("id_type_" + n, case_forms::IdentifierTypes(),
                           IntField(form, "id_type_" + n), "", lang,
                           aria(i18n::msg::kConsoleLabelType, i)),
                    "</td><td><input name=\"id_value_", n, "\"",
                    label(i18n::msg::kConsoleLabelValue, i), " value=\"",
                    Escape(First(form, "id_value_" + n)), "\"></td><td>",
                    case_forms::PhoneCountrySelect(
                        "id_cc_" + n, First(form, "id_cc_" + n), self, lang,
                        aria(i18n::msg::kConsoleFormPhoneCountry, i)),
                    "</td><td><input type=\"date\" name=\"id_from_", n, "\"",
                    label(i18n::msg::kConsoleLabelSeenFrom, i), " value=\"",
                    Escape(First(form, "id_from_" + n)),
                    "\"></td><td><input type=\"date\" name=\"id_to_", n, "\"",
                    label(i18n::msg::kConsoleLabelSeenUntil, i), " value=\"",
                    Escape(First(form, "id_to_" + n)), "\"></td></tr>\n");
  }
  return out + "</table>\n" + case_forms::MoreRows(rows, lang);
}

// The registration form, filled with `form` (after a refusal) or empty.
std::string CaseForm(const console::Request& r, const Form& form,
                     const std::string& error, const std::string& self,
                     i18n::Lang lang) {
  std::string out = error.empty() ? "" : Refusal(error, lang);
  absl::StrAppend(
      &out, "<form method=\"post\" action=\"/cases\">",
      case_forms::FormToken(r), "\n<label>",
      T(i18n::msg::kConsoleFormCaseNumber, lang),
      " <input name=\"case_number\" required maxlength=\"64\" value=\"",
      Escape(First(form, "case_number")), "\"></label>\n<label>",
      T(i18n::msg::kConsoleFormOpenedMonth, lang),
      " <input type=\"month\" name=\"opened_month\" value=\"",
      Escape(First(form, "opened_month")), "\"></label>\n<label>",
      T(i18n::msg::kConsoleFormContactPoint, lang),
      " <input name=\"contact_point\" required maxlength=\"512\" value=\"",
      Escape(First(form, "contact_point")), "\"></label>\n<label>",
      T(i18n::msg::kConsoleFormRole, lang), " ",
      Select("role", case_forms::PerpetratorRoles(), IntField(form, "role"),
             std::string(i18n::Text(i18n::msg::kConsoleRoleUnknown, lang)),
             lang),
      "</label>\n<fieldset><legend>", T(i18n::msg::kConsoleLabelOffences, lang),
      "</legend>\n");
  std::vector<std::string> chosen;
  if (auto it = form.find("offence"); it != form.end()) chosen = it->second;
  for (const case_forms::Choice& o : case_forms::Offences()) {
    const std::string v = std::to_string(o.value);
    const bool on = std::find(chosen.begin(), chosen.end(), v) != chosen.end();
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"offence\" "
                    "value=\"",
                    v, "\"", on ? " checked" : "", "> ", T(o.label, lang),
                    "</label>\n");
  }
  absl::StrAppend(&out, "</fieldset>\n<fieldset><legend>",
                  T(i18n::msg::kConsoleFormIdentifiers, lang), "</legend>\n",
                  IdentifierRows(form, self, lang),
                  "</fieldset>\n<p><button type=\"submit\">",
                  T(i18n::msg::kConsoleFormSubmit, lang), "</button>",
                  case_forms::MoreRowsButton(
                      case_forms::RowsShown(form, kIdentifierRows), lang),
                  "</p>\n</form>");
  return out;
}

std::string StatusText(const v1::Case& c, i18n::Lang lang) {
  return T(c.status() == v1::CASE_STATUS_OPEN ? i18n::msg::kStatusOpen
                                              : i18n::msg::kStatusClosed,
           lang);
}

std::string CaseDetail(const console::Request& r, const v1::Case& c,
                       i18n::Lang lang) {
  using i18n::msg::kConsoleLabelContactPoint;
  std::string out = absl::StrCat(
      "<dl><dt>", T(i18n::msg::kConsoleLabelStatus, lang), "</dt><dd>",
      StatusText(c, lang), "</dd><dt>", T(i18n::msg::kConsoleLabelOffice, lang),
      "</dt><dd>", Escape(c.office()), "</dd><dt>",
      T(i18n::msg::kConsoleLabelOpened, lang), "</dt><dd>",
      Escape(c.opened_month()), "</dd><dt>", T(kConsoleLabelContactPoint, lang),
      "</dt><dd>", Escape(c.contact_point()), "</dd><dt>",
      T(i18n::msg::kConsoleLabelRole, lang), "</dt><dd>",
      Escape(LabelOf(case_forms::PerpetratorRoles(), c.role(), lang)),
      "</dd><dt>", T(i18n::msg::kConsoleLabelOffences, lang), "</dt><dd>");
  for (const v1::Offence& o : c.offences()) {
    absl::StrAppend(
        &out, Escape(LabelOf(case_forms::Offences(), o.code(), lang)), "<br>");
  }
  absl::StrAppend(&out, "</dd></dl>\n<table><tr><th>",
                  T(i18n::msg::kConsoleLabelType, lang), "</th><th>",
                  T(i18n::msg::kConsoleLabelValue, lang), "</th><th>",
                  T(i18n::msg::kConsoleLabelSeenFrom, lang), "</th><th>",
                  T(i18n::msg::kConsoleLabelSeenUntil, lang), "</th></tr>\n");
  for (const v1::Identifier& id : c.identifiers()) {
    absl::StrAppend(
        &out, "<tr><td>",
        Escape(LabelOf(case_forms::IdentifierTypes(), id.type(), lang)),
        "</td><td>", Escape(id.value()), "</td><td>",
        DateText(id.observed_from_ms()), "</td><td>",
        DateText(id.observed_to_ms()), "</td></tr>\n");
  }
  out += "</table>\n";
  if (c.status() == v1::CASE_STATUS_OPEN) {
    absl::StrAppend(&out, "<p><a href=\"/cases/amend?number=",
                    Escape(console::UrlEncode(c.case_number())), "\">",
                    T(i18n::msg::kConsoleCaseAmend, lang), "</a></p>\n");
    absl::StrAppend(&out, "<form method=\"post\" action=\"/cases/close\">",
                    case_forms::FormToken(r),
                    "<input type=\"hidden\" name=\"case_number\" value=\"",
                    Escape(c.case_number()), "\"><p>",
                    T(i18n::msg::kConsoleCaseCloseNote, lang),
                    "</p><button type=\"submit\">",
                    T(i18n::msg::kConsoleCaseClose, lang), "</button></form>");
  }
  return out;
}

// The list's rows for the caller's office (its own only).
std::string CaseRows(const std::vector<v1::Case>& cases,
                     const std::string& office, i18n::Lang lang) {
  std::string rows;
  for (const v1::Case& c : cases) {
    if (c.office() != office) continue;
    absl::StrAppend(&rows, "<tr><td><a href=\"/case?number=",
                    Escape(console::UrlEncode(c.case_number())), "\">",
                    Escape(c.case_number()), "</a></td><td>",
                    StatusText(c, lang), "</td><td>", c.identifiers_size(),
                    "</td><td>", Escape(c.opened_month()), "</td></tr>\n");
  }
  return rows;
}

}  // namespace

CasePages::CasePages(std::string self, OfficeService* office, Runner run,
                     const ConsoleLanguage* language)
    : self_(std::move(self)),
      office_(office),
      cases_(office->cases()),
      run_(std::move(run)),
      language_(language) {}

void CasePages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  auto bind = [this](void (CasePages::*page)(const Request&, Reply) const) {
    return [this, page](const Request& r, Reply reply) {
      (this->*page)(r, std::move(reply));
    };
  };
  routes[{"GET", "/"}] = bind(&CasePages::Home);
  routes[{"GET", "/cases"}] = bind(&CasePages::List);
  routes[{"GET", "/cases/new"}] = bind(&CasePages::NewForm);
  routes[{"GET", "/case"}] = bind(&CasePages::Show);
  routes[{"POST", "/cases"}] = bind(&CasePages::Add);
  routes[{"POST", "/cases/close"}] = bind(&CasePages::Close);
  routes[{"GET", "/cases/amend"}] = bind(&CasePages::AmendForm);
  routes[{"POST", "/cases/amend"}] = bind(&CasePages::Amend);
}

i18n::Lang CasePages::LanguageOf(const Request& r) const {
  return language_->For(r);
}

bool CasePages::Prosecutor(const Request& r, const Reply& reply) const {
  if (r.caller.role == "prosecutor") return true;
  reply(ReadRefused(r, "", absl::PermissionDeniedError(r.caller.role)));
  return false;
}

console::Response CasePages::ReadRefused(const Request& r,
                                         const std::string& title,
                                         const absl::Status& status) const {
  const i18n::Lang lang = LanguageOf(r);
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return language_->NotForRole(r, i18n::msg::kConsoleNotForRoleText);
  }
  return language_->Page(r, title, Refusal(std::string(status.message()), lang),
                         HttpStatusOf(status.code()));
}

void CasePages::Home(const Request& r, Reply reply) const {
  const i18n::Lang lang = LanguageOf(r);
  const std::string who =
      absl::StrCat("<strong>", Escape(CallerText(r.caller, lang)), "</strong>");
  // Each role's way in: an auditor's pages are not a prosecutor's.
  std::vector<std::pair<const char*, i18n::MessageId>> links = {
      {"/cases", i18n::msg::kConsoleHomeCases},
      {"/query", i18n::msg::kConsoleHomeQuery},
      {"/hits", i18n::msg::kConsoleHomeHits},
      {"/inbox", i18n::msg::kConsoleHomeInbox},
      {"/requests", i18n::msg::kConsoleHomeRequests},
      {"/watches", i18n::msg::kConsoleHomeWatches}};
  if (r.caller.role == "auditor") {
    links = {{"/audit", i18n::msg::kConsoleNavAudit},
             {"/audit/report", i18n::msg::kConsoleNavReport},
             {"/audit/check", i18n::msg::kConsoleAuditCheckTitle}};
  } else if (r.caller.role != "prosecutor") {
    links.clear();
  }
  std::string list;
  for (const auto& [path, text] : links) {
    absl::StrAppend(&list, "<li><a href=\"", path, "\">", T(text, lang),
                    "</a></li>");
  }
  reply(language_->Page(
      r, "cbx",
      absl::StrCat("<p>", THtml(i18n::msg::kConsoleHomeSignedIn, lang, {who}),
                   "</p>\n", list.empty() ? "" : "<ul>" + list + "</ul>")));
}

void CasePages::List(const Request& r, Reply reply) const {
  const bool closed = First(r.query, "closed") == "1";
  language_->Later(run_, r, reply, [this, r, closed] {
    const i18n::Lang lang = LanguageOf(r);
    const std::string title(i18n::Text(i18n::msg::kConsoleCasesTitle, lang));
    std::string rows;
    // Office.ListCases, read to its last page: checked and logged once.
    absl::Status read = ProsecutorReadFor(
        *office_, r.caller, "Office.ListCases", "list_cases",
        [&](const OfficeCaller& caller) -> absl::Status {
          std::string token;
          do {
            absl::StatusOr<CaseList> page =
                office_->scope().ListCases(caller.Name(), closed, 1000, token);
            if (!page.ok()) return page.status();
            rows += CaseRows(page->cases, r.caller.office, lang);
            token = page->next_page_token;
          } while (!token.empty());
          return absl::OkStatus();
        });
    if (!read.ok()) return ReadRefused(r, title, read);
    std::string body =
        absl::StrCat("<p><a href=\"/cases", closed ? "\">" : "?closed=1\">",
                     T(closed ? i18n::msg::kConsoleCasesOpenOnly
                              : i18n::msg::kConsoleCasesWithClosed,
                       lang),
                     "</a></p>\n");
    if (rows.empty()) {
      absl::StrAppend(&body, "<p>", T(i18n::msg::kConsoleCasesNone, lang),
                      "</p>");
    } else {
      absl::StrAppend(&body, "<table><tr><th>",
                      T(i18n::msg::kConsoleLabelCase, lang), "</th><th>",
                      T(i18n::msg::kConsoleLabelStatus, lang), "</th><th>",
                      T(i18n::msg::kConsoleLabelIdentifiers, lang), "</th><th>",
                      T(i18n::msg::kConsoleLabelOpened, lang), "</th></tr>\n",
                      rows, "</table>");
    }
    return language_->Page(r, title, body);
  });
}

void CasePages::NewForm(const Request& r, Reply reply) const {
  if (!Prosecutor(r, reply)) return;
  const i18n::Lang lang = LanguageOf(r);
  reply(language_->Page(
      r, std::string(i18n::Text(i18n::msg::kConsoleNavNewCase, lang)),
      CaseForm(r, {}, "", self_, lang)));
}

absl::StatusOr<std::optional<v1::Case>> CasePages::ReadOwnCase(
    const Request& r, const std::string& number) const {
  // One case of the office's list (Office.ListCases' scope), read and
  // logged as that call; another office's case is not in it.
  std::optional<v1::Case> found;
  absl::Status read =
      ProsecutorReadFor(*office_, r.caller, "Office.ListCases", "list_cases",
                        [&](const OfficeCaller& caller) -> absl::Status {
                          absl::StatusOr<v1::Case> c = cases_->Get(number);
                          if (absl::IsNotFound(c.status()))
                            return absl::OkStatus();
                          if (!c.ok()) return c.status();
                          if (c->office() == caller.Name())
                            found = *std::move(c);
                          return absl::OkStatus();
                        });
  if (!read.ok()) return read;
  return found;
}

console::Response CasePages::NoSuchCase(const Request& r,
                                        const std::string& number) const {
  // Another office's case is "not found" here: its existence is not this
  // office's business.
  const i18n::Lang lang = LanguageOf(r);
  return language_->Page(
      r, std::string(i18n::Text(i18n::msg::kConsoleNoCaseTitle, lang)),
      absl::StrCat("<p class=\"error\">",
                   THtml(i18n::msg::kConsoleNoCaseText, lang, {Escape(number)}),
                   "</p>"),
      404);
}

void CasePages::Show(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = LanguageOf(r);
    const std::string number = First(r.query, "number");
    const std::string title =
        i18n::Format(i18n::msg::kConsoleCaseTitle, lang, {number});
    absl::StatusOr<std::optional<v1::Case>> found = ReadOwnCase(r, number);
    if (!found.ok()) return ReadRefused(r, title, found.status());
    if (!found->has_value()) return NoSuchCase(r, number);
    return language_->Page(r, title, CaseDetail(r, **found, lang));
  });
}

void CasePages::Add(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = LanguageOf(r);
    // One more row to fill: nothing is sent. Another role goes on to the
    // change below, which refuses it and logs the refusal.
    if (case_forms::AddsRow(r.form) && r.caller.role == "prosecutor") {
      return language_->Page(
          r, std::string(i18n::Text(i18n::msg::kConsoleNavNewCase, lang)),
          CaseForm(r, r.form, "", self_, lang));
    }
    absl::StatusOr<v1::Case> added = ProsecutorChangeFor(
        *office_, r.caller, "Office.AddCase", "add_case",
        [&](const OfficeCaller& caller) -> absl::StatusOr<v1::Case> {
          absl::StatusOr<v1::Case> in = CaseFromForm(r.form, lang, self_);
          if (!in.ok()) return in.status();
          return cases_->Add(caller.Name(), *in, caller.person);
        });
    if (!added.ok() && r.caller.role != "prosecutor") {
      return ReadRefused(r, "", added.status());
    }
    if (!added.ok()) {
      return language_->Page(
          r, std::string(i18n::Text(i18n::msg::kConsoleNavNewCase, lang)),
          CaseForm(r, r.form, std::string(added.status().message()), self_,
                   lang),
          400);
    }
    return console::Response{
        303, "", "",
        absl::StrCat("/case?number=",
                     console::UrlEncode(added->case_number()))};
  });
}

void CasePages::Close(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = LanguageOf(r);
    const std::string number = First(r.form, "case_number");
    absl::StatusOr<v1::Case> closed = ProsecutorChangeFor(
        *office_, r.caller, "Office.CloseCase", "close_case",
        [&](const OfficeCaller& caller) {
          return cases_->Close(caller.Name(), number, caller.person);
        });
    if (!closed.ok() && r.caller.role != "prosecutor") {
      return ReadRefused(r, "", closed.status());
    }
    if (!closed.ok()) {
      return language_->Page(
          r, i18n::Format(i18n::msg::kConsoleCaseTitle, lang, {number}),
          Refusal(std::string(closed.status().message()), lang),
          closed.status().code() == absl::StatusCode::kNotFound ? 404 : 400);
    }
    return console::Response{
        303, "", "", absl::StrCat("/case?number=", console::UrlEncode(number))};
  });
}

}  // namespace cbx::node
