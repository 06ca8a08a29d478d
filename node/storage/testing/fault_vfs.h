// FaultVfs: an SQLite VFS for tests that fails chosen writes, syncs and
// truncates of chosen files with the result codes a full or failing disk
// gives, as SQLite's own I/O-error tests do (test_vfs.c). It wraps the
// default VFS (sqlite3_vfs_find(nullptr), the unix one), registered under
// its own name, and passes every other call through, the WAL's shared
// memory included.
//
//   cbx::node::testing::FaultVfs vfs("cbx-fault");   // registered now
//   SqliteStorage::Options options;
//   options.vfs = vfs.name();
//   ... open node.db with `options` ...
//   vfs.FailAlways(VfsOp::kWrite, "node.db-wal",
//                  FaultVfs::Enospc(VfsOp::kWrite));
//   ... every write to the WAL fails with SQLITE_FULL ...
//   vfs.Heal();                                       // space returns
//
// A failed call does nothing and sets errno (ENOSPC or EIO), which SQLite
// reads back through xGetLastError for its message. Files are matched by
// the suffix of the name SQLite opened them with ("node.db" for the main
// file, "node.db-wal" for its WAL, "audit.db-wal", ...).
//
// Thread-safe: faults may be injected and healed while other threads use
// the VFS. Destroying it unregisters it; no connection may still use it.
#ifndef CBX_NODE_STORAGE_TESTING_FAULT_VFS_H_
#define CBX_NODE_STORAGE_TESTING_FAULT_VFS_H_

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace cbx::node::testing {

enum class VfsOp { kWrite, kSync, kTruncate };
inline constexpr int kVfsOpCount = 3;

// What a fault returns: the result code, and the errno it leaves.
struct VfsError {
  int rc;
  int err;
};

// One rule: fail calls of kind `op` on files whose name ends with `suffix`.
struct VfsFault {
  static constexpr int kForever = -1;
  VfsOp op = VfsOp::kWrite;
  std::string suffix;  // "" matches every file
  VfsError error = {SQLITE_IOERR_WRITE, 5 /* EIO */};
  int skip = 0;   // matching calls that succeed first
  int times = 1;  // then how many fail; kForever for all
};

class FaultVfs {
 public:
  // A full disk (ENOSPC): SQLITE_FULL from a write, as the unix VFS gives
  // it; SQLITE_IOERR_FSYNC from a sync (the unix VFS has no other code for
  // a failed fsync, whatever the errno); SQLITE_IOERR_TRUNCATE.
  static VfsError Enospc(VfsOp op);
  // A failing disk (EIO): SQLITE_IOERR_WRITE, _FSYNC or _TRUNCATE.
  static VfsError Eio(VfsOp op);

  // Registers the VFS as `name` (not as the default).
  explicit FaultVfs(std::string name);
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  const std::string& name() const { return name_; }

  void Inject(VfsFault fault) ABSL_LOCKS_EXCLUDED(mu_);
  // The `nth` call of kind `op` on `suffix` from now fails with `error`.
  void FailNth(VfsOp op, const std::string& suffix, int nth, VfsError error)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every call of kind `op` on `suffix` fails with `error` until Heal.
  void FailAlways(VfsOp op, const std::string& suffix, VfsError error)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes every rule; the counts stay.
  void Heal() ABSL_LOCKS_EXCLUDED(mu_);

  // Calls of kind `op` attempted, and failed by a rule, since construction.
  int64_t Count(VfsOp op) const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t Injected(VfsOp op) const ABSL_LOCKS_EXCLUDED(mu_);
  // Main database files opened (one per connection) since construction.
  int64_t Opens() const ABSL_LOCKS_EXCLUDED(mu_);

  // For the C callbacks (fault_vfs.cc): counts a call of kind `op` on
  // `file` and returns the error to fail it with, or {SQLITE_OK, 0}.
  VfsError Next(VfsOp op, const std::string& file) ABSL_LOCKS_EXCLUDED(mu_);
  void CountOpen() ABSL_LOCKS_EXCLUDED(mu_);
  sqlite3_vfs* base() const { return base_; }

 private:
  const std::string name_;
  sqlite3_vfs* const base_;
  sqlite3_vfs vfs_;
  mutable std::mutex mu_;
  std::vector<VfsFault> faults_ ABSL_GUARDED_BY(mu_);
  std::array<int64_t, kVfsOpCount> counts_ ABSL_GUARDED_BY(mu_){};
  std::array<int64_t, kVfsOpCount> injected_ ABSL_GUARDED_BY(mu_){};
  int64_t opens_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cbx::node::testing

#endif  // CBX_NODE_STORAGE_TESTING_FAULT_VFS_H_
