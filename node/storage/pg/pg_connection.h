// A thin RAII layer over libpq, the PostgreSQL C client, for the node's
// PostgreSQL backends (the audit log's PgAuditStore; node.db's later): one
// connection, parameterized statements with binary parameters and results
// (bytea travels as raw bytes, never escaped into SQL text), transactions
// that roll back unless committed, and PostgreSQL's SQLSTATE codes mapped
// onto absl status codes (StatusFromSqlState).
//
// Connection settings (a libpq conninfo string or URI) may hold a password:
// nothing here puts a conninfo into a message or a log line except through
// Redacted().
//
// Threading: none of these classes is thread-safe; the owner serializes all
// use of a Connection and of its Results and Transactions (as with
// sqlite::Database).
#ifndef CBX_NODE_STORAGE_PG_PG_CONNECTION_H_
#define CBX_NODE_STORAGE_PG_PG_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace cbx::node::pg {

// `conninfo` (key=value pairs or a postgresql:// URI) as key=value pairs with
// the password's value replaced by "<redacted>" (also a password given in a
// URI's user info or query). A string libpq cannot parse is shown as
// "<unparseable conninfo>": where a password would sit in it is unknown.
std::string Redacted(std::string_view conninfo);

// The status for SQLSTATE `sqlstate` (five characters; "" if the server
// sent none), with `message`:
//   class 08 (connection exception), 57P01..57P03 (the server shutting
//     down or starting), 53300 (too many connections), 25006 (a read-only
//     transaction: connected to a standby) -> UNAVAILABLE, retry (on
//     another host);
//   40001 (serialization failure), 40P01 (deadlock) -> ABORTED, retry the
//     transaction;
//   23505 (unique violation) -> ALREADY_EXISTS; other class 23 (integrity
//     constraints: foreign key, check, not null) -> FAILED_PRECONDITION;
//   53100 (disk full), other class 53 -> RESOURCE_EXHAUSTED;
//   XX001, XX002 (data or index corrupted) -> DATA_LOSS;
//   42501 (insufficient privilege), class 28 (authorization) ->
//     PERMISSION_DENIED;
//   57014 (query canceled) -> CANCELLED;
//   anything else -> INTERNAL.
absl::Status StatusFromSqlState(std::string_view sqlstate,
                                std::string_view message);

// Parameters of one statement, $1 first. Every value is sent in binary
// form with its type, so no value is ever parsed as SQL. The strings are
// copied.
class Params {
 public:
  Params& Int(int64_t value);            // int8
  Params& Bytes(std::string_view value);  // bytea, the raw bytes
  Params& Text(std::string_view value);   // text (UTF-8)
  Params& Null();                        // untyped NULL
  Params& NullInt();                     // NULL of type int8

  size_t size() const { return values_.size(); }

 private:
  friend class Connection;
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<unsigned int> types_;  // Oid
};

// The rows of one statement, in binary format. Columns 0-based.
class Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}
  Result(Result&& other) noexcept
      : result_(std::exchange(other.result_, nullptr)) {}
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result();

  int rows() const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;
  bool IsNull(int row, int column) const;
  // An int2, int4 or int8 column (0 for NULL or another type).
  int64_t Int(int row, int column) const;
  // A bool column.
  bool Bool(int row, int column) const;
  // The raw bytes of a bytea or text column; valid while the Result lives.
  std::string_view View(int row, int column) const;
  std::string String(int row, int column) const {
    return std::string(View(row, column));
  }

 private:
  friend class Connection;
  PGresult* result_;
};

class Connection {
 public:
  // Connects with `conninfo`, then runs `session_sql` (if not empty; e.g.
  // SET search_path), as every reconnection does too. UNAVAILABLE if the
  // server cannot be reached or refuses the connection, with libpq's
  // message and Redacted(conninfo); the error of session_sql otherwise.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& conninfo, const std::string& session_sql = "");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters or rows (schema DDL,
  // SET, BEGIN). Exec and Query first replace a connection that was lost,
  // unless a Transaction of it is open (its later statements must fail,
  // not run on their own): a statement outside a transaction runs on the
  // server the conninfo reaches now (a promoted replica, issue 15).
  absl::Status Exec(const std::string& sql);
  // Runs one statement with `params`; its rows, or its error as
  // StatusFromSqlState (UNAVAILABLE, and broken() true, if the connection
  // was lost). A statement of at most kMaxPreparedParams parameters is
  // prepared on first use and kept for the connection's life (parsed and
  // planned once); larger ones (multi-row INSERTs) are not.
  absl::StatusOr<Result> Query(const std::string& sql,
                               const Params& params = Params());

