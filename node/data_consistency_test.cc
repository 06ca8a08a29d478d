// What node.db records about its audit log and member, and the start-up
// checks on them (node/data_consistency.h): a node.db restored without its
// log, beside an empty, shorter or different log, or of another member.
#include "node/data_consistency.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/directory/testing/test_federation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signer.h"
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
namespace fed = directory::testing;

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
    absl::Status opened =
        CheckOpenedAuditLog(*expected, **log, node_db, audit_db_);
    if (!opened.ok()) return opened;
    return CheckLogStart(*expected, **log, audit_db_);
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

// Disaster recovery (spec/audit-log.md §12): a new log generation.
class AuditRecoveryTest : public DataConsistencyTest {
 protected:
  // MK's checkpoint of `size` with `root`, signed by MK/node/1 and
  // cosigned by `witnesses`.
  static std::string Note(uint64_t size, const Bytes& root,
                          std::vector<std::string> witnesses = {"RS", "AL"}) {
    note::Checkpoint cp{"cbx/MK/audit", size, root, {}};
    note::Note n;
    n.text = *note::FormatCheckpoint(cp);
    n.signatures.push_back(
        *note::NoteSigner::Create(cp.origin, fed::TestKey("MK/node/1"))
             ->Sign(n.text));
    for (const std::string& w : witnesses) {
      n.signatures.push_back(
          *note::Cosigner::Create(logcheck::WitnessName(w),
                                  fed::TestKey(w + "/node/1"))
               ->Cosign(n.text, fed::kNowMs / 1000));
    }
    return *note::FormatNote(n);
  }
  // The genesis, or version 2 naming MK's generation 2 after the
  // checkpoint `note` (size, root).
  static std::shared_ptr<const directory::Directory> Genesis() {
    return *directory::Directory::FromGenesis(fed::SignedGenesis());
  }
  static std::shared_ptr<const directory::Directory> Announcing(
      uint64_t size, const Bytes& root, const std::string& note) {
    v1::Directory d = fed::GenesisDirectory();
    d.set_version(2);
    for (v1::Member& m : *d.mutable_members()) {
      if (m.code() != "MK") continue;
      v1::AuditLogGeneration* g = m.mutable_audit_log();
      g->set_generation(2);
      g->set_predecessor_origin("cbx/MK/audit");
      g->set_predecessor_size(size);
      g->set_predecessor_root_hash(root);
      g->set_predecessor_checkpoint(note);
    }
    auto v2 = Genesis()->Adopt(
        fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}}));
    EXPECT_TRUE(v2.ok()) << v2.status();
    return *v2;
  }
  absl::StatusOr<std::string> Recover(const directory::Directory& dir) {
    return RecoverAuditLog(storage_, dir, "MK", audit_db_, &clock_);
  }
  // A log of 10 entries whose checkpoint 10 node.db recorded and a witness
  // cosigned; its root.
  Bytes Recorded() {
    auto log = Log(10);
    Bytes root = log->Root();
    EXPECT_TRUE(RecordCheckpoint(storage_, 10, root).ok());
    EXPECT_TRUE(storage_.PutSetting(kWitnessedSizeSetting, "10").ok());
    return root;
  }

  FakeClock clock_{fed::kNowMs};
};

TEST_F(AuditRecoveryTest, ADirectoryThatDoesNotAnnounceItIsRefused) {
  Recorded();
  auto refused = Recover(*Genesis());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(
                "must name, for MK, audit log generation 2 with "
                "predecessor_origin \"cbx/MK/audit\""),
            std::string::npos)
      << refused.status();
  EXPECT_TRUE(CheckAll().ok());  // nothing changed
}

TEST_F(AuditRecoveryTest, TheAnnouncedGenerationStartsANewLog) {
  const Bytes root = Recorded();
  auto dir = Announcing(10, root, Note(10, root));
  // Without the flag: refused, pointing at the procedure.
  auto expected = ExpectedAuditLog(storage_);
  ASSERT_TRUE(expected.ok());
  absl::Status start = CheckGeneration(*expected, *dir, "MK", "node.db");
  EXPECT_EQ(start.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(start.message().find("--recover-audit-log"), std::string::npos);
  EXPECT_NE(start.message().find("docs/operations.md"), std::string::npos);

  // The disk is lost; recovery starts generation 2.
  for (const char* suffix : {"", "-wal", "-shm", ".head"}) {
    std::filesystem::remove(audit_db_ + suffix);
  }
  auto done = Recover(*dir);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_NE(done->find("generation 2 (cbx/MK/audit/2) starts from empty"),
            std::string::npos)
      << *done;
  expected = ExpectedAuditLog(storage_);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(expected->generation, 2u);
  EXPECT_EQ(expected->checkpoint_size, 0u);
  EXPECT_EQ(expected->min_size, 1u);
  EXPECT_TRUE(CheckGeneration(*expected, *dir, "MK", "node.db").ok());
  {
    auto log = audit::AuditLog::Open(audit_db_, {});
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_EQ((*log)->Size(), 1u);
    EXPECT_TRUE(CheckLogStart(*expected, **log, audit_db_).ok());
    v1::AuditEntry first;
    ASSERT_TRUE(first.ParseFromString(*(*log)->LeafData(0)));
    EXPECT_EQ(first.kind(), "log_predecessor");
    EXPECT_EQ(first.log_predecessor().generation(), 2u);
    EXPECT_EQ(first.log_predecessor().predecessor_size(), 10u);
    EXPECT_EQ(first.log_predecessor().predecessor_root_hash(), root);
    EXPECT_EQ(first.log_predecessor().directory_version(), 2u);
  }
  // Once done, the same directory announces nothing new.
  EXPECT_EQ(Recover(*dir).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AuditRecoveryTest, AnOldCopyIsMovedAsideAndNeverAcceptedAfter) {
  const Bytes root = Recorded();
  auto dir = Announcing(10, root, Note(10, root));
  Log(4).reset();  // only an old copy survives
  ASSERT_EQ(CheckAll().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Recover(*dir).ok());
  bool aside = false;
  for (const auto& f : std::filesystem::directory_iterator(dir_.File(""))) {
    aside = aside || f.path().filename().string().rfind(
                         "audit.db.before-generation-2-", 0) == 0;
  }
  EXPECT_TRUE(aside);
  EXPECT_TRUE(CheckAll().ok());
  // Putting the old copy back is refused.
  Log(4).reset();
  absl::Status back = CheckAll();
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(back.message().find("first entry is not a log_predecessor entry"),
            std::string::npos)
      << back;
}

TEST_F(AuditRecoveryTest, APredecessorBeforeTheWitnessedSizeIsRefused) {
  Recorded();
  auto old = Log(6);  // a log whose checkpoint 6 was witnessed once
  const Bytes root6 = old->Root();
  old.reset();
  auto refused = Recover(*Announcing(6, root6, Note(6, root6)));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(
                "older than the newest witnessed checkpoint node.db records "
                "(10)"),
            std::string::npos)
      << refused.status();
}

TEST_F(AuditRecoveryTest, APredecessorOfAnotherLogIsRefused) {
  Recorded();
  const Bytes other = Log(10, 100)->Root();
  auto refused = Recover(*Announcing(10, other, Note(10, other)));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("it is not this node's log"),
            std::string::npos)
      << refused.status();
}

TEST_F(AuditRecoveryTest, AnUnwitnessedPredecessorIsRefused) {
  const Bytes root = Recorded();
  auto refused = Recover(*Announcing(10, root, Note(10, root, {"RS"})));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("is not witnessed"),
            std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace cbx::node
