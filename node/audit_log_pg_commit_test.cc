// The audit log's own lost COMMIT on PostgreSQL (spec/audit-log.md §2.6):
// a batch whose COMMIT answer was lost after the server committed is
// acknowledged once, and one the server rolled back fails UNAVAILABLE and
// leaves the log writable (pg_connection's fault injection, a throwaway
// cluster).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/pg_audit_store.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node {
namespace {

using pg::CommitFault;

class AuditLogPgCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_PG_DATABASE_OR_SKIP(conninfo);
    dir_ = (std::filesystem::temp_directory_path() /
            absl::StrCat("cbx_audit_pg_commit_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->random_seed()))
               .string();
    std::filesystem::create_directories(dir_);
    auto backend = audit::PgAuditBackend::Create(conninfo);
    ASSERT_TRUE(backend.ok()) << backend.status();
    audit::AuditLogOptions options;
    options.head_path = dir_ + "/audit.head";
    auto log = audit::AuditLog::Open(*std::move(backend), options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  void TearDown() override {
    pg::InjectCommitFaultForTesting(CommitFault::kNone);
    log_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static v1::AuditEntry Entry() {
    v1::AuditEntry entry;
    entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
    entry.set_rpc("Office.AddCase");
    entry.set_kind("add_case");
    entry.set_office("MK/PPO-Skopje");
    return entry;
  }

  std::string dir_;
  std::unique_ptr<audit::AuditLog> log_;
};

TEST_F(AuditLogPgCommitTest, ABatchWhoseAnswerWasLostIsAcknowledgedOnce) {
  pg::InjectCommitFaultForTesting(CommitFault::kLoseAnswer);
  ASSERT_TRUE(log_->Append(Entry()).ok());
  EXPECT_EQ(log_->Size(), 1u);
  ASSERT_TRUE(log_->Append(Entry()).ok());
  EXPECT_EQ(log_->Size(), 2u);
  EXPECT_TRUE(log_->Verify().ok());
}

TEST_F(AuditLogPgCommitTest, ABatchTheServerRolledBackFailsAndTheLogGoesOn) {
  pg::InjectCommitFaultForTesting(CommitFault::kDropBeforeCommit);
  absl::Status failed = log_->Append(Entry()).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  EXPECT_EQ(log_->Size(), 0u);
  ASSERT_TRUE(log_->Append(Entry()).ok());
  EXPECT_EQ(log_->Size(), 1u);
  EXPECT_TRUE(log_->Verify().ok());
}

}  // namespace
}  // namespace cbx::node
