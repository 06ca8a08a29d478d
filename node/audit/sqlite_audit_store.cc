#include "node/audit/sqlite_audit_store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::audit {
namespace {

// How long a statement waits for another connection's lock (an operator's
// sqlite3 shell, a backup) before failing with UNAVAILABLE.
constexpr int kBusyTimeoutMs = 5000;

// The database format this code writes (PRAGMA user_version).
constexpr int kFormatVersion = kAuditSchemaVersion;

constexpr char kSchema[] = R"sql(
CREATE TABLE leaves (
  seq INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  data BLOB NOT NULL,
  subtrees BLOB NOT NULL
);
CREATE TABLE state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  compact_range BLOB NOT NULL
);
CREATE TABLE checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  signed_ms INTEGER NOT NULL
);
CREATE TABLE cosignatures (
  size INTEGER NOT NULL REFERENCES checkpoints (size),
  name TEXT NOT NULL,
  key_id INTEGER NOT NULL,
  line TEXT NOT NULL,
  added INTEGER PRIMARY KEY AUTOINCREMENT,
  UNIQUE (size, name, key_id)
);
)sql";

// SQLite integers are signed 64-bit; every size and index the log can reach
// (< 2^63 leaves) fits.
int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t U64(int64_t v) { return static_cast<uint64_t>(v); }

constexpr size_t kSubtreeHashSize = 32;

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::Open(
    const std::string& path, const std::string& vfs) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db,
                   sqlite::Database::Open(path, kBusyTimeoutMs, vfs));
  return std::unique_ptr<SqliteAuditStore>(
      new SqliteAuditStore(std::move(db)));
}

absl::Status SqliteAuditStore::Initialize() {
  ASSIGN_OR_RETURN(
      sqlite::Transaction txn,
      sqlite::Transaction::Begin(*db_, sqlite::Transaction::Mode::kWrite));
  int64_t version = 0;
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db_->Prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) version = stmt.ColumnInt(0);
  }
  if (version == kFormatVersion) return absl::OkStatus();  // rolls back
  if (version > kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        db_->path(), " was written by a newer cbx (schema ", version,
        "); this binary understands up to ", kFormatVersion,
        ": upgrade cbx-node (an older binary never opens a newer audit log)"));
  }
  if (version != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the audit database has format ", version,
                     "; this node reads ", kFormatVersion));
  }
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db_->Prepare("SELECT COUNT(*) FROM sqlite_schema"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row && stmt.ColumnInt(0) != 0) {
      return absl::FailedPreconditionError(
          "the audit database holds tables but no format version: it is "
          "not an audit log");
    }
  }
  RETURN_IF_ERROR(db_->Exec(kSchema));
  merkle::CompactRange empty;
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db_->Prepare("INSERT INTO state (id, size, root, "
                                  "compact_range) VALUES (1, 0, ?, ?)"));
    const Bytes root = empty.Root();
    const Bytes range = empty.Serialize();
    RETURN_IF_ERROR(stmt.BindBlob(1, root).BindBlob(2, range).Run());
  }
  RETURN_IF_ERROR(
      db_->Exec(absl::StrCat("PRAGMA user_version = ", kFormatVersion)));
  return txn.Commit();
}

absl::StatusOr<StateRow> SqliteAuditStore::ReadState() {
  ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("SELECT size, root, compact_range FROM state WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return absl::DataLossError(
        "the audit database has no state row: it was truncated or edited");
  }
  StateRow state;
  if (stmt.ColumnInt(0) < 0) {
    return absl::DataLossError("the audit state row has a negative size");
  }
  state.size = U64(stmt.ColumnInt(0));
  state.root = stmt.ColumnBlob(1);
  state.compact_range = stmt.ColumnBlob(2);
  return state;
}

absl::Status SqliteAuditStore::AppendBatch(const std::vector<LeafRow>& leaves,
                                     const merkle::CompactRange& state) {
  ASSIGN_OR_RETURN(
      sqlite::Transaction txn,
      sqlite::Transaction::Begin(*db_, sqlite::Transaction::Mode::kWrite));
  for (const LeafRow& leaf : leaves) {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db_->Prepare("INSERT INTO leaves (seq, leaf_hash, data, "
                                  "subtrees) VALUES (?, ?, ?, ?)"));
    RETURN_IF_ERROR(stmt.BindInt(1, I64(leaf.sequence))
                        .BindBlob(2, leaf.leaf_hash)
                        .BindBlob(3, leaf.data)
                        .BindBlob(4, leaf.subtrees)
                        .Run());
  }
  {
    const Bytes root = state.Root();
    const Bytes range = state.Serialize();
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db_->Prepare("UPDATE state SET size = ?, root = ?, "
                                  "compact_range = ? WHERE id = 1"));
    RETURN_IF_ERROR(stmt.BindInt(1, I64(state.size()))
                        .BindBlob(2, root)
                        .BindBlob(3, range)
                        .Run());
    if (db_->Changes() != 1) {
      return absl::DataLossError("the audit state row is missing");
    }
  }
  return txn.Commit();
}

