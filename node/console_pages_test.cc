// The console's case pages in process: the handlers called as the console
// server calls them (authenticated caller, checked form token), over the
// Office service of a test node (MemoryStorage, a real audit log). The
// HTTPS server is node/console's test.
#include "node/console_pages.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/office_service.h"
#include "node/testing/case_fixture.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using console::Request;
using console::Response;

class CasePagesTest : public ::testing::Test {
 protected:
  CasePagesTest() { pages_.AddRoutes(routes_); }

  CaseBook& book() { return *office_.cases(); }
  Storage& storage() { return *node_.ctx().storage; }
  // The entries of the node's audit log, in order.
  std::vector<v1::AuditEntry> Entries() { return node_.AuditEntries(); }

  static Request As(const std::string& office, const std::string& role) {
    Request r;
    r.caller = console::Caller{office, role, ""};
    r.session.form_token = std::string(64, 'f');
    return r;
  }

  Response Call(const std::string& method, const std::string& path, Request r,
                const std::string& encoded = "") {
    r.method = method;
    r.path = path;
    absl::StatusOr<console::Form> form = console::ParseForm(encoded);
    EXPECT_TRUE(form.ok());
    (method == "GET" ? r.query : r.form) = *form;
    std::optional<Response> answer;
    routes_.at({method, path})(r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  static bool Inline(std::function<void()> work) {
    work();
    return true;
  }

  v1::SignedDirectory genesis_ = testing::FakeGenesis();
  testing::TestNode node_{genesis_};
  OfficeService office_{&node_.ctx(), nullptr, nullptr, nullptr, nullptr};
  ConsoleLanguage language_{"MK", node_.ctx().storage.get(), Inline};
  CasePages pages_{"MK", &office_, Inline, &language_};
  std::map<std::pair<std::string, std::string>, console::Handler> routes_;
  const Request skopje_ = As(testing::kOffice, "prosecutor");
};

constexpr char kForm[] =
    "case_number=MK-2026%2F7&contact_point=%2B389+2+000+000+%3Cb%3E"
    "&role=3&offence=1&offence=4"
    "&id_type_0=2&id_value_0=%40Balkan_Leaks&id_from_0=2026-01-02"
    "&id_to_0=2026-01-31&id_type_1=4&id_value_1=%2B389+70+555+0101"
    "&id_type_2=2&id_value_2=";

TEST_F(CasePagesTest, RegisteringACaseStoresItLogsItAndShowsIt) {
  Response added = Call("POST", "/cases", skopje_, kForm);
  EXPECT_EQ(added.location, "/case?number=MK-2026%2F7");
  absl::StatusOr<v1::Case> c = book().Get("MK-2026/7");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->office(), testing::kOffice);
  ASSERT_EQ(c->identifiers_size(), 2);  // the empty third row is ignored
  EXPECT_EQ(c->identifiers(0).value(), "balkan_leaks");
  EXPECT_EQ(c->identifiers(0).observed_from_ms(), 1767312000000);
  EXPECT_EQ(c->identifiers(0).observed_to_ms(), 1769903999999);
  EXPECT_EQ(c->offences_size(), 2);
  ASSERT_EQ(Entries().size(), 1u);
  EXPECT_EQ(Entries()[0].rpc(), "Office.AddCase");
  EXPECT_EQ(Entries()[0].user(), "");  // a role-only certificate

  Response shown = Call("GET", "/case", skopje_, "number=MK-2026%2F7");
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("balkan_leaks"), std::string::npos);
  EXPECT_NE(shown.body.find("2026-01-02"), std::string::npos);
  // What the office typed is text, never markup.
  EXPECT_NE(shown.body.find("+389 2 000 000 &lt;b&gt;"), std::string::npos);
  EXPECT_EQ(shown.body.find("<b>"), std::string::npos);
  EXPECT_NE(shown.body.find("action=\"/cases/close\""), std::string::npos);
  EXPECT_NE(shown.body.find(std::string(64, 'f')), std::string::npos);
}

TEST_F(CasePagesTest, ThePersonOfAPerPersonCertificateIsInTheEntries) {
  Request person = skopje_;
  person.caller.person = "mk-0042";
  ASSERT_EQ(Call("POST", "/cases", person, kForm).location,
            "/case?number=MK-2026%2F7");
  Call("POST", "/cases/close", person, "case_number=MK-2026%2F7");
  std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].rpc(), "Office.AddCase");
  EXPECT_EQ(entries[1].rpc(), "Office.CloseCase");
  for (const v1::AuditEntry& e : entries) EXPECT_EQ(e.user(), "mk-0042");
}

