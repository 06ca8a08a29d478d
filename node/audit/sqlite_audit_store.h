// The audit log in its own SQLite file (spec/audit-log.md §2.7), the
// default store: WAL mode, synchronous=FULL, one connection per
// SqliteAuditStore; a lock file (<path>.lock) keeps a second writer out.
//
// Threading: a SqliteAuditStore is not thread-safe (AuditStore); a
// SqliteAuditBackend is.
#ifndef CBX_NODE_AUDIT_SQLITE_AUDIT_STORE_H_
#define CBX_NODE_AUDIT_SQLITE_AUDIT_STORE_H_

#include <memory>
#include <string>

#include "node/audit/audit_store.h"
#include "node/storage/sqlite_db.h"

namespace cbx::node::audit {

class SqliteAuditStore : public AuditStore {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode with
  // synchronous=FULL, through the SQLite VFS `vfs` ("" for the default).
  // Errors as sqlite::Database::Open.
  static absl::StatusOr<std::unique_ptr<SqliteAuditStore>> Open(
      const std::string& path, const std::string& vfs = "");

  // The format version is PRAGMA user_version.
  absl::Status Initialize() override;
  absl::StatusOr<StateRow> ReadState() override;
  absl::Status AppendBatch(const std::vector<LeafRow>& leaves,
                           const merkle::CompactRange& state) override;
  absl::StatusOr<std::optional<LeafRow>> ReadLeaf(uint64_t sequence) override;
  absl::StatusOr<std::vector<LeafRow>> ReadLeaves(uint64_t begin,
                                                  uint64_t end) override;
  absl::Status ScanLeaves(
      const std::function<absl::Status(uint64_t, std::string_view,
                                       std::string_view, std::string_view)>&
          visit) override;
  absl::StatusOr<std::optional<Bytes>> ReadSubtree(uint64_t level,
                                                   uint64_t index) override;
  absl::StatusOr<LeafStats> ReadLeafStats() override;
  absl::StatusOr<LeafStats> ReadLeafEnds() override;
  absl::StatusOr<uint64_t> CountLeaves(uint64_t begin, uint64_t end) override;
  absl::Status InsertCheckpoint(const CheckpointRow& row) override;
  absl::StatusOr<std::optional<CheckpointRow>> ReadCheckpoint(
      uint64_t size) override;
  absl::StatusOr<std::optional<CheckpointRow>> LatestCheckpoint() override;
  absl::StatusOr<std::vector<CheckpointRow>> ListCheckpoints() override;
  absl::StatusOr<std::vector<std::string>> ReadCosignatures(
      uint64_t size) override;
  absl::Status InsertCosignature(uint64_t size, std::string_view name,
                                 uint32_t key_id,
                                 std::string_view line) override;
  // A read transaction (one snapshot, one WAL read lock).
  absl::StatusOr<std::unique_ptr<ReadSnapshot>> BeginRead() override;
  // CheckpointWal; always true when OK.
  absl::StatusOr<bool> Maintain() override;
  // sqlite::Database::ReopenIfFaulted and Reopen.
  absl::Status ReopenIfFaulted() override;
  absl::Status Reopen() override;

  // Copies what the WAL holds into the database file without blocking
  // writers or readers (PRAGMA wal_checkpoint(PASSIVE)).
  absl::Status CheckpointWal();
  // Sets when a commit on this connection checkpoints the WAL itself
  // (PRAGMA wal_autocheckpoint, in pages; 0 = never).
  absl::Status SetAutoCheckpoint(int pages);

  sqlite::Database& db() { return *db_; }

 private:
  explicit SqliteAuditStore(std::unique_ptr<sqlite::Database> db)
      : db_(std::move(db)) {}

  std::unique_ptr<sqlite::Database> db_;
};

// The log in the SQLite file `path` (its lock file `path`.lock, its head
// file `path`.head by default).
class SqliteAuditBackend : public AuditBackend {
 public:
  // `vfs`: the SQLite VFS ("" for the default; tests pass a FaultVfs).
  explicit SqliteAuditBackend(std::string path, std::string vfs = "")
      : path_(std::move(path)), vfs_(std::move(vfs)) {}

  // flock(2) on `path`.lock: FAILED_PRECONDITION if held, UNAVAILABLE if the
  // lock file cannot be opened.
  absl::StatusOr<std::unique_ptr<WriterLock>> LockWriter() override;
  absl::StatusOr<std::unique_ptr<AuditStore>> Connect() override;
  // Connect, with the WAL checkpointed by a commit only past 64 MiB (the
  // head thread's Maintain does it otherwise, off the commit path).
  absl::StatusOr<std::unique_ptr<AuditStore>> ConnectWriter() override;
  std::string DefaultHeadPath() const override { return path_ + ".head"; }
  std::string Describe() const override { return path_; }

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const std::string vfs_;
};

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_SQLITE_AUDIT_STORE_H_
