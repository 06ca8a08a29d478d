// The audit log on a failing disk (spec/storage-faults.md): audit.db
// through the FaultVfs (node/storage/testing/fault_vfs.h) and the head file
// through the FaultEnv (core/util/testing/fault_env.h), each with a full
// disk and an I/O error on write and on fsync (and the head's rename). The
// log acknowledges nothing it did not persist, refuses with the documented
// code while the fault lasts, reports it to IoHealth, and recovers by
// itself when the disk does; tampering stays latched.
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "core/util/clock.h"
#include "core/util/env.h"
#include "core/util/testing/fault_env.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/head_file.h"
#include "node/audit/testing/test_util.h"
#include "node/storage/io_health.h"
#include "node/storage/testing/fault_vfs.h"

namespace cbx::node::audit {
namespace {

using ::cbx::node::testing::FaultVfs;
using ::cbx::node::testing::VfsError;
using ::cbx::node::testing::VfsOp;
using ::cbx::testing::Fault;
using ::cbx::testing::FaultEnv;

constexpr int64_t kStartMs = 1'750'000'000'000;

class AuditDiskFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = tmp_.path() + "/audit.db";
    options_.env = &env_;
    options_.clock = &clock_;
    options_.sqlite_vfs = vfs_.name();
  }

  std::unique_ptr<AuditLog> Open() {
    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        AuditLog::Open(db_path_, options_);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // Appends `n` entries that must be acknowledged, from sequence `next`.
  void MustAppend(AuditLog& log, uint64_t& next, int n) {
    for (int i = 0; i < n; ++i, ++next) {
      absl::StatusOr<uint64_t> seq = log.Append(testing::SampleEntry(next));
      ASSERT_TRUE(seq.ok()) << seq.status();
      EXPECT_EQ(*seq, next);
    }
  }

  // Reopens the log from disk on a healthy VFS: it must hold exactly
  // `acknowledged` entries and verify.
  void ExpectOnDisk(uint64_t acknowledged) {
    AuditLogOptions plain;
    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        AuditLog::Open(db_path_, plain);
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*log)->Size(), acknowledged);
    EXPECT_TRUE((*log)->Verify().ok());
    EXPECT_EQ(ReadHead(db_path_ + ".head").value()->size, acknowledged);
  }

  testing::ScopedTempDir tmp_;
  std::string db_path_;
  FaultVfs vfs_{"cbx-fault-audit-db"};
  FaultEnv env_;
  FakeClock clock_{kStartMs};
  AuditLogOptions options_;
};

struct DbFault {
  std::string name;
  VfsOp op;
  int err;
  absl::StatusCode want;
};

class AuditDbFaultTest : public AuditDiskFaultTest,
                         public ::testing::WithParamInterface<DbFault> {};

// audit.db's WAL fails: each Append is refused with the fault's code while
// it lasts, nothing refused is in the log, and once healed the next Append
// is acknowledged, without reopening the log.
TEST_P(AuditDbFaultTest, RefusedWhileTheFaultLastsThenRecovers) {
  const DbFault& fault = GetParam();
  uint64_t next = 0;
  {
    std::unique_ptr<AuditLog> log = Open();
    ASSERT_NE(log, nullptr);
    MustAppend(*log, next, 3);
    const int64_t opens = vfs_.Opens();
    vfs_.FailAlways(fault.op, "audit.db-wal",
                    fault.err == ENOSPC ? FaultVfs::Enospc(fault.op)
                                        : FaultVfs::Eio(fault.op));
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<uint64_t> refused =
          log->Append(testing::SampleEntry(next));
      EXPECT_EQ(refused.status().code(), fault.want) << refused.status();
      clock_.AdvanceMs(5000);  // a retry may come at any time
    }
    EXPECT_EQ(log->Size(), next);
    EXPECT_TRUE(IoHealth::Get().IsFailing(db_path_));
    vfs_.Heal();
    MustAppend(*log, next, 2);
    // The write connection was replaced after the fault.
    EXPECT_GT(vfs_.Opens(), opens);
    EXPECT_FALSE(IoHealth::Get().IsFailing(db_path_));
    EXPECT_TRUE(log->Health().ok());
    EXPECT_TRUE(log->Verify().ok());
  }
  ExpectOnDisk(next);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, AuditDbFaultTest,
    ::testing::Values(
        DbFault{"WriteEnospc", VfsOp::kWrite, ENOSPC,
                absl::StatusCode::kResourceExhausted},
        DbFault{"WriteEio", VfsOp::kWrite, EIO, absl::StatusCode::kUnavailable},
        DbFault{"FsyncEnospc", VfsOp::kSync, ENOSPC,
                absl::StatusCode::kUnavailable},
        DbFault{"FsyncEio", VfsOp::kSync, EIO, absl::StatusCode::kUnavailable}),
    [](const ::testing::TestParamInfo<DbFault>& info) {
      return info.param.name;
    });

