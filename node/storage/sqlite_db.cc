#include "node/storage/sqlite_db.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "node/storage/io_health.h"

namespace cbx::node::sqlite {
namespace {

absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace

bool IsDiskFault(int rc) {
  return (rc & 0xff) == SQLITE_FULL ||
         ((rc & 0xff) == SQLITE_IOERR && rc != SQLITE_IOERR_NOMEM);
}

absl::Status ErrorStatus(int rc, sqlite3* db, std::string_view context) {
  const int last_errno = errno;  // before anything here can change it
  std::string message =
      absl::StrCat(AbslView(context), ": ",
                   db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                   " (", sqlite3_errstr(rc), ", code ", rc, ")");
  // The operator needs "Input/output error" or "No space left on device",
  // not just "disk I/O error". SQLite keeps the errno of some failures
  // (sqlite3_system_errno) but not of a failed COMMIT's fsync; then the
  // thread's errno, which the failed system call set and SQLite's cleanup
  // since (successful calls) left alone, is the best there is.
  if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN) {
    int err = db != nullptr ? sqlite3_system_errno(db) : 0;
    if (err == 0) err = last_errno;
    if (err != 0) absl::StrAppend(&message, ": ", std::strerror(err));
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
          rc == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(message);
      }
      return absl::InternalError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(message);
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

// --- Statement ---------------------------------------------------------------

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::BindInt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                               SQLITE_STATIC, SQLITE_UTF8);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  // A zero-length blob from a null pointer would bind NULL.
  static const char kEmpty = 0;
  int rc =
      sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(),
                          value.size(), SQLITE_STATIC);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return ErrorStatus(bind_error_, db_,
                       absl::StrCat("binding ", sqlite3_sql(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status status = ErrorStatus(rc, db_, sqlite3_sql(stmt_));
  if (owner_ != nullptr) owner_->NoteResult(rc);
  return status;
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), size);
}

Bytes Statement::ColumnBlob(int column) const {
  std::string_view view = ColumnBlobView(column);
  return Bytes(view.data(), view.size());
}

std::string_view Statement::ColumnBlobView(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(data), size);
}

// --- Database ----------------------------------------------------------------

absl::StatusOr<sqlite3*> Database::OpenConnection(const std::string& path,
                                                  int busy_timeout_ms,
                                                  const std::string& vfs) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serializes use of the connection.
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      // URI: SqliteStorage's read-only open passes "file:...?mode=ro".
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
          SQLITE_OPEN_URI,
      vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    absl::Status status = ErrorStatus(rc, raw, absl::StrCat("opening ", path));
    sqlite3_close(raw);
    return status;
  }
  // Closes `raw` on every early return below.
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> owned(raw, &sqlite3_close);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // A read-only open (SqliteStorage::Options::read_only, a "file:" URI with
  // mode=ro or immutable=1) changes no journal mode and writes nothing.
  if (sqlite3_db_readonly(raw, "main") == 1) return owned.release();

  // WAL, so that readers in other processes (an operator's sqlite3 shell,
  // a backup) do not block the node; FULL, so that every commit is synced
  // before it returns (storage.h's durability promise).
  sqlite3_stmt* wal = nullptr;
  rc = sqlite3_prepare_v2(raw, "PRAGMA journal_mode=WAL", -1, &wal, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, raw, "PRAGMA journal_mode=WAL");
  rc = sqlite3_step(wal);
  std::string mode;
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(wal, 0);
    if (text != nullptr) mode = reinterpret_cast<const char*>(text);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    absl::Status status = ErrorStatus(rc, raw, "PRAGMA journal_mode=WAL");
    sqlite3_finalize(wal);
    return status;
  }
  sqlite3_finalize(wal);
  if (mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": cannot use WAL journal mode (got \"", mode, "\")"));
  }
  char* error = nullptr;
  rc = sqlite3_exec(raw,
                    "PRAGMA synchronous=FULL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA trusted_schema=OFF;",
                    nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return ErrorStatus(rc, raw, "setting the pragmas");
  return owned.release();
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& path, int busy_timeout_ms, const std::string& vfs) {
  absl::StatusOr<sqlite3*> raw = OpenConnection(path, busy_timeout_ms, vfs);
  if (!raw.ok()) return raw.status();
  return std::unique_ptr<Database>(
      new Database(*raw, path, busy_timeout_ms, vfs));
}

