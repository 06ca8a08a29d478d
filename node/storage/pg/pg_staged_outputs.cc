// PgStorage's OPRF key rotation methods (spec/oprf.md §2) on the
// outputs per key generation (pg_schema.cc, as SQLite's version 5): the
// staging generation's outputs and tag set are written a batch at a time
// beside the current ones; the switch flips the generation numbers; the
// rows of a generation no longer in use are deleted in small batches
// afterwards (CollectGarbage). Kept apart from pg_storage.cc, which
// holds the rest of the backend.
#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/page.h"
#include "node/storage/pg/pg_own_index.h"
#include "node/storage/pg/pg_storage.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

using pgsql::Database;
using pgsql::Generations;
using pgsql::Statement;
using pgsql::TagFromSql;
using pgsql::TagToSql;
using pgsql::Transaction;

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

// How many distinct values one ListUnstagedIdentifiers call looks at per
// value it may return, so that a call near the end of a pass (when almost
// every value is staged) stays short: it returns fewer items and a cursor.
constexpr int64_t kScanPerItem = 16;

// Stages one value's output on every identifier row of that value, keeping
// the staging generation's tag set in step; appends the tag set's changes.
absl::Status StageValue(Database& db, int64_t staging, const StagedOutput& o,
                        std::vector<Tag>* removed, std::vector<Tag>* added) {
  std::vector<std::pair<int64_t, int64_t>> rows;
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT i.case_id, i.position, c.open, o.tag FROM "
                   "identifiers i JOIN cases c ON c.id = i.case_id "
                   "LEFT JOIN outputs o ON o.case_id = i.case_id AND "
                   "o.position = i.position AND o.generation = $3 "
                   "WHERE i.type = $1 AND i.normalized_value = $2"));
    select.BindInt(1, o.key.type)
        .BindText(2, o.key.normalized_value)
        .BindInt(3, staging);
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      rows.emplace_back(select.ColumnInt(0), select.ColumnInt(1));
      if (select.ColumnInt(2) == 0) continue;
      if (!select.IsNull(3))
        removed->push_back(TagFromSql(select.ColumnInt(3)));
      added->push_back(o.tag);
    }
  }
  for (const auto& [case_id, position] : rows) {
    ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO outputs (case_id, position, generation, y, "
                   "tag) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, "
                   "position, generation) DO UPDATE SET y = excluded.y, "
                   "tag = excluded.tag"));
    upsert.BindInt(1, case_id)
        .BindInt(2, position)
        .BindInt(3, staging)
        .BindBlob(4, o.y)
        .BindInt(5, TagToSql(o.tag));
    RETURN_IF_ERROR(upsert.Run());
  }
  return absl::OkStatus();
}

// The generation ranges that hold no live generation: between and around
// `live` (ascending), as half-open [low, high) pairs.
std::vector<std::pair<int64_t, int64_t>> DeadRanges(std::vector<int64_t> live) {
  std::sort(live.begin(), live.end());
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t low = std::numeric_limits<int64_t>::min();
  for (int64_t g : live) {
    if (g > low) out.emplace_back(low, g);
    low = g + 1;
  }
  out.emplace_back(low, std::numeric_limits<int64_t>::max());
  return out;
}

// Deletes up to `limit` rows of `table` (keyed by `key`, with a generation
// column) whose generation is in [low, high); returns how many.
absl::StatusOr<int64_t> DeleteGenerations(Database& db, const char* table,
                                          const char* key, int64_t low,
                                          int64_t high, int64_t limit) {
  ASSIGN_OR_RETURN(
      Statement remove,
      db.Prepare(absl::StrCat("DELETE FROM ", table, " WHERE (", key,
                              ") IN (SELECT ", key, " FROM ", table,
                              " WHERE generation >= $1 AND generation < $2 "
                              "LIMIT NULLIF($3, -1))")));
  remove.BindInt(1, low).BindInt(2, high).BindInt(3, limit);
  RETURN_IF_ERROR(remove.Run());
  return db.Changes();
}

}  // namespace