absl::StatusOr<std::optional<LeafRow>> SqliteAuditStore::ReadLeaf(uint64_t sequence) {
  ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("SELECT leaf_hash, data, subtrees FROM leaves WHERE "
                   "seq = ?"));
  stmt.BindInt(1, I64(sequence));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return LeafRow{sequence, stmt.ColumnBlob(0), stmt.ColumnBlob(1),
                 stmt.ColumnBlob(2)};
}

absl::StatusOr<std::vector<LeafRow>> SqliteAuditStore::ReadLeaves(uint64_t begin,
                                                            uint64_t end) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT seq, leaf_hash, data, subtrees FROM "
                                "leaves WHERE seq >= ? AND seq < ? ORDER BY "
                                "seq"));
  stmt.BindInt(1, I64(begin)).BindInt(2, I64(end));
  std::vector<LeafRow> rows;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    rows.push_back(LeafRow{U64(stmt.ColumnInt(0)), stmt.ColumnBlob(1),
                           stmt.ColumnBlob(2), stmt.ColumnBlob(3)});
  }
  return rows;
}

absl::Status SqliteAuditStore::ScanLeaves(
    const std::function<absl::Status(uint64_t, std::string_view,
                                     std::string_view, std::string_view)>&
        visit) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT seq, leaf_hash, data, subtrees FROM "
                                "leaves ORDER BY seq"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    RETURN_IF_ERROR(visit(U64(stmt.ColumnInt(0)), stmt.ColumnBlobView(1),
                          stmt.ColumnBlobView(2), stmt.ColumnBlobView(3)));
  }
}

absl::StatusOr<std::optional<Bytes>> SqliteAuditStore::ReadSubtree(uint64_t level,
                                                             uint64_t index) {
  if (level == 0) {
    ASSIGN_OR_RETURN(
        sqlite::Statement stmt,
        db_->Prepare("SELECT leaf_hash FROM leaves WHERE seq = ?"));
    stmt.BindInt(1, I64(index));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::nullopt;
    return stmt.ColumnBlob(0);
  }
  // The subtree's last leaf, which completed it; callers ask only for
  // subtrees inside the tree, so this does not overflow.
  const uint64_t seq = ((index + 1) << level) - 1;
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT subtrees FROM leaves WHERE seq = ?"));
  stmt.BindInt(1, I64(seq));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  std::string_view hashes = stmt.ColumnBlobView(0);
  const size_t want = CompletedSubtrees(seq) * kSubtreeHashSize;
  if (hashes.size() != want) {
    return absl::DataLossError(
        absl::StrCat("the row of leaf ", seq, " holds ", hashes.size(),
                     " bytes of perfect subtree hashes; it completes ",
                     CompletedSubtrees(seq), " subtrees, ", want, " bytes"));
  }
  return Bytes(hashes.substr((level - 1) * kSubtreeHashSize, kSubtreeHashSize));
}

absl::StatusOr<LeafStats> SqliteAuditStore::ReadLeafStats() {
  ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("SELECT COUNT(*), MIN(seq), MAX(seq) FROM leaves"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  LeafStats stats;
  if (!row) return stats;
  stats.count = U64(stmt.ColumnInt(0));
  if (!stmt.IsNull(1)) stats.min_sequence = U64(stmt.ColumnInt(1));
  if (!stmt.IsNull(2)) stats.max_sequence = U64(stmt.ColumnInt(2));
  return stats;
}

absl::StatusOr<LeafStats> SqliteAuditStore::ReadLeafEnds() {
  // Two statements: SQLite answers a lone MIN or MAX of the rowid with one
  // seek, but MIN and MAX together with a scan.
  LeafStats stats;
  for (const char* sql : {"SELECT seq FROM leaves ORDER BY seq ASC LIMIT 1",
                          "SELECT seq FROM leaves ORDER BY seq DESC LIMIT 1"}) {
    ASSIGN_OR_RETURN(sqlite::Statement stmt, db_->Prepare(sql));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return stats;  // no rows
    (stats.min_sequence.has_value() ? stats.max_sequence : stats.min_sequence) =
        U64(stmt.ColumnInt(0));
  }
  return stats;
}

absl::StatusOr<uint64_t> SqliteAuditStore::CountLeaves(uint64_t begin, uint64_t end) {
  ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("SELECT COUNT(*) FROM leaves WHERE seq >= ? AND seq < ?"));
  stmt.BindInt(1, I64(begin)).BindInt(2, I64(end));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? U64(stmt.ColumnInt(0)) : 0;
}

absl::Status SqliteAuditStore::InsertCheckpoint(const CheckpointRow& row) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("INSERT INTO checkpoints (size, root, note, "
                                "signed_ms) VALUES (?, ?, ?, ?)"));
  return stmt.BindInt(1, I64(row.size))
      .BindBlob(2, row.root)
      .BindText(3, row.note)
      .BindInt(4, row.signed_ms)
      .Run();
}

namespace {

CheckpointRow CheckpointFrom(const sqlite::Statement& stmt) {
  return CheckpointRow{U64(stmt.ColumnInt(0)), stmt.ColumnBlob(1),
                       stmt.ColumnText(2), stmt.ColumnInt(3)};
}

}  // namespace

