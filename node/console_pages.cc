#include "node/console_pages.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace cbx::node {
namespace {

using console::Escape;
using console::First;
using console::Form;

// How many identifier rows the registration form offers.
constexpr int kIdentifierRows = 6;

struct Choice {
  int value;
  const char* label;
};

constexpr Choice kIdentifierTypes[] = {
    {v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "Telegram username"},
    {v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, "Telegram group or channel"},
    {v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID, "Telegram user id"},
    {v1::IDENTIFIER_TYPE_PHONE, "Phone number"},
    {v1::IDENTIFIER_TYPE_EMAIL, "E-mail address"},
    {v1::IDENTIFIER_TYPE_PLATFORM_HANDLE, "Other platform: platform:handle"},
    {v1::IDENTIFIER_TYPE_CONTENT_SHA256, "SHA-256 of an image or video"},
};

constexpr Choice kOffences[] = {
    {v1::OFFENCE_CODE_NCII_SHARING, "Sharing intimate images without consent"},
    {v1::OFFENCE_CODE_NCII_THREAT, "Threat to share intimate images"},
    {v1::OFFENCE_CODE_CYBER_STALKING, "Cyber stalking"},
    {v1::OFFENCE_CODE_CYBER_HARASSMENT, "Cyber harassment, doxing"},
    {v1::OFFENCE_CODE_CYBER_INCITEMENT, "Incitement to violence or hatred"},
    {v1::OFFENCE_CODE_CSAM, "Child sexual abuse material"},
    {v1::OFFENCE_CODE_GROUP_ADMINISTRATION, "Running a group or channel"},
};

constexpr Choice kRoles[] = {
    {v1::PERPETRATOR_ROLE_CREATOR, "Created the material"},
    {v1::PERPETRATOR_ROLE_ADMINISTRATOR, "Administers the group"},
    {v1::PERPETRATOR_ROLE_POSTER, "Posted it"},
    {v1::PERPETRATOR_ROLE_RESHARER, "Shared it further"},
    {v1::PERPETRATOR_ROLE_REQUESTER, "Asked for it"},
};

template <size_t N>
std::string LabelOf(const Choice (&choices)[N], int value) {
  for (const Choice& c : choices) {
    if (c.value == value) return c.label;
  }
  return absl::StrCat("code ", value);
}

// A <select> of `choices`, `selected` chosen; a first empty option named
// `none` if not empty.
template <size_t N>
std::string Select(const std::string& name, const Choice (&choices)[N],
                   int selected, const std::string& none) {
  std::string out =
      absl::StrCat("<select name=\"", name, "\" id=\"", name, "\">");
  if (!none.empty()) {
    absl::StrAppend(&out, "<option value=\"0\">", Escape(none), "</option>");
  }
  for (const Choice& c : choices) {
    absl::StrAppend(&out, "<option value=\"", c.value, "\"",
                    c.value == selected ? " selected" : "", ">",
                    Escape(c.label), "</option>");
  }
  return out + "</select>";
}

std::string Hidden(const console::Request& r) {
  return absl::StrCat("<input type=\"hidden\" name=\"form_token\" value=\"",
                      Escape(r.session.form_token), "\">");
}

int IntField(const Form& form, const std::string& name) {
  int v = 0;
  return absl::SimpleAtoi(First(form, name), &v) ? v : 0;
}

// "YYYY-MM-DD" (an <input type=date>) as ms since the epoch at the start of
// that UTC day, or of the next day less 1 ms if `end`; 0 for "".
absl::StatusOr<int64_t> DateMs(const std::string& text, bool end,
                               const std::string& field) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "' is not a date (YYYY-MM-DD)"));
  }
  if (end) t += absl::Hours(24) - absl::Milliseconds(1);
  return absl::ToUnixMillis(t);
}

