// PgStorage's bounded deletes for the retention sweep (storage.h,
// "Retention"). Each runs in one write transaction that deletes at most
// `limit` rows through an index (hits_by_time, notifications_by_time,
// replay_by_expiry, the index_changes key, cases' number) and writes
// `then`'s settings; no schema change was needed.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/pg/pg_own_index.h"
#include "node/storage/pg/pg_storage.h"

namespace cbx::node {
namespace {

using pgsql::Database;
using pgsql::IndexState;
using pgsql::Statement;
using pgsql::Transaction;

absl::Status CheckLimit(size_t limit) {
  if (limit == 0) return absl::InvalidArgumentError("a batch limit of 0");
  return absl::OkStatus();
}

absl::Status WriteSettings(Database& db, const SettingWrites& settings) {
  for (const auto& [key, value] : settings) {
    ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO settings (key, value) VALUES ($1, $2) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    RETURN_IF_ERROR(upsert.BindText(1, key).BindBlob(2, value).Run());
  }
  return absl::OkStatus();
}

// Runs `sql` (one DELETE with $1 = the bound and $2 = the limit) and
// `then`'s settings in one write transaction; returns the rows deleted.
absl::StatusOr<int64_t> DeleteBatch(Database& db, const char* sql,
                                    int64_t bound, size_t limit,
                                    const Storage::AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  int64_t n = 0;
  {
    ASSIGN_OR_RETURN(Statement remove, db.Prepare(sql));
    RETURN_IF_ERROR(
        remove.BindInt(1, bound).BindInt(2, static_cast<int64_t>(limit)).Run());
    n = db.Changes();
  }
  RETURN_IF_ERROR(WriteSettings(db, then(n)));
  RETURN_IF_ERROR(txn.Commit());
  return n;
}

}  // namespace

absl::StatusOr<int64_t> PgStorage::DeleteHitsBefore(int64_t before_ms,
                                                    size_t limit,
                                                    const AfterDelete& then) {
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteBatch(*db_,
                     "DELETE FROM hits WHERE id IN (SELECT id FROM hits "
                     "WHERE received_at_ms < $1 ORDER BY received_at_ms, id "
                     "LIMIT NULLIF($2, -1))",
                     before_ms, limit, then);
}

absl::StatusOr<int64_t> PgStorage::DeleteNotificationsBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteBatch(*db_,
                     "DELETE FROM notifications WHERE id IN (SELECT id FROM "
                     "notifications WHERE at_ms < $1 ORDER BY at_ms, id "
                     "LIMIT NULLIF($2, -1))",
                     before_ms, limit, then);
}

// The two withdrawal tables are small (one row per withdrawn reference or
// per closed case and peer) and have no time index, as on SQLite.
absl::StatusOr<int64_t> PgStorage::DeleteWithdrawnReferencesBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteBatch(*db_,
                     "DELETE FROM withdrawn_references WHERE (member, "
                     "case_token) IN (SELECT member, case_token FROM "
                     "withdrawn_references WHERE deleted_at_ms > 0 AND "
                     "withdrawn_at_ms < $1 ORDER BY withdrawn_at_ms, member, "
                     "case_token LIMIT NULLIF($2, -1))",
                     before_ms, limit, then);
}

absl::StatusOr<int64_t> PgStorage::DeleteEndedWithdrawalsBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteBatch(*db_,
                     "DELETE FROM withdrawals WHERE (case_token, member) IN "
                     "(SELECT case_token, member FROM withdrawals WHERE "
                     "next_attempt_ms = 0 AND queued_at_ms < $1 ORDER BY "
                     "queued_at_ms, case_token, member LIMIT NULLIF($2, -1))",
                     before_ms, limit, then);
}

