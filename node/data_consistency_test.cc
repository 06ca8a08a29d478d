// What node.db records about its audit log and member, and the start-up
// checks on them (node/data_consistency.h): a node.db restored without its
// log, beside an empty, shorter or different log, or of another member.
#include "node/data_consistency.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/testing/test_util.h"
#include "node/storage/memory_storage.h"
#include "node/storage/storage_test_util.h"

namespace cbx::node {
namespace {

using testing::Ident;
using testing::MakeCase;
using testing::TempDir;

v1::AuditEntry Entry(int i) { return audit::testing::SampleEntry(i); }

class DataConsistencyTest : public ::testing::Test {
 protected:
  // A log of `n` entries at audit_db_ (made anew: any old one is removed).
  std::unique_ptr<audit::AuditLog> Log(int n, int salt = 0) {
    for (const char* suffix : {"", "-wal", "-shm", ".head"}) {
      std::filesystem::remove(audit_db_ + suffix);
    }
    auto log = audit::AuditLog::Open(audit_db_, {});
    EXPECT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE((*log)->Append(Entry(i + salt)).ok());
    return *std::move(log);
  }

  absl::Status CheckAll(const std::string& node_db = "node.db") {
    absl::StatusOr<AuditExpectation> expected = ExpectedAuditLog(storage_);
    if (!expected.ok()) return expected.status();
    absl::Status before =
        CheckAuditFileBeforeOpen(*expected, node_db, audit_db_);
    if (!before.ok()) return before;
    auto log = audit::AuditLog::Open(audit_db_, {});
    if (!log.ok()) return log.status();
    return CheckOpenedAuditLog(*expected, **log, node_db, audit_db_);
  }

  TempDir dir_;
  std::string audit_db_ = dir_.File("audit.db");
  MemoryStorage storage_;
};

TEST_F(DataConsistencyTest, ANewNodeDbImpliesNoLog) {
  ASSERT_TRUE(ExpectedAuditLog(storage_).ok());
  EXPECT_EQ(ExpectedAuditLog(storage_)->min_size, 0u);
  EXPECT_TRUE(CheckAll().ok());  // a first start: the log is created
}

TEST_F(DataConsistencyTest, ARecordedCheckpointNeedsItsLog) {
  {
    auto log = Log(10);
    ASSERT_TRUE(RecordCheckpoint(storage_, 10, log->Root()).ok());
  }
  EXPECT_TRUE(CheckAll().ok());

  // The log lost: refused before a new one is created, naming both files
  // and the procedure.
  for (const char* suffix : {"", "-wal", "-shm", ".head"}) {
    std::filesystem::remove(audit_db_ + suffix);
  }
  absl::Status missing = CheckAll("/data/node.db");
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.message().find(
                "/data/node.db implies an audit log of at least 10 entries "
                "(it records a checkpoint of size 10), but " +
                audit_db_ + " is missing"),
            std::string::npos)
      << missing;
  EXPECT_NE(missing.message().find("docs/operations.md"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(audit_db_));

  std::ofstream(audit_db_).close();
  EXPECT_NE(CheckAll().message().find(audit_db_ + " is empty"),
            std::string::npos);
  std::filesystem::remove(audit_db_);

  // An older, shorter copy of the log.
  Log(4).reset();
  absl::Status shorter = CheckAll();
  EXPECT_EQ(shorter.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(shorter.message().find("holds only 4 entries"), std::string::npos)
      << shorter;

  // A fresh log grown past the recorded size: another history.
  Log(12, /*salt=*/100).reset();
  absl::Status other = CheckAll();
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.message().find("is another log: its root at size 10"),
            std::string::npos)
      << other;
}

TEST_F(DataConsistencyTest, TheWitnessedSizeCountsToo) {
  ASSERT_TRUE(storage_.PutSetting(kWitnessedSizeSetting, "7").ok());
  Log(6).reset();
  absl::Status status = CheckAll();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("a witnessed checkpoint of size 7"),
            std::string::npos)
      << status;
  Log(7).reset();
  EXPECT_TRUE(CheckAll().ok());
}

TEST_F(DataConsistencyTest, CasesImplyAnEntryBeforeAnyCheckpoint) {
  ASSERT_TRUE(storage_.AddCase(MakeCase("MK-1", true, {Ident("a", 1)})).ok());
  auto expected = ExpectedAuditLog(storage_);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(expected->min_size, 1u);
  EXPECT_EQ(expected->why, "it holds cases");
  EXPECT_EQ(CheckAll().code(), absl::StatusCode::kFailedPrecondition);
  Log(1).reset();
  EXPECT_TRUE(CheckAll().ok());
}

TEST_F(DataConsistencyTest, ANodeDbOfAnotherMemberIsRefused) {
  EXPECT_TRUE(CheckMember(storage_, "MK", "node.db").ok());  // none recorded
  ASSERT_TRUE(RecordMember(storage_, "RS").ok());
  ASSERT_TRUE(RecordMember(storage_, "MK").ok());  // the first one stays
  EXPECT_TRUE(CheckMember(storage_, "RS", "node.db").ok());
  absl::Status other = CheckMember(storage_, "MK", "/data/node.db");
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.message().find("/data/node.db belongs to member RS, not to "
                                 "this node's member MK"),
            std::string::npos)
      << other;
}

}  // namespace
}  // namespace cbx::node