std::string DateText(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

// The case an AddCase form describes; INVALID_ARGUMENT naming the field
// for a date that does not parse (the rest is CaseBook's to check).
absl::StatusOr<v1::Case> CaseFromForm(const Form& form) {
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
  for (int i = 0; i < kIdentifierRows; ++i) {
    const std::string value = First(form, absl::StrCat("id_value_", i));
    if (value.empty()) continue;
    v1::Identifier* id = c.add_identifiers();
    id->set_type(static_cast<v1::IdentifierType>(
        IntField(form, absl::StrCat("id_type_", i))));
    id->set_value(value);
    absl::StatusOr<int64_t> from =
        DateMs(First(form, absl::StrCat("id_from_", i)), false,
               absl::StrCat("identifier ", i + 1, ", seen from"));
    if (!from.ok()) return from.status();
    absl::StatusOr<int64_t> to =
        DateMs(First(form, absl::StrCat("id_to_", i)), true,
               absl::StrCat("identifier ", i + 1, ", seen until"));
    if (!to.ok()) return to.status();
    id->set_observed_from_ms(*from);
    id->set_observed_to_ms(*to);
  }
  return c;
}

// The registration form, filled with `form` (after a refusal) or empty.
std::string CaseForm(const console::Request& r, const Form& form,
                     const std::string& error) {
  std::string out;
  if (!error.empty()) {
    absl::StrAppend(&out, "<p class=\"error\" role=\"alert\">", Escape(error),
                    "</p>\n");
  }
  absl::StrAppend(
      &out, "<form method=\"post\" action=\"/cases\">", Hidden(r),
      "\n<label>Case number <input name=\"case_number\" required "
      "maxlength=\"64\" value=\"",
      Escape(First(form, "case_number")),
      "\"></label>\n<label>Month the case was opened <input type=\"month\" "
      "name=\"opened_month\" value=\"",
      Escape(First(form, "opened_month")),
      "\"></label>\n<label>24/7 contact point, as peers will see it <input "
      "name=\"contact_point\" required maxlength=\"512\" value=\"",
      Escape(First(form, "contact_point")),
      "\"></label>\n<label>Role of the perpetrator ",
      Select("role", kRoles, IntField(form, "role"), "Unknown"),
      "</label>\n<fieldset><legend>Offences</legend>\n");
  std::vector<std::string> chosen;
  if (auto it = form.find("offence"); it != form.end()) chosen = it->second;
  for (const Choice& o : kOffences) {
    const std::string v = std::to_string(o.value);
    const bool on = std::find(chosen.begin(), chosen.end(), v) != chosen.end();
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"offence\" "
                    "value=\"",
                    v, "\"", on ? " checked" : "", "> ", Escape(o.label),
                    "</label>\n");
  }
  absl::StrAppend(&out,
                  "</fieldset>\n<fieldset><legend>Identifiers of the "
                  "perpetrator (as you have them; the node normalizes "
                  "them)</legend>\n<table><tr><th>Type</th><th>Value"
                  "</th><th>Seen from</th><th>Seen until</th></tr>\n");
  for (int i = 0; i < kIdentifierRows; ++i) {
    const std::string n = std::to_string(i);
    absl::StrAppend(&out, "<tr><td>",
                    Select("id_type_" + n, kIdentifierTypes,
                           IntField(form, "id_type_" + n), ""),
                    "</td><td><input name=\"id_value_", n, "\" value=\"",
                    Escape(First(form, "id_value_" + n)),
                    "\"></td><td><input type=\"date\" name=\"id_from_", n,
                    "\" value=\"", Escape(First(form, "id_from_" + n)),
                    "\"></td><td><input type=\"date\" name=\"id_to_", n,
                    "\" value=\"", Escape(First(form, "id_to_" + n)),
                    "\"></td></tr>\n");
  }
  absl::StrAppend(&out,
                  "</table></fieldset>\n<p><button type=\"submit\">"
                  "Register the case</button></p>\n</form>");
  return out;
}