absl::StatusOr<int64_t> PgStorage::DeleteExpiredMessageIds(
    int64_t now_ms, size_t limit, const AfterDelete& then) {
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteBatch(*db_,
                     "DELETE FROM replay WHERE (sender, message_id) IN "
                     "(SELECT sender, message_id FROM replay "
                     "WHERE expires_at_ms < $1 ORDER BY expires_at_ms "
                     "LIMIT NULLIF($2, -1))",
                     now_ms, limit, then);
}

// Walks closed cases by number (the UNIQUE index on number); a closed
// case's record is parsed for its closing time. Tombstones (no identifiers
// left) are looked at again by later sweeps: a cheap row read each, which
// keeps the schema as it is (no closed_at column).
absl::StatusOr<Storage::PurgeProgress> PgStorage::PurgeClosedCases(
    int64_t closed_before_ms, const PageRequest& page,
    const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(page.limit));
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  struct Due {
    int64_t id;
    v1::Case record;
  };
  std::vector<Due> due;
  PurgeProgress progress;
  {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare("SELECT id, number, record FROM cases "
                                "WHERE open = 0 AND number > $1 "
                                "ORDER BY number LIMIT NULLIF($2, -1)"));
    select.BindText(1, page.after).BindInt(2, static_cast<int64_t>(page.limit));
    size_t seen = 0;
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      ++seen;
      progress.next = select.ColumnText(1);
      v1::Case record;
      std::string_view blob = select.ColumnBlobView(2);
      if (!record.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
        return absl::DataLossError("a stored case is damaged");
      }
      if (record.updated_at_ms() >= closed_before_ms) continue;
      due.push_back(Due{select.ColumnInt(0), std::move(record)});
    }
    if (seen < page.limit) progress.next.clear();
  }
  for (Due& d : due) {
    // The outputs of every key generation go with the identifiers (their y
    // and tags are as personal as the values, and the rotation's counts of
    // staged rows must stay those of live identifiers).
    {
      ASSIGN_OR_RETURN(Statement remove,
                       db.Prepare("DELETE FROM outputs WHERE case_id = $1"));
      RETURN_IF_ERROR(remove.BindInt(1, d.id).Run());
    }
    {
      ASSIGN_OR_RETURN(
          Statement remove,
          db.Prepare("DELETE FROM identifiers WHERE case_id = $1"));
      RETURN_IF_ERROR(remove.BindInt(1, d.id).Run());
    }
    // A tombstone already: nothing to strip, nothing to count.
    if (db.Changes() == 0 && d.record.identifiers().empty()) continue;
    d.record.clear_identifiers();
    ASSIGN_OR_RETURN(Statement update,
                     db.Prepare("UPDATE cases SET record = $1 WHERE id = $2"));
    RETURN_IF_ERROR(update.BindBlob(1, d.record.SerializeAsString())
                        .BindInt(2, d.id)
                        .Run());
    ++progress.purged;
  }
  RETURN_IF_ERROR(WriteSettings(db, then(progress.purged)));
  RETURN_IF_ERROR(txn.Commit());
  return progress;
}

absl::StatusOr<int64_t> PgStorage::CompactIndexChangesBounded(
    uint64_t through, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  ASSIGN_OR_RETURN(IndexState state, pgsql::ReadIndexState(db));
  const uint64_t target = std::min(through, state.version);
  int64_t n = 0;
  if (target > state.compacted_through) {
    const uint64_t point =
        std::min<uint64_t>(target, state.compacted_through + limit);
    {
      ASSIGN_OR_RETURN(
          Statement remove,
          db.Prepare("DELETE FROM index_changes WHERE version <= $1"));
      RETURN_IF_ERROR(remove.BindInt(1, static_cast<int64_t>(point)).Run());
      n = db.Changes();
    }
    ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare(
            "UPDATE own_index_state SET compacted_through = $1 WHERE id = 1"));
    RETURN_IF_ERROR(update.BindInt(1, static_cast<int64_t>(point)).Run());
  }
  RETURN_IF_ERROR(WriteSettings(db, then(n)));
  RETURN_IF_ERROR(txn.Commit());
  return n;
}

}  // namespace cbx::node
