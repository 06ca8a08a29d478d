#include "node/storage/pg/pg_db.h"

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::pgsql {

// --- Statement ---------------------------------------------------------------

Statement::Bind& Statement::At(int index) {
  if (static_cast<int>(binds_.size()) < index) binds_.resize(index);
  return binds_[index - 1];
}

Statement& Statement::BindInt(int index, int64_t value) {
  Bind& b = At(index);
  b.kind = Kind::kInt;
  b.number = value;
  return *this;
}

Statement& Statement::BindNull(int index) {
  At(index).kind = Kind::kNull;
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  Bind& b = At(index);
  b.kind = Kind::kText;
  b.bytes.assign(value);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  Bind& b = At(index);
  b.kind = Kind::kBlob;
  b.bytes.assign(value);
  return *this;
}

absl::Status Statement::Execute() {
  pg::Params params;
  for (size_t i = 0; i < binds_.size(); ++i) {
    const Bind& b = binds_[i];
    switch (b.kind) {
      case Kind::kUnbound:
        // As in SQLite, an unbound parameter is NULL. Typed, so that a
        // statement built with only some of its conditions (a listing's
        // filters) may leave out the ones it does not use.
        params.NullInt();
        break;
      case Kind::kInt:
        params.Int(b.number);
        break;
      case Kind::kText:
        params.Text(b.bytes);
        break;
      case Kind::kBlob:
        params.Bytes(b.bytes);
        break;
      case Kind::kNull:
        params.Null();
        break;
    }
  }
  RETURN_IF_ERROR(db_->ReconnectOutsideTransaction());
  ASSIGN_OR_RETURN(pg::Result result, db_->conn().Query(sql_, params));
  result_.emplace(std::move(result));
  db_->changes_ = result_->affected();
  row_ = -1;
  return absl::OkStatus();
}

absl::StatusOr<bool> Statement::Step() {
  if (!result_.has_value()) RETURN_IF_ERROR(Execute());
  if (row_ < result_->rows()) ++row_;
  return row_ < result_->rows();
}

absl::Status Statement::Run() { return Execute(); }

bool Statement::IsNull(int column) const {
  return result_->IsNull(row_, column);
}

int64_t Statement::ColumnInt(int column) const {
  return result_->Int(row_, column);
}

std::string Statement::ColumnText(int column) const {
  return IsNull(column) ? std::string() : result_->String(row_, column);
}

Bytes Statement::ColumnBlob(int column) const { return ColumnText(column); }

std::string_view Statement::ColumnBlobView(int column) const {
  return IsNull(column) ? std::string_view() : result_->View(row_, column);
}

// --- Database ----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& conninfo, const std::string& schema, bool read_only) {
  std::string session = absl::StrCat("SET search_path TO ", schema);
  if (read_only) session += "; SET default_transaction_read_only = on";
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn,
                   pg::Connection::Open(conninfo, session));
  return std::unique_ptr<Database>(
      new Database(std::move(conn), schema, read_only));
}

absl::Status Database::Exec(const std::string& sql) {
  RETURN_IF_ERROR(ReconnectOutsideTransaction());
  return conn_->Exec(sql);
}

absl::Status Database::ReconnectOutsideTransaction() {
  return in_transaction_ ? absl::OkStatus() : conn_->ReconnectIfBroken();
}

// --- Transaction -------------------------------------------------------------

absl::StatusOr<Transaction> Transaction::Begin(Database& db, Mode mode) {
  // A read-only Database's writes begin READ ONLY too (BEGIN ... READ
  // WRITE would override the session's default), so that they fail.
  ASSIGN_OR_RETURN(pg::Transaction txn,
                   pg::Transaction::Begin(
                       db.conn(), mode == Mode::kWrite && !db.read_only_
                                      ? pg::Transaction::Mode::kWrite
                                      : pg::Transaction::Mode::kSnapshot));
  db.in_transaction_ = true;
  return Transaction(&db, std::move(txn));
}

Transaction::~Transaction() {
  if (db_ != nullptr) db_->in_transaction_ = false;  // ~txn_ rolls back
}

absl::Status Transaction::Commit() {
  absl::Status status = txn_.Commit();
  if (db_ != nullptr) db_->in_transaction_ = false;
  return status;
}

absl::Status InSavepoint(Database& db,
                         const std::function<absl::Status()>& write) {
  if (!db.InTransaction()) {
    ASSIGN_OR_RETURN(Transaction txn,
                     Transaction::Begin(db, Transaction::Mode::kWrite));
    RETURN_IF_ERROR(write());  // ~Transaction rolls back
    return txn.Commit();
  }
  RETURN_IF_ERROR(db.Exec("SAVEPOINT cbx_write"));
  absl::Status status = write();
  if (status.ok()) return db.Exec("RELEASE cbx_write");
  // Best effort: if even this fails, the transaction is aborted and its
  // COMMIT fails, so nothing of it is kept.
  (void)db.Exec("ROLLBACK TO cbx_write; RELEASE cbx_write");
  return status;
}

}  // namespace cbx::node::pgsql
