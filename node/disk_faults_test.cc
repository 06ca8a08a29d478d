// Office case changes on a failing disk (spec/storage-faults.md): the case
// book over a real SqliteStorage (node.db) and a real AuditLog (audit.db),
// both on the FaultVfs (node/storage/testing/fault_vfs.h), in a temporary
// folder. While node.db or audit.db cannot be written, AddCase, AmendCase
// and CloseCase are refused with the documented code and change nothing;
// when the disk works again they succeed, without a restart.
#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "core/directory/testing/test_federation.h"
#include "core/util/clock.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit_trail.h"
#include "node/cases.h"
#include "node/storage/io_health.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/testing/fault_vfs.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using testing::FaultVfs;
using testing::kOffice;
using testing::NewCase;
using testing::Username;
using testing::VfsError;
using testing::VfsOp;

std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cbx-disk-faults-XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

struct NodeFault {
  std::string name;
  std::string file;  // the suffix the fault hits
  VfsOp op;
  int err;
  absl::StatusCode want;
};

class NodeDiskFaultTest : public ::testing::TestWithParam<NodeFault> {
 protected:
  void SetUp() override {
    SqliteStorage::Options storage_options;
    storage_options.vfs = vfs_.name();
    auto storage = SqliteStorage::Open(dir_ + "/node.db", storage_options);
    ASSERT_TRUE(storage.ok()) << storage.status();
    storage_ = *std::move(storage);
    audit::AuditLogOptions log_options;
    log_options.clock = &clock_;
    log_options.sqlite_vfs = vfs_.name();
    auto log = audit::AuditLog::Open(dir_ + "/audit.db", log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    trail_ = std::make_unique<AuditTrail>(log_.get());
    book_ = std::make_unique<CaseBook>("MK", storage_.get(), &oprf_key_,
                                       trail_.get(), &clock_);
  }
  void TearDown() override {
    book_.reset();
    trail_.reset();
    log_.reset();
    storage_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Fail() {
    const NodeFault& f = GetParam();
    vfs_.FailAlways(
        f.op, f.file,
        f.err == ENOSPC ? FaultVfs::Enospc(f.op) : FaultVfs::Eio(f.op));
  }

  std::string dir_ = MakeTempDir();
  FaultVfs vfs_{"cbx-fault-node"};
  FakeClock clock_{directory::testing::kNowMs};
  crypto::OprfServerKey oprf_key_ = *crypto::OprfServerKey::FromPrivateBytes(
      directory::testing::TestOprfScalar("MK", 1));
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<AuditTrail> trail_;
  std::unique_ptr<CaseBook> book_;
};

TEST_P(NodeDiskFaultTest, CaseChangesAreRefusedWhileTheFaultLasts) {
  const NodeFault& fault = GetParam();
  ASSERT_TRUE(book_->Add(kOffice, NewCase("PPO-1", {"@alice_one"})).ok());
  const uint64_t entries = log_->Size();

  Fail();
  EXPECT_EQ(book_->Add(kOffice, NewCase("PPO-2", {"@bob_two"})).status().code(),
            fault.want);
  v1::AmendCaseRequest amend;
  amend.set_case_number("PPO-1");
  *amend.add_add_identifiers() = Username("@carol_three");
  EXPECT_EQ(book_->Amend(kOffice, amend).status().code(), fault.want);
  EXPECT_EQ(book_->Close(kOffice, "PPO-1").status().code(), fault.want);
  // Nothing of it happened.
  EXPECT_EQ(book_->Get("PPO-2").status().code(), absl::StatusCode::kNotFound);
  auto kept = book_->Get("PPO-1");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->identifiers_size(), 1);
  EXPECT_EQ(kept->status(), v1::CASE_STATUS_OPEN);
  const std::string failing =
      dir_ + (fault.file.starts_with("audit") ? "/audit.db" : "/node.db");
  EXPECT_TRUE(IoHealth::Get().IsFailing(failing)) << IoHealth::Get().Alert();

  // Space returns: no restart, and every change goes through.
  vfs_.Heal();
  clock_.AdvanceMs(1000);
  EXPECT_TRUE(book_->Add(kOffice, NewCase("PPO-2", {"@bob_two"})).ok());
  EXPECT_TRUE(book_->Amend(kOffice, amend).ok());
  EXPECT_TRUE(book_->Close(kOffice, "PPO-1").ok());
  EXPECT_GT(log_->Size(), entries);
  EXPECT_TRUE(log_->Verify().ok());
  EXPECT_EQ(IoHealth::Get().Alert(), "");
}

INSTANTIATE_TEST_SUITE_P(
    Faults, NodeDiskFaultTest,
    ::testing::Values(
        NodeFault{"NodeDbWriteEnospc", "node.db-wal", VfsOp::kWrite, ENOSPC,
                  absl::StatusCode::kResourceExhausted},
        NodeFault{"NodeDbWriteEio", "node.db-wal", VfsOp::kWrite, EIO,
                  absl::StatusCode::kUnavailable},
        NodeFault{"NodeDbFsyncEnospc", "node.db-wal", VfsOp::kSync, ENOSPC,
                  absl::StatusCode::kUnavailable},
        NodeFault{"NodeDbFsyncEio", "node.db-wal", VfsOp::kSync, EIO,
                  absl::StatusCode::kUnavailable},
        // The log's RESOURCE_EXHAUSTED reaches the office as UNAVAILABLE
        // (AuditFailure, spec/errors.md §7).
        NodeFault{"AuditDbWriteEnospc", "audit.db-wal", VfsOp::kWrite, ENOSPC,
                  absl::StatusCode::kUnavailable},
        NodeFault{"AuditDbWriteEio", "audit.db-wal", VfsOp::kWrite, EIO,
                  absl::StatusCode::kUnavailable},
        NodeFault{"AuditDbFsyncEnospc", "audit.db-wal", VfsOp::kSync, ENOSPC,
                  absl::StatusCode::kUnavailable},
        NodeFault{"AuditDbFsyncEio", "audit.db-wal", VfsOp::kSync, EIO,
                  absl::StatusCode::kUnavailable}),
    [](const ::testing::TestParamInfo<NodeFault>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace cbx::node