struct HeadFault {
  std::string name;
  FileOp op;
  int err;
  absl::StatusCode want;
};

class AuditHeadDiskFaultTest : public AuditDiskFaultTest,
                               public ::testing::WithParamInterface<HeadFault> {
};

// The head file cannot be replaced: appends stop (latched) with the
// documented code, stay refused while the fault lasts, and start again by
// themselves once the disk works and the retry interval has passed: no
// reopen, no restart, nothing acknowledged lost.
TEST_P(AuditHeadDiskFaultTest, LatchedWhileTheFaultLastsThenRecovers) {
  const HeadFault& fault = GetParam();
  const std::string head_path = db_path_ + ".head";
  uint64_t next = 0;
  {
    std::unique_ptr<AuditLog> log = Open();
    ASSERT_NE(log, nullptr);
    MustAppend(*log, next, 3);
    env_.Inject({.op = fault.op,
                 .err = fault.err,
                 .times = Fault::kForever,
                 .path_contains = "audit.db.head"});
    // Appends go on until the head thread's failure is latched; each one
    // acknowledged is durable.
    absl::Status refused;
    for (int i = 0; i < 100000 && refused.ok(); ++i) {
      absl::StatusOr<uint64_t> seq = log->Append(testing::SampleEntry(next));
      if (seq.ok()) {
        EXPECT_EQ(*seq, next);
        ++next;
      } else {
        refused = seq.status();
      }
    }
    EXPECT_EQ(refused.code(), fault.want) << refused;
    EXPECT_TRUE(
        absl::StrContains(refused.message(), "cannot write the audit head"))
        << refused;
    EXPECT_EQ(log->Health().code(), fault.want);
    EXPECT_TRUE(IoHealth::Get().IsFailing(head_path));

    // Still failing after the retry interval: still refused.
    clock_.AdvanceMs(1000);
    EXPECT_EQ(log->Append(testing::SampleEntry(next)).status().code(),
              fault.want);
    // Healed, but within the interval since that retry: refused still.
    env_.Heal();
    EXPECT_EQ(log->Append(testing::SampleEntry(next)).status().code(),
              fault.want);
    clock_.AdvanceMs(1000);
    MustAppend(*log, next, 2);
    EXPECT_TRUE(log->Health().ok());
    EXPECT_FALSE(IoHealth::Get().IsFailing(head_path));
    EXPECT_EQ(log->Size(), next);
  }
  ExpectOnDisk(next);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, AuditHeadDiskFaultTest,
    ::testing::Values(HeadFault{"WriteEnospc", FileOp::kWrite, ENOSPC,
                                absl::StatusCode::kResourceExhausted},
                      HeadFault{"WriteEio", FileOp::kWrite, EIO,
                                absl::StatusCode::kUnavailable},
                      HeadFault{"FsyncEnospc", FileOp::kSync, ENOSPC,
                                absl::StatusCode::kResourceExhausted},
                      HeadFault{"FsyncEio", FileOp::kSync, EIO,
                                absl::StatusCode::kUnavailable},
                      HeadFault{"RenameEio", FileOp::kRename, EIO,
                                absl::StatusCode::kUnavailable}),
    [](const ::testing::TestParamInfo<HeadFault>& info) {
      return info.param.name;
    });

// Tampering is not a disk fault: DATA_LOSS stays latched whatever Recover
// and the clock do.
TEST_F(AuditDiskFaultTest, DataLossStaysLatched) {
  std::unique_ptr<AuditLog> log = Open();
  ASSERT_NE(log, nullptr);
  uint64_t next = 0;
  MustAppend(*log, next, 3);
  testing::RawSql(db_path_, "DELETE FROM leaves WHERE seq = 1");
  EXPECT_EQ(log->LeafData(1).status().code(), absl::StatusCode::kDataLoss);
  clock_.AdvanceMs(60'000);
  EXPECT_EQ(log->Recover().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(log->Append(testing::SampleEntry(next)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(log->Health().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cbx::node::audit
