// Env: the one way cbx reads and writes files (after LevelDB's Env). The
// node, cbx-admin and the cbx CLI read files, replace them atomically and
// create secret files through it, so there is one write protocol and one
// errno -> absl::Status table; tests swap in a FaultEnv
// (core/util/testing/fault_env.h) to fail the Nth write, sync or rename.
//
// An Env has a few primitive operations (virtual, one system call each, save
// EINTR/EAGAIN retries) and the composite operations built on them
// (WriteFileAtomic, WriteNewFile, CreateDirs: non-virtual, so a fake Env
// sees and can fail each step of them). Not for the SQLite files in
// node/storage and node/audit, which SQLite reads and syncs itself.
//
// The errno table, used by every operation (ErrnoToStatus):
//   ENOENT                             -> NOT_FOUND
//   EACCES, EPERM, EROFS               -> PERMISSION_DENIED
//   ENOSPC, EDQUOT, EMFILE, ENFILE     -> RESOURCE_EXHAUSTED
//   EEXIST                             -> ALREADY_EXISTS
//   EISDIR, ENOTDIR, ELOOP             -> FAILED_PRECONDITION
//   ENAMETOOLONG                       -> INVALID_ARGUMENT
//   EIO and anything else              -> INTERNAL
// EINTR and EAGAIN are retried inside the Env and never surface. EISDIR,
// ENOTDIR and ELOOP are FAILED_PRECONDITION, not INVALID_ARGUMENT: the path
// is well formed, the file system is not in the state it needs (a directory
// where a file was meant, a symlink cycle), and it works once an operator
// fixes that; a name too long is wrong whatever the file system holds.
// Reads report EIO as INTERNAL too, not DATA_LOSS: the node reads DATA_LOSS
// as "the audit log was tampered with", and a failing disk is not that.
// Messages read "<operation> <path>: <strerror>", e.g.
// "cannot rename /var/cbx/a.tmp-1 to /var/cbx/a: No space left on device".
//
// Thread-safety: every Env method may be called from any thread; two
// operations on the same path at once get what POSIX gives them (the
// atomic replace still leaves the old or one of the new files, never a mix).
#ifndef CBX_CORE_UTIL_ENV_H_
#define CBX_CORE_UTIL_ENV_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cbx {

// The status for the failed system call's `err`, by the table above, with
// the message "<what_and_path>: <strerror(err)>".
absl::Status ErrnoToStatus(int err, std::string_view what_and_path);

// The kinds of primitive operation, for counting and failing them.
enum class FileOp {
  kRead,       // Env::ReadFile
  kStat,       // Env::Stat
  kCreate,     // Env::CreateFile
  kWrite,      // WritableFile::Append
  kSync,       // WritableFile::Sync
  kClose,      // WritableFile::Close
  kRename,     // Env::RenameFile
  kRemove,     // Env::RemoveFile
  kSyncDir,    // Env::SyncDir
  kCreateDir,  // Env::CreateDir
};
inline constexpr int kFileOpCount = 10;

// "read", "stat", "create", "write", "sync", "close", "rename", "remove",
// "sync-dir", "create-dir".
std::string_view FileOpName(FileOp op);

struct FileInfo {
  unsigned mode = 0;  // permission bits, st_mode & 07777
  uint64_t size = 0;  // bytes
  bool is_directory = false;
};

// What WriteFileAtomic and WriteNewFile do besides writing.
struct WriteOptions {
  // The new file's permission bits, exactly (not reduced by the umask).
  unsigned mode = 0644;
  // Sync the folder after the rename (or creation), so that the new name
  // survives a power cut. False only where an older file after a power cut
  // is acceptable and the flush matters (the audit head file).
  bool sync_dir = true;
};

// A file being written, from Env::CreateFile. Not thread-safe: one writer.
// Destroying it without Close closes it, ignoring errors.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` (short writes are continued). On failure an
  // unknown prefix of `data` may have been written.
  virtual absl::Status Append(std::string_view data) = 0;
  // Flushes the data, and the metadata needed to read it back, to the disk
  // (fdatasync).
  virtual absl::Status Sync() = 0;
  // Closes the file; later calls fail. An error here may mean lost data.
  virtual absl::Status Close() = 0;
};

class Env {
 public:
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  virtual ~Env() = default;

  // The process-wide POSIX Env. Never null; never destroyed.
  static Env* Default();

  // --- Primitive operations ------------------------------------------------

  // The whole content of `path`. OUT_OF_RANGE ("larger than N bytes") if it
  // holds more than `max_bytes` (a code the errno table never gives, so a
  // caller can tell "too long" from "not readable"); the errno table
  // otherwise.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path,
                                               size_t max_bytes) = 0;
  absl::StatusOr<std::string> ReadFile(const std::string& path) {
    return ReadFile(path, kNoLimit);
  }

  // The mode, size and kind of `path` (following symlinks). NOT_FOUND if
  // there is nothing there.
  virtual absl::StatusOr<FileInfo> Stat(const std::string& path) = 0;

  // Creates `path` for writing with permission bits exactly `mode`.
  // ALREADY_EXISTS if anything is at `path` (O_EXCL): never truncates.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> CreateFile(
      const std::string& path, unsigned mode) = 0;

  // Renames `from` to `to`, replacing `to` atomically if it exists.
  virtual absl::Status RenameFile(const std::string& from,
                                  const std::string& to) = 0;

  // Removes the file `path`. NOT_FOUND if there is none.
  virtual absl::Status RemoveFile(const std::string& path) = 0;

  // Syncs the folder `dir`, making the creations and renames in it durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;

  // Creates the folder `dir` (its parent must exist) with permission bits
  // `mode` less the umask. ALREADY_EXISTS if anything is at `dir`.
  virtual absl::Status CreateDir(const std::string& dir, unsigned mode) = 0;

  // --- Composite operations (built on the primitives) ----------------------

  // Replaces `path` with `data`: creates a temporary file beside it
  // ("<path>.tmp-<random>"), writes all, syncs, closes, renames it over
  // `path`, then syncs the folder if options.sync_dir. Readers see the old
  // file or the new one, never a mix. On failure the error of the failed
  // step (the errno table); `path` is unchanged and the temporary file is
  // removed. A failed folder sync is reported too, although the rename has
  // then happened: the new content may not survive a power cut.
  absl::Status WriteFileAtomic(const std::string& path, std::string_view data,
                               const WriteOptions& options = {});

  // Creates `path`, which must not exist (O_EXCL: for secret key files that
  // must never be overwritten), writes `data`, syncs it, and syncs the
  // folder if options.sync_dir. ALREADY_EXISTS if something is at `path`,
  // which is then untouched; on any later failure the new file is removed.
  absl::Status WriteNewFile(const std::string& path, std::string_view data,
                            const WriteOptions& options = {});

  // Creates `dir` and its missing parents with permission bits `mode` (less
  // the umask); OK if it exists already. FAILED_PRECONDITION if a component
  // exists and is not a folder; the errno table otherwise.
  absl::Status CreateDirs(const std::string& dir, unsigned mode = 0700);
};

// The folder part of `path`: "." for "name", "/" for "/name".
std::string DirName(const std::string& path);

}  // namespace cbx

#endif  // CBX_CORE_UTIL_ENV_H_