TEST_F(CasePagesTest, RefusalShowsTheReasonAndKeepsWhatWasTyped) {
  Response refused =
      Call("POST", "/cases", skopje_,
           "case_number=MK-9&id_type_0=2&id_value_0=%40someone&offence=1");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("contact_point"), std::string::npos)
      << refused.body;
  EXPECT_NE(refused.body.find("value=\"@someone\""), std::string::npos);
  EXPECT_NE(refused.body.find("value=\"MK-9\""), std::string::npos);
  EXPECT_FALSE(book().Get("MK-9").ok());

  Response bad_date =
      Call("POST", "/cases", skopje_,
           "case_number=MK-9&contact_point=x&id_type_0=2&id_value_0=a_b_c"
           "&id_from_0=31.01.2026");
  EXPECT_EQ(bad_date.status, 400);
  EXPECT_NE(bad_date.body.find("identifier 1, seen from"), std::string::npos);
  EXPECT_FALSE(book().Get("MK-9").ok());
}

TEST_F(CasePagesTest, AnOfficeSeesAndClosesOnlyItsOwnCases) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const Request ohrid = As("MK/PPO-Ohrid", "prosecutor");
  Response listed = Call("GET", "/cases", ohrid);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find("MK-2026/7"), std::string::npos);
  EXPECT_NE(listed.body.find("no cases here yet"), std::string::npos);
  EXPECT_EQ(Call("GET", "/case", ohrid, "number=MK-2026%2F7").status, 404);
  Response close =
      Call("POST", "/cases/close", ohrid, "case_number=MK-2026%2F7");
  EXPECT_EQ(close.status, 400);
  EXPECT_EQ(book().Get("MK-2026/7")->status(), v1::CASE_STATUS_OPEN);

  EXPECT_NE(Call("GET", "/cases", skopje_).body.find("MK-2026/7"),
            std::string::npos);
  EXPECT_EQ(
      Call("POST", "/cases/close", skopje_, "case_number=MK-2026%2F7").location,
      "/case?number=MK-2026%2F7");
  EXPECT_EQ(book().Get("MK-2026/7")->status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(Call("GET", "/cases", skopje_).body.find("MK-2026/7"),
            std::string::npos);
  EXPECT_NE(Call("GET", "/cases", skopje_, "closed=1").body.find("MK-2026/7"),
            std::string::npos);
}

TEST_F(CasePagesTest, OtherRolesAreToldCasesAreForProsecutors) {
  const Request auditor = As("MK/Audit", "auditor");
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{
           {"GET", "/cases"}, {"GET", "/cases/new"}, {"POST", "/cases"}}) {
    Response r = Call(method, path, auditor, method == "POST" ? kForm : "");
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_NE(r.body.find("your certificate's role is auditor"),
              std::string::npos);
  }
  // The refused read is logged as Office.ListCases refused on the Office
  // port, the refused write as Office.AddCase; the form is no call.
  std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].rpc(), "Office.ListCases");
  EXPECT_EQ(entries[1].rpc(), "Office.AddCase");
  for (const v1::AuditEntry& e : entries) {
    EXPECT_EQ(e.outcome().status_code(),
              static_cast<int>(absl::StatusCode::kPermissionDenied));
  }
  EXPECT_FALSE(book().Get("MK-2026/7").ok());
  EXPECT_EQ(Call("GET", "/", auditor).status, 200);
}

