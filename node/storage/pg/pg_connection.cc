#include "node/storage/pg/pg_connection.h"

#include <libpq-fe.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/util/status_macros.h"

namespace cbx::node::pg {
namespace {

// Type OIDs (server/catalog/pg_type_d.h, stable since PostgreSQL 7).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;

constexpr int kBinary = 1;

// Raises synchronous_commit to on if the server's default turned it off: a
// commit this code reports durable must be. Other settings (local,
// remote_write, remote_apply: an operator's choice for a synchronous
// replica) are kept.
constexpr char kDurableCommits[] =
    "SELECT set_config('synchronous_commit', 'on', false) "
    "WHERE current_setting('synchronous_commit') = 'off'";

std::string Message(PGconn* conn) {
  return std::string(absl::StripTrailingAsciiWhitespace(
      conn != nullptr ? PQerrorMessage(conn) : "out of memory"));
}

}  // namespace

std::string Redacted(std::string_view conninfo) {
  char* error = nullptr;
  const std::string copy(conninfo);
  PQconninfoOption* options = PQconninfoParse(copy.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return "<unparseable conninfo>";
  std::vector<std::string> parts;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "password") == 0) {
      parts.push_back("password=<redacted>");
    } else {
      parts.push_back(absl::StrCat(o->keyword, "=", o->val));
    }
  }
  PQconninfoFree(options);
  return absl::StrJoin(parts, " ");
}

absl::Status StatusFromSqlState(std::string_view sqlstate,
                                std::string_view message) {
  const std::string text =
      sqlstate.empty()
          ? std::string(message)
          : absl::StrCat(std::string(message), " (SQLSTATE ",
                         std::string(sqlstate), ")");
  auto is = [&](std::string_view code) { return sqlstate == code; };
  auto in_class = [&](std::string_view cls) {
    return sqlstate.substr(0, cls.size()) == cls;
  };
  if (in_class("08") || is("57P01") || is("57P02") || is("57P03") ||
      is("53300") || is("25006")) {
    return absl::UnavailableError(text);
  }
  if (is("40001") || is("40P01")) return absl::AbortedError(text);
  if (is("23505")) return absl::AlreadyExistsError(text);
  if (in_class("23")) return absl::FailedPreconditionError(text);
  if (in_class("53")) return absl::ResourceExhaustedError(text);
  if (is("XX001") || is("XX002")) return absl::DataLossError(text);
  if (is("42501") || in_class("28")) return absl::PermissionDeniedError(text);
  if (is("57014")) return absl::CancelledError(text);
  return absl::InternalError(text);
}

// --- Params ------------------------------------------------------------------

Params& Params::Int(int64_t value) {
  std::string bytes(8, '\0');
  absl::big_endian::Store64(bytes.data(), static_cast<uint64_t>(value));
  values_.push_back(std::move(bytes));
  nulls_.push_back(false);
  types_.push_back(kInt8Oid);
  return *this;
}

Params& Params::Bytes(std::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  types_.push_back(kByteaOid);
  return *this;
}

Params& Params::Text(std::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  types_.push_back(kTextOid);
  return *this;
}

Params& Params::Null() {
  values_.emplace_back();
  nulls_.push_back(true);
  types_.push_back(0);
  return *this;
}

Params& Params::NullInt() {
  values_.emplace_back();
  nulls_.push_back(true);
  types_.push_back(kInt8Oid);
  return *this;
}

// --- Result ------------------------------------------------------------------

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

Result::~Result() {
  if (result_ != nullptr) PQclear(result_);
}

int Result::rows() const { return PQntuples(result_); }

int64_t Result::affected() const {
  const char* n = PQcmdTuples(result_);
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

bool Result::IsNull(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

int64_t Result::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const char* v = PQgetvalue(result_, row, column);
  switch (PQftype(result_, column)) {
    case kInt8Oid:
      return static_cast<int64_t>(absl::big_endian::Load64(v));
    case kInt4Oid:
      return static_cast<int32_t>(absl::big_endian::Load32(v));
    case kInt2Oid:
      return static_cast<int16_t>(absl::big_endian::Load16(v));
    default:
      return 0;
  }
}

bool Result::Bool(int row, int column) const {
  if (IsNull(row, column) || PQftype(result_, column) != kBoolOid) {
    return false;
  }
  return *PQgetvalue(result_, row, column) != 0;
}

std::string_view Result::View(int row, int column) const {
  return std::string_view(PQgetvalue(result_, row, column),
                          PQgetlength(result_, row, column));
}

// --- Connection --------------------------------------------------------------

Connection::Connection(PGconn* conn, std::string conninfo,
                       std::string session_sql)
    : conn_(conn),
      conninfo_(std::move(conninfo)),
      session_sql_(std::move(session_sql)),
      redacted_(Redacted(conninfo_)) {}

Connection::~Connection() { PQfinish(conn_); }

absl::StatusOr<PGconn*> Connection::Connect(const std::string& conninfo,
                                            const std::string& session_sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL (", Redacted(conninfo),
                     "): ", Message(conn)));
    PQfinish(conn);
    return status;
  }
  for (const char* sql : {kDurableCommits, session_sql.c_str()}) {
    if (*sql == '\0') continue;
    PGresult* result = PQexec(conn, sql);
    const ExecStatusType rs = PQresultStatus(result);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      absl::Status status = StatusFromSqlState(
          state != nullptr ? state : "",
          absl::StrCat("setting up a PostgreSQL session (", Redacted(conninfo),
                       "): ", Message(conn)));
      PQclear(result);
      PQfinish(conn);
      return status;
    }
    PQclear(result);
  }
  return conn;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& conninfo, const std::string& session_sql) {
  ASSIGN_OR_RETURN(PGconn * conn, Connect(conninfo, session_sql));
  return std::unique_ptr<Connection>(
      new Connection(conn, conninfo, session_sql));
}

