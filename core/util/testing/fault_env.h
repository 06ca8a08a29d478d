// FaultEnv: an Env for tests that fails chosen file operations with a chosen
// errno, as a failing or full disk would, and counts every operation by
// kind. It wraps another Env (by default the real one), which does the
// work of every operation it does not fail.
//
//   cbx::testing::FaultEnv env;                    // wraps Env::Default()
//   env.FailNth(FileOp::kSync, 1, EIO);            // the next sync fails
//   env.FailAlways(FileOp::kWrite, ENOSPC);        // a full disk from now
//   env.Inject({.op = FileOp::kRename, .err = EIO, .skip = 2,
//               .path_contains = "audit.db.head"}); // the 3rd head rename
//   ... run the code under test with &env ...
//   EXPECT_EQ(env.Count(FileOp::kRename), 3);
//   env.Heal();                                    // the disk recovers
//
// A failed operation does nothing (save a kWrite fault with `partial`,
// which writes the first half of the data first, as a torn write) and
// returns ErrnoToStatus(err, ...) like the real Env, its message ending in
// "(injected)". Composite operations (WriteFileAtomic, WriteNewFile,
// CreateDirs) run on the FaultEnv's primitives, so each of their steps can
// be failed.
//
// Thread-safe: faults may be injected and healed while other threads use
// the Env; each operation is counted and matched under one mutex.
#ifndef CBX_CORE_UTIL_TESTING_FAULT_ENV_H_
#define CBX_CORE_UTIL_TESTING_FAULT_ENV_H_

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "core/util/env.h"

namespace cbx::testing {

// One rule: fail operations of kind `op` with `err`.
struct Fault {
  static constexpr int kForever = -1;

  FileOp op = FileOp::kWrite;
  int err = EIO;
  // Matching operations that succeed before the first failure.
  int skip = 0;
  // How many matching operations then fail; kForever for all of them.
  int times = 1;
  // Only operations on a path containing this ("" for every path). A file
  // being written has the path it was created with; a rename matches on
  // either name.
  std::string path_contains = "";
  // kWrite only: write the first half of the data, then fail.
  bool partial = false;
};

class FaultEnv final : public Env {
 public:
  // `base` does the real work and must outlive this Env.
  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // Adds `fault`. Rules are matched in the order added; every matching rule
  // counts an operation against its `skip`, the first ready one fails it.
  void Inject(Fault fault) ABSL_LOCKS_EXCLUDED(mu_);
  // The `nth` operation of kind `op` from now (1 = the next) fails with
  // `err`, once.
  void FailNth(FileOp op, int nth, int err) ABSL_LOCKS_EXCLUDED(mu_);
  // Every operation of kind `op` from now fails with `err`, until Heal.
  void FailAlways(FileOp op, int err) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes every rule; the counts stay.
  void Heal() ABSL_LOCKS_EXCLUDED(mu_);

  // Operations of kind `op` attempted since construction, failed or not.
  int64_t Count(FileOp op) const ABSL_LOCKS_EXCLUDED(mu_);
  // Operations of kind `op` failed by a rule since construction.
  int64_t Injected(FileOp op) const ABSL_LOCKS_EXCLUDED(mu_);

  using Env::ReadFile;
  absl::StatusOr<std::string> ReadFile(const std::string& path,
                                       size_t max_bytes) override;
  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> CreateFile(
      const std::string& path, unsigned mode) override;
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status CreateDir(const std::string& dir, unsigned mode) override;

 private:
  friend class FaultWritableFile;

  // What the operation should do: run, or fail with `err`.
  struct Decision {
    bool fail = false;
    int err = 0;
    bool partial = false;
  };

  // Counts an operation of kind `op` on `path` (and `other_path`, for a
  // rename) and decides whether it fails.
  Decision Next(FileOp op, const std::string& path,
                const std::string& other_path = "") ABSL_LOCKS_EXCLUDED(mu_);
  // The status for a failed operation.
  static absl::Status Failure(const Decision& decision, FileOp op,
                              const std::string& path);

  Env* const base_;
  mutable std::mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  std::array<int64_t, kFileOpCount> counts_ ABSL_GUARDED_BY(mu_){};
  std::array<int64_t, kFileOpCount> injected_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace cbx::testing

#endif  // CBX_CORE_UTIL_TESTING_FAULT_ENV_H_