// Attack: an auditor's browser (a valid session and form token) posts the
// case changes. Each is refused 403 before it reaches the case book,
// changes nothing, and is in the audit log as the Office call it stands
// for refused on the port (PERMISSION_DENIED, no office or person on the
// entry), so that a misused auditor certificate leaves a trace.
TEST_F(CasePagesTest, AnAuditorPostingCaseChangesIsRefusedAndLogged) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const absl::StatusOr<v1::Case> before = book().Get("MK-2026/7");
  ASSERT_TRUE(before.ok());
  Request auditor = As("MK/Audit", "auditor");
  auditor.caller.person = "a-17";
  const std::vector<std::pair<std::string, std::string>> posts = {
      {"/cases/close", "case_number=MK-2026%2F7"},
      {"/cases/amend",
       "case_number=MK-2026%2F7&cur_0=2%3Abalkan_leaks&remove_0=1"
       "&add_type_0=2&add_value_0=%40someone_else"},
      {"/cases",
       "case_number=MK-2026%2F8&contact_point=x&offence=1"
       "&id_type_0=2&id_value_0=%40another_one"}};
  for (const auto& [path, form] : posts) {
    Response r = Call("POST", path, auditor, form);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_NE(r.body.find("your certificate's role is auditor"),
              std::string::npos)
        << path;
  }
  const absl::StatusOr<v1::Case> after = book().Get("MK-2026/7");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->SerializeAsString(), before->SerializeAsString());
  EXPECT_FALSE(book().Get("MK-2026/8").ok());

  std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 4u);  // the registration, then the three
  const char* rpcs[] = {"Office.CloseCase", "Office.AmendCase",
                        "Office.AddCase"};
  for (size_t i = 0; i < 3; ++i) {
    const v1::AuditEntry& e = entries[i + 1];
    EXPECT_EQ(e.rpc(), rpcs[i]);
    EXPECT_EQ(e.outcome().status_code(),
              static_cast<int>(absl::StatusCode::kPermissionDenied))
        << rpcs[i];
    EXPECT_EQ(e.office(), "");
    EXPECT_EQ(e.user(), "");
  }
  EXPECT_EQ(entries[2].kind(), "amend_case");
}

// The key the amend form gives the case's identifier of `type` (its
// normalized value as stored), %-encoded for a form body.
std::string CurrentKey(const v1::Case& c, v1::IdentifierType type) {
  for (const v1::Identifier& id : c.identifiers()) {
    if (id.type() == type) {
      return console::UrlEncode(
          absl::StrCat(static_cast<int>(type), ":", id.value()));
    }
  }
  return "";
}

TEST_F(CasePagesTest, AmendingRemovesAddsAndMovesWindowsAsOfficeAmendCase) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  EXPECT_NE(Call("GET", "/case", skopje_, "number=MK-2026%2F7")
                .body.find("href=\"/cases/amend?number=MK-2026%2F7\""),
            std::string::npos);
  Response form = Call("GET", "/cases/amend", skopje_, "number=MK-2026%2F7");
  ASSERT_EQ(form.status, 200) << form.body;
  for (const char* want :
       {"<h1>Amend case MK-2026/7</h1>", "action=\"/cases/amend\"",
        "name=\"cur_0\" value=\"2:balkan_leaks\"",
        "name=\"cur_from_0\" value=\"2026-01-02\"",
        "name=\"cur_until_0\" value=\"2026-01-31\"",
        "<label for=\"add_value_0\">", "Detect from the value",
        "Also add as a Telegram group or channel", "Tick the box to add both.",
        "name=\"case_number\" value=\"MK-2026/7\""}) {
    EXPECT_NE(form.body.find(want), std::string::npos) << want;
  }
  // The hint is the amend page's own: it adds, it does not ask.
  EXPECT_EQ(form.body.find("Tick the box to ask both."), std::string::npos);
  const v1::Case before = *book().Get("MK-2026/7");
  Request person = skopje_;
  person.caller.person = "mk-0042";
  // cur_0 (the username) gets February; cur_1 (the phone) is removed; a
  // t.me link is added as a username and, ticked, as a group or channel.
  Response amended = Call(
      "POST", "/cases/amend", person,
      absl::StrCat("case_number=MK-2026%2F7&cur_0=",
                   CurrentKey(before, v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME),
                   "&cur_from_0=2026-02-01&cur_until_0=2026-02-28&cur_1=",
                   CurrentKey(before, v1::IDENTIFIER_TYPE_PHONE),
                   "&cur_from_1=&cur_until_1=&remove_1=1&add_type_0=0"
                   "&add_value_0=t.me%2FNew_Admin&add_chat_0=1"));
  EXPECT_EQ(amended.status, 303) << amended.body;
  EXPECT_EQ(amended.location, "/case?number=MK-2026%2F7");
  const v1::Case after = *book().Get("MK-2026/7");
  std::map<std::string, std::pair<int64_t, int64_t>> ids;
  for (const v1::Identifier& id : after.identifiers()) {
    ids[absl::StrCat(static_cast<int>(id.type()), ":", id.value())] = {
        id.observed_from_ms(), id.observed_to_ms()};
  }
  ASSERT_EQ(ids.size(), 3u) << after.DebugString();
  EXPECT_EQ(ids["2:balkan_leaks"],
            std::make_pair(int64_t{1769904000000}, int64_t{1772323199999}));
  EXPECT_TRUE(ids.count("2:new_admin"));
  EXPECT_TRUE(ids.count("3:new_admin"));
  std::vector<v1::AuditEntry> writes =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase");
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].kind(), "amend_case");
  EXPECT_EQ(writes[0].outcome().status_code(), 0);
  EXPECT_EQ(writes[0].office(), testing::kOffice);
  EXPECT_EQ(writes[0].user(), "mk-0042");
}

