// Offices see their own (node/office_scope.h) and the acting person
// (node/identity.h, spec/cooperation.md §5-§6), in process: MemoryStorage,
// a FakeClock and a recording audit sink (node/testing/case_fixture.h).
#include "node/office_scope.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/identity.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using testing::NewCase;

constexpr char kSkopje[] = "MK/PPO-Skopje";
constexpr char kBitola[] = "MK/PPO-Bitola";
constexpr char kPerson[] = "p-0042";

// --- The acting person: the certificate's URI --------------------------------

TEST(PersonUriTest, ParsesThePersonForm) {
  auto c = ParseOfficeUri(
      "spiffe://cbx/office/MK/PPO-Skopje/prosecutor/person/p-0042");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Name(), kSkopje);
  EXPECT_EQ(c->role, OfficeRole::kProsecutor);
  EXPECT_EQ(c->person, kPerson);
  auto role_only = ParseOfficeUri("spiffe://cbx/office/MK/PPO-Skopje/auditor");
  ASSERT_TRUE(role_only.ok());
  EXPECT_EQ(role_only->person, "");
}

TEST(PersonUriTest, RefusesEveryBadPersonForm) {
  const std::string base = "spiffe://cbx/office/MK/PPO-Skopje/prosecutor";
  for (const std::string& tail : {
           std::string("/person/"),              // empty id
           std::string("/person"),               // no id
           std::string("/staff/p-1"),            // not "person"
           std::string("/person/Ana Petrova"),   // a name with a space
           std::string("/person/p%2F1"),         // escapes
           std::string("/person/") + std::string(65, 'a'),  // too long
           std::string("/person/p-1/extra"),     // more parts
           std::string("/person/\xc3\xa9"),      // not ASCII
       }) {
    auto c = ParseOfficeUri(base + tail);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << tail;
  }
  // 64 characters is the most.
  EXPECT_TRUE(
      ParseOfficeUri(base + "/person/" + std::string(64, 'a')).ok());
  // The person part never stands in for the role.
  EXPECT_EQ(ParseOfficeUri("spiffe://cbx/office/MK/PPO-Skopje/person/p-1")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Attack: once the policy requires per-person certificates, an old
// role-only certificate is refused (A7).
TEST(PersonUriTest, RoleOnlyCertificateRefusedAfterTheDate) {
  constexpr uint64_t kFrom = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  OfficeCaller role_only;
  role_only.country = "MK";
  role_only.office = "PPO-Skopje";
  OfficeCaller person = role_only;
  person.person = kPerson;

  absl::Status refused = CheckPersonRequired(role_only, kFrom, kFrom);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.message().find("since 2026-01-01 00:00:00Z"),
            std::string::npos)
      << refused;
  EXPECT_TRUE(CheckPersonRequired(person, kFrom, kFrom).ok());
  // Before the date, and with no date (0), role-only still works.
  EXPECT_TRUE(CheckPersonRequired(role_only, kFrom, kFrom - 1).ok());
  EXPECT_TRUE(CheckPersonRequired(role_only, 0, kFrom).ok());
}

// --- Offices see their own ---------------------------------------------------

class OfficeScopeTest : public testing::DomainFixture {
 protected:
  CaseBook book_{"MK", &storage_, &oprf_key_, &trail_, &clock_};
  OfficeScope scope_{&storage_, &clock_};

  void SetUp() override {
    ASSERT_TRUE(book_.Add(kSkopje, NewCase("SK-1", {"@alice_one"})).ok());
    ASSERT_TRUE(book_.Add(kSkopje, NewCase("SK-2", {"@alice_two"})).ok());
    ASSERT_TRUE(book_.Close(kSkopje, "SK-2").ok());
    ASSERT_TRUE(book_.Add(kBitola, NewCase("BT-1", {"@bob_one"})).ok());
    AddHit("SK-1", "q1");
    AddHit("BT-1", "q2");
    AddHit("BT-1", "q3");
    AddNote("SK-1");
    AddNote("BT-1");
    // A hit of a case the node no longer holds belongs to no office.
    AddHit("GONE-1", "q4");
  }
  void AddHit(const std::string& number, const std::string& query) {
    v1::Hit h;
    h.set_case_number(number);
    h.set_query_id(query);
    h.set_member("RS");
    h.set_received_at_ms(clock_.NowMs());
    ASSERT_TRUE(storage_.AddHit(h).ok());
  }
  void AddNote(const std::string& number) {
    v1::Notification n;
    n.set_case_number(number);
    n.set_from_member("RS");
    n.set_at_ms(clock_.NowMs());
    ASSERT_TRUE(storage_.AddNotification(n).ok());
  }
};

// Attack: office Bitola lists cases, hits and inbox: it sees its own only.
TEST_F(OfficeScopeTest, AnOfficeListsOnlyItsOwn) {
  auto cases = scope_.ListCases(kBitola, /*include_closed=*/true, 0, "");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->cases.size(), 1u);
  EXPECT_EQ(cases->cases[0].case_number(), "BT-1");

  auto hits = scope_.ListHits(kBitola, v1::ListHitsRequest());
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->hits_size(), 2);
  for (const v1::Hit& h : hits->hits()) EXPECT_EQ(h.case_number(), "BT-1");

  auto inbox = scope_.ListInbox(kBitola, v1::ListInboxRequest());
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->notifications_size(), 1);
  EXPECT_EQ(inbox->notifications(0).case_number(), "BT-1");

  auto skopje = scope_.ListCases(kSkopje, /*include_closed=*/false, 0, "");
  ASSERT_TRUE(skopje.ok());
  ASSERT_EQ(skopje->cases.size(), 1u);  // SK-2 is closed
  EXPECT_EQ(skopje->cases[0].case_number(), "SK-1");
}