std::string CaseDetail(const console::Request& r, const v1::Case& c) {
  const bool open = c.status() == v1::CASE_STATUS_OPEN;
  std::string out =
      absl::StrCat("<dl><dt>Status</dt><dd>", open ? "open" : "closed",
                   "</dd><dt>Office</dt><dd>", Escape(c.office()),
                   "</dd><dt>Opened</dt><dd>", Escape(c.opened_month()),
                   "</dd><dt>Contact point</dt><dd>", Escape(c.contact_point()),
                   "</dd><dt>Role</dt><dd>", Escape(LabelOf(kRoles, c.role())),
                   "</dd><dt>Offences</dt><dd>");
  for (const v1::Offence& o : c.offences()) {
    absl::StrAppend(&out, Escape(LabelOf(kOffences, o.code())), "<br>");
  }
  absl::StrAppend(&out,
                  "</dd></dl>\n<table><tr><th>Type</th><th>Value</th>"
                  "<th>Seen from</th><th>Seen until</th></tr>\n");
  for (const v1::Identifier& id : c.identifiers()) {
    absl::StrAppend(&out, "<tr><td>",
                    Escape(LabelOf(kIdentifierTypes, id.type())), "</td><td>",
                    Escape(id.value()), "</td><td>",
                    DateText(id.observed_from_ms()), "</td><td>",
                    DateText(id.observed_to_ms()), "</td></tr>\n");
  }
  out += "</table>\n";
  if (open) {
    absl::StrAppend(
        &out, "<form method=\"post\" action=\"/cases/close\">", Hidden(r),
        "<input type=\"hidden\" name=\"case_number\" value=\"",
        Escape(c.case_number()),
        "\"><p>Closing the case takes its identifiers out of what peers can "
        "find.</p><button type=\"submit\">Close the case</button></form>");
  }
  return out;
}

}  // namespace

CasePages::CasePages(std::string self, CaseBook* cases, Runner run)
    : self_(std::move(self)), cases_(cases), run_(std::move(run)) {}

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
}

console::Response CasePages::Framed(const Request& r, const std::string& title,
                                    const std::string& body, int status) const {
  console::PageFrame frame;
  frame.title = title;
  frame.node = self_;
  frame.caller = r.caller.Display();
  const std::string nav =
      "<nav><a href=\"/\">Home</a> · <a href=\"/cases\">Cases</a> · "
      "<a href=\"/cases/new\">Register a case</a> · "
      "<a href=\"/query\">Ask the peers</a> · <a href=\"/hits\">Hits</a> · "
      "<a href=\"/inbox\">Inbox</a></nav>\n";
  return console::Response{status, "text/html; charset=utf-8",
                           console::Page(frame, nav + body), ""};
}

void CasePages::Later(const Request& r, const Reply& reply,
                      std::function<console::Response()> work) const {
  const bool queued = run_([reply, work = std::move(work)] { reply(work()); });
  if (!queued) {
    reply(Framed(r, "Unavailable",
                 "<p class=\"error\">The node is stopping; try again in a "
                 "moment.</p>",
                 503));
  }
}

bool CasePages::Prosecutor(const Request& r, const Reply& reply) const {
  if (r.caller.role == "prosecutor") return true;
  reply(Framed(r, "Not for your role",
               absl::StrCat("<p class=\"error\">Cases are for prosecutors' "
                            "offices; your certificate's role is ",
                            Escape(r.caller.role), ".</p>"),
               403));
  return false;
}

void CasePages::Home(const Request& r, Reply reply) const {
  reply(Framed(r, "cbx",
               absl::StrCat("<p>You are signed in as <strong>",
                            Escape(r.caller.Display()),
                            "</strong> by your certificate.</p>\n"
                            "<ul><li><a href=\"/cases\">Your office's "
                            "cases</a></li><li><a href=\"/query\">Ask the "
                            "peers about a person</a></li><li><a href=\""
                            "/hits\">What the peers found</a></li><li><a "
                            "href=\"/inbox\">Peers that found your cases"
                            "</a></li></ul>")));
}