// The page's own checks refuse next to the row, in the page's language,
// with everything typed kept; nothing is sent, so nothing is logged as
// Office.AmendCase (as `cbx` sends nothing for an argument it cannot read).
TEST_F(CasePagesTest, AmendFormRefusesARowNextToItInThePagesLanguage) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const v1::Case before = *book().Get("MK-2026/7");
  const std::string key =
      CurrentKey(before, v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  Request mk = skopje_;
  mk.accept_language = "mk";
  Response undetectable =
      Call("POST", "/cases/amend", mk,
           absl::StrCat("case_number=MK-2026%2F7&cur_0=", key,
                        "&cur_from_0=2026-01-02&cur_until_0=2026-01-31"
                        "&add_value_1=hello+world&add_from_1=2026-03-01"));
  EXPECT_EQ(undetectable.status, 400);
  EXPECT_NE(undetectable.body.find("<p class=\"error\" id=\"add_1_error\">"),
            std::string::npos)
      << undetectable.body;
  EXPECT_NE(undetectable.body.find("<html lang=\"mk\">"), std::string::npos);
  EXPECT_NE(undetectable.body.find("value=\"hello world\""), std::string::npos);
  EXPECT_NE(undetectable.body.find("value=\"2026-03-01\""), std::string::npos);
  EXPECT_EQ(undetectable.body.find("cannot be told"), std::string::npos);

  Response reversed =
      Call("POST", "/cases/amend", skopje_,
           absl::StrCat("case_number=MK-2026%2F7&cur_0=", key,
                        "&cur_from_0=2026-03-01&cur_until_0=2026-02-01"));
  EXPECT_EQ(reversed.status, 400);
  EXPECT_NE(reversed.body.find("<p class=\"error\" id=\"cur_0_error\">"),
            std::string::npos);
  EXPECT_NE(reversed.body.find("value=\"2026-03-01\""), std::string::npos);

  Response nothing =
      Call("POST", "/cases/amend", skopje_,
           absl::StrCat("case_number=MK-2026%2F7&cur_0=", key,
                        "&cur_from_0=2026-01-02&cur_until_0=2026-01-31"));
  EXPECT_EQ(nothing.status, 400);
  EXPECT_NE(nothing.body.find("Nothing was changed"), std::string::npos);

  EXPECT_EQ(book().Get("MK-2026/7")->SerializeAsString(),
            before.SerializeAsString());
  EXPECT_TRUE(node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase")
                  .empty());
}

