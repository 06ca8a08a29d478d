// node.db on a failing disk (spec/storage-faults.md): through the FaultVfs
// (node/storage/testing/fault_vfs.h), a full disk and an I/O error on the
// WAL's writes and fsyncs. A failed write changes nothing and returns the
// documented code for as long as the fault lasts; the next call runs on a
// fresh connection; the fault is reported once to IoHealth and its end
// too; space returning needs no restart.
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "node/storage/io_health.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage_test_util.h"
#include "node/storage/testing/fault_vfs.h"

namespace cbx::node {
namespace {

using testing::FaultVfs;
using testing::Ident;
using testing::MakeCase;
using testing::TempDir;
using testing::VfsError;
using testing::VfsOp;

struct DiskFault {
  std::string name;
  VfsOp op;
  int err;                // ENOSPC or EIO
  absl::StatusCode want;  // what a write is refused with
  std::string said;       // what the message says
};

VfsError ErrorFor(const DiskFault& f) {
  return f.err == ENOSPC ? FaultVfs::Enospc(f.op) : FaultVfs::Eio(f.op);
}

// The four faults of the brief: ENOSPC and EIO, on write and on fsync.
// SQLite reports a failed fsync as SQLITE_IOERR_FSYNC whatever the errno,
// so a full disk seen at fsync is UNAVAILABLE, with the errno's text.
std::vector<DiskFault> Faults() {
  return {
      {"WriteEnospc", VfsOp::kWrite, ENOSPC,
       absl::StatusCode::kResourceExhausted, "database or disk is full"},
      {"WriteEio", VfsOp::kWrite, EIO, absl::StatusCode::kUnavailable,
       "Input/output error"},
      {"FsyncEnospc", VfsOp::kSync, ENOSPC, absl::StatusCode::kUnavailable,
       "No space left on device"},
      {"FsyncEio", VfsOp::kSync, EIO, absl::StatusCode::kUnavailable,
       "Input/output error"},
  };
}

class NodeDbFaultTest : public ::testing::TestWithParam<DiskFault> {
 protected:
  std::unique_ptr<SqliteStorage> Open() {
    SqliteStorage::Options options;
    options.vfs = vfs_.name();
    auto storage = SqliteStorage::Open(path_, options);
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  FaultVfs vfs_{"cbx-fault-node-db"};
  TempDir dir_;
  std::string path_ = dir_.File("node.db");
};

TEST_P(NodeDbFaultTest, RefusedWhileTheFaultLastsAndRecoversWithoutRestart) {
  const DiskFault& fault = GetParam();
  struct Event {
    std::string file;
    bool failing;
  };
  std::vector<Event> events;
  IoHealth::Listener previous = IoHealth::Get().SetListener(
      [&](const std::string& file, bool failing, const std::string&) {
        events.push_back({file, failing});
      });
  {
    std::unique_ptr<SqliteStorage> storage = Open();
    ASSERT_NE(storage, nullptr);
    ASSERT_OK(storage->AddCase(MakeCase("MK-1", true, {Ident("a", 1)})));
    const int64_t opens = vfs_.Opens();

    vfs_.FailAlways(fault.op, "node.db-wal", ErrorFor(fault));
    for (int i = 0; i < 3; ++i) {  // refused for as long as it lasts
      absl::Status refused =
          storage->AddCase(MakeCase("MK-2", true, {Ident("b", 2)}));
      EXPECT_EQ(refused.code(), fault.want) << refused;
      EXPECT_TRUE(absl::StrContains(refused.message(), fault.said)) << refused;
    }
    EXPECT_GE(vfs_.Injected(fault.op), 3);
    EXPECT_EQ(CodeOf(storage->GetCase("MK-2")), absl::StatusCode::kNotFound);
    EXPECT_TRUE(IoHealth::Get().IsFailing(path_));
    const std::string alert = IoHealth::Get().Alert();
    EXPECT_TRUE(absl::StrContains(alert, "storage failing: " + path_)) << alert;
    EXPECT_TRUE(absl::StrContains(alert, fault.said)) << alert;

    vfs_.Heal();
    ASSERT_OK(storage->AddCase(MakeCase("MK-2", true, {Ident("b", 2)})));
    // After the fault the connection was replaced, not trusted.
    EXPECT_GT(vfs_.Opens(), opens);
    EXPECT_FALSE(IoHealth::Get().IsFailing(path_));
    EXPECT_EQ(IoHealth::Get().Alert(), "");
  }
  IoHealth::Get().SetListener(previous);
  // One alert for the fault period, one recovery.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].file, path_);
  EXPECT_TRUE(events[0].failing);
  EXPECT_FALSE(events[1].failing);

  // What the file holds is exactly what was acknowledged.
  std::unique_ptr<SqliteStorage> reopened = Open();
  ASSERT_NE(reopened, nullptr);
  ASSERT_OK_AND_ASSIGN(auto all, reopened->ListCases(true));
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].record.case_number(), "MK-1");
  EXPECT_EQ(all.items[1].record.case_number(), "MK-2");
}

// A fault on the WAL's write or fsync in the middle of a
// ReadWriteTransaction: the body's writes are all undone, the commit
// failure handler runs, and the next transaction works once healed.
TEST_P(NodeDbFaultTest, AFailedCommitOfATransactionChangesNothing) {
  const DiskFault& fault = GetParam();
  std::unique_ptr<SqliteStorage> storage = Open();
  ASSERT_NE(storage, nullptr);
  vfs_.FailNth(fault.op, "node.db-wal", 1, ErrorFor(fault));
  bool handler_ran = false;
  absl::Status status = storage->ReadWriteTransaction(
      [&](StorageTransaction& txn) -> absl::Status {
        return txn.AddCase(MakeCase("MK-9", true, {Ident("z", 9)}));
      },
      [&](const absl::Status& failure) {
        handler_ran = true;
        EXPECT_EQ(failure.code(), fault.want) << failure;
      });
  EXPECT_EQ(status.code(), fault.want) << status;
  EXPECT_TRUE(handler_ran);
  EXPECT_EQ(CodeOf(storage->GetCase("MK-9")), absl::StatusCode::kNotFound);
  ASSERT_OK(storage->AddCase(MakeCase("MK-9", true, {Ident("z", 9)})));
  EXPECT_FALSE(IoHealth::Get().IsFailing(path_));
}

INSTANTIATE_TEST_SUITE_P(Faults, NodeDbFaultTest, ::testing::ValuesIn(Faults()),
                         [](const ::testing::TestParamInfo<DiskFault>& info) {
                           return info.param.name;
                         });

TEST(IoHealthTest, OneAlertPerFaultPeriodPerFile) {
  IoHealth health;
  std::vector<std::string> lines;
  health.SetListener(
      [&](const std::string& file, bool failing, const std::string& message) {
        lines.push_back((failing ? "failing " : "recovered ") + file + " " +
                        message);
      });
  health.Succeeded("a.db");  // never failed: nothing to say
  health.Failed("a.db", absl::UnavailableError("disk I/O error"));
  health.Failed("a.db", absl::UnavailableError("disk I/O error again"));
  health.Failed("b.head", absl::ResourceExhaustedError("full"));
  EXPECT_EQ(health.Alert(),
            "storage failing: a.db: disk I/O error again; b.head: full");
  health.Succeeded("a.db");
  health.Succeeded("a.db");
  EXPECT_EQ(health.Alert(), "storage failing: b.head: full");
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "failing a.db disk I/O error",
                       "failing b.head full",
                       "recovered a.db disk I/O error again",
                   }));
}

}  // namespace
}  // namespace cbx::node
