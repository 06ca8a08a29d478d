#include "core/util/env.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/util/testing/fault_env.h"
#include "gtest/gtest.h"

namespace cbx {
namespace {

using ::cbx::testing::Fault;
using ::cbx::testing::FaultEnv;

// A fresh folder, removed with its content at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::path(::testing::TempDir()) / "cbx_env_XXXXXX")
            .string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

  // The names in the folder, sorted.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

TEST(EnvTest, WriteFileAtomicRoundTripsAndReplaces) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.path() + "/file";
  ASSERT_TRUE(env->WriteFileAtomic(path, "first").ok());
  EXPECT_EQ(env->ReadFile(path).value(), "first");
  ASSERT_TRUE(env->WriteFileAtomic(path, std::string(200000, 'x')).ok());
  EXPECT_EQ(env->ReadFile(path).value(), std::string(200000, 'x'));
  ASSERT_TRUE(env->WriteFileAtomic(path, "").ok());
  EXPECT_EQ(env->ReadFile(path).value(), "");
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"file"});
}

TEST(EnvTest, ModesAreExactWhateverTheUmask) {
  TempDir dir;
  Env* env = Env::Default();
  const mode_t old_umask = ::umask(077);
  ASSERT_TRUE(
      env->WriteFileAtomic(dir.path() + "/a", "a", {.mode = 0644}).ok());
  ASSERT_TRUE(env->WriteNewFile(dir.path() + "/k", "k", {.mode = 0600}).ok());
  ::umask(old_umask);
  absl::StatusOr<FileInfo> a = env->Stat(dir.path() + "/a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->mode, 0644u);
  EXPECT_EQ(a->size, 1u);
  EXPECT_FALSE(a->is_directory);
  EXPECT_EQ(env->Stat(dir.path() + "/k").value().mode, 0600u);
  EXPECT_TRUE(env->Stat(dir.path()).value().is_directory);
  EXPECT_EQ(env->Stat(dir.path() + "/none").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(EnvTest, ReadFileErrors) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.path() + "/f";
  ASSERT_TRUE(env->WriteFileAtomic(path, "0123456789").ok());
  EXPECT_EQ(env->ReadFile(path, 10).value(), "0123456789");
  absl::StatusOr<std::string> big = env->ReadFile(path, 9);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(big.status().message().find("larger than 9 bytes"),
            std::string::npos);
  absl::StatusOr<std::string> missing = env->ReadFile(dir.path() + "/none");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir.path() + "/none"),
            std::string::npos);
  EXPECT_EQ(env->ReadFile(dir.path()).status().code(),
            absl::StatusCode::kFailedPrecondition);  // EISDIR
}

TEST(EnvTest, WriteNewFileNeverOverwrites) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.path() + "/secret.key";
  ASSERT_TRUE(env->WriteNewFile(path, "one", {.mode = 0600}).ok());
  absl::Status again = env->WriteNewFile(path, "two", {.mode = 0600});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(env->ReadFile(path).value(), "one");
}

TEST(EnvTest, WriteNewFileRemovesWhatAFailedWriteLeft) {
  TempDir dir;
  FaultEnv env;
  env.Inject({.op = FileOp::kWrite, .err = ENOSPC, .partial = true});
  const std::string path = dir.path() + "/secret.key";
  EXPECT_EQ(env.WriteNewFile(path, "secret").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(dir.Names().empty());
  env.FailNth(FileOp::kSyncDir, 1, EIO);
  EXPECT_EQ(env.WriteNewFile(path, "secret").code(),
            absl::StatusCode::kInternal);
  EXPECT_TRUE(dir.Names().empty());
  ASSERT_TRUE(env.WriteNewFile(path, "secret").ok());
  EXPECT_EQ(env.ReadFile(path).value(), "secret");
}

struct StepFailure {
  FileOp op;
  int err;
  absl::StatusCode code;
};

class WriteFileAtomicFaultTest : public ::testing::TestWithParam<StepFailure> {
};

// Each step before the rename failing leaves the old file and no temporary.
TEST_P(WriteFileAtomicFaultTest, FailureKeepsTheOldFileAndNoTemporary) {
  const StepFailure& step = GetParam();
  TempDir dir;
  FaultEnv env;
  const std::string path = dir.path() + "/checkpoint";
  ASSERT_TRUE(env.WriteFileAtomic(path, "old").ok());
  env.FailNth(step.op, 1, step.err);
  absl::Status status = env.WriteFileAtomic(path, "new content");
  EXPECT_EQ(status.code(), step.code) << status;
  EXPECT_NE(status.message().find(dir.path()), std::string::npos) << status;
  EXPECT_EQ(env.Injected(step.op), 1);
  EXPECT_EQ(env.ReadFile(path).value(), "old");
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"checkpoint"});
  // The disk recovered: the next write goes through.
  ASSERT_TRUE(env.WriteFileAtomic(path, "new content").ok());
  EXPECT_EQ(env.ReadFile(path).value(), "new content");
}