absl::StatusOr<Page<IdentifierKey>> PgStorage::ListUnstagedIdentifiers(
    const PageRequest& page) {
  IdentifierCursor after{std::numeric_limits<int64_t>::min(), ""};
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after, ParseIdentifierCursor(page.after));
  }
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kRead));
  ASSIGN_OR_RETURN(Generations gens, pgsql::ReadGenerations(db));
  // Keyset paging on the identifiers_by_value index (which holds each
  // row's key, so the staged check is a lookup in outputs' primary key); a
  // value is unstaged if one of its rows has no staged output. At most
  // kScanPerItem * limit values are looked at.
  const int64_t scan =
      page.limit == 0 ? -1 : static_cast<int64_t>(page.limit) * kScanPerItem;
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT i.type, i.normalized_value, MIN(CASE WHEN EXISTS ("
                 "  SELECT 1 FROM outputs o WHERE o.case_id = i.case_id AND "
                 "  o.position = i.position AND o.generation = $4) "
                 "  THEN 1 ELSE 0 END) "
                 "FROM identifiers i WHERE (i.type, i.normalized_value) > "
                 "($1, $2) GROUP BY i.type, i.normalized_value "
                 "ORDER BY i.type, i.normalized_value LIMIT NULLIF($3, -1)"));
  select.BindInt(1, after.type)
      .BindText(2, after.normalized_value)
      .BindInt(3, scan)
      .BindInt(4, gens.staging);
  Page<IdentifierKey> out;
  std::optional<IdentifierCursor> last;  // the last value accounted for
  int64_t looked_at = 0;
  bool stopped = false;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ++looked_at;
    IdentifierCursor value{select.ColumnInt(0), select.ColumnText(1)};
    if (select.ColumnInt(2) == 0) {
      if (page.limit != 0 && out.items.size() == page.limit) {
        stopped = true;
        break;
      }
      out.items.push_back({static_cast<v1::IdentifierType>(value.type),
                           value.normalized_value});
    }
    last = std::move(value);
  }
  if ((stopped || (scan > 0 && looked_at == scan)) && last.has_value()) {
    out.next = FormatIdentifierCursor(*last);
  }
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::Status PgStorage::StageOutputs(const std::vector<StagedOutput>& outputs,
                                     const SettingWrites& settings) {
  for (const StagedOutput& o : outputs) {
    if (o.y.size() != kOutputSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("a staged y is 32 bytes, not ", o.y.size()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  ASSIGN_OR_RETURN(Generations gens, pgsql::ReadGenerations(db));
  std::vector<Tag> removed, added;
  for (const StagedOutput& o : outputs) {
    RETURN_IF_ERROR(StageValue(db, gens.staging, o, &removed, &added));
  }
  RETURN_IF_ERROR(pgsql::ApplyStagingTagDeltas(db, gens.staging,
                                               TagDeltas(removed, added)));
  RETURN_IF_ERROR(WriteSettings(db, settings));
  return txn.Commit();
}

absl::StatusOr<uint64_t> PgStorage::CountStagedOutputs() {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kRead));
  ASSIGN_OR_RETURN(Generations gens, pgsql::ReadGenerations(db));
  // A walk of the staged rows: called once when a rotation resumes.
  ASSIGN_OR_RETURN(
      Statement count,
      db.Prepare("SELECT COUNT(*) FROM (SELECT DISTINCT i.type, "
                 "i.normalized_value FROM outputs o JOIN identifiers i ON "
                 "i.case_id = o.case_id AND i.position = o.position "
                 "WHERE o.generation = $1) AS v"));
  count.BindInt(1, gens.staging);
  ASSIGN_OR_RETURN(bool row, count.Step());
  const uint64_t n = row ? static_cast<uint64_t>(count.ColumnInt(0)) : 0;
  RETURN_IF_ERROR(txn.Commit());
  return n;
}

absl::Status PgStorage::ClearStagedOutputs() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A fresh staging generation: the old one's rows are garbage.
    ASSIGN_OR_RETURN(Transaction txn,
                     Transaction::Begin(*db_, Transaction::Mode::kWrite));
    RETURN_IF_ERROR(db_->Exec(
        "UPDATE oprf_generations SET staging = staging + 1 WHERE id = 1"));
    RETURN_IF_ERROR(txn.Commit());
  }
  return CollectGarbage();
}

