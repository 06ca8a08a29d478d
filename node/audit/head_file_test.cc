#include "node/audit/head_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "core/merkle/hash.h"
#include "core/util/env.h"
#include "core/util/testing/fault_env.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

using ::cbx::testing::Fault;
using ::cbx::testing::FaultEnv;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(AuditHeadFileTest, RoundTrips) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  EXPECT_EQ(ReadHead(path).value(), std::nullopt);
  const Head head{12345, merkle::LeafHash("x")};
  ASSERT_TRUE(WriteHead(path, head).ok());
  EXPECT_EQ(ReadHead(path).value(), head);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const Head next{12346, merkle::LeafHash("y")};
  ASSERT_TRUE(WriteHead(path, next).ok());
  EXPECT_EQ(ReadHead(path).value(), next);
}

TEST(AuditHeadFileTest, OverwritesAStaleTemporaryFile) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  WriteText(path + ".tmp", "half a head");
  const Head head{0, merkle::EmptyRoot()};
  ASSERT_TRUE(WriteHead(path, head).ok());
  EXPECT_EQ(ReadHead(path).value(), head);
}

TEST(AuditHeadFileTest, MalformedFilesAreDataLoss) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  const std::string root = Base64Encode(merkle::EmptyRoot());
  for (const std::string& text : {
           std::string(""),
           "cbx-audit-head/v1\n0\n" + root,  // no final newline
           "cbx-audit-head/v2\n0\n" + root + "\n",
           "cbx-audit-head/v1\n00\n" + root + "\n",
           "cbx-audit-head/v1\n-1\n" + root + "\n",
           "cbx-audit-head/v1\n18446744073709551616\n" + root + "\n",
           "cbx-audit-head/v1\n1\n" + Base64Encode("short") + "\n",
           "cbx-audit-head/v1\n1\n" + root + "\n\n",
           std::string(1000, 'x'),
       }) {
    WriteText(path, text);
    EXPECT_EQ(ReadHead(path).status().code(), absl::StatusCode::kDataLoss)
        << text;
  }
}

// A failed step of the head write is the Env's error, and the old head
// stays: the write is atomic.
TEST(AuditHeadFileTest, AFailedWriteKeepsTheOldHead) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  FaultEnv env;
  const Head old{7, merkle::LeafHash("old")};
  ASSERT_TRUE(WriteHead(path, old, &env).ok());
  const Head next{8, merkle::LeafHash("new")};
  const struct {
    FileOp op;
    int err;
    absl::StatusCode code;
  } kSteps[] = {
      {FileOp::kWrite, ENOSPC, absl::StatusCode::kResourceExhausted},
      {FileOp::kSync, EIO, absl::StatusCode::kInternal},
      {FileOp::kRename, EIO, absl::StatusCode::kInternal},
  };
  for (const auto& step : kSteps) {
    env.FailNth(step.op, 1, step.err);
    EXPECT_EQ(WriteHead(path, next, &env).code(), step.code)
        << FileOpName(step.op);
    EXPECT_EQ(ReadHead(path).value(), old) << FileOpName(step.op);
  }
  // One file in the folder: no temporary left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(tmp.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);
  // The head file's folder is not synced (see head_file.h).
  EXPECT_EQ(env.Count(FileOp::kSyncDir), 0);
}

// A disk that fails a read is not a tampered log: not DATA_LOSS.
TEST(AuditHeadFileTest, AFailedReadIsNotDataLoss) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  ASSERT_TRUE(WriteHead(path, Head{1, merkle::LeafHash("x")}).ok());
  FaultEnv env;
  env.FailNth(FileOp::kRead, 1, EIO);
  EXPECT_EQ(ReadHead(path, &env).status().code(), absl::StatusCode::kInternal);
}

class AuditHeadFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = tmp_.path() + "/audit.db";
    options_.env = &env_;
  }

  testing::ScopedTempDir tmp_;
  std::string db_path_;
  FaultEnv env_;
  AuditLogOptions options_;
};

// Open writes the head of a new log; if that fails, Open fails with the
// Env's code and a later Open on a healthy disk succeeds.
TEST_F(AuditHeadFaultTest, OpenFailsWhenTheHeadCannotBeWritten) {
  env_.FailNth(FileOp::kRename, 1, ENOSPC);
  EXPECT_EQ(AuditLog::Open(db_path_, options_).status().code(),
            absl::StatusCode::kResourceExhausted);
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      AuditLog::Open(db_path_, options_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->Size(), 0u);
}

// The head thread's failed write stops the log: Appends after it fail with
// UNAVAILABLE, every acknowledged entry stays, and the reopened log (on a
// healed disk) holds exactly them with its head brought up to date.
TEST_F(AuditHeadFaultTest, AFailedHeadWriteStopsAppendsAndLosesNothing) {
  uint64_t acknowledged = 0;
  absl::Status refused;
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        AuditLog::Open(db_path_, options_);
    ASSERT_TRUE(log.ok()) << log.status();
    for (; acknowledged < 3; ++acknowledged) {
      ASSERT_TRUE((*log)->Append(testing::SampleEntry(acknowledged)).ok());
    }
    env_.Inject({.op = FileOp::kWrite,
                 .err = EIO,
                 .times = Fault::kForever,
                 .path_contains = "audit.db.head"});
    // Appends go on until the head thread's failure is latched; each one
    // acknowledged is durable.
    for (int i = 0; i < 100000 && refused.ok(); ++i) {
      absl::StatusOr<uint64_t> seq =
          (*log)->Append(testing::SampleEntry(acknowledged));
      if (seq.ok()) {
        EXPECT_EQ(*seq, acknowledged);
        ++acknowledged;
      } else {
        refused = seq.status();
      }
    }
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
    EXPECT_NE(refused.message().find("cannot write the audit head file"),
              std::string::npos)
        << refused;
    EXPECT_EQ((*log)->Health().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ((*log)->Size(), acknowledged);
    EXPECT_GE(env_.Injected(FileOp::kWrite), 1);
  }
  env_.Heal();
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      AuditLog::Open(db_path_, options_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->Size(), acknowledged);
  EXPECT_TRUE((*log)->Verify().ok());
  EXPECT_EQ(ReadHead(db_path_ + ".head").value()->size, acknowledged);
  EXPECT_TRUE((*log)->Append(testing::SampleEntry(acknowledged)).ok());
}

}  // namespace
}  // namespace cbx::node::audit