INSTANTIATE_TEST_SUITE_P(
    EachStep, WriteFileAtomicFaultTest,
    ::testing::Values(
        StepFailure{FileOp::kCreate, EACCES,
                    absl::StatusCode::kPermissionDenied},
        StepFailure{FileOp::kCreate, EMFILE,
                    absl::StatusCode::kResourceExhausted},
        StepFailure{FileOp::kWrite, ENOSPC,
                    absl::StatusCode::kResourceExhausted},
        StepFailure{FileOp::kWrite, EIO, absl::StatusCode::kInternal},
        StepFailure{FileOp::kSync, EIO, absl::StatusCode::kInternal},
        StepFailure{FileOp::kSync, EDQUOT,
                    absl::StatusCode::kResourceExhausted},
        StepFailure{FileOp::kClose, EIO, absl::StatusCode::kInternal},
        StepFailure{FileOp::kRename, EIO, absl::StatusCode::kInternal},
        StepFailure{FileOp::kRename, EACCES,
                    absl::StatusCode::kPermissionDenied},
        StepFailure{FileOp::kRename, EROFS,
                    absl::StatusCode::kPermissionDenied}));

TEST(EnvTest, AFailedFolderSyncIsReportedAfterTheRename) {
  TempDir dir;
  FaultEnv env;
  const std::string path = dir.path() + "/checkpoint";
  ASSERT_TRUE(env.WriteFileAtomic(path, "old").ok());
  env.FailNth(FileOp::kSyncDir, 1, EIO);
  EXPECT_EQ(env.WriteFileAtomic(path, "new").code(),
            absl::StatusCode::kInternal);
  // The rename cannot be undone: the new content is in place, its
  // durability unknown; no temporary file is left.
  EXPECT_EQ(env.ReadFile(path).value(), "new");
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"checkpoint"});
  // Without a folder sync, none is attempted.
  const int64_t syncs = env.Count(FileOp::kSyncDir);
  ASSERT_TRUE(env.WriteFileAtomic(path, "newer", {.sync_dir = false}).ok());
  EXPECT_EQ(env.Count(FileOp::kSyncDir), syncs);
}

TEST(EnvTest, WriteFileAtomicStepsAreCounted) {
  TempDir dir;
  FaultEnv env;
  ASSERT_TRUE(env.WriteFileAtomic(dir.path() + "/f", "data").ok());
  EXPECT_EQ(env.Count(FileOp::kCreate), 1);
  EXPECT_EQ(env.Count(FileOp::kWrite), 1);
  EXPECT_EQ(env.Count(FileOp::kSync), 1);
  EXPECT_EQ(env.Count(FileOp::kClose), 1);
  EXPECT_EQ(env.Count(FileOp::kRename), 1);
  EXPECT_EQ(env.Count(FileOp::kSyncDir), 1);
  EXPECT_EQ(env.Count(FileOp::kRemove), 0);
}

TEST(EnvTest, ATakenTemporaryNameIsSkipped) {
  TempDir dir;
  FaultEnv env;
  env.FailNth(FileOp::kCreate, 1, EEXIST);
  ASSERT_TRUE(env.WriteFileAtomic(dir.path() + "/f", "data").ok());
  EXPECT_EQ(env.Count(FileOp::kCreate), 2);
  EXPECT_EQ(env.ReadFile(dir.path() + "/f").value(), "data");
}

