// A thin RAII layer over the SQLite C API for the SQLite storage backend:
// one connection, prepared statements cached for the connection's lifetime,
// transactions that roll back unless committed, and SQLite result codes
// mapped onto absl status codes.
//
// Disk faults (spec/storage-faults.md): a statement that fails with a write
// fault (a full disk, an I/O error, a failed fsync) marks its connection as
// untrusted; the next transaction begins on a fresh connection to the same
// file, so nothing this process cached (SQLite's page cache, its copy of the
// WAL index) outlives a failed write. Faults and recoveries are reported to
// IoHealth (node/storage/io_health.h), which alerts the operator.
//
// Threading: none of these classes is thread-safe; the owner serializes all
// use of a Database and its statements (SqliteStorage holds a mutex).
#ifndef CBX_NODE_STORAGE_SQLITE_DB_H_
#define CBX_NODE_STORAGE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::node::sqlite {

// The status for SQLite result code `rc`, with `context` (what was being
// done) and SQLite's own message. PRIMARY KEY and UNIQUE violations give
// ALREADY_EXISTS; other constraint violations INTERNAL (inputs are checked
// before they reach SQL, so one means a broken invariant); BUSY, LOCKED,
// I/O errors and a file that cannot be opened UNAVAILABLE; a full disk or
// no memory RESOURCE_EXHAUSTED (SQLITE_FULL is ENOSPC or EDQUOT); corruption or
// a file that is not a database DATA_LOSS; a read-only or permission-denied
// file PERMISSION_DENIED; anything else INTERNAL. For an I/O error the message
// ends with the system error's text, when SQLite knows it ("... (disk I/O
// error, code 778): Input/output error").
absl::Status ErrorStatus(int rc, sqlite3* db, std::string_view context);

// True for the result codes of a failed write to the disk: SQLITE_FULL and
// every SQLITE_IOERR_* (a write, an fsync, a truncate, the shared memory),
// after which the connection is not trusted (Database::Reopen).
bool IsDiskFault(int rc);

class Database;

// A cached prepared statement in use. Binds are 1-based and columns 0-based,
// as in SQLite. On destruction the statement is reset and its bindings
// cleared, so that it holds no lock and no borrowed buffer.
class Statement {
 public:
  // `owner`, if not null, is told of a disk fault (Database::NoteResult).
  Statement(sqlite3* db, sqlite3_stmt* stmt, Database* owner = nullptr)
      : db_(db), stmt_(stmt), owner_(owner) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        owner_(other.owner_),
        bind_error_(other.bind_error_) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& BindInt(int index, int64_t value);
  Statement& BindNull(int index);
  // The text and blob binds copy nothing: the bytes must outlive the
  // statement's use (until Step returns false or the Statement is gone).
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);

  // Steps once: true if a row is ready, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done; for statements that return no rows.
  absl::Status Run();

  bool IsNull(int column) const;
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  Bytes ColumnBlob(int column) const;
  // Valid until the next Step or the Statement's end.
  std::string_view ColumnBlobView(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Database* owner_;
  // The first bind error, reported by the next Step.
  int bind_error_ = SQLITE_OK;
};

class Database {
 public:
  // Opens (creating if needed) the database file at `path` with extended
  // result codes, WAL journal, synchronous=FULL, foreign keys, and waiting
  // up to `busy_timeout_ms` for another connection's lock. UNAVAILABLE if
  // the file cannot be opened, DATA_LOSS if it is not a database.
  // `vfs` names a registered SQLite VFS ("" for the default one; tests pass
  // a node/storage/testing/fault_vfs.h FaultVfs).
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& path, int busy_timeout_ms,
      const std::string& vfs = "");
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows (schema, pragmas).
  absl::Status Exec(const std::string& sql);
  // The prepared statement for `sql`, compiled on first use and cached.
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs `sql` (pragmas that hold per connection, e.g. cache_size) now and
  // again on every connection Reopen makes.
  absl::Status ExecOnEveryConnection(const std::string& sql);

  // Replaces the connection with a new one to the same file (with the same
  // pragmas), dropping every cached statement and SQLite's page cache: what
  // the next read sees comes from the file. Keeps the old connection and
  // returns the error if the new one cannot be opened. No Statement or
  // Transaction of this Database may be alive.
  absl::Status Reopen();
  // Reopen, if a disk fault has been seen since the connection was opened;
  // OK otherwise. Transaction::Begin calls it.
  absl::Status ReopenIfFaulted();
  // True if a disk fault has been seen since the connection was opened.
  bool faulted() const { return faulted_; }

  // Records the outcome of a statement: a disk fault (IsDiskFault) marks the
  // connection for Reopen and is reported to IoHealth as a failure of
  // path(). Called by Statement and Exec.
  void NoteResult(int rc);
  // Reports to IoHealth that a write to path() succeeded (a committed write
  // transaction, a WAL checkpoint), if this connection had reported a
  // failure: the fault is over.
  void NoteWriteSucceeded();

 private:
  Database(sqlite3* db, std::string path, int busy_timeout_ms, std::string vfs)
      : db_(db),
        path_(std::move(path)),
        busy_timeout_ms_(busy_timeout_ms),
        vfs_(std::move(vfs)) {}
  // Opens a connection with the pragmas every connection has.
  static absl::StatusOr<sqlite3*> OpenConnection(const std::string& path,
                                                 int busy_timeout_ms,
                                                 const std::string& vfs);

  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  sqlite3* db_;
  const std::string path_;
  const int busy_timeout_ms_;
  const std::string vfs_;
  std::vector<std::string> session_sql_;  // ExecOnEveryConnection
  bool faulted_ = false;   // a disk fault since this connection was opened
  bool reported_ = false;  // a failure reported to IoHealth, not yet healed
  absl::flat_hash_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>>
      statements_;
};

// A transaction that rolls back unless committed. Write transactions begin
// IMMEDIATE, so that a busy database fails at Begin rather than midway.
// Begin first replaces a connection that saw a disk fault
// (Database::ReopenIfFaulted).
class Transaction {
 public:
  enum class Mode { kRead, kWrite };
  static absl::StatusOr<Transaction> Begin(Database& db, Mode mode);
  Transaction(Transaction&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), mode_(other.mode_) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // Makes the changes durable. If it fails the transaction is rolled back.
  absl::Status Commit();

 private:
  Transaction(Database* db, Mode mode) : db_(db), mode_(mode) {}
  Database* db_;  // null once committed or rolled back
  Mode mode_;
};

}  // namespace cbx::node::sqlite

#endif  // CBX_NODE_STORAGE_SQLITE_DB_H_