absl::Status Connection::ResultStatus(PGresult* result,
                                      std::string_view what) const {
  const ExecStatusType rs = PQresultStatus(result);
  if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) return absl::OkStatus();
  const char* state =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                        : nullptr;
  std::string message =
      absl::StrCat(std::string(what.substr(0, 80)),
                   what.size() > 80 ? "..." : "", ": ", Message(conn_));
  // A lost connection often comes without a SQLSTATE.
  if (broken()) {
    return absl::UnavailableError(absl::StrCat(
        "the connection to PostgreSQL (", redacted_, ") was lost: ", message));
  }
  return StatusFromSqlState(state != nullptr ? state : "", message);
}

absl::Status Connection::Exec(const std::string& sql) {
  RETURN_IF_ERROR(ReconnectOutsideTransaction());
  PGresult* result = PQexec(conn_, sql.c_str());
  absl::Status status = ResultStatus(result, sql);
  PQclear(result);
  return status;
}

absl::StatusOr<Result> Connection::Query(const std::string& sql,
                                         const Params& params) {
  RETURN_IF_ERROR(ReconnectOutsideTransaction());
  const int n = static_cast<int>(params.values_.size());
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n, kBinary);
  for (int i = 0; i < n; ++i) {
    values[i] = params.nulls_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  if (params.size() > kMaxPreparedParams) {
    Result result(PQexecParams(conn_, sql.c_str(), n, params.types_.data(),
                               values.data(), lengths.data(), formats.data(),
                               kBinary));
    RETURN_IF_ERROR(ResultStatus(result.result_, sql));
    return result;
  }
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = absl::StrCat("cbx_", prepared_.size());
    Result prepared(
        PQprepare(conn_, name.c_str(), sql.c_str(), n, params.types_.data()));
    RETURN_IF_ERROR(ResultStatus(prepared.result_, sql));
    it = prepared_.emplace(sql, name).first;
  }
  Result result(PQexecPrepared(conn_, it->second.c_str(), n, values.data(),
                               lengths.data(), formats.data(), kBinary));
  RETURN_IF_ERROR(ResultStatus(result.result_, sql));
  return result;
}

bool Connection::broken() const { return PQstatus(conn_) == CONNECTION_BAD; }

absl::Status Connection::PollIdle() {
  // A dying server often sends a notice before it closes the socket: one
  // read consumes the notice, the next meets the end of the stream (each
  // returns at once when nothing is waiting).
  for (int i = 0; i < 3 && !broken(); ++i) {
    if (PQconsumeInput(conn_) == 0) break;
  }
  if (!broken()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("the connection to PostgreSQL (",
                                             redacted_,
                                             ") was lost: ", Message(conn_)));
}

absl::Status Connection::Reconnect() {
  ASSIGN_OR_RETURN(PGconn * conn, Connect(conninfo_, session_sql_));
  PQfinish(conn_);
  conn_ = conn;
  prepared_.clear();  // they lived in the old session
  return absl::OkStatus();
}

absl::Status Connection::ReconnectIfBroken() {
  return broken() ? Reconnect() : absl::OkStatus();
}

// --- Transaction -------------------------------------------------------------

namespace {

std::atomic<CommitFault> injected_commit_fault{CommitFault::kNone};

// Cuts the connection as a network failure would: the server sees the end
// of the stream (and rolls back an open transaction), libpq an error on its
// next read.
void CutConnection(PGconn* conn) { ::shutdown(PQsocket(conn), SHUT_RDWR); }

// The rows of one simple-protocol query (text format), or its error.
absl::StatusOr<std::vector<std::string>> TextRow(PGconn* conn,
                                                 const char* sql) {
  PGresult* result = PQexec(conn, sql);
  absl::StatusOr<std::vector<std::string>> row;
  if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1) {
    row = absl::UnavailableError(Message(conn));
  } else {
    row.emplace();
    for (int i = 0; i < PQnfields(result); ++i) {
      row->push_back(PQgetisnull(result, 0, i) != 0 ? ""
                                                    : PQgetvalue(result, 0, i));
    }
  }
  PQclear(result);
  return row;
}

}  // namespace

void InjectCommitFaultForTesting(CommitFault fault) {
  injected_commit_fault.store(fault);
}