TEST(EnvTest, CreateDirs) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string deep = dir.path() + "/a/b/c";
  ASSERT_TRUE(env->CreateDirs(deep).ok());
  EXPECT_TRUE(env->Stat(deep).value().is_directory);
  EXPECT_TRUE(env->CreateDirs(deep + "/").ok());  // exists already
  ASSERT_TRUE(env->WriteFileAtomic(dir.path() + "/file", "x").ok());
  absl::Status bad = env->CreateDirs(dir.path() + "/file/sub");
  EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.message().find("is not a directory"), std::string::npos);
  EXPECT_EQ(env->CreateDirs("").code(), absl::StatusCode::kInvalidArgument);
  FaultEnv faulty;
  faulty.FailNth(FileOp::kCreateDir, 1, EACCES);
  EXPECT_EQ(faulty.CreateDirs(dir.path() + "/x/y").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(EnvTest, ErrnoTable) {
  const struct {
    int err;
    absl::StatusCode code;
  } kTable[] = {
      {ENOENT, absl::StatusCode::kNotFound},
      {EACCES, absl::StatusCode::kPermissionDenied},
      {EPERM, absl::StatusCode::kPermissionDenied},
      {EROFS, absl::StatusCode::kPermissionDenied},
      {ENOSPC, absl::StatusCode::kResourceExhausted},
      {EDQUOT, absl::StatusCode::kResourceExhausted},
      {EMFILE, absl::StatusCode::kResourceExhausted},
      {ENFILE, absl::StatusCode::kResourceExhausted},
      {EEXIST, absl::StatusCode::kAlreadyExists},
      {EISDIR, absl::StatusCode::kFailedPrecondition},
      {ENOTDIR, absl::StatusCode::kFailedPrecondition},
      {ELOOP, absl::StatusCode::kFailedPrecondition},
      {ENAMETOOLONG, absl::StatusCode::kInvalidArgument},
      {EIO, absl::StatusCode::kInternal},
      {EBADF, absl::StatusCode::kInternal},
      {EXDEV, absl::StatusCode::kInternal},
  };
  for (const auto& row : kTable) {
    absl::Status s = ErrnoToStatus(row.err, "cannot write /x/y");
    EXPECT_EQ(s.code(), row.code) << row.err;
    EXPECT_EQ(s.message(),
              std::string("cannot write /x/y: ") + std::strerror(row.err));
  }
}

TEST(FaultEnvTest, RulesCountSkipAndHeal) {
  TempDir dir;
  FaultEnv env;
  const std::string path = dir.path() + "/f";
  ASSERT_TRUE(env.WriteFileAtomic(path, "x").ok());
  env.FailNth(FileOp::kRead, 2, EIO);
  EXPECT_TRUE(env.ReadFile(path).ok());
  EXPECT_EQ(env.ReadFile(path).status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(env.ReadFile(path).ok());
  EXPECT_EQ(env.Count(FileOp::kRead), 3);
  EXPECT_EQ(env.Injected(FileOp::kRead), 1);

  env.FailAlways(FileOp::kWrite, ENOSPC);  // a full disk
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(env.WriteFileAtomic(path, "y").code(),
              absl::StatusCode::kResourceExhausted);
  }
  env.Heal();
  EXPECT_TRUE(env.WriteFileAtomic(path, "y").ok());
  EXPECT_EQ(env.ReadFile(path).value(), "y");
}

TEST(FaultEnvTest, PathFilter) {
  TempDir dir;
  FaultEnv env;
  env.Inject({.op = FileOp::kRename,
              .err = EIO,
              .times = Fault::kForever,
              .path_contains = "head"});
  EXPECT_TRUE(env.WriteFileAtomic(dir.path() + "/other", "x").ok());
  EXPECT_EQ(env.WriteFileAtomic(dir.path() + "/audit.db.head", "x").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"other"});
}

}  // namespace
}  // namespace cbx