// Attack: Bitola names Skopje's case in the filter: refused, nothing shown.
TEST_F(OfficeScopeTest, AnotherOfficesCaseInTheFilterIsRefused) {
  v1::ListHitsRequest hits;
  hits.set_case_number("SK-1");
  EXPECT_EQ(scope_.ListHits(kBitola, hits).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::ListInboxRequest inbox;
  inbox.set_case_number("SK-1");
  EXPECT_EQ(scope_.ListInbox(kBitola, inbox).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Its own case, and an unknown number, list as before.
  hits.set_case_number("BT-1");
  auto own = scope_.ListHits(kBitola, hits);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->hits_size(), 2);
  hits.set_case_number("NONE-1");
  auto none = scope_.ListHits(kBitola, hits);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->hits_size(), 0);
}

// Attack: Bitola amends and closes Skopje's case.
TEST_F(OfficeScopeTest, AnotherOfficesCaseCannotBeChanged) {
  v1::AmendCaseRequest amend;
  amend.set_case_number("SK-1");
  amend.set_contact_point("+389 47 000 000");
  EXPECT_EQ(book_.Amend(kBitola, amend).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(book_.Close(kBitola, "SK-1").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto still = storage_.GetCase("SK-1");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->record.status(), v1::CASE_STATUS_OPEN);
}

TEST_F(OfficeScopeTest, PagesStayWithinTheOffice) {
  ASSERT_TRUE(book_.Add(kBitola, NewCase("BT-2", {"@bob_two"})).ok());
  ASSERT_TRUE(book_.Add(kBitola, NewCase("BT-3", {"@bob_three"})).ok());
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = scope_.ListCases(kBitola, true, 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const v1::Case& c : page->cases) seen.push_back(c.case_number());
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"BT-1", "BT-2", "BT-3"}));
}

// The operator's view: numbers per office, nothing else.
TEST_F(OfficeScopeTest, CountsPerOffice) {
  auto counts = scope_.Counts();
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->counted_at_ms(), clock_.NowMs());
  ASSERT_EQ(counts->offices_size(), 2);
  const v1::OfficeCounts& bitola = counts->offices(0);
  const v1::OfficeCounts& skopje = counts->offices(1);
  EXPECT_EQ(bitola.office(), kBitola);
  EXPECT_EQ(bitola.cases_open(), 1u);
  EXPECT_EQ(bitola.cases_closed(), 0u);
  EXPECT_EQ(bitola.hits(), 2u);
  EXPECT_EQ(bitola.inbox(), 1u);
  EXPECT_EQ(skopje.office(), kSkopje);
  EXPECT_EQ(skopje.cases_open(), 1u);
  EXPECT_EQ(skopje.cases_closed(), 1u);
  EXPECT_EQ(skopje.hits(), 1u);
  EXPECT_EQ(skopje.inbox(), 1u);
  EXPECT_EQ(skopje.requests_sent() + skopje.requests_received() +
                skopje.watches(),
            0u);
}

// --- The acting person in the case book's entries ----------------------------

TEST_F(OfficeScopeTest, CaseChangesCarryThePerson) {
  const size_t before = sink_.entries().size();
  ASSERT_TRUE(
      book_.Add(kSkopje, NewCase("SK-3", {"@carol_one"}), kPerson).ok());
  v1::AmendCaseRequest amend;
  amend.set_case_number("SK-3");
  amend.set_contact_point("+389 2 111 111");
  ASSERT_TRUE(book_.Amend(kSkopje, amend, kPerson).ok());
  ASSERT_TRUE(book_.Close(kSkopje, "SK-3", kPerson).ok());
  // A refusal is the person's too.
  EXPECT_EQ(book_.Close(kSkopje, "SK-3", kPerson).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), before + 4);
  for (size_t i = before; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].user(), kPerson) << entries[i].rpc();
    EXPECT_EQ(entries[i].office(), kSkopje);
  }
}

}  // namespace
}  // namespace cbx::node
