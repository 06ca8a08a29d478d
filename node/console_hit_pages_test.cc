// The console's hit and inbox pages in process: the handlers called as the
// console server calls them, over the Office service of a test node
// (MemoryStorage, a real audit log): what they show, and that each look is
// logged as the Office call it stands for.
#include "node/console_hit_pages.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/office_service.h"
#include "node/testing/case_fixture.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using console::Request;
using console::Response;

constexpr char kOhrid[] = "MK/PPO-Ohrid";
// 2026-01-01 and 2026-01-31 (UTC), 2025-01-01 and 2025-02-28.
constexpr int64_t kJan2026 = 1767225600000;
constexpr int64_t kJan2026End = 1769903999999;
constexpr int64_t kJan2025 = 1735689600000;
constexpr int64_t kFeb2025End = 1740787199999;

Request As(const std::string& office, const std::string& role) {
  Request r;
  r.caller = console::Caller{office, role, ""};
  r.session.form_token = std::string(64, 'f');
  return r;
}

// A hit from RS for `case_number`, found by `query_id`, with text a peer
// chose (office, contact) that must be escaped.
v1::Hit RsHit(const std::string& case_number, const std::string& query_id,
              int64_t received_ms, bool disjoint) {
  v1::Hit h;
  h.set_query_id(query_id);
  h.set_member("RS");
  h.set_case_number(case_number);
  h.set_received_at_ms(received_ms);
  h.set_envelope_sha256(std::string(32, '\x5a'));
  v1::CaseReference* ref = h.mutable_reference();
  ref->set_case_token(std::string(16, '\x01'));
  ref->set_member("RS");
  ref->set_competent_office("RS/VJT-Beograd <b>");
  ref->set_contact_point("<script>alert(1)</script> +381 11 000");
  ref->set_opened_month("2025-12");
  ref->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  v1::HitMatch* m = h.add_matches();
  m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  m->set_value("@Balkan_Leaks");
  m->set_normalized("balkan_leaks");
  m->set_querier_from_ms(kJan2026);
  m->set_querier_to_ms(kJan2026End);
  m->set_peer_from_ms(disjoint ? kJan2025 : kJan2026);
  m->set_peer_to_ms(disjoint ? kFeb2025End : kJan2026End);
  h.set_windows_overlap(disjoint ? v1::WINDOWS_OVERLAP_DISJOINT
                                 : v1::WINDOWS_OVERLAP_OVERLAP);
  return h;
}

class HitPagesTest : public ::testing::Test {
 protected:
  HitPagesTest() {
    pages_.AddRoutes(routes_);
    EXPECT_TRUE(
        office_.cases()
            ->Add(testing::kOffice, testing::NewCase("MK-1", {"a_user"}), "")
            .ok());
    EXPECT_TRUE(office_.cases()
                    ->Add(kOhrid, testing::NewCase("MK-9", {"b_user"}), "")
                    .ok());
  }