void CasePages::List(const Request& r, Reply reply) const {
  if (!Prosecutor(r, reply)) return;
  const bool closed = First(r.query, "closed") == "1";
  Later(r, reply, [this, r, closed] {
    std::string rows;
    std::string token;
    do {
      absl::StatusOr<CaseList> page = cases_->List(closed, 1000, token);
      if (!page.ok()) {
        return Framed(
            r, "Cases",
            absl::StrCat("<p class=\"error\">",
                         Escape(std::string(page.status().message())), "</p>"),
            500);
      }
      for (const v1::Case& c : page->cases) {
        if (c.office() != r.caller.office) continue;  // its own only
        absl::StrAppend(&rows, "<tr><td><a href=\"/case?number=",
                        Escape(console::UrlEncode(c.case_number())), "\">",
                        Escape(c.case_number()), "</a></td><td>",
                        c.status() == v1::CASE_STATUS_OPEN ? "open" : "closed",
                        "</td><td>", c.identifiers_size(), "</td><td>",
                        Escape(c.opened_month()), "</td></tr>\n");
      }
      token = page->next_page_token;
    } while (!token.empty());
    std::string body = absl::StrCat("<p><a href=\"/cases",
                                    closed ? "\">Open cases only"
                                           : "?closed=1\">"
                                             "With closed "
                                             "cases",
                                    "</a></p>\n");
    if (rows.empty()) {
      body += "<p>Your office has no cases here yet.</p>";
    } else {
      absl::StrAppend(&body,
                      "<table><tr><th>Case</th><th>Status</th><th>"
                      "Identifiers</th><th>Opened</th></tr>\n",
                      rows, "</table>");
    }
    return Framed(r, "Your office's cases", body);
  });
}

void CasePages::NewForm(const Request& r, Reply reply) const {
  if (!Prosecutor(r, reply)) return;
  reply(Framed(r, "Register a case", CaseForm(r, {}, "")));
}

void CasePages::Show(const Request& r, Reply reply) const {
  if (!Prosecutor(r, reply)) return;
  Later(r, reply, [this, r] {
    const std::string number = First(r.query, "number");
    absl::StatusOr<v1::Case> c = cases_->Get(number);
    // Another office's case is "not found" here: its existence is not
    // this office's business.
    if (!c.ok() || c->office() != r.caller.office) {
      return Framed(r, "No such case",
                    absl::StrCat("<p class=\"error\">Your office has no case "
                                 "numbered ",
                                 Escape(number), ".</p>"),
                    404);
    }
    return Framed(r, absl::StrCat("Case ", number), CaseDetail(r, *c));
  });
}

void CasePages::Add(const Request& r, Reply reply) const {
  if (!Prosecutor(r, reply)) return;
  Later(r, reply, [this, r] {
    absl::StatusOr<v1::Case> in = CaseFromForm(r.form);
    absl::StatusOr<v1::Case> added =
        in.ok() ? cases_->Add(r.caller.office, *in, r.caller.person)
                : in.status();
    if (!added.ok()) {
      return Framed(r, "Register a case",
                    CaseForm(r, r.form, std::string(added.status().message())),
                    400);
    }
    return console::Response{
        303, "", "",
        absl::StrCat("/case?number=",
                     console::UrlEncode(added->case_number()))};
  });
}

void CasePages::Close(const Request& r, Reply reply) const {
  if (!Prosecutor(r, reply)) return;
  Later(r, reply, [this, r] {
    const std::string number = First(r.form, "case_number");
    absl::StatusOr<v1::Case> closed =
        cases_->Close(r.caller.office, number, r.caller.person);
    if (!closed.ok()) {
      return Framed(
          r, absl::StrCat("Case ", number),
          absl::StrCat("<p class=\"error\">",
                       Escape(std::string(closed.status().message())), "</p>"),
          closed.status().code() == absl::StatusCode::kNotFound ? 404 : 400);
    }
    return console::Response{
        303, "", "", absl::StrCat("/case?number=", console::UrlEncode(number))};
  });
}

}  // namespace cbx::node
