// CaseBook in process: MemoryStorage, a FakeClock and a recording audit
// sink (node/testing/case_fixture.h).
#include "node/cases.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using testing::kOffice;
using testing::NewCase;
using testing::Username;

class CaseBookTest : public testing::DomainFixture {
 protected:
  CaseBook book_{"MK", &storage_, &oprf_key_, &trail_, &clock_};

  // Adds a case that must be accepted.
  v1::Case MustAdd(const v1::Case& c) {
    auto added = book_.Add(kOffice, c);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : v1::Case();
  }
  size_t StoredCases() {
    auto all = storage_.ListCases(/*include_closed=*/true);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? all->items.size() : 0;
  }
  // The last audit entry.
  v1::AuditEntry LastEntry() {
    std::vector<v1::AuditEntry> entries = sink_.entries();
    EXPECT_FALSE(entries.empty());
    return entries.empty() ? v1::AuditEntry() : entries.back();
  }
};

TEST_F(CaseBookTest, AddStoresPublishesAndLogs) {
  v1::Case added = MustAdd(NewCase("PPO-1/2026", {"@alice_one", "@bob_two"}));
  EXPECT_EQ(added.office(), kOffice);
  EXPECT_EQ(added.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(added.case_token().size(), 16u);
  EXPECT_EQ(added.opened_month(), "2026-01");  // the fake clock's month
  EXPECT_EQ(added.created_at_ms(), clock_.NowMs());
  ASSERT_EQ(added.identifiers_size(), 2);
  EXPECT_EQ(added.identifiers(0).value(), "alice_one");  // normalized
  std::vector<Tag> want = {TagOf("@alice_one"), TagOf("@bob_two")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(OwnTags(), want);
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].direction(), v1::AUDIT_DIRECTION_LOCAL);
  EXPECT_EQ(entries[0].rpc(), "Office.AddCase");
  EXPECT_EQ(entries[0].kind(), "add_case");
  EXPECT_EQ(entries[0].office(), kOffice);
  EXPECT_EQ(entries[0].outcome().status_code(), 0);
  EXPECT_EQ(entries[0].outcome().elements(), 2u);
  auto got = book_.Get("PPO-1/2026");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), added.SerializeAsString());
}

