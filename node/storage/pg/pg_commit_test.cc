// Transaction::Commit when COMMIT's answer is lost (pg_connection.h): the
// outcome is asked of the server by transaction id. Against the test
// binary's throwaway cluster, plus one cluster of its own that is stopped.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node::pg {
namespace {

using testing::PgCluster;

class LostCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_PG_DATABASE_OR_SKIP(conninfo);
    conninfo_ = conninfo;
    auto conn = Connection::Open(conninfo_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
    ASSERT_TRUE(
        conn_->Exec("CREATE TABLE cases (number text PRIMARY KEY)").ok());
  }
  void TearDown() override { InjectCommitFaultForTesting(CommitFault::kNone); }

  // Inserts `number` in a write transaction and commits it.
  absl::Status AddAndCommit(const std::string& number) {
    auto txn = Transaction::Begin(*conn_, Transaction::Mode::kWrite);
    if (!txn.ok()) return txn.status();
    auto inserted =
        conn_->Query("INSERT INTO cases VALUES ($1)", Params().Text(number));
    if (!inserted.ok()) return inserted.status();
    return txn->Commit();
  }
  // Rows, read on a connection of its own.
  int64_t Rows() {
    auto other = Connection::Open(conninfo_);
    EXPECT_TRUE(other.ok()) << other.status();
    if (!other.ok()) return -1;
    auto r = (*other)->Query("SELECT count(*) FROM cases");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  std::string conninfo_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(LostCommitTest, AnAnswerLostAfterTheServerCommittedIsOk) {
  InjectCommitFaultForTesting(CommitFault::kLoseAnswer);
  EXPECT_TRUE(AddAndCommit("PPO-1").ok());
  EXPECT_EQ(Rows(), 1);
  // The fault was used once; the connection was replaced and works.
  EXPECT_TRUE(AddAndCommit("PPO-2").ok());
  EXPECT_EQ(Rows(), 2);
}

TEST_F(LostCommitTest, AConnectionCutBeforeCommitIsRolledBack) {
  InjectCommitFaultForTesting(CommitFault::kDropBeforeCommit);
  absl::Status status = AddAndCommit("PPO-1");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "rolled it back")) << status;
  EXPECT_EQ(Rows(), 0);
}

// No fault injection: the session's backend is terminated by another
// session between the INSERT and the COMMIT, as an administrator (or an
// out-of-memory kill of the backend) would.
TEST_F(LostCommitTest, ATerminatedBackendIsResolvedAsRolledBack) {
  auto pid = conn_->Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status();
  const int64_t backend = pid->Int(0, 0);
  auto txn = Transaction::Begin(*conn_, Transaction::Mode::kWrite);
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_TRUE(
      conn_->Query("INSERT INTO cases VALUES ($1)", Params().Text("PPO-1"))
          .ok());
  auto admin = Connection::Open(conninfo_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_TRUE((*admin)
                  ->Exec(absl::StrCat("SELECT pg_terminate_backend(", backend,
                                      ", 5000)"))
                  .ok());
  absl::Status status = txn->Commit();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "rolled it back")) << status;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(LostCommitTest, ASnapshotTransactionIsUnaffected) {
  InjectCommitFaultForTesting(CommitFault::kLoseAnswer);
  auto txn = Transaction::Begin(*conn_, Transaction::Mode::kSnapshot);
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_TRUE(txn->Commit().ok());
  // The fault is still waiting for a write transaction.
  EXPECT_TRUE(AddAndCommit("PPO-1").ok());
  EXPECT_EQ(Rows(), 1);
}

// The server is gone when COMMIT is sent: nothing can tell whether it
// committed (in a real crash the COMMIT might have reached the WAL).
TEST(LostCommitServerTest, AServerThatIsGoneLeavesTheOutcomeUnknown) {
  if (PgCluster::BinDir().empty()) GTEST_SKIP() << PgCluster::SkipReason();
  auto cluster = PgCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto conn = Connection::Open((*cluster)->Conninfo());
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE((*conn)->Exec("CREATE TABLE cases (number text)").ok());
  auto txn = Transaction::Begin(**conn, Transaction::Mode::kWrite);
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_TRUE(
      (*conn)
          ->Query("INSERT INTO cases VALUES ($1)", Params().Text("PPO-1"))
          .ok());
  ASSERT_TRUE((*cluster)->StopImmediately().ok());
  absl::Status status = txn->Commit();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "outcome is unknown"))
      << status;
}

}  // namespace
}  // namespace cbx::node::pg