absl::Status Database::ExecOnEveryConnection(const std::string& sql) {
  absl::Status status = Exec(sql);
  if (status.ok()) session_sql_.push_back(sql);
  return status;
}

// Why a new connection rather than retrying on this one (the PostgreSQL
// fsync lesson, spec/storage-faults.md): after a failed write or fsync, what
// this connection holds in memory (pages it changed, its view of the WAL)
// may not be what the disk holds, and a later fsync that succeeds says
// nothing about the data of the one that failed. A fresh connection reads
// the file as it is.
absl::Status Database::Reopen() {
  absl::StatusOr<sqlite3*> raw = OpenConnection(path_, busy_timeout_ms_, vfs_);
  if (!raw.ok()) return raw.status();
  for (const std::string& sql : session_sql_) {
    char* error = nullptr;
    const int rc = sqlite3_exec(*raw, sql.c_str(), nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) {
      absl::Status status = ErrorStatus(rc, *raw, sql);
      sqlite3_close(*raw);
      return status;
    }
  }
  statements_.clear();  // finalize before closing
  sqlite3_close(db_);
  db_ = *raw;
  faulted_ = false;
  return absl::OkStatus();
}

absl::Status Database::ReopenIfFaulted() {
  if (!faulted_) return absl::OkStatus();
  return Reopen();
}

void Database::NoteResult(int rc) {
  if (!IsDiskFault(rc)) return;
  faulted_ = true;
  // A failed read alone (SQLITE_IOERR_READ and the like) is not reported:
  // nothing acknowledged is at stake, and a read-only connection would
  // never clear it. The connection is replaced all the same.
  const bool write = (rc & 0xff) == SQLITE_FULL || rc == SQLITE_IOERR ||
                     rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
                     rc == SQLITE_IOERR_DIR_FSYNC ||
                     rc == SQLITE_IOERR_TRUNCATE;
  if (!write) return;
  reported_ = true;
  IoHealth::Get().Failed(path_, ErrorStatus(rc, db_, "writing"));
}

void Database::NoteWriteSucceeded() {
  if (!reported_) return;
  reported_ = false;
  IoHealth::Get().Succeeded(path_);
}

Database::~Database() {
  statements_.clear();  // finalize before closing
  sqlite3_close(db_);
}

absl::Status Database::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // the same text is in sqlite3_errmsg
  if (rc != SQLITE_OK) {
    absl::Status status = ErrorStatus(rc, db_, sql);
    NoteResult(rc);
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(std::string_view sql) {
  auto it = statements_.find(AbslView(sql));
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return ErrorStatus(rc, db_, absl::StrCat("preparing ", AbslView(sql)));
    }
    it = statements_
             .emplace(std::string(sql),
                      std::unique_ptr<sqlite3_stmt, Finalize>(stmt))
             .first;
  }
  return Statement(db_, it->second.get(), this);
}

int64_t Database::Changes() const { return sqlite3_changes64(db_); }

// --- Transaction -------------------------------------------------------------

absl::StatusOr<Transaction> Transaction::Begin(Database& db, Mode mode) {
  if (absl::Status reopened = db.ReopenIfFaulted(); !reopened.ok()) {
    return reopened;
  }
  absl::StatusOr<Statement> begin =
      db.Prepare(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!begin.ok()) return begin.status();
  absl::Status status = begin->Run();
  if (!status.ok()) return status;
  return Transaction(&db, mode);
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  // A failed statement may already have ended the transaction (SQLite rolls
  // back by itself on some I/O errors); roll back only if one is open.
  if (!sqlite3_get_autocommit(db_->handle())) {
    absl::StatusOr<Statement> rollback = db_->Prepare("ROLLBACK");
    if (rollback.ok()) rollback->Run().IgnoreError();
  }
}

absl::Status Transaction::Commit() {
  absl::StatusOr<Statement> commit = db_->Prepare("COMMIT");
  absl::Status status = commit.ok() ? commit->Run() : commit.status();
  if (status.ok()) {
    if (mode_ == Mode::kWrite) db_->NoteWriteSucceeded();
    db_ = nullptr;  // otherwise the destructor rolls back
  }
  return status;
}

}  // namespace cbx::node::sqlite
