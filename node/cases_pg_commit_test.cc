// The lost COMMIT (spec/audit-log.md §2.10) on PostgreSQL: CaseBook over a
// PgStorage in a throwaway cluster (pg_cluster.h), with pg_connection's
// fault injection losing COMMIT's answer after the server committed, or
// cutting the connection before COMMIT so that the server rolls back. A
// change that was made must be reported done with no `not_applied` entry;
// one that was not must be voided by one.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_storage.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using pg::CommitFault;
using pg::testing::PgCluster;
using testing::kOffice;
using testing::NewCase;

class CaseBookPgCommitTest : public testing::DomainFixture {
 protected:
  void SetUp() override {
    if (PgCluster::BinDir().empty()) GTEST_SKIP() << PgCluster::SkipReason();
    absl::StatusOr<pg::testing::PgSchema> schema = pg::testing::FreshSchema();
    ASSERT_TRUE(schema.ok()) << schema.status();
    PgStorage::Options options;
    options.schema = schema->schema;
    auto opened = PgStorage::Open(schema->conninfo, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    pg_ = std::move(*opened);
    book_ = std::make_unique<CaseBook>("MK", pg_.get(), &oprf_key_, &trail_,
                                       &clock_);
  }
  void TearDown() override {
    pg::InjectCommitFaultForTesting(CommitFault::kNone);
  }

  size_t StoredCases() {
    auto all = pg_->ListCases(/*include_closed=*/true);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? all->items.size() : 0;
  }
  std::vector<std::string> Kinds() {
    std::vector<std::string> kinds;
    for (const v1::AuditEntry& e : sink_.entries()) kinds.push_back(e.kind());
    return kinds;
  }

  std::unique_ptr<PgStorage> pg_;
  std::unique_ptr<CaseBook> book_;
};

TEST_F(CaseBookPgCommitTest, ACommitWhoseAnswerWasLostIsReportedDone) {
  pg::InjectCommitFaultForTesting(CommitFault::kLoseAnswer);
  auto added = book_->Add(kOffice, NewCase("PPO-21", {"@alice_one"}));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(StoredCases(), 1u);
  EXPECT_EQ(Kinds(), std::vector<std::string>{"add_case"});
  // The storage works on after the reconnection.
  auto next = book_->Add(kOffice, NewCase("PPO-22", {"@bob_two"}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(StoredCases(), 2u);
}

TEST_F(CaseBookPgCommitTest, ACommitLostBeforeTheServerGotItIsVoided) {
  pg::InjectCommitFaultForTesting(CommitFault::kDropBeforeCommit);
  auto added = book_->Add(kOffice, NewCase("PPO-23", {"@alice_one"}));
  EXPECT_EQ(added.status().code(), absl::StatusCode::kUnavailable)
      << added.status();
  EXPECT_TRUE(absl::StrContains(added.status().message(), "rolled it back"))
      << added.status();
  EXPECT_EQ(StoredCases(), 0u);
  auto tags = pg_->OwnIndexTags();
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_TRUE(tags->empty());
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind(), "add_case");
  EXPECT_EQ(entries[1].kind(), "not_applied");
  EXPECT_EQ(entries[1].rpc(), "Office.AddCase");
  EXPECT_EQ(entries[1].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kUnavailable));
}

TEST_F(CaseBookPgCommitTest, AnAmendWhoseAnswerWasLostIsDoneOnce) {
  ASSERT_TRUE(book_->Add(kOffice, NewCase("PPO-24", {"@alice_one"})).ok());
  pg::InjectCommitFaultForTesting(CommitFault::kLoseAnswer);
  auto closed = book_->Close(kOffice, "PPO-24");
  ASSERT_TRUE(closed.ok()) << closed.status();
  auto got = book_->Get("PPO-24");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"add_case", "close_case"}));
}

}  // namespace
}  // namespace cbx::node
