// The statement layer PgStorage's code runs on: pg::Connection (libpq,
// binary parameters) behind the shape of sqlite_db.h's Database, Statement
// and Transaction, so that each pg_*.cc reads as its sqlite_*.cc does and a
// change to one is easy to carry to the other. Parameters are $1, $2, ...;
// every bound value travels as a binary parameter, never in SQL text.
//
// Differences from SQLite the callers account for:
// - A statement that fails inside a PostgreSQL transaction aborts the whole
//   transaction, where SQLite undoes only the statement: a write that may be
//   refused and then gone past runs in InSavepoint, or is written so that it
//   cannot fail (ON CONFLICT DO NOTHING, then affected rows).
// - There is no last-insert rowid: inserts that need the id say RETURNING.
//
// Threading: none; PgStorage serializes all use under its mutex.
#ifndef CBX_NODE_STORAGE_PG_PG_DB_H_
#define CBX_NODE_STORAGE_PG_PG_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/util/bytes.h"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node::pgsql {

class Database;

// One statement with its bindings (1-based) and, once run, its rows
// (columns 0-based). Unlike SQLite's, it runs whole on the first Step or
// Run; Step then walks the rows it returned.
class Statement {
 public:
  Statement(Database* db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  Statement(Statement&&) = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& BindInt(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);

  // Runs the statement on the first call; true while a row is ready.
  absl::StatusOr<bool> Step();
  // Runs the statement (for those that return no rows).
  absl::Status Run();

  bool IsNull(int column) const;
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  Bytes ColumnBlob(int column) const;
  std::string_view ColumnBlobView(int column) const;
  // Rows changed, once run.
  int64_t Changes() const { return result_ ? result_->affected() : 0; }

 private:
  enum class Kind { kUnbound, kInt, kText, kBlob, kNull };
  struct Bind {
    Kind kind = Kind::kUnbound;
    int64_t number = 0;
    std::string bytes;
  };
  Bind& At(int index);
  absl::Status Execute();

  Database* db_;
  std::string sql_;
  std::vector<Bind> binds_;
  std::optional<pg::Result> result_;
  int row_ = -1;
};

class Database {
 public:
  // Connects with `conninfo`, every session (also after a reconnection)
  // with search_path set to `schema` (a plain identifier, which the caller
  // checked) and, if `read_only`, every transaction read-only (a write
  // fails with the server's error).
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& conninfo, const std::string& schema,
      bool read_only = false);

  // Runs statements without parameters or rows (DDL, SAVEPOINT).
  absl::Status Exec(const std::string& sql);
  // A statement for `sql` (prepared on the server on first run, kept).
  absl::StatusOr<Statement> Prepare(std::string_view sql) {
    return Statement(this, std::string(sql));
  }
  // Rows changed by the last statement Run.
  int64_t Changes() const { return changes_; }
  // Whether a Transaction of this Database is open.
  bool InTransaction() const { return in_transaction_; }

  pg::Connection& conn() { return *conn_; }
  const std::string& schema() const { return schema_; }

 private:
  friend class Statement;
  friend class Transaction;
  // Outside a transaction, a connection that was lost is replaced before
  // the next statement; inside one it is not (the transaction is gone: its
  // later statements must fail, not run on their own).
  absl::Status ReconnectOutsideTransaction();
  Database(std::unique_ptr<pg::Connection> conn, std::string schema,
           bool read_only)
      : conn_(std::move(conn)),
        schema_(std::move(schema)),
        read_only_(read_only) {}
  std::unique_ptr<pg::Connection> conn_;
  const std::string schema_;
  const bool read_only_;
  int64_t changes_ = 0;
  bool in_transaction_ = false;
};

// A transaction that rolls back unless committed: kWrite is READ COMMITTED
// (pg_storage.h says why that suffices), kRead one snapshot (REPEATABLE
// READ READ ONLY). Begin reconnects a connection that was lost.
class Transaction {
 public:
  enum class Mode { kRead, kWrite };
  static absl::StatusOr<Transaction> Begin(Database& db, Mode mode);
  Transaction(Transaction&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), txn_(std::move(other.txn_)) {}
  ~Transaction();
  // COMMIT; UNAVAILABLE if the connection was lost during it (its outcome
  // is unknown).
  absl::Status Commit();

 private:
  Transaction(Database* db, pg::Transaction txn)
      : db_(db), txn_(std::move(txn)) {}
  Database* db_;  // null once moved from
  pg::Transaction txn_;
};

// Runs `write` so that, if it fails, everything it wrote is undone and the
// open transaction goes on as before: in a SAVEPOINT if a transaction is
// open, else in a transaction of its own.
absl::Status InSavepoint(Database& db,
                         const std::function<absl::Status()>& write);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_DB_H_