// The amend page also changes the case's contact point, perpetrator's
// role and offences, as `cbx case amend` does: the form starts from what
// is stored, and only what changed is sent, in one Office.AmendCase.
TEST_F(CasePagesTest, AmendingChangesTheCaseDetails) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const v1::Case before = *book().Get("MK-2026/7");
  Response form = Call("GET", "/cases/amend", skopje_, "number=MK-2026%2F7");
  ASSERT_EQ(form.status, 200);
  for (const char* want :
       {"<legend>Details of the case</legend>", "name=\"details\" value=\"1\"",
        "name=\"contact_point\" required maxlength=\"512\" "
        "value=\"+389 2 000 000 &lt;b&gt;\"",
        "<option value=\"3\" selected>", "name=\"offence\" value=\"1\" checked",
        "name=\"offence\" value=\"4\" checked"}) {
    EXPECT_NE(form.body.find(want), std::string::npos) << want;
  }
  // The case has a role: "Unknown" is not offered (AmendCase cannot set
  // it back).
  EXPECT_EQ(form.body.find("<option value=\"0\">Unknown"), std::string::npos);
  EXPECT_EQ(form.body.find("name=\"offence\" value=\"2\" checked"),
            std::string::npos);

  Request person = skopje_;
  person.caller.person = "mk-0042";
  Response amended = Call(
      "POST", "/cases/amend", person,
      absl::StrCat("case_number=MK-2026%2F7&cur_0=",
                   CurrentKey(before, v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME),
                   "&cur_from_0=2026-01-02&cur_until_0=2026-01-31"
                   "&details=1&contact_point=%2B389+2+111+222"
                   "&role=2&offence=2"));
  EXPECT_EQ(amended.status, 303) << amended.body;
  const v1::Case after = *book().Get("MK-2026/7");
  EXPECT_EQ(after.contact_point(), "+389 2 111 222");
  EXPECT_EQ(after.role(), v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  ASSERT_EQ(after.offences_size(), 1);
  EXPECT_EQ(after.offences(0).code(), v1::OFFENCE_CODE_NCII_THREAT);
  EXPECT_EQ(after.identifiers_size(), before.identifiers_size());
  std::vector<v1::AuditEntry> writes =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase");
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].outcome().status_code(), 0);
  EXPECT_EQ(writes[0].user(), "mk-0042");

  // The same details again: nothing changed, nothing sent.
  Response same = Call("POST", "/cases/amend", skopje_,
                       "case_number=MK-2026%2F7&details=1"
                       "&contact_point=%2B389+2+111+222&role=2&offence=2");
  EXPECT_EQ(same.status, 400);
  EXPECT_NE(same.body.find("Nothing was changed"), std::string::npos);
  EXPECT_EQ(
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase").size(),
      1u);
}

// What AmendCase would read as "unchanged" (an empty contact point, no
// offence, role 0) cannot be what the person meant: refused next to the
// details, in the page's language, with nothing sent.
TEST_F(CasePagesTest, AmendRefusesDetailsThatCannotBeEmptied) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const v1::Case before = *book().Get("MK-2026/7");
  Request hr = skopje_;
  hr.accept_language = "hr";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"details=1&contact_point=+&role=3&offence=1", "kontaktnu točku"},
      {"details=1&contact_point=x&role=3", "barem jedno kazneno djelo"},
      {"details=1&contact_point=x&role=0&offence=1", "„nepoznato“"}};
  for (const auto& [fields, want] : cases) {
    Response r =
        Call("POST", "/cases/amend", hr, "case_number=MK-2026%2F7&" + fields);
    EXPECT_EQ(r.status, 400) << fields;
    EXPECT_NE(r.body.find("<p class=\"error\" id=\"details_error\">"),
              std::string::npos)
        << fields << r.body;
    EXPECT_NE(r.body.find(want), std::string::npos) << fields;
  }
  EXPECT_EQ(book().Get("MK-2026/7")->SerializeAsString(),
            before.SerializeAsString());
  EXPECT_TRUE(node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase")
                  .empty());
}

// A case with more identifiers than the form's first rows: "Add another
// row" brings the form back with one more row, what was typed kept, and
// sends nothing; the rows it shows are the rows read.
TEST_F(CasePagesTest, AddAnotherRowGrowsTheFormAndSendsNothing) {
  std::string form(kForm);
  form += "&rows=6&add_row=1";
  Response more = Call("POST", "/cases", skopje_, form);
  EXPECT_EQ(more.status, 200) << more.body;
  EXPECT_NE(more.body.find("name=\"id_value_6\""), std::string::npos);
  EXPECT_EQ(more.body.find("name=\"id_value_7\""), std::string::npos);
  EXPECT_NE(more.body.find("name=\"rows\" value=\"7\""), std::string::npos);
  EXPECT_NE(more.body.find("value=\"@Balkan_Leaks\""), std::string::npos);
  // The form's own button comes first: Enter registers, it adds no row.
  EXPECT_LT(more.body.find("Register the case</button>"),
            more.body.find("name=\"add_row\""));
  EXPECT_FALSE(book().Get("MK-2026/7").ok());
  EXPECT_TRUE(Entries().empty());

  std::string seven(kForm);
  seven += "&rows=7&id_type_6=5&id_value_6=seventh%40example.org";
  ASSERT_EQ(Call("POST", "/cases", skopje_, seven).location,
            "/case?number=MK-2026%2F7");
  const v1::Case c = *book().Get("MK-2026/7");
  ASSERT_EQ(c.identifiers_size(), 3);
  EXPECT_EQ(c.identifiers(2).value(), "seventh@example.org");

  // At the most rows, no button, and a hint says so.
  Response most = Call("POST", "/cases", skopje_, "rows=30&add_row=1");
  EXPECT_EQ(most.status, 200);
  EXPECT_NE(most.body.find("name=\"id_value_29\""), std::string::npos);
  EXPECT_EQ(most.body.find("name=\"id_value_30\""), std::string::npos);
  EXPECT_EQ(most.body.find("name=\"add_row\""), std::string::npos);
  EXPECT_NE(most.body.find("at most 30 identifiers"), std::string::npos);

  // The amend page's rows to add grow the same way.
  Response amend = Call("POST", "/cases/amend", skopje_,
                        "case_number=MK-2026%2F7&add_row=1"
                        "&add_value_3=%40fourth_row");
  EXPECT_EQ(amend.status, 200) << amend.body;
  EXPECT_NE(amend.body.find("name=\"add_value_4\""), std::string::npos);
  EXPECT_NE(amend.body.find("value=\"@fourth_row\""), std::string::npos);
  EXPECT_EQ(
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase").size(),
      0u);

  // Another role's "add a row" is no way around the role check.
  Response auditor =
      Call("POST", "/cases", As("MK/Audit", "auditor"), "rows=6&add_row=1");
  EXPECT_EQ(auditor.status, 403);
}