  Response Call(const std::string& path, Request r,
                const std::string& query = "") {
    r.method = "GET";
    r.path = path;
    absl::StatusOr<console::Form> form = console::ParseForm(query);
    EXPECT_TRUE(form.ok());
    r.query = *form;
    std::optional<Response> answer;
    routes_.at({"GET", path})(r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  Storage& storage() { return *node_.ctx().storage; }
  // The LOCAL entries of `rpc` in the node's audit log, in order.
  std::vector<v1::AuditEntry> Logged(const std::string& rpc) {
    return node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, rpc);
  }

  v1::SignedDirectory genesis_ = testing::FakeGenesis();
  testing::TestNode node_{genesis_};
  OfficeService office_{&node_.ctx(), nullptr, nullptr, nullptr, nullptr};
  ConsoleLanguage language_{"MK", node_.ctx().storage.get(),
                            [](std::function<void()> work) {
                              work();
                              return true;
                            }};
  HitPages pages_{"MK", &office_, &language_, [](std::function<void()> work) {
                    work();
                    return true;
                  }};
  std::map<std::pair<std::string, std::string>, console::Handler> routes_;
  const Request skopje_ = As(testing::kOffice, "prosecutor");
  const Request ohrid_ = As(kOhrid, "prosecutor");
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(HitPagesTest, HitsAreGroupedPerPeerCaseWithTheirContextEscaped) {
  ASSERT_TRUE(storage().AddHit(RsHit("MK-1", "q-one", 1000, true)).ok());
  ASSERT_TRUE(storage().AddHit(RsHit("MK-1", "q-two", 2000, true)).ok());
  v1::Hit other = RsHit("MK-9", "q-ohrid", 3000, false);
  other.mutable_matches(0)->set_value("@Ohrid_Only");
  ASSERT_TRUE(storage().AddHit(other).ok());

  Response page = Call("/hits", skopje_);
  EXPECT_EQ(page.status, 200);
  // Two queries found one case of RS: one card, with both queries.
  EXPECT_EQ(Count(page.body, "<section class=\"hit\">"), 1u) << page.body;
  EXPECT_NE(page.body.find("q-one"), std::string::npos);
  EXPECT_NE(page.body.find("q-two"), std::string::npos);
  EXPECT_NE(page.body.find("@Balkan_Leaks"), std::string::npos);
  EXPECT_NE(page.body.find("2025-01-01 to 2025-02-28"), std::string::npos);
  EXPECT_NE(page.body.find("2026-01-01 to 2026-01-31"), std::string::npos);
  EXPECT_NE(page.body.find("DO NOT OVERLAP"), std::string::npos);
  EXPECT_NE(page.body.find("class=\"warning disjoint\""), std::string::npos);
  // What the peer chose is text, never markup.
  EXPECT_NE(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(page.body.find("RS/VJT-Beograd &lt;b&gt;"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_EQ(page.body.find("<b>"), std::string::npos);
  // Another office's hit is not shown.
  EXPECT_EQ(page.body.find("@Ohrid_Only"), std::string::npos);
  EXPECT_EQ(page.body.find("q-ohrid"), std::string::npos);
}

TEST_F(HitPagesTest, OverlappingWindowsCarryNoWarning) {
  ASSERT_TRUE(storage().AddHit(RsHit("MK-1", "q-one", 1000, false)).ok());
  Response page = Call("/hits", skopje_);
  EXPECT_EQ(page.body.find("DO NOT OVERLAP"), std::string::npos);
  EXPECT_EQ(page.body.find("warning disjoint"), std::string::npos);
  EXPECT_NE(page.body.find("<td>overlap</td>"), std::string::npos);
}

TEST_F(HitPagesTest, WithdrawnHitIsMarked) {
  v1::Hit h = RsHit("MK-1", "q-one", 1000, false);
  h.set_withdrawn_at_ms(kJan2026);
  ASSERT_TRUE(storage().AddHit(h).ok());
  Response page = Call("/hits", skopje_);
  EXPECT_NE(page.body.find("Withdrawn: the peer closed this case on "
                           "2026-01-01T00:00:00Z"),
            std::string::npos)
      << page.body;
}

TEST_F(HitPagesTest, RecordOfAHitIsPrintableAndScopedToItsOffice) {
  const v1::Hit mine = RsHit("MK-1", "0123abcd", kJan2026, true);
  const v1::Hit theirs = RsHit("MK-9", "9999eeee", kJan2026, false);
  ASSERT_TRUE(storage().AddHit(mine).ok());
  ASSERT_TRUE(storage().AddHit(theirs).ok());
  EXPECT_EQ(HitId(mine), "0123abcd.RS.01010101010101010101010101010101");

  Response record =
      Call("/hit", skopje_, "id=" + console::UrlEncode(HitId(mine)));
  EXPECT_EQ(record.status, 200);
  EXPECT_NE(record.body.find("0123abcd"), std::string::npos);
  EXPECT_NE(record.body.find("2026-01-01T00:00:00Z"), std::string::npos);
  EXPECT_NE(record.body.find("Asked under your case</th><td>MK-1"),
            std::string::npos);
  EXPECT_NE(record.body.find("Recorded by the node of</th><td>MK"),
            std::string::npos);
  EXPECT_NE(record.body.find("5a5a5a5a5a5a5a5a5a5a"), std::string::npos);
  EXPECT_NE(record.body.find("DO NOT OVERLAP"), std::string::npos);
  EXPECT_NE(record.body.find("<nav"), std::string::npos);

  // Another office's hit is 404, as its case is on /case.
  Response other =
      Call("/hit", skopje_, "id=" + console::UrlEncode(HitId(theirs)));
  EXPECT_EQ(other.status, 404);
  // (The id is in the chooser's return_to; not in the page's content.)
  EXPECT_EQ(other.body.find("9999eeee", other.body.find("<main>")),
            std::string::npos);
  EXPECT_EQ(
      Call("/hit", ohrid_, "id=" + console::UrlEncode(HitId(theirs))).status,
      200);
  EXPECT_EQ(Call("/hit", skopje_, "id=nothing").status, 404);
}

TEST_F(HitPagesTest, InboxIsNewestFirstAndPaged) {
  for (int i = 0; i < 60; ++i) {
    v1::Notification n;
    n.set_at_ms(kJan2026 + i * 60'000);
    n.set_from_member("AL");
    n.set_from_office(i == 59 ? "AL/PP-Tirana <i>" : "AL/PP-Tirana");
    n.set_case_number("MK-1");
    n.mutable_purpose()->set_case_number(absl::StrCat("AL-", i));
    n.mutable_purpose()->set_legal_basis("MLA 1959");
    n.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    ASSERT_TRUE(storage().AddNotification(n).ok());
  }
  v1::Notification theirs;
  theirs.set_at_ms(kJan2026);
  theirs.set_from_member("AL");
  theirs.set_case_number("MK-9");
  theirs.mutable_purpose()->set_case_number("AL-for-Ohrid");
  ASSERT_TRUE(storage().AddNotification(theirs).ok());

  Response first = Call("/inbox", skopje_);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(Count(first.body, "<tr><td>"), 50u);
  const size_t newest = first.body.find("AL-59<");
  const size_t older = first.body.find("AL-58<");
  ASSERT_NE(newest, std::string::npos);
  ASSERT_NE(older, std::string::npos);
  EXPECT_LT(newest, older);
  EXPECT_NE(first.body.find("AL/PP-Tirana &lt;i&gt;"), std::string::npos);
  EXPECT_EQ(first.body.find("AL-for-Ohrid"), std::string::npos);
  const size_t link = first.body.find("/inbox?page=");
  ASSERT_NE(link, std::string::npos);
  const size_t end = first.body.find('"', link);
  const std::string token =
      first.body.substr(link + 12, end - link - 12);  // already URL-encoded

  Response second = Call("/inbox", skopje_, "page=" + token);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(Count(second.body, "<tr><td>"), 10u);
  EXPECT_NE(second.body.find("AL-0<"), std::string::npos);
  EXPECT_EQ(second.body.find("<a href=\"/inbox?page="), std::string::npos);
  EXPECT_EQ(Call("/inbox", skopje_, "page=forged").status, 400);
}

TEST_F(HitPagesTest, OtherRolesAreRefusedAndTheRefusalIsLogged) {
  for (const char* path : {"/hits", "/hit", "/inbox"}) {
    EXPECT_EQ(Call(path, As(testing::kOffice, "auditor")).status, 403) << path;
  }
  // As Office.ListHits and Office.ListInbox refuse the role on the port.
  std::vector<v1::AuditEntry> hits = Logged("Office.ListHits");
  std::vector<v1::AuditEntry> inbox = Logged("Office.ListInbox");
  ASSERT_EQ(hits.size(), 2u);
  ASSERT_EQ(inbox.size(), 1u);
  hits.push_back(inbox[0]);
  // As the port: the refused caller is not an office of the entry.
  for (const v1::AuditEntry& e : hits) {
    EXPECT_EQ(e.office(), "");
    EXPECT_EQ(e.outcome().status_code(),
              static_cast<int>(absl::StatusCode::kPermissionDenied));
  }
}

// GET /hits and GET /hit are Office.ListHits, GET /inbox Office.ListInbox:
// one LOCAL entry per look with the office and the person; a look at
// another office's hit is 404 and still logged as Office.ListHits.
TEST_F(HitPagesTest, EachLookIsLoggedAsTheOfficeCallItStandsFor) {
  const v1::Hit theirs = RsHit("MK-9", "9999eeee", kJan2026, false);
  ASSERT_TRUE(storage().AddHit(RsHit("MK-1", "q-one", 1000, false)).ok());
  ASSERT_TRUE(storage().AddHit(theirs).ok());
  Request person = skopje_;
  person.caller.person = "mk-0042";
  EXPECT_EQ(Call("/hits", person).status, 200);
  EXPECT_EQ(
      Call("/hit", person, "id=" + console::UrlEncode(HitId(theirs))).status,
      404);
  EXPECT_EQ(Call("/inbox", person).status, 200);
  EXPECT_EQ(Call("/inbox", person, "page=forged").status, 400);

  const std::vector<v1::AuditEntry> hits = Logged("Office.ListHits");
  ASSERT_EQ(hits.size(), 2u);
  for (const v1::AuditEntry& e : hits) {
    EXPECT_EQ(e.kind(), "list_hits");
    EXPECT_EQ(e.office(), testing::kOffice);
    EXPECT_EQ(e.user(), "mk-0042");
    EXPECT_EQ(e.outcome().status_code(), 0);
  }
  const std::vector<v1::AuditEntry> inbox = Logged("Office.ListInbox");
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].kind(), "list_inbox");
  EXPECT_EQ(inbox[0].user(), "mk-0042");
  EXPECT_EQ(inbox[0].outcome().status_code(), 0);
  // The forged page token is the caller's error, logged as the port would.
  EXPECT_EQ(inbox[1].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
}

// Each page in the caller's language: the frame (`<html lang>`, the
// chooser), the navigation, the labels, the warnings and the offences'
// labels; what a peer or the office wrote unchanged.
TEST_F(HitPagesTest, PagesAreInTheCallersLanguage) {
  const v1::Hit mine = RsHit("MK-1", "q-one", kJan2026, true);
  ASSERT_TRUE(storage().AddHit(mine).ok());
  Request mk = skopje_;
  mk.accept_language = "mk-MK, en;q=0.5";
  Response hits = Call("/hits", mk);
  EXPECT_EQ(hits.status, 200);
  for (const char* want :
       {"<html lang=\"mk\">", "<h1>Погодоци на вашето обвинителство</h1>",
        "<nav aria-label=\"Конзола\">", ">Погодоци</a>",
        "<th scope=\"row\">Членка</th>", "НЕ СЕ ПРЕКЛОПУВААТ",
        "2025-01-01 до 2025-02-28", "Корисничко име на Telegram",
        "Споделување интимен или изменет материјал без согласност",
        "<option value=\"mk\" lang=\"mk\" selected>", "@Balkan_Leaks",
        "RS/VJT-Beograd &lt;b&gt;"}) {
    EXPECT_NE(hits.body.find(want), std::string::npos) << want;
  }
  for (const char* english : {"Their office", "What matched", "Peer<"}) {
    EXPECT_EQ(hits.body.find(english), std::string::npos) << english;
  }

  Request sl = skopje_;
  sl.accept_language = "sl";
  Response record = Call("/hit", sl, "id=" + console::UrlEncode(HitId(mine)));
  EXPECT_EQ(record.status, 200);
  for (const char* want : {"<html lang=\"sl\">", "<h1>Zapis o zadetku</h1>",
                           "Poizvedba v okviru vaše zadeve</th><td>MK-1",
                           "od 2025-01-01 do 2025-02-28", "SE NE PREKRIVATA"}) {
    EXPECT_NE(record.body.find(want), std::string::npos) << want;
  }
  Response none = Call("/hit", sl, "id=nothing");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("Vaše tožilstvo nima zadetka"), std::string::npos);

  Request sq = skopje_;
  sq.accept_language = "sq";
  Response inbox = Call("/inbox", sq);
  EXPECT_NE(inbox.body.find("<html lang=\"sq\">"), std::string::npos);
  EXPECT_NE(inbox.body.find("Asgjë në të ardhurat e prokurorisë suaj."),
            std::string::npos)
      << inbox.body;
  Request auditor = As(testing::kOffice, "auditor");
  auditor.accept_language = "hr";
  Response refused = Call("/inbox", auditor);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Ove su stranice za državna odvjetništva; "
                              "uloga u vašem certifikatu je revizor."),
            std::string::npos)
      << refused.body;
}

}  // namespace
}  // namespace cbx::node