TEST_F(CaseBookTest, EachInvalidFieldIsRefusedByName) {
  struct Bad {
    std::string field;
    v1::Case c;
  };
  std::vector<Bad> bad;
  auto with = [](auto edit) {
    v1::Case c = NewCase("PPO-2", {"@alice_one"});
    edit(c);
    return c;
  };
  bad.push_back(
      {"case_number", with([](v1::Case& c) { c.clear_case_number(); })});
  bad.push_back({"case_number", with([](v1::Case& c) {
                   c.set_case_number("-starts-with-dash");
                 })});
  bad.push_back({"case_number", with([](v1::Case& c) {
                   c.set_case_number(std::string(65, 'A'));
                 })});
  bad.push_back(
      {"case_number", with([](v1::Case& c) { c.set_case_number("PPO 2"); })});
  bad.push_back(
      {"identifiers", with([](v1::Case& c) { c.clear_identifiers(); })});
  bad.push_back({"identifiers[0]", with([](v1::Case& c) {
                   c.mutable_identifiers(0)->set_value("");
                 })});
  bad.push_back({"identifiers[0]", with([](v1::Case& c) {
                   c.mutable_identifiers(0)->set_observed_from_ms(10);
                   c.mutable_identifiers(0)->set_observed_to_ms(5);
                 })});
  bad.push_back({"offences", with([](v1::Case& c) { c.clear_offences(); })});
  bad.push_back({"offences[0].code", with([](v1::Case& c) {
                   c.mutable_offences(0)->set_code(
                       v1::OFFENCE_CODE_UNSPECIFIED);
                 })});
  bad.push_back(
      {"contact_point", with([](v1::Case& c) { c.clear_contact_point(); })});
  bad.push_back({"role", with([](v1::Case& c) {
                   c.set_role(static_cast<v1::PerpetratorRole>(99));
                 })});
  for (const char* month :
       {"2026-13", "2026-00", "26-01", "2026-1", "2026/01"}) {
    bad.push_back({"opened_month",
                   with([&](v1::Case& c) { c.set_opened_month(month); })});
  }
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.c.ShortDebugString());
    auto added = book_.Add(kOffice, b.c);
    EXPECT_EQ(added.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(added.status().message(), b.field + ":"))
        << added.status();
    EXPECT_EQ(LastEntry().outcome().status_code(),
              static_cast<int>(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(sink_.entries().size(), bad.size());
  EXPECT_EQ(StoredCases(), 0u);
  EXPECT_TRUE(OwnTags().empty());
}

TEST_F(CaseBookTest, ANationalFormPhoneGetsThisMembersFix) {
  // This book is MK's: a number in national form is refused with the fix
  // for a North Macedonian number, and stores nothing.
  v1::Case c = NewCase("PPO-3", {"@alice_one"});
  v1::Identifier* phone = c.add_identifiers();
  phone->set_type(v1::IDENTIFIER_TYPE_PHONE);
  phone->set_value("070 123 456");
  auto added = book_.Add(kOffice, c);
  EXPECT_EQ(added.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(added.status().message().find(
                "write it as +389 70 123 456 if it is a number from North "
                "Macedonia"),
            std::string::npos)
      << added.status();
  EXPECT_EQ(StoredCases(), 0u);
  // Another member's book gives its own country's fix.
  CaseBook albanian{"AL", &storage_, &oprf_key_, &trail_, &clock_};
  added = albanian.Add(kOffice, c);
  EXPECT_NE(added.status().message().find("write it as +355 70 123 456"),
            std::string::npos)
      << added.status();
}

TEST_F(CaseBookTest, ValidCaseNumbersAndMonthsAreAccepted) {
  v1::Case c = NewCase(std::string(64, 'a'), {"@alice_one"});
  c.set_opened_month("2025-12");
  EXPECT_EQ(MustAdd(c).opened_month(), "2025-12");
  MustAdd(NewCase("9/a.b_c-d", {"@alice_one"}));
}

TEST_F(CaseBookTest, RepeatedIdentifiersAreKeptOnce) {
  v1::Case added = MustAdd(
      NewCase("PPO-3", {"@alice_one", "Alice_One", "https://t.me/alice_one"}));
  EXPECT_EQ(added.identifiers_size(), 1);
  EXPECT_EQ(LastEntry().outcome().elements(), 1u);
}

TEST_F(CaseBookTest, ATakenNumberIsAlreadyExistsAndChangesNothing) {
  MustAdd(NewCase("PPO-4", {"@alice_one"}));
  const uint64_t version = OwnVersion();
  auto again = book_.Add(kOffice, NewCase("PPO-4", {"@other_one"}));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "case_number: case PPO-4 already exists");
  EXPECT_EQ(OwnVersion(), version);
  EXPECT_EQ(OwnTags(), std::vector<Tag>{TagOf("@alice_one")});
  EXPECT_EQ(LastEntry().outcome().status_code(),
            static_cast<int>(absl::StatusCode::kAlreadyExists));
}

TEST_F(CaseBookTest, AmendMergesIdentifierSetsAndFields) {
  MustAdd(NewCase("PPO-5", {"@alice_one", "@bob_two"}));
  clock_.AdvanceMs(1000);
  v1::AmendCaseRequest amend;
  amend.set_case_number("PPO-5");
  *amend.add_add_identifiers() = Username("@alice_one");  // present: kept once
  *amend.add_add_identifiers() = Username("@carol_three");
  *amend.add_remove_identifiers() = Username("BOB_TWO");  // normalized match
  amend.set_contact_point("+389 2 111 111");
  amend.add_offences()->set_code(v1::OFFENCE_CODE_CYBER_STALKING);
  amend.set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  auto amended = book_.Amend(kOffice, amend);
  ASSERT_TRUE(amended.ok()) << amended.status();
  ASSERT_EQ(amended->identifiers_size(), 2);
  EXPECT_EQ(amended->identifiers(0).value(), "alice_one");
  EXPECT_EQ(amended->identifiers(1).value(), "carol_three");
  EXPECT_EQ(amended->contact_point(), "+389 2 111 111");
  EXPECT_EQ(amended->offences(0).code(), v1::OFFENCE_CODE_CYBER_STALKING);
  EXPECT_EQ(amended->role(), v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  EXPECT_EQ(amended->updated_at_ms(), clock_.NowMs());
  EXPECT_EQ(amended->created_at_ms(), clock_.NowMs() - 1000);
  std::vector<Tag> want = {TagOf("@alice_one"), TagOf("@carol_three")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(OwnTags(), want);
  EXPECT_EQ(LastEntry().rpc(), "Office.AmendCase");
  EXPECT_EQ(LastEntry().outcome().status_code(), 0);
}

TEST_F(CaseBookTest, AmendRefusalsChangeNothing) {
  MustAdd(NewCase("PPO-6", {"@alice_one"}));
  v1::Case closed = MustAdd(NewCase("PPO-7", {"@bob_two"}));
  ASSERT_TRUE(book_.Close(kOffice, "PPO-7").ok());
  const uint64_t version = OwnVersion();
  auto amend = [&](const std::string& office, const std::string& number,
                   auto edit) {
    v1::AmendCaseRequest r;
    r.set_case_number(number);
    edit(r);
    return book_.Amend(office, r).status();
  };
  auto none = [](v1::AmendCaseRequest&) {};
  EXPECT_EQ(amend(kOffice, "NOPE", none).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(amend(kOffice, "NOPE", none).message(),
            "case_number: no case NOPE");
  absl::Status other = amend("MK/PPO-Bitola", "PPO-6", none);
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(), "case PPO-6 belongs to MK/PPO-Skopje");
  EXPECT_EQ(amend(kOffice, "PPO-7", none).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(amend(kOffice, "PPO-6",
                  [](v1::AmendCaseRequest& r) {
                    *r.add_remove_identifiers() = Username("@nobody_here");
                  })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(amend(kOffice, "PPO-6",
                  [](v1::AmendCaseRequest& r) {
                    *r.add_remove_identifiers() = Username("@alice_one");
                  })
                .code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Status bad_add = amend(kOffice, "PPO-6", [](v1::AmendCaseRequest& r) {
    *r.add_add_identifiers() = Username("");
  });
  EXPECT_EQ(bad_add.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad_add.message(), "add_identifiers[0]:"));
  absl::Status bad_offence =
      amend(kOffice, "PPO-6", [](v1::AmendCaseRequest& r) {
        r.add_offences()->set_code(v1::OFFENCE_CODE_UNSPECIFIED);
      });
  EXPECT_EQ(bad_offence.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OwnVersion(), version);
  EXPECT_EQ(OwnTags(), std::vector<Tag>{TagOf("@alice_one")});
  auto kept = book_.Get("PPO-6");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->identifiers_size(), 1);
  // Every refusal was logged with its code.
  EXPECT_EQ(LastEntry().outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaseBookTest, CloseTakesTagsOutOfTheOwnIndex) {
  MustAdd(NewCase("PPO-8", {"@alice_one", "@shared_one"}));
  MustAdd(NewCase("PPO-9", {"@shared_one"}));
  auto closed = book_.Close(kOffice, "PPO-8");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->status(), v1::CASE_STATUS_CLOSED);
  // The shared tag stays: PPO-9 is open.
  EXPECT_EQ(OwnTags(), std::vector<Tag>{TagOf("@shared_one")});
  EXPECT_EQ(LastEntry().rpc(), "Office.CloseCase");
  EXPECT_EQ(book_.Close(kOffice, "PPO-8").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(book_.Close("MK/PPO-Bitola", "PPO-9").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(CaseBookTest, ListPagesWithTokensForItsFilter) {
  for (int i = 1; i <= 5; ++i) {
    MustAdd(NewCase("C" + std::to_string(i), {"@alice_one"}));
  }
  ASSERT_TRUE(book_.Close(kOffice, "C2").ok());
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = book_.List(/*include_closed=*/false, 2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->cases.size(), 2u);
    for (const v1::Case& c : page->cases) seen.push_back(c.case_number());
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"C1", "C3", "C4", "C5"}));

  auto first = book_.List(/*include_closed=*/true, 2, "");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->cases.size(), 2u);
  ASSERT_FALSE(first->next_page_token.empty());
  // A token of the "closed" listing does not page the "open" one.
  EXPECT_EQ(book_.List(false, 2, first->next_page_token).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_.List(false, 2, "not a token").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto all = book_.List(true, 0, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->cases.size(), 5u);
  EXPECT_TRUE(all->next_page_token.empty());
}

// --- Log before effect ------------------------------------------------------

// The office's view of the node after a write that must have changed
// nothing: the same cases, own index and version.
struct View {
  size_t cases;
  uint64_t version;
  std::vector<Tag> tags;
  std::string first_case;
  bool operator==(const View&) const = default;
};

class CaseBookLogBeforeEffectTest
    : public CaseBookTest,
      public ::testing::WithParamInterface<absl::StatusCode> {
 protected:
  View Look() {
    auto all = storage_.ListCases(true);
    EXPECT_TRUE(all.ok());
    return {all->items.size(), OwnVersion(), OwnTags(),
            all->items.empty() ? "" : all->items[0].record.SerializeAsString()};
  }
  // What the caller must get for a log failing with GetParam().
  absl::StatusCode Expected() {
    return GetParam() == absl::StatusCode::kDataLoss
               ? absl::StatusCode::kDataLoss
               : absl::StatusCode::kUnavailable;
  }
  void BreakTheLog() {
    sink_.FailAppends(absl::Status(GetParam(), "the audit log failed"));
  }
};

TEST_P(CaseBookLogBeforeEffectTest, AddIsNotStoredWithoutItsEntry) {
  const View before = Look();
  BreakTheLog();
  auto added = book_.Add(kOffice, NewCase("PPO-10", {"@alice_one"}));
  EXPECT_EQ(added.status().code(), Expected());
  EXPECT_EQ(Look(), before);
  EXPECT_EQ(book_.Get("PPO-10").status().code(), absl::StatusCode::kNotFound);
  auto listed = book_.List(true, 0, "");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->cases.empty());
}

TEST_P(CaseBookLogBeforeEffectTest, AmendIsNotAppliedWithoutItsEntry) {
  MustAdd(NewCase("PPO-11", {"@alice_one"}));
  const View before = Look();
  BreakTheLog();
  v1::AmendCaseRequest amend;
  amend.set_case_number("PPO-11");
  *amend.add_add_identifiers() = Username("@bob_two");
  *amend.add_remove_identifiers() = Username("@alice_one");
  amend.set_contact_point("changed");
  EXPECT_EQ(book_.Amend(kOffice, amend).status().code(), Expected());
  EXPECT_EQ(Look(), before);
}

TEST_P(CaseBookLogBeforeEffectTest, CloseIsNotAppliedWithoutItsEntry) {
  MustAdd(NewCase("PPO-12", {"@alice_one"}));
  const View before = Look();
  BreakTheLog();
  EXPECT_EQ(book_.Close(kOffice, "PPO-12").status().code(), Expected());
  EXPECT_EQ(Look(), before);
  EXPECT_EQ(OwnTags(), std::vector<Tag>{TagOf("@alice_one")});
}

INSTANTIATE_TEST_SUITE_P(LogFailures, CaseBookLogBeforeEffectTest,
                         ::testing::Values(absl::StatusCode::kUnavailable,
                                           absl::StatusCode::kResourceExhausted,
                                           absl::StatusCode::kDataLoss),
                         [](const auto& info) {
                           return absl::StatusCodeToString(info.param);
                         });

TEST_F(CaseBookTest, AFailedCommitAfterTheEntryIsVoidedInTheLog) {
  storage_.FailNextCommit(absl::UnavailableError("disk I/O error"));
  auto added = book_.Add(kOffice, NewCase("PPO-13", {"@alice_one"}));
  EXPECT_EQ(added.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StoredCases(), 0u);
  EXPECT_TRUE(OwnTags().empty());
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind(), "add_case");
  EXPECT_EQ(entries[0].outcome().status_code(), 0);
  EXPECT_EQ(entries[1].rpc(), "Office.AddCase");
  EXPECT_EQ(entries[1].kind(), "not_applied");
  EXPECT_EQ(entries[1].office(), kOffice);
  EXPECT_EQ(entries[1].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kUnavailable));
}

// PostgreSQL's lost COMMIT that could not be resolved (pg_connection.h):
// the case may be stored, so no entry may say it was not.
TEST_F(CaseBookTest, ACommitOfUnknownOutcomeIsNotVoided) {
  storage_.FailNextCommit(absl::UnknownError("COMMIT's answer was lost"));
  auto added = book_.Add(kOffice, NewCase("PPO-15", {"@alice_one"}));
  EXPECT_EQ(added.status().code(), absl::StatusCode::kUnknown);
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind(), "add_case");
  EXPECT_EQ(entries[0].outcome().status_code(), 0);
}