  // True once the connection to the server was lost (libpq's status bad).
  bool broken() const;
  // For a connection that sits idle (the audit writer's lock session):
  // reads, without waiting, whatever the server sent since, so that a
  // server that closed the connection (stopped, crashed) makes it broken()
  // without a round trip. UNAVAILABLE if it is broken then; OK otherwise
  // (which proves nothing about a server that vanished silently: ask it a
  // query for that).
  absl::Status PollIdle();
  // Replaces the connection with a new one (the same conninfo and session
  // SQL). Keeps the old one and returns the error if that fails.
  absl::Status Reconnect();
  // Reconnect, if broken(); OK otherwise.
  absl::Status ReconnectIfBroken();

  // The conninfo with its password redacted, for messages.
  const std::string& redacted() const { return redacted_; }
  PGconn* handle() const { return conn_; }

 private:
  Connection(PGconn* conn, std::string conninfo, std::string session_sql);
  static absl::StatusOr<PGconn*> Connect(const std::string& conninfo,
                                         const std::string& session_sql);
  absl::Status ResultStatus(PGresult* result, std::string_view what) const;

  static constexpr size_t kMaxPreparedParams = 8;

  friend class Transaction;
  absl::Status ReconnectOutsideTransaction() {
    return in_transaction_ ? absl::OkStatus() : ReconnectIfBroken();
  }

  PGconn* conn_;
  // SQL text -> the name it is prepared under on conn_.
  absl::flat_hash_map<std::string, std::string> prepared_;
  const std::string conninfo_;
  const std::string session_sql_;
  const std::string redacted_;
  // A Transaction of this connection is open.
  bool in_transaction_ = false;
};

// A transaction that rolls back unless committed. kWrite is READ WRITE at
// READ COMMITTED; kSnapshot is READ ONLY at REPEATABLE READ, so that every
// statement until it ends sees one snapshot (as an SQLite read transaction
// does). Begin first reconnects a broken connection.
//
// A kWrite transaction's BEGIN also reads its transaction id (in the same
// round trip), so that a COMMIT whose answer is lost can be resolved: the
// id is the only way to ask the server afterwards what became of it.
class Transaction {
 public:
  enum class Mode { kWrite, kSnapshot };
  static absl::StatusOr<Transaction> Begin(Connection& conn, Mode mode);
  Transaction(Transaction&& other) noexcept
      : conn_(std::exchange(other.conn_, nullptr)),
        xid_(std::move(other.xid_)),
        server_started_(std::move(other.server_started_)) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // COMMIT: durable when OK (with the server's synchronous_commit, which
  // Connection never lowers). A failure the server reports rolled back.
  // If the connection is lost before COMMIT's answer arrives, the server
  // may have committed: a kWrite transaction then reconnects and asks the
  // server (pg_xact_status of its id) and returns
  //   - OK if it committed;
  //   - UNAVAILABLE, saying it was rolled back, if it aborted (nothing
  //     changed; retry);
  //   - UNKNOWN if that cannot be told: the reconnection fails or reaches
  //     another server or the same one restarted (a promoted replica, a
  //     crash: their ids are not the old run's), the server still shows it
  //     in progress after kLostCommitWaitMs, or no longer knows the id.
  //     The caller must not assume either outcome.
  // A kSnapshot transaction writes nothing: its lost COMMIT is UNAVAILABLE.
  absl::Status Commit();

  // How long Commit keeps asking about a lost COMMIT that the server still
  // shows in progress (its backend has not yet noticed the lost client).
  static constexpr int kLostCommitWaitMs = 3000;

 private:
  Transaction(Connection* conn, std::string xid, std::string server_started)
      : conn_(conn),
        xid_(std::move(xid)),
        server_started_(std::move(server_started)) {}
  // What became of transaction xid_ after its COMMIT's answer was lost
  // (see Commit).
  absl::Status ResolveLostCommit(Connection& conn) const;

  Connection* conn_;  // null once committed or rolled back
  // For kWrite (empty for kSnapshot): the transaction id (decimal), and
  // when the server that assigned it started (pg_postmaster_start_time).
  // Ids are only meaningful on that server in that run: a promoted replica,
  // or the same server after a crash, may hand the same id to another
  // transaction.
  std::string xid_;
  std::string server_started_;
};

// Test-only fault injection for the lost COMMIT (tests of Commit's
// resolution and of the node's answers to it). The next Commit of a kWrite
// transaction in this process, and only that one, then:
//   kLoseAnswer: sends COMMIT, waits for the server's answer (so the
//     transaction has committed), then cuts the connection and discards
//     the answer, as if the network had lost it;
//   kDropBeforeCommit: cuts the connection instead of sending COMMIT, so
//     that the server rolls the transaction back when it notices.
// Either way Commit then resolves the outcome as for a real loss.
enum class CommitFault { kNone, kLoseAnswer, kDropBeforeCommit };
void InjectCommitFaultForTesting(CommitFault fault);

}  // namespace cbx::node::pg

#endif  // CBX_NODE_STORAGE_PG_PG_CONNECTION_H_