absl::StatusOr<std::optional<CheckpointRow>> SqliteAuditStore::ReadCheckpoint(
    uint64_t size) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT size, root, note, signed_ms FROM "
                                "checkpoints WHERE size = ?"));
  stmt.BindInt(1, I64(size));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return CheckpointFrom(stmt);
}

absl::StatusOr<std::optional<CheckpointRow>> SqliteAuditStore::LatestCheckpoint() {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT size, root, note, signed_ms FROM "
                                "checkpoints ORDER BY size DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::nullopt;
  return CheckpointFrom(stmt);
}

absl::StatusOr<std::vector<CheckpointRow>> SqliteAuditStore::ListCheckpoints() {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT size, root, note, signed_ms FROM "
                                "checkpoints ORDER BY size"));
  std::vector<CheckpointRow> rows;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return rows;
    rows.push_back(CheckpointFrom(stmt));
  }
}

absl::StatusOr<std::vector<std::string>> SqliteAuditStore::ReadCosignatures(
    uint64_t size) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("SELECT line FROM cosignatures WHERE size = ? "
                                "ORDER BY added"));
  stmt.BindInt(1, I64(size));
  std::vector<std::string> lines;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return lines;
    lines.push_back(stmt.ColumnText(0));
  }
}

absl::Status SqliteAuditStore::InsertCosignature(uint64_t size, std::string_view name,
                                           uint32_t key_id,
                                           std::string_view line) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db_->Prepare("INSERT INTO cosignatures (size, name, key_id, "
                                "line) VALUES (?, ?, ?, ?)"));
  return stmt.BindInt(1, I64(size))
      .BindText(2, name)
      .BindInt(3, key_id)
      .BindText(4, line)
      .Run();
}

absl::Status SqliteAuditStore::CheckpointWal() {
  // A connection that saw a disk fault is replaced first, as a transaction
  // would replace it (spec/storage-faults.md).
  RETURN_IF_ERROR(db_->ReopenIfFaulted());
  RETURN_IF_ERROR(db_->Exec("PRAGMA wal_checkpoint(PASSIVE)"));
  db_->NoteWriteSucceeded();
  return absl::OkStatus();
}

absl::Status SqliteAuditStore::SetAutoCheckpoint(int pages) {
  return db_->ExecOnEveryConnection(
      absl::StrCat("PRAGMA wal_autocheckpoint = ", pages));
}

namespace {

class SqliteSnapshot : public AuditStore::ReadSnapshot {
 public:
  explicit SqliteSnapshot(sqlite::Transaction txn) : txn_(std::move(txn)) {}

 private:
  sqlite::Transaction txn_;  // rolls back (ends the read) when destroyed
};

// Holds an flock(2) on the lock file until destroyed.
class FileLock : public AuditBackend::WriterLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() override { close(fd_); }

 private:
  const int fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AuditStore::ReadSnapshot>>
SqliteAuditStore::BeginRead() {
  ASSIGN_OR_RETURN(
      sqlite::Transaction txn,
      sqlite::Transaction::Begin(*db_, sqlite::Transaction::Mode::kRead));
  return std::make_unique<SqliteSnapshot>(std::move(txn));
}

absl::StatusOr<bool> SqliteAuditStore::Maintain() {
  RETURN_IF_ERROR(CheckpointWal());
  return true;
}

absl::Status SqliteAuditStore::ReopenIfFaulted() {
  return db_->ReopenIfFaulted();
}

absl::Status SqliteAuditStore::Reopen() { return db_->Reopen(); }

// --- SqliteAuditBackend ------------------------------------------------------

absl::StatusOr<std::unique_ptr<AuditBackend::WriterLock>>
SqliteAuditBackend::LockWriter() {
  // One writer per log: two would each sequence from their own state.
  const std::string lock_path = path_ + ".lock";
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", lock_path, ": ", strerror(errno)));
  }
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(lock_fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the audit log ", path_, " is open already (", lock_path,
          " is locked by another process or AuditLog)"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot lock ", lock_path, ": ", strerror(err)));
  }
  return std::make_unique<FileLock>(lock_fd);
}

absl::StatusOr<std::unique_ptr<AuditStore>> SqliteAuditBackend::Connect() {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteAuditStore> store,
                   SqliteAuditStore::Open(path_, vfs_));
  return std::unique_ptr<AuditStore>(std::move(store));
}

absl::StatusOr<std::unique_ptr<AuditStore>>
SqliteAuditBackend::ConnectWriter() {
  // The writer still checkpoints by itself if the WAL grows past this (the
  // head thread stuck, or a long reader pinning old frames): 64 MiB.
  constexpr int kBackstopCheckpointPages = 16384;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteAuditStore> store,
                   SqliteAuditStore::Open(path_, vfs_));
  RETURN_IF_ERROR(store->SetAutoCheckpoint(kBackstopCheckpointPages));
  return std::unique_ptr<AuditStore>(std::move(store));
}

}  // namespace cbx::node::audit