TEST_F(CaseBookTest, ARefusalIsLoggedOnceAndAnOkOnce) {
  MustAdd(NewCase("PPO-14", {"@alice_one"}));
  (void)book_.Add(kOffice, NewCase("PPO-14", {"@alice_one"}));
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].outcome().status_code(), 0);
  EXPECT_EQ(entries[1].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kAlreadyExists));
}

// Hostile office input (issue 9): every free-text field and every list of a
// case is bounded; a refusal names the field, quotes no huge or control
// text back, and stores nothing.
TEST_F(CaseBookTest, AddRefusesOversizedAndMultiLineFields) {
  struct Bad {
    std::string what;
    std::function<void(v1::Case&)> edit;
    std::string message;
  } bads[] = {
      {"a megabyte contact point",
       [](v1::Case& c) { c.set_contact_point(std::string(1 << 20, 'x')); },
       "contact_point: at most 512 bytes (got 1048576)"},
      {"a contact point with a newline",
       [](v1::Case& c) { c.set_contact_point("+389 2 000\nALERT-x"); },
       "contact_point: one line of UTF-8 text, without control characters "
       "(at byte 10)"},
      {"a contact point with a carriage return",
       [](v1::Case& c) { c.set_contact_point("a\rb"); },
       "contact_point: one line of UTF-8 text, without control characters "
       "(at byte 1)"},
      {"a contact point that is not UTF-8",
       [](v1::Case& c) { c.set_contact_point("caf\xe9"); },
       "contact_point: one line of UTF-8 text, without control characters "
       "(at byte 3)"},
      {"a contact point with U+2028",
       [](v1::Case& c) { c.set_contact_point("a\xe2\x80\xa8z"); },
       "contact_point: one line of UTF-8 text, without control characters "
       "(at byte 1)"},
      {"a blank contact point", [](v1::Case& c) { c.set_contact_point("   "); },
       "contact_point: give the office's 24/7 contact point"},
      {"1025 identifiers",
       [](v1::Case& c) {
         for (int i = 0; i < 1024; ++i) {
           *c.add_identifiers() = Username("@user_" + std::to_string(i));
         }
       },
       "identifiers: at most 1024 per case"},
      {"33 offences",
       [](v1::Case& c) {
         for (int i = 0; i < 32; ++i) {
           c.add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
         }
       },
       "offences: at most 32 per case"},
      {"a megabyte case number",
       [](v1::Case& c) { c.set_case_number(std::string(1 << 20, 'A')); },
       "case_number: use 1-64 letters, digits and / . _ - (got 1048576 "
       "bytes)"},
      {"a megabyte month",
       [](v1::Case& c) { c.set_opened_month(std::string(1 << 20, '1')); },
       "opened_month: use YYYY-MM (got 1048576 bytes)"},
  };
  for (const Bad& bad : bads) {
    v1::Case c = NewCase("PPO-90", {"@alice_one"});
    bad.edit(c);
    absl::Status s = book_.Add(kOffice, c).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad.what;
    EXPECT_EQ(s.message(), bad.message) << bad.what;
  }
  EXPECT_EQ(StoredCases(), 0u);
  EXPECT_TRUE(OwnTags().empty());
  // The longest contact point and the most identifiers and offences pass.
  v1::Case most = NewCase("PPO-91", {});
  most.set_contact_point(std::string(510, 'x') + "ш");  // 512 bytes
  for (int i = 0; i < 1024; ++i) {
    *most.add_identifiers() = Username("@user_" + std::to_string(i));
  }
  for (int i = 1; i < 32; ++i) {
    most.add_offences()->set_code(v1::OFFENCE_CODE_CYBER_STALKING);
  }
  MustAdd(most);
  EXPECT_EQ(StoredCases(), 1u);
}

