#include "node/storage/sqlite_db.h"

#include "absl/strings/str_cat.h"

namespace cbx::node::sqlite {
namespace {

absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace

absl::Status ErrorStatus(int rc, sqlite3* db, std::string_view context) {
  std::string message =
      absl::StrCat(AbslView(context), ": ",
                   db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                   " (", sqlite3_errstr(rc), ", code ", rc, ")");
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
  return ErrorStatus(rc, db_, sqlite3_sql(stmt_));
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

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& path, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serializes use of the connection.
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = ErrorStatus(rc, raw, absl::StrCat("opening ", path));
    sqlite3_close(raw);
    return status;
  }
  std::unique_ptr<Database> db(new Database(raw));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);

  // WAL, so that readers in other processes (an operator's sqlite3 shell,
  // a backup) do not block the node; FULL, so that every commit is synced
  // before it returns (storage.h's durability promise).
  {
    absl::StatusOr<Statement> wal = db->Prepare("PRAGMA journal_mode=WAL");
    if (!wal.ok()) return wal.status();
    absl::StatusOr<bool> row = wal->Step();
    if (!row.ok()) return row.status();
    std::string mode = *row ? wal->ColumnText(0) : std::string();
    if (mode != "wal") {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": cannot use WAL journal mode (got \"", mode, "\")"));
    }
  }
  absl::Status status = db->Exec(
      "PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=ON;"
      "PRAGMA trusted_schema=OFF;");
  if (!status.ok()) return status;
  return db;
}

Database::~Database() {
  statements_.clear();  // finalize before closing
  sqlite3_close(db_);
}

absl::Status Database::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // the same text is in sqlite3_errmsg
  if (rc != SQLITE_OK) return ErrorStatus(rc, db_, sql);
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
  return Statement(db_, it->second.get());
}

int64_t Database::Changes() const { return sqlite3_changes64(db_); }

// --- Transaction -------------------------------------------------------------

absl::StatusOr<Transaction> Transaction::Begin(Database& db, Mode mode) {
  absl::StatusOr<Statement> begin =
      db.Prepare(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!begin.ok()) return begin.status();
  absl::Status status = begin->Run();
  if (!status.ok()) return status;
  return Transaction(&db);
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
  if (status.ok()) db_ = nullptr;  // otherwise the destructor rolls back
  return status;
}

}  // namespace cbx::node::sqlite
