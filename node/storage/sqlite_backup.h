// Online copies of the node's SQLite files (node.db, audit.db) with SQLite's
// backup API, for `cbx-admin backup` and `cbx-admin restore`
// (docs/operations.md "Backup and restore").
//
// Consistency: the copy is one snapshot of the source. Before the first
// step the source connection opens a read transaction and keeps it until
// the last, so every step reads the same WAL snapshot and the copy never
// restarts however much the running node writes meanwhile (a backup whose
// source changes between steps would otherwise start over at the next
// step). In WAL mode that read transaction blocks no writer of the node;
// what it holds back is the WAL checkpoint past its snapshot, so the WAL
// grows until the copy ends. Steps copy a bounded number of pages with a
// short pause between them, so the copy's reads leave the disk to the node.
//
// The copy is written to "<out>.partial", created with O_CREAT|O_EXCL and
// mode 0600 (never widened, never chmod-ed later: the file holds personal
// data from its first byte), switched to the rollback journal (a single
// file, no -wal beside it, readable on read-only media), synced, renamed to
// `out` and the folder synced. `out` is never overwritten.
//
// Threading: the functions are thread-safe (they share no state); each
// opens connections of its own.
#ifndef CBX_NODE_STORAGE_SQLITE_BACKUP_H_
#define CBX_NODE_STORAGE_SQLITE_BACKUP_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/storage/sqlite_db.h"

namespace cbx::node::sqlite {

struct BackupOptions {
  // Pages copied per sqlite3_backup_step (4 MiB with 4 KiB pages).
  int pages_per_step = 1024;
  // The pause between steps.
  absl::Duration pause_between_steps = absl::Milliseconds(1);
  // How long opening the snapshot waits for a writer's lock.
  int busy_timeout_ms = 5000;
  // Open the source read-only (a backup file being restored, which may sit
  // on read-only media); otherwise read-write without creating it (a live
  // WAL database, whose shared memory a reader must be able to map).
  bool source_read_only = false;
  // Called after each step with the pages copied so far and the total;
  // may be empty. Tests use it to write to the source mid-copy.
  std::function<void(int64_t copied, int64_t total)> progress;
};

struct BackupReport {
  int64_t pages = 0;
  int64_t page_size = 0;
  int64_t steps = 0;
  int64_t schema_version = 0;  // the source's PRAGMA user_version
};

// Copies the database `source` (which must exist) to the new file `out` as
// described above. ALREADY_EXISTS if `out` (or "<out>.partial") exists;
// NOT_FOUND if `source` does not; DATA_LOSS if it is not a database; the
// SQLite or errno status of a step that fails otherwise, after removing the
// partial copy. Returns what was copied.
absl::StatusOr<BackupReport> BackupDatabase(const std::string& source,
                                            const std::string& out,
                                            const BackupOptions& options = {});

// PRAGMA integrity_check on `db`: OK if SQLite says "ok", DATA_LOSS with
// its first findings otherwise.
absl::Status CheckIntegrity(Database& db);

}  // namespace cbx::node::sqlite

#endif  // CBX_NODE_STORAGE_SQLITE_BACKUP_H_
