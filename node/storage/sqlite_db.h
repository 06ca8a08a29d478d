// A thin RAII layer over the SQLite C API for the SQLite storage backend:
// one connection, prepared statements cached for the connection's lifetime,
// transactions that roll back unless committed, and SQLite result codes
// mapped onto absl status codes.
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
// no memory RESOURCE_EXHAUSTED; corruption or a file that is not a database
// DATA_LOSS; a read-only or permission-denied file PERMISSION_DENIED;
// anything else INTERNAL.
absl::Status ErrorStatus(int rc, sqlite3* db, std::string_view context);

// A cached prepared statement in use. Binds are 1-based and columns 0-based,
// as in SQLite. On destruction the statement is reset and its bindings
// cleared, so that it holds no lock and no borrowed buffer.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
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
  // The first bind error, reported by the next Step.
  int bind_error_ = SQLITE_OK;
};

class Database {
 public:
  // Opens (creating if needed) the database file at `path` with extended
  // result codes, WAL journal, synchronous=FULL, foreign keys, and waiting
  // up to `busy_timeout_ms` for another connection's lock. UNAVAILABLE if
  // the file cannot be opened, DATA_LOSS if it is not a database.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        int busy_timeout_ms);
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

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  sqlite3* db_;
  absl::flat_hash_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>>
      statements_;
};

// A transaction that rolls back unless committed. Write transactions begin
// IMMEDIATE, so that a busy database fails at Begin rather than midway.
class Transaction {
 public:
  enum class Mode { kRead, kWrite };
  static absl::StatusOr<Transaction> Begin(Database& db, Mode mode);
  Transaction(Transaction&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // Makes the changes durable. If it fails the transaction is rolled back.
  absl::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;  // null once committed or rolled back
};

}  // namespace cbx::node::sqlite

#endif  // CBX_NODE_STORAGE_SQLITE_DB_H_