TEST_F(CaseBookTest, AmendAndCloseRefuseOversizedFields) {
  v1::Case before = MustAdd(NewCase("PPO-92", {"@alice_one"}));
  const uint64_t version = OwnVersion();
  v1::AmendCaseRequest r;
  r.set_case_number("PPO-92");
  r.set_contact_point(std::string(513, 'x'));
  absl::Status s = book_.Amend(kOffice, r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "contact_point: at most 512 bytes (got 513)");
  r.set_contact_point("line\none");
  EXPECT_EQ(book_.Amend(kOffice, r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r.clear_contact_point();
  for (int i = 0; i < 1025; ++i) {
    *r.add_remove_identifiers() = Username("@user_" + std::to_string(i));
  }
  s = book_.Amend(kOffice, r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "remove_identifiers: at most 1024 per call");
  r.clear_remove_identifiers();
  // 1024 more would make 1025 in the case.
  for (int i = 0; i < 1024; ++i) {
    *r.add_add_identifiers() = Username("@user_" + std::to_string(i));
  }
  s = book_.Amend(kOffice, r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "add_identifiers: a case holds at most 1024 identifiers");
  r.clear_add_identifiers();
  r.set_case_number(std::string(100000, 'A'));
  s = book_.Amend(kOffice, r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(s.message().size(), 200u) << "echoes the whole number back";
  s = book_.Close(kOffice, "bad\nnumber").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "case_number: use 1-64 letters, digits and / . _ - (got 10 "
            "bytes)");
  auto after = book_.Get("PPO-92");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(OwnVersion(), version);
}

}  // namespace
}  // namespace cbx::node