// The registration and amend forms' rows take a national phone number
// with its country (the office's own by default), as the query form does.
TEST_F(CasePagesTest, PhoneCountryTurnsANationalNumberInternational) {
  Response form = Call("GET", "/cases/new", skopje_);
  EXPECT_NE(form.body.find("name=\"id_cc_0\" aria-label=\"Country of a phone "
                           "number written without + 1\""),
            std::string::npos)
      << form.body;
  ASSERT_EQ(Call("POST", "/cases", skopje_,
                 "case_number=MK-2026%2F9&contact_point=x&role=3&offence=1"
                 "&id_type_0=4&id_value_0=064+555+0101&id_cc_0=RS"
                 "&id_type_1=4&id_value_1=070+555+0101")
                .location,
            "/case?number=MK-2026%2F9");
  const v1::Case c = *book().Get("MK-2026/9");
  ASSERT_EQ(c.identifiers_size(), 2);
  EXPECT_EQ(c.identifiers(0).value(), "+381645550101");
  EXPECT_EQ(c.identifiers(1).value(), "+389705550101");
  ASSERT_EQ(Call("POST", "/cases/amend", skopje_,
                 "case_number=MK-2026%2F9&add_type_0=0"
                 "&add_value_0=069+555+0111&add_cc_0=AL")
                .status,
            303);
  bool albanian = false;
  const v1::Case amended = *book().Get("MK-2026/9");
  for (const v1::Identifier& id : amended.identifiers()) {
    albanian = albanian || id.value() == "+355695550111";
  }
  EXPECT_TRUE(albanian);
}

// What only the case book knows is its refusal, after the translated
// framing, logged as Office.AmendCase: the last identifier kept (M8).
TEST_F(CasePagesTest, AmendShowsTheNodesRefusalAfterTheFraming) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const v1::Case before = *book().Get("MK-2026/7");
  Request sq = skopje_;
  sq.accept_language = "sq";
  Response all_removed = Call(
      "POST", "/cases/amend", sq,
      absl::StrCat(
          "case_number=MK-2026%2F7&cur_0=",
          CurrentKey(before, v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME),
          "&remove_0=1&cur_1=", CurrentKey(before, v1::IDENTIFIER_TYPE_PHONE),
          "&remove_1=1"));
  EXPECT_EQ(all_removed.status, 400);
  EXPECT_NE(all_removed.body.find("Nyja nuk e pranoi këtë: a case keeps at "
                                  "least one identifier"),
            std::string::npos)
      << all_removed.body;
  // The form is shown again with the boxes as they were ticked.
  EXPECT_NE(all_removed.body.find("name=\"remove_1\" value=\"1\" checked"),
            std::string::npos);
  EXPECT_EQ(book().Get("MK-2026/7")->identifiers_size(), 2);
  std::vector<v1::AuditEntry> writes =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase");
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CasePagesTest, AnOfficeAmendsOnlyItsOwnOpenCases) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  const v1::Case before = *book().Get("MK-2026/7");
  const Request ohrid = As("MK/PPO-Ohrid", "prosecutor");
  EXPECT_EQ(Call("GET", "/cases/amend", ohrid, "number=MK-2026%2F7").status,
            404);
  Response r = Call("POST", "/cases/amend", ohrid,
                    "case_number=MK-2026%2F7&add_type_0=2"
                    "&add_value_0=%40planted_by_ohrid");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("add_value_0"), std::string::npos);  // no form
  EXPECT_EQ(book().Get("MK-2026/7")->SerializeAsString(),
            before.SerializeAsString());
  // Refused by the case book and logged as such (M5).
  std::vector<v1::AuditEntry> writes =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AmendCase");
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].office(), "MK/PPO-Ohrid");

  ASSERT_EQ(
      Call("POST", "/cases/close", skopje_, "case_number=MK-2026%2F7").status,
      303);
  Response closed = Call("GET", "/cases/amend", skopje_, "number=MK-2026%2F7");
  EXPECT_EQ(closed.status, 400);
  EXPECT_NE(closed.body.find("a closed case cannot be amended"),
            std::string::npos);
  EXPECT_EQ(closed.body.find("action=\"/cases/amend\""), std::string::npos);
}