absl::StatusOr<Transaction> Transaction::Begin(Connection& conn, Mode mode) {
  RETURN_IF_ERROR(conn.ReconnectIfBroken());
  if (mode == Mode::kSnapshot) {
    RETURN_IF_ERROR(
        conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    conn.in_transaction_ = true;
    return Transaction(&conn, "", "");
  }
  // One round trip: the id is assigned now (not at the first write), which
  // costs an id for a transaction that writes nothing, never a round trip.
  PGresult* result = PQexec(
      conn.handle(),
      "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; "
      "SELECT pg_current_xact_id()::text, pg_postmaster_start_time()::text");
  absl::Status status = conn.ResultStatus(result, "BEGIN");
  if (status.ok() && PQntuples(result) != 1) {
    status = absl::InternalError("BEGIN: no transaction id");
  }
  if (!status.ok()) {
    PQclear(result);
    // The BEGIN may have run before the SELECT failed.
    if (!conn.broken()) conn.Exec("ROLLBACK").IgnoreError();
    return status;
  }
  Transaction txn(&conn, PQgetvalue(result, 0, 0), PQgetvalue(result, 0, 1));
  PQclear(result);
  conn.in_transaction_ = true;
  return txn;
}

Transaction::~Transaction() {
  if (conn_ == nullptr) return;
  if (!conn_->broken()) conn_->Exec("ROLLBACK").IgnoreError();
  conn_->in_transaction_ = false;
}

absl::Status Transaction::Commit() {
  Connection* conn = std::exchange(conn_, nullptr);
  if (conn == nullptr) {
    return absl::FailedPreconditionError("the transaction has ended");
  }
  conn->in_transaction_ = false;
  const CommitFault fault =
      xid_.empty() ? CommitFault::kNone
                   : injected_commit_fault.exchange(CommitFault::kNone);
  if (fault == CommitFault::kDropBeforeCommit) {
    CutConnection(conn->handle());
    return ResolveLostCommit(*conn);
  }
  // COMMIT of a transaction that failed earlier answers ROLLBACK without
  // an error: check what the server did.
  PGresult* result = PQexec(conn->handle(), "COMMIT");
  if (fault == CommitFault::kLoseAnswer) {
    PQclear(result);
    CutConnection(conn->handle());
    return ResolveLostCommit(*conn);
  }
  absl::Status status;
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    if (conn->broken()) {
      PQclear(result);
      if (!xid_.empty()) return ResolveLostCommit(*conn);
      return absl::UnavailableError(
          absl::StrCat("the connection to PostgreSQL (", conn->redacted(),
                       ") was lost during COMMIT of a read-only transaction"));
    }
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    status =
        StatusFromSqlState(state != nullptr ? state : "",
                           absl::StrCat("COMMIT: ", Message(conn->handle())));
  } else if (std::strcmp(PQcmdStatus(result), "ROLLBACK") == 0) {
    status = absl::AbortedError(
        "COMMIT rolled back: a statement of the transaction had failed");
  }
  PQclear(result);
  return status;
}

// Why a reconnection to the same server in the same run, and nothing less:
// pg_xact_status answers for ids of the server's own history, and another
// server's (a promoted replica's) or a restarted one's may have given the
// id to a different transaction, whose "committed" would be a lie here.
absl::Status Transaction::ResolveLostCommit(Connection& conn) const {
  const std::string what =
      absl::StrCat("the connection to PostgreSQL (", conn.redacted(),
                   ") was lost during COMMIT of transaction ", xid_);
  auto unknown = [&](const std::string& why) {
    return absl::UnknownError(
        absl::StrCat(what, ", and its outcome is unknown: ", why));
  };
  absl::Status reconnected = conn.Reconnect();
  if (!reconnected.ok()) {
    return unknown(
        absl::StrCat("reconnecting failed (", reconnected.message(), ")"));
  }
  absl::StatusOr<std::vector<std::string>> server =
      TextRow(conn.handle(), "SELECT pg_postmaster_start_time()::text");
  if (!server.ok()) return unknown(std::string(server.status().message()));
  if ((*server)[0] != server_started_) {
    return unknown(absl::StrCat(
        "the reconnection reached another server or the same one restarted "
        "(started ",
        (*server)[0], ", not ", server_started_, ")"));
  }
  // xid_ is the server's own decimal text, never input from elsewhere.
  const std::string ask =
      absl::StrCat("SELECT pg_xact_status('", xid_, "'::xid8)");
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(kLostCommitWaitMs);
  while (true) {
    absl::StatusOr<std::vector<std::string>> answer =
        TextRow(conn.handle(), ask.c_str());
    if (!answer.ok()) return unknown(std::string(answer.status().message()));
    const std::string& xact = (*answer)[0];
    if (xact == "committed") return absl::OkStatus();
    if (xact == "aborted") {
      return absl::UnavailableError(
          absl::StrCat(what, "; the server rolled it back: nothing changed"));
    }
    // "in progress": its backend has not yet noticed the lost client.
    if (xact != "in progress" || std::chrono::steady_clock::now() > deadline) {
      return unknown(absl::StrCat("the server says '",
                                  xact.empty() ? "(id no longer known)" : xact,
                                  "'"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace cbx::node::pg
