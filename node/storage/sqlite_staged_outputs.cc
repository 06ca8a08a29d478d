// SqliteStorage's OPRF key rotation methods (spec/oprf.md §2): the tables
// staged_outputs and previous_outputs of schema version 3
// (sqlite_schema.cc). Kept apart from sqlite_storage.cc, which holds the
// rest of the backend.
#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/page.h"
#include "node/storage/sqlite_own_index.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::node {
namespace {

using sqlite::Database;
using sqlite::Statement;
using sqlite::TagToSql;
using sqlite::Transaction;

absl::Status WriteSettings(Database& db, const SettingWrites& settings) {
  for (const auto& [key, value] : settings) {
    ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    RETURN_IF_ERROR(upsert.BindText(1, key).BindBlob(2, value).Run());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Page<IdentifierKey>> SqliteStorage::ListUnstagedIdentifiers(
    const PageRequest& page) {
  IdentifierCursor after{std::numeric_limits<int64_t>::min(), ""};
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after, ParseIdentifierCursor(page.after));
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Keyset paging on the identifiers_by_value index; one row more than the
  // page tells whether another page follows.
  ASSIGN_OR_RETURN(
      Statement select,
      db_->Prepare(
          "SELECT DISTINCT i.type, i.normalized_value FROM identifiers i "
          "WHERE (i.type, i.normalized_value) > (?1, ?2) AND NOT EXISTS ("
          "  SELECT 1 FROM staged_outputs s WHERE s.type = i.type "
          "  AND s.normalized_value = i.normalized_value) "
          "ORDER BY i.type, i.normalized_value LIMIT ?3"));
  select.BindInt(1, after.type)
      .BindText(2, after.normalized_value)
      .BindInt(3, page.limit == 0 ? -1 : static_cast<int64_t>(page.limit) + 1);
  Page<IdentifierKey> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (page.limit != 0 && out.items.size() == page.limit) {
      const IdentifierKey& last = out.items.back();
      out.next = FormatIdentifierCursor({last.type, last.normalized_value});
      break;
    }
    out.items.push_back({static_cast<v1::IdentifierType>(select.ColumnInt(0)),
                         select.ColumnText(1)});
  }
  return out;
}

absl::Status SqliteStorage::StageOutputs(
    const std::vector<StagedOutput>& outputs, const SettingWrites& settings) {
  for (const StagedOutput& o : outputs) {
    if (o.y.size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("a staged y is 32 bytes, not ", o.y.size()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  for (const StagedOutput& o : outputs) {
    ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO staged_outputs (type, normalized_value, y, "
                   "tag) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (type, "
                   "normalized_value) DO UPDATE SET y = excluded.y, "
                   "tag = excluded.tag"));
    RETURN_IF_ERROR(upsert.BindInt(1, o.key.type)
                        .BindText(2, o.key.normalized_value)
                        .BindBlob(3, o.y)
                        .BindInt(4, TagToSql(o.tag))
                        .Run());
  }
  RETURN_IF_ERROR(WriteSettings(db, settings));
  return txn.Commit();
}

absl::StatusOr<uint64_t> SqliteStorage::CountStagedOutputs() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Statement count,
                   db_->Prepare("SELECT COUNT(*) FROM staged_outputs"));
  ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? static_cast<uint64_t>(count.ColumnInt(0)) : 0;
}

absl::Status SqliteStorage::ClearStagedOutputs() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(*db_, Transaction::Mode::kWrite));
  RETURN_IF_ERROR(db_->Exec("DELETE FROM staged_outputs"));
  return txn.Commit();
}

absl::Status SqliteStorage::PromoteStagedOutputs(
    const SettingWrites& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  {
    ASSIGN_OR_RETURN(
        Statement missing,
        db.Prepare("SELECT COUNT(*) FROM identifiers i WHERE NOT EXISTS ("
                   "  SELECT 1 FROM staged_outputs s WHERE s.type = i.type "
                   "  AND s.normalized_value = i.normalized_value)"));
    ASSIGN_OR_RETURN(bool row, missing.Step());
    if (row && missing.ColumnInt(0) > 0) {
      return absl::AbortedError(
          absl::StrCat(missing.ColumnInt(0),
                       " identifiers have no staged output; stage them and "
                       "retry"));
    }
  }
  RETURN_IF_ERROR(db.Exec(
      "DELETE FROM previous_outputs;"
      "INSERT OR IGNORE INTO previous_outputs (y, type, normalized_value) "
      "  SELECT y, type, normalized_value FROM identifiers;"
      "UPDATE identifiers SET (y, tag) = ("
      "  SELECT s.y, s.tag FROM staged_outputs s WHERE s.type = "
      "  identifiers.type AND s.normalized_value = "
      "  identifiers.normalized_value);"
      "DELETE FROM staged_outputs;"
      "DELETE FROM own_index;"
      "INSERT INTO own_index (tag, refs) SELECT i.tag, COUNT(*) "
      "  FROM identifiers i JOIN cases c ON c.id = i.case_id "
      "  WHERE c.open = 1 GROUP BY i.tag;"
      "DELETE FROM index_changes;"
      "UPDATE own_index_state SET version = version + 1, "
      "  compacted_through = version + 1 WHERE id = 1;"));
  RETURN_IF_ERROR(WriteSettings(db, settings));
  return txn.Commit();
}

absl::StatusOr<std::vector<Bytes>> SqliteStorage::TranslatePreviousOutputs(
    const std::vector<Bytes>& ys) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kRead));
  std::vector<Bytes> out(ys.size());
  for (size_t i = 0; i < ys.size(); ++i) {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT i.y FROM previous_outputs p JOIN identifiers i "
                   "ON i.type = p.type AND i.normalized_value = "
                   "p.normalized_value WHERE p.y = ?1 LIMIT 1"));
    select.BindBlob(1, ys[i]);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) out[i] = select.ColumnBlob(0);
  }
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::Status SqliteStorage::DropPreviousOutputs(const SettingWrites& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  RETURN_IF_ERROR(db.Exec("DELETE FROM previous_outputs"));
  RETURN_IF_ERROR(WriteSettings(db, settings));
  return txn.Commit();
}

}  // namespace cbx::node