// GET /cases and GET /case are Office.ListCases: each look is one LOCAL
// entry with the office and the person, as `cbx case list` logs it; a look
// at another office's case is 404 and still logged as that call.
TEST_F(CasePagesTest, EachLookAtCasesIsLoggedAsOfficeListCases) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  Request person = skopje_;
  person.caller.person = "mk-0042";
  EXPECT_EQ(Call("GET", "/cases", person).status, 200);
  EXPECT_EQ(Call("GET", "/case", person, "number=MK-2026%2F7").status, 200);
  Request ohrid = As("MK/PPO-Ohrid", "prosecutor");
  ohrid.caller.person = "mk-0099";
  EXPECT_EQ(Call("GET", "/case", ohrid, "number=MK-2026%2F7").status, 404);
  EXPECT_EQ(Call("GET", "/case", ohrid, "number=MK-none").status, 404);

  std::vector<v1::AuditEntry> reads =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.ListCases");
  ASSERT_EQ(reads.size(), 4u);
  for (size_t i = 0; i < reads.size(); ++i) {
    EXPECT_EQ(reads[i].kind(), "list_cases") << i;
    EXPECT_EQ(reads[i].outcome().status_code(), 0) << i;
    EXPECT_EQ(reads[i].office(), i < 2 ? testing::kOffice : "MK/PPO-Ohrid")
        << i;
    EXPECT_EQ(reads[i].user(), i < 2 ? "mk-0042" : "mk-0099") << i;
  }
}

TEST_F(CasePagesTest, AnotherRoleLookingAtACaseIsRefusedAndLogged) {
  ASSERT_EQ(Call("POST", "/cases", skopje_, kForm).location,
            "/case?number=MK-2026%2F7");
  Request auditor = As("MK/Audit", "auditor");
  auditor.caller.person = "a-17";
  Response r = Call("GET", "/case", auditor, "number=MK-2026%2F7");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("balkan_leaks"), std::string::npos);
  std::vector<v1::AuditEntry> reads =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.ListCases");
  ASSERT_EQ(reads.size(), 1u);
  // As the port logs a refused role: no office or person on the entry.
  EXPECT_EQ(reads[0].office(), "");
  EXPECT_EQ(reads[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
}

TEST_F(CasePagesTest, AStoppingNodeSaysSo) {
  CasePages stopping{"MK", &office_,
                     [](std::function<void()>) { return false; }, &language_};
  std::map<std::pair<std::string, std::string>, console::Handler> routes;
  stopping.AddRoutes(routes);
  Request r = skopje_;
  r.method = "GET";
  r.path = "/cases";
  std::optional<Response> answer;
  routes.at({"GET", "/cases"})(r, [&](Response a) { answer = std::move(a); });
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503);
}