// O(1) rows written: the generation numbers flip and the index version
// moves on. Whether every identifier row has a staged output is read from
// the counts the triggers keep (identifier_count, output_counts).
absl::Status PgStorage::PromoteStagedOutputs(const SettingWrites& settings) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Database& db = *db_;
    ASSIGN_OR_RETURN(Transaction txn,
                     Transaction::Begin(db, Transaction::Mode::kWrite));
    ASSIGN_OR_RETURN(Generations gens, pgsql::ReadGenerations(db));
    {
      ASSIGN_OR_RETURN(
          Statement missing,
          db.Prepare("SELECT (SELECT rows FROM identifier_count WHERE id = 1) "
                     "- COALESCE((SELECT rows FROM output_counts WHERE "
                     "generation = $1), 0)"));
      missing.BindInt(1, gens.staging);
      ASSIGN_OR_RETURN(bool row, missing.Step());
      if (!row || missing.ColumnInt(0) != 0) {
        return absl::AbortedError(absl::StrCat(
            row ? missing.ColumnInt(0) : -1,
            " identifiers have no staged output; stage them and retry"));
      }
    }
    RETURN_IF_ERROR(db.Exec(
        "UPDATE oprf_generations SET previous = current, current = staging, "
        "  staging = staging + 1 WHERE id = 1;"
        "UPDATE own_index_state SET version = version + 1, "
        "  compacted_through = version + 1 WHERE id = 1;"));
    RETURN_IF_ERROR(WriteSettings(db, settings));
    RETURN_IF_ERROR(txn.Commit());
  }
  // The switch has committed; what is left is deleting rows no read sees
  // any more. A failure here is retried by the next switch, drop or Open.
  (void)CollectGarbage();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Bytes>> PgStorage::TranslatePreviousOutputs(
    const std::vector<Bytes>& ys) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kRead));
  ASSIGN_OR_RETURN(Generations gens, pgsql::ReadGenerations(db));
  std::vector<Bytes> out(ys.size());
  for (size_t i = 0; i < ys.size() && gens.previous.has_value(); ++i) {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT c.y FROM outputs p JOIN outputs c ON c.case_id = "
                   "p.case_id AND c.position = p.position AND c.generation = "
                   "$3 WHERE p.generation = $2 AND p.y = $1 LIMIT 1"));
    select.BindBlob(1, ys[i])
        .BindInt(2, *gens.previous)
        .BindInt(3, gens.current);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) out[i] = select.ColumnBlob(0);
  }
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::Status PgStorage::DropPreviousOutputs(const SettingWrites& settings) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Database& db = *db_;
    ASSIGN_OR_RETURN(Transaction txn,
                     Transaction::Begin(db, Transaction::Mode::kWrite));
    RETURN_IF_ERROR(
        db.Exec("UPDATE oprf_generations SET previous = NULL WHERE id = 1"));
    RETURN_IF_ERROR(WriteSettings(db, settings));
    RETURN_IF_ERROR(txn.Commit());
  }
  (void)CollectGarbage();
  return absl::OkStatus();
}

absl::Status PgStorage::CollectGarbage() {
  while (true) {
    ASSIGN_OR_RETURN(int64_t deleted, CollectGarbageBatch());
    if (deleted == 0) return absl::OkStatus();
    // std::mutex is not fair: without a pause this loop would take the
    // lock again before a waiting caller wakes, and starve it.
    std::this_thread::sleep_for(kGarbagePause);
  }
}

absl::StatusOr<int64_t> PgStorage::CollectGarbageBatch() {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(db, Transaction::Mode::kWrite));
  ASSIGN_OR_RETURN(Generations gens, pgsql::ReadGenerations(db));
  int64_t budget = kGarbageBatch;
  std::vector<int64_t> live = {gens.current, gens.staging};
  if (gens.previous.has_value()) live.push_back(*gens.previous);
  for (const auto& [low, high] : DeadRanges(live)) {
    if (budget <= 0) break;
    ASSIGN_OR_RETURN(
        int64_t n,
        DeleteGenerations(db, "outputs", "case_id, position, generation", low,
                          high, budget));
    budget -= n;
  }
  // Only the current and staging generations have a tag set.
  for (const auto& [low, high] : DeadRanges({gens.current, gens.staging})) {
    if (budget <= 0) break;
    ASSIGN_OR_RETURN(int64_t n,
                     DeleteGenerations(db, "own_index", "generation, tag", low,
                                       high, budget));
    budget -= n;
  }
  if (budget > 0) {
    ASSIGN_OR_RETURN(pgsql::IndexState state, pgsql::ReadIndexState(db));
    ASSIGN_OR_RETURN(
        Statement remove,
        db.Prepare("DELETE FROM index_changes WHERE version IN (SELECT "
                   "version FROM index_changes WHERE version <= $1 LIMIT "
                   "NULLIF($2, -1))"));
    remove.BindInt(1, static_cast<int64_t>(state.compacted_through))
        .BindInt(2, budget);
    RETURN_IF_ERROR(remove.Run());
    budget -= db.Changes();
  }
  RETURN_IF_ERROR(txn.Commit());
  return kGarbageBatch - budget;
}

}  // namespace cbx::node