// The pages in the caller's language: titles, labels, buttons, the
// offences' labels and the chooser, with `lang` attributes; what the
// office typed and the node's own refusals unchanged.
TEST_F(CasePagesTest, PagesAreInTheCallersLanguage) {
  Request mk = skopje_;
  mk.accept_language = "mk-MK, en;q=0.5";
  Response form = Call("GET", "/cases/new", mk);
  EXPECT_EQ(form.status, 200);
  for (const char* want :
       {"<html lang=\"mk\">", "<h1>Регистрирај предмет</h1>", "Број на предмет",
        "Улога на сторителот", "Корисничко име на Telegram",
        "Споделување интимен или изменет материјал без согласност",
        ">Регистрирај го предметот</button>", ">Почетна</a>",
        "<option value=\"mk\" lang=\"mk\" selected>македонски</option>",
        "<option value=\"sq\" lang=\"sq\">shqip</option>",
        "name=\"id_type_1\" id=\"id_type_1\" aria-label=\"Вид 2\"",
        "name=\"id_value_0\" aria-label=\"Вредност 1\"",
        "name=\"return_to\" value=\"/cases/new\""}) {
    EXPECT_NE(form.body.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(form.body.find("Case number"), std::string::npos);

  ASSERT_EQ(Call("POST", "/cases", mk, kForm).location,
            "/case?number=MK-2026%2F7");
  Request sl = skopje_;
  sl.accept_language = "sl";
  Response shown = Call("GET", "/case", sl, "number=MK-2026%2F7");
  for (const char* want :
       {"<html lang=\"sl\">", "<h1>Zadeva MK-2026/7</h1>",
        "<dt>Stanje</dt><dd>odprta</dd>", "<dt>Tožilstvo</dt>",
        "Kibernetsko nadlegovanje, vključno z razkritjem osebnih podatkov",
        "Uporabniško ime v Telegramu", ">Zapri zadevo</button>",
        "balkan_leaks"}) {
    EXPECT_NE(shown.body.find(want), std::string::npos) << want;
  }

  // Serbian in Latin script, by the person's choice over the browser's.
  Request rs = skopje_;
  rs.accept_language = "en";
  ASSERT_TRUE(
      storage().PutSetting(ConsoleLanguage::Key(rs.caller), "sr-Latn").ok());
  ConsoleLanguage fresh{"MK", &storage(), Inline};
  CasePages pages{"MK", &office_, Inline, &fresh};
  std::map<std::pair<std::string, std::string>, console::Handler> routes;
  pages.AddRoutes(routes);
  rs.method = "POST";
  rs.path = "/cases";
  rs.form =
      *console::ParseForm("case_number=MK-9&id_type_0=2&id_value_0=a_b_c");
  std::optional<Response> refused;
  routes.at({"POST", "/cases"})(rs, [&](Response a) { refused = a; });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("<html lang=\"sr-Latn\">"), std::string::npos);
  EXPECT_NE(refused->body.find("Čvor ovo nije prihvatio: "), std::string::npos)
      << refused->body;
  EXPECT_NE(refused->body.find("contact_point"), std::string::npos);
  EXPECT_NE(refused->body.find("Broj predmeta"), std::string::npos);
}

// The header names the caller's role in the page's language, as does a
// refusal for that role; office and person stay as the certificate has
// them.
TEST_F(CasePagesTest, TheHeaderNamesTheRoleInThePagesLanguage) {
  Request person = skopje_;
  person.caller.person = "mk-0042";
  const std::vector<std::pair<std::string, std::string>> want = {
      {"en", "MK/PPO-Skopje (prosecutor, mk-0042)"},
      {"mk", "MK/PPO-Skopje (обвинител, mk-0042)"},
      {"sr", "MK/PPO-Skopje (тужилац, mk-0042)"},
      {"sr-Latn", "MK/PPO-Skopje (tužilac, mk-0042)"},
      {"hr", "MK/PPO-Skopje (državni odvjetnik, mk-0042)"},
      {"sq", "MK/PPO-Skopje (prokuror, mk-0042)"},
      {"sl", "MK/PPO-Skopje (tožilec, mk-0042)"}};
  for (const auto& [lang, caller] : want) {
    person.accept_language = lang;
    Response home = Call("GET", "/", person);
    EXPECT_NE(home.body.find(
                  absl::StrCat("<span class=\"caller\">", caller, "</span>")),
              std::string::npos)
        << lang << home.body;
    // The home page's "signed in as" too.
    EXPECT_NE(home.body.find(absl::StrCat("<strong>", caller, "</strong>")),
              std::string::npos)
        << lang;
  }
  Request auditor = As("MK/Audit", "auditor");
  auditor.accept_language = "mk";
  Response refused = Call("GET", "/cases", auditor);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("улогата во вашиот сертификат е ревизор"),
            std::string::npos)
      << refused.body;
  EXPECT_NE(refused.body.find("MK/Audit (ревизор)"), std::string::npos);
  EXPECT_EQ(refused.body.find("auditor"), std::string::npos);
}

}  // namespace
}  // namespace cbx::node
