#include "node/storage/pg/pg_storage.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/page.h"
#include "node/storage/pg/pg_cooperation.h"
#include "node/storage/pg/pg_own_index.h"
#include "node/storage/pg/pg_peer_index.h"
#include "node/storage/pg/pg_schema.h"
#include "node/storage/pg/pg_watches.h"
#include "node/storage/pg/pg_withdrawals.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

using pgsql::Database;
using pgsql::IndexState;
using pgsql::Statement;
using pgsql::TagFromSql;
using pgsql::TagToSql;
using pgsql::Transaction;

absl::StatusOr<Transaction> BeginWrite(Database& db) {
  return Transaction::Begin(db, Transaction::Mode::kWrite);
}
absl::StatusOr<Transaction> BeginRead(Database& db) {
  return Transaction::Begin(db, Transaction::Mode::kRead);
}

// Whether `s` is a serialization failure or a deadlock: the transaction
// was rolled back and may simply be run again.
bool IsConflict(const absl::Status& s) {
  return absl::IsAborted(s) &&
         (absl::StrContains(s.message(), "SQLSTATE 40001") ||
          absl::StrContains(s.message(), "SQLSTATE 40P01"));
}

// Runs `attempt` (one whole transaction, with no effect outside storage)
// again after a conflict, at most kAttempts times in all. With READ
// COMMITTED and one connection a conflict needs another session writing
// the same rows (an operator's script): rare, and worth one more try.
constexpr int kAttempts = 3;
absl::Status Retrying(const std::function<absl::Status()>& attempt) {
  absl::Status status;
  for (int i = 0; i < kAttempts; ++i) {
    status = attempt();
    if (!IsConflict(status)) break;
  }
  return status;
}

template <typename Message>
absl::StatusOr<Message> ParseRow(std::string_view blob, const char* what) {
  Message message;
  if (!message.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError(absl::StrCat("a stored ", what, " is damaged"));
  }
  return message;
}

// --- Cases -------------------------------------------------------------------

// One identifier row's output under one generation.
absl::Status InsertOutput(Database& db, int64_t case_id, int64_t position,
                          int64_t generation, const Bytes& y, Tag tag) {
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO outputs (case_id, position, "
                              "generation, y, tag) VALUES ($1, $2, $3, $4, "
                              "$5) ON CONFLICT (case_id, position, "
                              "generation) DO UPDATE SET y = excluded.y, "
                              "tag = excluded.tag"));
  insert.BindInt(1, case_id)
      .BindInt(2, position)
      .BindInt(3, generation)
      .BindBlob(4, y)
      .BindInt(5, TagToSql(tag));
  return insert.Run();
}

// The identifier rows and their outputs under the current generation.
absl::Status InsertIdentifiers(Database& db, int64_t case_id,
                               const std::vector<StoredIdentifier>& ids,
                               int64_t current) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const StoredIdentifier& id = ids[i];
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO identifiers (case_id, position, "
                                "type, normalized_value, observed_from_ms, "
                                "observed_to_ms) "
                                "VALUES ($1, $2, $3, $4, $5, $6)"));
    insert.BindInt(1, case_id)
        .BindInt(2, static_cast<int64_t>(i))
        .BindInt(3, id.type)
        .BindText(4, id.normalized_value)
        .BindInt(5, id.observed_from_ms)
        .BindInt(6, id.observed_to_ms);
    RETURN_IF_ERROR(insert.Run());
    RETURN_IF_ERROR(InsertOutput(db, case_id, static_cast<int64_t>(i), current,
                                 id.y, id.tag));
  }
  return absl::OkStatus();
}

// An output (y, tag) by identifier value (type, normalized value).
using ValueKey = std::pair<int64_t, std::string>;
using OutputsByValue = std::map<ValueKey, std::pair<Bytes, Tag>>;

// The staged output of a value some other identifier row already has.
absl::StatusOr<std::optional<std::pair<Bytes, Tag>>> StagedOutputOf(
    Database& db, int64_t staging, const StoredIdentifier& id) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT o.y, o.tag FROM identifiers i JOIN outputs o ON "
                 "o.case_id = i.case_id AND o.position = i.position AND "
                 "o.generation = $3 WHERE i.type = $1 AND "
                 "i.normalized_value = $2 LIMIT 1"));
  select.BindInt(1, id.type)
      .BindText(2, id.normalized_value)
      .BindInt(3, staging);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<std::pair<Bytes, Tag>>();
  return std::optional<std::pair<Bytes, Tag>>(
      {select.ColumnBlob(0), TagFromSql(select.ColumnInt(1))});
}

// The outputs of a case's new identifier rows under the staging and the
// previous generation: those its old rows of the same value had
// (`staged`, `previous`), else (staging only) another row's of that value.
// A row whose value has no staged output anywhere is left without one (the
// rotation stages it: ListUnstagedIdentifiers). Appends the staged tags of
// the rows to `*staged_tags`.
absl::Status InsertOtherGenerations(
    Database& db, const pgsql::Generations& gens, int64_t case_id,
    const std::vector<StoredIdentifier>& ids, const OutputsByValue& staged,
    const OutputsByValue& previous, std::vector<Tag>* staged_tags) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const ValueKey key{ids[i].type, ids[i].normalized_value};
    const int64_t position = static_cast<int64_t>(i);
    std::optional<std::pair<Bytes, Tag>> out;
    if (auto it = staged.find(key); it != staged.end()) {
      out = it->second;
    } else {
      ASSIGN_OR_RETURN(out, StagedOutputOf(db, gens.staging, ids[i]));
    }
    if (out.has_value()) {
      RETURN_IF_ERROR(InsertOutput(db, case_id, position, gens.staging,
                                   out->first, out->second));
      staged_tags->push_back(out->second);
    }
    if (auto it = previous.find(key);
        gens.previous.has_value() && it != previous.end()) {
      RETURN_IF_ERROR(InsertOutput(db, case_id, position, *gens.previous,
                                   it->second.first, it->second.second));
    }
  }
  return absl::OkStatus();
}

// Inserts the case row and its identifier rows with their current outputs;
// returns the case's row id.
absl::StatusOr<int64_t> InsertCase(Database& db, const StoredCase& c,
                                   int64_t current) {
  const std::string record = c.record.SerializeAsString();
  int64_t case_id = 0;
  {
    ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare(
            "INSERT INTO cases (number, open, record, office) VALUES ($1, "
            "$2, $3, $4) ON CONFLICT (number) DO NOTHING RETURNING id"));
    insert.BindText(1, c.record.case_number())
        .BindInt(2, IsOpen(c.record) ? 1 : 0)
        .BindBlob(3, record)
        .BindText(4, c.record.office());
    ASSIGN_OR_RETURN(bool row, insert.Step());
    if (!row) {
      return absl::AlreadyExistsError(
          absl::StrCat("case ", c.record.case_number(), " already exists"));
    }
    case_id = insert.ColumnInt(0);
  }
  RETURN_IF_ERROR(pgsql::RecordCaseToken(db, c.record.case_token(), case_id));
  RETURN_IF_ERROR(InsertIdentifiers(db, case_id, c.identifiers, current));
  return case_id;
}

// Reads the identifier in the current row of `stmt` from column `first`:
// type, normalized_value, observed_from_ms, observed_to_ms, y, tag.
StoredIdentifier ReadIdentifier(const Statement& stmt, int first) {
  StoredIdentifier id;
  id.type = static_cast<v1::IdentifierType>(stmt.ColumnInt(first));
  id.normalized_value = stmt.ColumnText(first + 1);
  id.observed_from_ms = stmt.ColumnInt(first + 2);
  id.observed_to_ms = stmt.ColumnInt(first + 3);
  id.y = stmt.ColumnBlob(first + 4);
  id.tag = TagFromSql(stmt.ColumnInt(first + 5));
  return id;
}

// AddCase's writes, inside the caller's write transaction; `c` is valid.
absl::Status AddCaseIn(Database& db, const StoredCase& c) {
  ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(db));
  ASSIGN_OR_RETURN(int64_t case_id, InsertCase(db, c, gens.current));
  std::vector<Tag> staged_tags;
  RETURN_IF_ERROR(InsertOtherGenerations(db, gens, case_id, c.identifiers, {},
                                         {}, &staged_tags));
  RETURN_IF_ERROR(
      pgsql::ApplyTagDeltas(db, gens.current, TagDeltas({}, OpenTags(c))));
  if (!IsOpen(c.record)) return absl::OkStatus();
  return pgsql::ApplyStagingTagDeltas(db, gens.staging,
                                      TagDeltas({}, staged_tags));
}

// A case's identifier rows' outputs under the current, staging and
// previous generations, read before UpdateCase replaces the rows.
struct OldOutputs {
  std::vector<Tag> current_tags;
  std::vector<Tag> staged_tags;
  OutputsByValue staged;
  OutputsByValue previous;
};
absl::StatusOr<OldOutputs> ReadOldOutputs(Database& db,
                                          const pgsql::Generations& gens,
                                          int64_t case_id) {
  OldOutputs old;
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT i.type, i.normalized_value, o.generation, o.y, "
                 "o.tag FROM identifiers i JOIN outputs o ON o.case_id = "
                 "i.case_id AND o.position = i.position WHERE i.case_id = $1"));
  select.BindInt(1, case_id);
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    const ValueKey key{select.ColumnInt(0), select.ColumnText(1)};
    const int64_t generation = select.ColumnInt(2);
    const Tag tag = TagFromSql(select.ColumnInt(4));
    if (generation == gens.current) {
      old.current_tags.push_back(tag);
    } else if (generation == gens.staging) {
      old.staged_tags.push_back(tag);
      old.staged[key] = {select.ColumnBlob(3), tag};
    } else if (generation == gens.previous) {
      old.previous[key] = {select.ColumnBlob(3), tag};
    }
  }
  return old;
}

// UpdateCase's writes, inside the caller's write transaction; `c` is valid.
// The new identifier rows keep the staged and previous outputs the old rows
// of the same value had.
absl::Status UpdateCaseIn(Database& db, const StoredCase& c) {
  ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(db));
  int64_t case_id = 0;
  bool was_open = false;
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT id, open FROM cases WHERE number = $1"));
    select.BindText(1, c.record.case_number());
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) {
      return absl::NotFoundError(
          absl::StrCat("no case ", c.record.case_number()));
    }
    case_id = select.ColumnInt(0);
    was_open = select.ColumnInt(1) != 0;
  }
  ASSIGN_OR_RETURN(OldOutputs old, ReadOldOutputs(db, gens, case_id));
  if (!was_open) {
    old.current_tags.clear();
    old.staged_tags.clear();
  }
  for (const char* sql : {"DELETE FROM outputs WHERE case_id = $1",
                          "DELETE FROM identifiers WHERE case_id = $1"}) {
    ASSIGN_OR_RETURN(Statement remove, db.Prepare(sql));
    RETURN_IF_ERROR(remove.BindInt(1, case_id).Run());
  }
  const std::string record = c.record.SerializeAsString();
  {
    ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE cases SET open = $2, record = $3 WHERE id = $1"));
    update.BindInt(1, case_id)
        .BindInt(2, IsOpen(c.record) ? 1 : 0)
        .BindBlob(3, record);
    RETURN_IF_ERROR(update.Run());
  }
  RETURN_IF_ERROR(InsertIdentifiers(db, case_id, c.identifiers, gens.current));
  std::vector<Tag> staged_tags;
  RETURN_IF_ERROR(InsertOtherGenerations(db, gens, case_id, c.identifiers,
                                         old.staged, old.previous,
                                         &staged_tags));
  if (!IsOpen(c.record)) staged_tags.clear();
  RETURN_IF_ERROR(pgsql::ApplyTagDeltas(
      db, gens.current, TagDeltas(old.current_tags, OpenTags(c))));
  return pgsql::ApplyStagingTagDeltas(db, gens.staging,
                                      TagDeltas(old.staged_tags, staged_tags));
}

// GetCase's reads, inside the caller's transaction.
absl::StatusOr<StoredCase> GetCaseIn(Database& db, const std::string& number) {
  StoredCase c;
  int64_t case_id = 0;
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT id, record FROM cases WHERE number = $1"));
    select.BindText(1, number);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("no case ", number));
    case_id = select.ColumnInt(0);
    ASSIGN_OR_RETURN(c.record,
                     ParseRow<v1::Case>(select.ColumnBlobView(1), "case"));
  }
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT i.type, i.normalized_value, i.observed_from_ms, "
                   "i.observed_to_ms, o.y, o.tag FROM identifiers i "
                   "LEFT JOIN outputs o ON o.case_id = i.case_id AND "
                   "o.position = i.position AND o.generation = $2 "
                   "WHERE i.case_id = $1 ORDER BY i.position"));
    ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(db));
    select.BindInt(1, case_id).BindInt(2, gens.current);
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      c.identifiers.push_back(ReadIdentifier(select, 0));
    }
  }
  return c;
}

// FindByOutputs' reads, inside the caller's transaction.
absl::StatusOr<std::vector<OutputMatch>> FindByOutputsIn(
    Database& db, const std::vector<Bytes>& ys) {
  std::vector<OutputMatch> matches;
  if (ys.empty()) return matches;
  ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(db));
  for (const Bytes& y : ys) {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT c.number, i.type, i.normalized_value, "
                   "i.observed_from_ms, i.observed_to_ms, o.y, o.tag "
                   "FROM outputs o JOIN identifiers i ON i.case_id = "
                   "o.case_id AND i.position = o.position "
                   "JOIN cases c ON c.id = o.case_id "
                   "WHERE o.generation = $2 AND o.y = $1 AND c.open = 1 "
                   "ORDER BY c.number, i.position"));
    select.BindBlob(1, y).BindInt(2, gens.current);
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      OutputMatch& m = matches.emplace_back();
      m.y = y;
      m.case_number = select.ColumnText(0);
      m.identifier = ReadIdentifier(select, 1);
    }
  }
  return matches;
}

// The hit and its row of hit_tokens (pg_withdrawals.h) together, all or
// nothing.
absl::Status InsertHit(Database& db, const v1::Hit& hit) {
  const std::string blob = hit.SerializeAsString();
  return pgsql::InSavepoint(db, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO hits (case_number, "
                                "received_at_ms, hit) VALUES ($1, $2, $3) "
                                "RETURNING id"));
    insert.BindText(1, hit.case_number())
        .BindInt(2, hit.received_at_ms())
        .BindBlob(3, blob);
    ASSIGN_OR_RETURN(bool row, insert.Step());
    if (!row) return absl::InternalError("INSERT INTO hits returned no id");
    return pgsql::InsertHitToken(db, insert.ColumnInt(0), hit);
  });
}

absl::Status InsertNotification(Database& db, const v1::Notification& n) {
  const std::string blob = n.SerializeAsString();
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO notifications (case_number, "
                              "at_ms, notification) VALUES ($1, $2, $3)"));
  insert.BindText(1, n.case_number()).BindInt(2, n.at_ms()).BindBlob(3, blob);
  return insert.Run();
}

absl::StatusOr<std::optional<Bytes>> ReadSetting(Database& db,
                                                 const std::string& key) {
  ASSIGN_OR_RETURN(Statement select,
                   db.Prepare("SELECT value FROM settings WHERE key = $1"));
  select.BindText(1, key);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<Bytes>();
  return std::optional<Bytes>(select.ColumnBlob(0));
}

absl::Status WriteSetting(Database& db, const std::string& key,
                          const Bytes& value) {
  ASSIGN_OR_RETURN(
      Statement upsert,
      db.Prepare("INSERT INTO settings (key, value) VALUES ($1, $2) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  return upsert.BindText(1, key).BindBlob(2, value).Run();
}

absl::StatusOr<bool> ChargeQuotaIn(Database& db, const std::string& member,
                                   int64_t day, uint32_t count, uint32_t limit,
                                   uint64_t* used);

// The transaction a ReadWriteTransaction body is given. Runs on the
// storage's connection while ReadWriteTransaction holds its mutex. Each
// write runs in a SAVEPOINT: in PostgreSQL a failed statement aborts the
// whole transaction, where the contract wants a refused write to undo only
// itself (as SQLite's statement rollback does).
class PgTxn final : public StorageTransaction {
 public:
  explicit PgTxn(Database& db) : db_(db) {}

  absl::StatusOr<StoredCase> GetCase(const std::string& number) override {
    return GetCaseIn(db_, number);
  }
  absl::Status AddCase(const StoredCase& c) override {
    RETURN_IF_ERROR(ValidateCase(c));
    return pgsql::InSavepoint(db_, [&] { return AddCaseIn(db_, c); });
  }
  absl::Status UpdateCase(const StoredCase& c) override {
    RETURN_IF_ERROR(ValidateCase(c));
    return pgsql::InSavepoint(db_, [&] { return UpdateCaseIn(db_, c); });
  }
  absl::StatusOr<std::vector<OutputMatch>> FindByOutputs(
      const std::vector<Bytes>& ys) override {
    return FindByOutputsIn(db_, ys);
  }
  absl::StatusOr<uint64_t> OwnIndexVersion() override {
    ASSIGN_OR_RETURN(IndexState state, pgsql::ReadIndexState(db_));
    return state.version;
  }
  absl::Status AddHit(const v1::Hit& hit) override {
    return InsertHit(db_, hit);
  }
  absl::Status AddNotification(const v1::Notification& n) override {
    return pgsql::InSavepoint(db_, [&] { return InsertNotification(db_, n); });
  }
  absl::StatusOr<uint32_t> ChargeQuota(const std::string& member, int64_t day,
                                       uint32_t count,
                                       uint32_t limit) override {
    uint64_t used = 0;
    bool charged = false;
    RETURN_IF_ERROR(pgsql::InSavepoint(db_, [&]() -> absl::Status {
      ASSIGN_OR_RETURN(charged,
                       ChargeQuotaIn(db_, member, day, count, limit, &used));
      return absl::OkStatus();
    }));
    if (!charged) {
      return absl::ResourceExhaustedError(
          absl::StrCat(member, " has used ", used, " of ", limit, " for day ",
                       day, "; ", count, " more would exceed it"));
    }
    return static_cast<uint32_t>(used + count);
  }
  absl::StatusOr<std::optional<Bytes>> GetSetting(
      const std::string& key) override {
    return ReadSetting(db_, key);
  }
  absl::Status PutSetting(const std::string& key, const Bytes& value) override {
    return pgsql::InSavepoint(db_,
                              [&] { return WriteSetting(db_, key, value); });
  }
  absl::StatusOr<StoredCase> GetCaseByToken(const Bytes& token) override {
    ASSIGN_OR_RETURN(std::string number, pgsql::CaseNumberByToken(db_, token));
    return GetCaseIn(db_, number);
  }
  absl::Status PutCooperation(const v1::CooperationRecord& r) override {
    return pgsql::InSavepoint(db_,
                              [&] { return pgsql::PutCooperationIn(db_, r); });
  }
  absl::StatusOr<v1::CooperationRecord> GetCooperation(
      const std::string& id) override {
    return pgsql::GetCooperationIn(db_, id);
  }

  // Standing watches: node/storage/sqlite_watches.cc.
  absl::Status AddWatch(const StoredWatch& w) override {
    return pgsql::AddWatchIn(db_, w);
  }
  absl::StatusOr<StoredWatch> GetWatch(const std::string& id) override {
    return pgsql::GetWatchIn(db_, id);
  }
  absl::Status UpdateWatch(const v1::Watch& record) override {
    return pgsql::InSavepoint(
        db_, [&] { return pgsql::UpdateWatchIn(db_, record); });
  }
  absl::Status DeleteWatch(const std::string& id) override {
    return pgsql::DeleteWatchIn(db_, id);
  }
  absl::StatusOr<std::vector<v1::Watch>> ListWatches(
      const std::string& office) override {
    return pgsql::ListWatchesIn(db_, office);
  }
  absl::StatusOr<std::vector<WatchedOutput>> WatchOutputsOf(
      const std::string& member) override {
    return pgsql::WatchOutputsOfIn(db_, member);
  }
  absl::Status SetWatchOutputResolved(const std::string& id,
                                      const std::string& member, uint32_t input,
                                      uint64_t version) override {
    return pgsql::InSavepoint(db_, [&] {
      return pgsql::SetWatchOutputResolvedIn(db_, id, member, input, version);
    });
  }
  absl::Status DeleteWatchOutputs(const std::string& id,
                                  const std::string& member) override {
    return pgsql::InSavepoint(
        db_, [&] { return pgsql::DeleteWatchOutputsIn(db_, id, member); });
  }
  absl::StatusOr<std::vector<std::string>> ExpiredWatches(
      int64_t now_ms, size_t limit) override {
    return pgsql::ExpiredWatchesIn(db_, now_ms, limit);
  }

  // Withdrawals: node/storage/sqlite_withdrawals.cc.
  absl::StatusOr<std::vector<std::string>> MembersNotifiedOf(
      const std::string& case_number) override {
    return pgsql::MembersNotifiedOfIn(db_, case_number);
  }
  absl::Status QueueWithdrawal(const QueuedWithdrawal& w) override {
    return pgsql::InSavepoint(db_,
                              [&] { return pgsql::QueueWithdrawalIn(db_, w); });
  }
  absl::Status UpdateWithdrawal(const QueuedWithdrawal& w) override {
    return pgsql::InSavepoint(
        db_, [&] { return pgsql::UpdateWithdrawalIn(db_, w); });
  }
  absl::StatusOr<QueuedWithdrawal> GetWithdrawal(
      const Bytes& case_token, const std::string& member) override {
    return pgsql::GetWithdrawalIn(db_, case_token, member);
  }
  absl::StatusOr<std::vector<QueuedWithdrawal>> DueWithdrawals(
      int64_t now_ms, size_t limit) override {
    return pgsql::DueWithdrawalsIn(db_, now_ms, limit);
  }
  absl::StatusOr<std::vector<QueuedWithdrawal>> ListWithdrawals() override {
    return pgsql::ListWithdrawalsIn(db_);
  }
  absl::StatusOr<WithdrawnReference> GetWithdrawnReference(
      const std::string& member, const Bytes& case_token) override {
    return pgsql::GetWithdrawnReferenceIn(db_, member, case_token);
  }
  absl::Status PutWithdrawnReference(const WithdrawnReference& w) override {
    return pgsql::InSavepoint(
        db_, [&] { return pgsql::PutWithdrawnReferenceIn(db_, w); });
  }
  absl::StatusOr<std::vector<WithdrawnReference>> WithdrawnReferencesDue(
      int64_t now_ms, size_t limit) override {
    return pgsql::WithdrawnReferencesDueIn(db_, now_ms, limit);
  }
  absl::StatusOr<int64_t> WithdrawHits(const std::string& member,
                                       const Bytes& case_token,
                                       int64_t withdrawn_at_ms,
                                       v1::WithdrawalReason reason,
                                       bool delete_reference) override {
    int64_t n = 0;
    RETURN_IF_ERROR(pgsql::InSavepoint(db_, [&]() -> absl::Status {
      ASSIGN_OR_RETURN(
          n, pgsql::WithdrawHitsIn(db_, member, case_token, withdrawn_at_ms,
                                   reason, delete_reference));
      return absl::OkStatus();
    }));
    return n;
  }

 private:
  Database& db_;
};

// --- Hits and notifications --------------------------------------------------

// SQLite's LIMIT for a page: one more than asked, to learn whether another
// page follows; -1 (none) for no limit.
int64_t SqlLimit(const PageRequest& page) {
  return page.limit == 0 ? -1 : static_cast<int64_t>(page.limit) + 1;
}

// Newest first by `time_column`, then by row id, from `table`'s `blob_column`
// (a serialized Message), of one case or all; keyset paging on (time, id).
template <typename Message>
absl::StatusOr<Page<Message>> ListNewestFirst(
    Database& db, const std::string& table, const std::string& time_column,
    const std::string& blob_column, const std::string& case_number,
    const PageRequest& page, const char* what, const std::string& office = "") {
  TimeIdCursor after;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after, ParseTimeIdCursor(page.after));
  }
  // Only the conditions in use, so that SQLite walks the right index
  // (by case, or by time) from the cursor on.
  std::string where = " WHERE true";
  if (!case_number.empty()) where += " AND case_number = $1";
  // Offices see their own: rows whose case is the office's.
  if (!office.empty()) {
    where += " AND case_number IN (SELECT number FROM cases WHERE office = $5)";
  }
  if (!page.after.empty()) {
    absl::StrAppend(&where, " AND (", time_column, ", id) < ($2, $3)");
  }
  const std::string sql = absl::StrCat(
      "SELECT ", time_column, ", id, ", blob_column, " FROM ", table, where,
      " ORDER BY ", time_column, " DESC, id DESC LIMIT NULLIF($4, -1)");
  ASSIGN_OR_RETURN(Statement select, db.Prepare(sql));
  if (!case_number.empty()) select.BindText(1, case_number);
  if (!page.after.empty()) select.BindInt(2, after.time).BindInt(3, after.id);
  select.BindInt(4, SqlLimit(page));
  if (!office.empty()) select.BindText(5, office);
  Page<Message> out;
  TimeIdCursor last;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (page.limit != 0 && out.items.size() == page.limit) {
      out.next = FormatTimeIdCursor(last);
      break;
    }
    last = {select.ColumnInt(0), select.ColumnInt(1)};
    ASSIGN_OR_RETURN(Message m,
                     ParseRow<Message>(select.ColumnBlobView(2), what));
    out.items.push_back(std::move(m));
  }
  return out;
}

// --- Replay cache and quotas -------------------------------------------------

// Both run inside the caller's write transaction. A refused INSERT or a
// refused charge undoes only itself, not the transaction, so one refusal in
// a group commit does not touch the other callers' changes.

// ALREADY_EXISTS if (sender, message_id) is recorded.
absl::Status InsertMessageId(Database& db, const std::string& sender,
                             const Bytes& message_id, int64_t expires_at_ms) {
  // DO NOTHING rather than a unique violation, which would abort the
  // group commit's transaction.
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO replay (sender, message_id, "
                              "expires_at_ms) VALUES ($1, $2, $3) "
                              "ON CONFLICT (sender, message_id) DO NOTHING"));
  insert.BindText(1, sender).BindBlob(2, message_id).BindInt(3, expires_at_ms);
  RETURN_IF_ERROR(insert.Run());
  if (insert.Changes() == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("message id already recorded for ", sender));
  }
  return absl::OkStatus();
}

// Adds `count` to `member`'s usage for `day` if the result stays within
// `limit`, and says whether it did (false: nothing changed). `*used` is the
// usage before. An over-quota charge is an outcome, not an error: errors are
// storage failures (a full disk is RESOURCE_EXHAUSTED too).
absl::StatusOr<bool> ChargeQuotaIn(Database& db, const std::string& member,
                                   int64_t day, uint32_t count, uint32_t limit,
                                   uint64_t* used) {
  *used = 0;
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT used FROM quotas WHERE member = $1 AND day = $2"));
    select.BindText(1, member).BindInt(2, day);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) *used = static_cast<uint64_t>(select.ColumnInt(0));
  }
  const uint64_t after = *used + count;
  if (after > limit) return false;
  ASSIGN_OR_RETURN(
      Statement upsert,
      db.Prepare(
          "INSERT INTO quotas (member, day, used) VALUES ($1, $2, $3) "
          "ON CONFLICT (member, day) DO UPDATE SET used = excluded.used"));
  upsert.BindText(1, member).BindInt(2, day).BindInt(
      3, static_cast<int64_t>(after));
  RETURN_IF_ERROR(upsert.Run());
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgStorage>> PgStorage::Open(
    const std::string& conninfo, const Options& options) {
  if (!pgsql::PlainIdentifier(options.schema)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node.db's PostgreSQL schema must be a plain lower-case name "
        "(letters, digits, _), not \"",
        options.schema, "\""));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                   Database::Open(conninfo, options.schema, options.read_only));
  if (options.read_only) {
    ASSIGN_OR_RETURN(int64_t version, pgsql::SchemaVersion(*db));
    // NOT_FOUND, as SqliteStorage's read-only open of a missing file, so
    // that cbx-node --check tells "not made yet" from a problem.
    if (version == 0) {
      return absl::NotFoundError(
          absl::StrCat("the PostgreSQL schema ", options.schema,
                       " holds no node.db yet (read-only: none is made)"));
    }
    if (version != pgsql::kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the node.db schema ", options.schema, " has schema version ",
          version, ", this build's is ", pgsql::kSchemaVersion,
          version < pgsql::kSchemaVersion
              ? " (cbx-node upgrades it when it starts; read-only, it is "
                "not read)"
              : "; upgrade cbx-node"));
    }
    return std::unique_ptr<PgStorage>(new PgStorage(std::move(db)));
  }
  RETURN_IF_ERROR(pgsql::MigrateSchema(*db));
  std::unique_ptr<PgStorage> storage(new PgStorage(std::move(db)));
  // What a switch or a drop left undeleted when the node stopped.
  RETURN_IF_ERROR(storage->CollectGarbage());
  return storage;
}

// --- Transactions ------------------------------------------------------------

absl::Status PgStorage::ReadWriteTransaction(
    const TransactionBody& body,
    const CommitFailureHandler& on_commit_failure) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
  PgTxn txn_view(*db_);
  RETURN_IF_ERROR(body(txn_view));  // ~Transaction rolls back
  absl::Status committed = txn.Commit();
  if (!committed.ok() && on_commit_failure != nullptr) {
    on_commit_failure(committed);
  }
  return committed;
}

// --- Cases -------------------------------------------------------------------

absl::Status PgStorage::AddCase(const StoredCase& c) {
  RETURN_IF_ERROR(ValidateCase(c));
  std::lock_guard<std::mutex> lock(mu_);
  return Retrying([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
    RETURN_IF_ERROR(AddCaseIn(*db_, c));
    return txn.Commit();
  });
}

absl::Status PgStorage::AddCases(const std::vector<StoredCase>& cases) {
  std::vector<Tag> added;
  for (const StoredCase& c : cases) {
    RETURN_IF_ERROR(ValidateCase(c));
    std::vector<Tag> tags = OpenTags(c);
    added.insert(added.end(), tags.begin(), tags.end());
  }
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
  ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(*db_));
  std::vector<Tag> staged_tags;
  for (const StoredCase& c : cases) {
    ASSIGN_OR_RETURN(int64_t case_id, InsertCase(*db_, c, gens.current));
    std::vector<Tag> tags;
    RETURN_IF_ERROR(InsertOtherGenerations(*db_, gens, case_id, c.identifiers,
                                           {}, {}, &tags));
    if (IsOpen(c.record)) {
      staged_tags.insert(staged_tags.end(), tags.begin(), tags.end());
    }
  }
  RETURN_IF_ERROR(
      pgsql::ApplyTagDeltas(*db_, gens.current, TagDeltas({}, added)));
  RETURN_IF_ERROR(pgsql::ApplyStagingTagDeltas(*db_, gens.staging,
                                               TagDeltas({}, staged_tags)));
  return txn.Commit();
}

absl::Status PgStorage::UpdateCase(const StoredCase& c) {
  RETURN_IF_ERROR(ValidateCase(c));
  std::lock_guard<std::mutex> lock(mu_);
  return Retrying([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
    RETURN_IF_ERROR(UpdateCaseIn(*db_, c));
    return txn.Commit();
  });
}

absl::StatusOr<StoredCase> PgStorage::GetCase(const std::string& number) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(*db_));
  ASSIGN_OR_RETURN(StoredCase c, GetCaseIn(*db_, number));
  RETURN_IF_ERROR(txn.Commit());
  return c;
}

absl::StatusOr<Page<StoredCase>> PgStorage::ListCases(bool include_closed,
                                                      const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  return ListCasesIn(*db_, "", include_closed, page);
}

absl::StatusOr<Page<StoredCase>> PgStorage::ListOfficeCases(
    const std::string& office, bool include_closed, const PageRequest& page) {
  if (office.empty()) return absl::InvalidArgumentError("no office given");
  std::lock_guard<std::mutex> lock(mu_);
  return ListCasesIn(*db_, office, include_closed, page);
}

absl::StatusOr<Page<StoredCase>> PgStorage::ListCasesIn(
    Database& db, const std::string& office, bool include_closed,
    const PageRequest& page) {
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(db));
  Page<StoredCase> out;
  std::vector<StoredCase>& cases = out.items;
  std::vector<int64_t> ids;
  std::string last_number;
  {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare("SELECT id, number, record FROM cases "
                                "WHERE (open = 1 OR $1 = 1) AND number > $2 "
                                "AND ($4 = '' OR office = $4) "
                                "ORDER BY number LIMIT NULLIF($3, -1)"));
    select.BindInt(1, include_closed ? 1 : 0)
        .BindText(2, page.after)
        .BindInt(3, SqlLimit(page))
        .BindText(4, office);
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      if (page.limit != 0 && cases.size() == page.limit) {
        out.next = last_number;
        break;
      }
      ids.push_back(select.ColumnInt(0));
      last_number = select.ColumnText(1);
      StoredCase& c = cases.emplace_back();
      ASSIGN_OR_RETURN(c.record,
                       ParseRow<v1::Case>(select.ColumnBlobView(2), "case"));
    }
  }
  if (!cases.empty()) {
    // The same cases in the same order, so the rows merge in one pass.
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT i.case_id, i.type, i.normalized_value, "
                   "i.observed_from_ms, i.observed_to_ms, o.y, o.tag "
                   "FROM cases c JOIN identifiers i ON i.case_id = c.id "
                   "LEFT JOIN outputs o ON o.case_id = i.case_id AND "
                   "o.position = i.position AND o.generation = $4 "
                   "WHERE (c.open = 1 OR $1 = 1) AND c.number > $2 "
                   "AND c.number <= $3 AND ($5 = '' OR c.office = $5) "
                   "ORDER BY c.number, i.position"));
    ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(db));
    select.BindInt(1, include_closed ? 1 : 0)
        .BindText(2, page.after)
        .BindText(3, last_number)
        .BindInt(4, gens.current)
        .BindText(5, office);
    size_t k = 0;
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      const int64_t case_id = select.ColumnInt(0);
      while (k < ids.size() && ids[k] != case_id) ++k;
      if (k == ids.size()) {
        return absl::InternalError("identifier rows out of case order");
      }
      cases[k].identifiers.push_back(ReadIdentifier(select, 1));
    }
  }
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<std::vector<OutputMatch>> PgStorage::FindByOutputs(
    const std::vector<Bytes>& ys) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(*db_));
  ASSIGN_OR_RETURN(std::vector<OutputMatch> matches, FindByOutputsIn(*db_, ys));
  RETURN_IF_ERROR(txn.Commit());
  return matches;
}

absl::Status PgStorage::ReplaceAllOutputs(
    const std::vector<std::pair<std::string, StoredIdentifier>>&
        case_and_identifier) {
  RETURN_IF_ERROR(ValidateOutputs(case_and_identifier));
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(db));
  ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(db));
  for (const auto& [number, id] : case_and_identifier) {
    ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE outputs SET y = $1, tag = $2 WHERE generation = $6 "
                   "AND (case_id, position) = (SELECT i.case_id, i.position "
                   "FROM identifiers i JOIN cases c ON c.id = i.case_id "
                   "WHERE c.number = $3 AND i.type = $4 "
                   "AND i.normalized_value = $5)"));
    update.BindBlob(1, id.y)
        .BindInt(2, TagToSql(id.tag))
        .BindText(3, number)
        .BindInt(4, id.type)
        .BindText(5, id.normalized_value)
        .BindInt(6, gens.current);
    RETURN_IF_ERROR(update.Run());
    if (db.Changes() == 0) {
      return absl::NotFoundError(absl::StrCat(
          "case ", number, " has no identifier ", id.normalized_value));
    }
  }
  {
    ASSIGN_OR_RETURN(
        Statement count,
        db.Prepare("SELECT rows FROM identifier_count WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, count.Step());
    const int64_t stored = row ? count.ColumnInt(0) : 0;
    if (stored != static_cast<int64_t>(case_and_identifier.size())) {
      return absl::AbortedError(absl::StrCat(
          "the node holds ", stored, " identifiers but ",
          case_and_identifier.size(), " were given; read the cases again"));
    }
  }
  {
    ASSIGN_OR_RETURN(Statement rebuild,
                     db.Prepare("DELETE FROM own_index WHERE generation = $1"));
    RETURN_IF_ERROR(rebuild.BindInt(1, gens.current).Run());
  }
  {
    ASSIGN_OR_RETURN(
        Statement rebuild,
        db.Prepare("INSERT INTO own_index (generation, tag, refs) "
                   "SELECT $1, o.tag, COUNT(*) FROM outputs o JOIN cases c "
                   "ON c.id = o.case_id WHERE o.generation = $1 AND "
                   "c.open = 1 GROUP BY o.tag"));
    RETURN_IF_ERROR(rebuild.BindInt(1, gens.current).Run());
  }
  RETURN_IF_ERROR(
      db.Exec("DELETE FROM index_changes;"
              "UPDATE own_index_state SET version = version + 1, "
              "  compacted_through = version + 1 WHERE id = 1;"));
  return txn.Commit();
}

// --- Own index -------------------------------------------------------------

absl::StatusOr<uint64_t> PgStorage::OwnIndexVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(IndexState state, pgsql::ReadIndexState(*db_));
  return state.version;
}

absl::StatusOr<std::vector<Tag>> PgStorage::OwnIndexTags() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(*db_));
  ASSIGN_OR_RETURN(pgsql::Generations gens, pgsql::ReadGenerations(*db_));
  ASSIGN_OR_RETURN(Statement select,
                   db_->Prepare("SELECT tag FROM own_index WHERE "
                                "generation = $1 ORDER BY tag"));
  select.BindInt(1, gens.current);
  std::vector<Tag> tags;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    tags.push_back(TagFromSql(select.ColumnInt(0)));
  }
  RETURN_IF_ERROR(txn.Commit());
  pgsql::SignedToUnsignedOrder(tags);
  return tags;
}

absl::StatusOr<std::vector<IndexChange>> PgStorage::OwnIndexChangesSince(
    uint64_t since) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(db));
  ASSIGN_OR_RETURN(IndexState state, pgsql::ReadIndexState(db));
  if (since < state.compacted_through) {
    return absl::FailedPreconditionError(absl::StrCat(
        "changes up to version ", state.compacted_through,
        " were compacted; fetch a full copy of version ", state.version));
  }
  if (since > state.version) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", since, " is newer than the index's ",
                     state.version, "; fetch a full copy"));
  }
  std::vector<IndexChange> changes;
  {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare("SELECT version, tag, added FROM index_changes "
                                "WHERE version > $1 ORDER BY version"));
    select.BindInt(1, static_cast<int64_t>(since));
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      changes.push_back(IndexChange{static_cast<uint64_t>(select.ColumnInt(0)),
                                    TagFromSql(select.ColumnInt(1)),
                                    select.ColumnInt(2) != 0});
    }
  }
  RETURN_IF_ERROR(txn.Commit());
  return changes;
}

absl::Status PgStorage::CompactIndexChanges(uint64_t keep_after) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(db));
  ASSIGN_OR_RETURN(IndexState state, pgsql::ReadIndexState(db));
  const uint64_t through = std::min(keep_after, state.version);
  if (through <= state.compacted_through) return absl::OkStatus();
  {
    ASSIGN_OR_RETURN(
        Statement remove,
        db.Prepare("DELETE FROM index_changes WHERE version <= $1"));
    RETURN_IF_ERROR(remove.BindInt(1, static_cast<int64_t>(through)).Run());
  }
  {
    ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare(
            "UPDATE own_index_state SET compacted_through = $1 WHERE id = 1"));
    RETURN_IF_ERROR(update.BindInt(1, static_cast<int64_t>(through)).Run());
  }
  return txn.Commit();
}

// --- Peer indexes ------------------------------------------------------------

absl::Status PgStorage::SavePeerIndex(const PeerIndex& index) {
  RETURN_IF_ERROR(ValidatePeerIndex(index));
  std::lock_guard<std::mutex> lock(mu_);
  return Retrying([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
    RETURN_IF_ERROR(pgsql::WritePeerIndex(*db_, index));
    return txn.Commit();
  });
}

absl::StatusOr<PeerIndex> PgStorage::LoadPeerIndex(const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(db));
  PeerIndex index;
  {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare(absl::StrCat(pgsql::kSelectPeerIndexes,
                                             " WHERE p.member = $1")));
    select.BindText(1, member);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("no index copy of ", member));
    }
    ASSIGN_OR_RETURN(index, pgsql::ReadPeerIndex(db, select));
  }
  RETURN_IF_ERROR(txn.Commit());
  return index;
}

absl::StatusOr<std::vector<PeerIndex>> PgStorage::LoadAllPeerIndexes() {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(db));
  std::vector<PeerIndex> indexes;
  {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare(absl::StrCat(pgsql::kSelectPeerIndexes,
                                             " ORDER BY p.member")));
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(PeerIndex index, pgsql::ReadPeerIndex(db, select));
      indexes.push_back(std::move(index));
    }
  }
  RETURN_IF_ERROR(txn.Commit());
  return indexes;
}

absl::Status PgStorage::AddIndexEvidence(const IndexEvidence& evidence) {
  RETURN_IF_ERROR(ValidateIndexEvidence(evidence));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
  RETURN_IF_ERROR(pgsql::WriteIndexEvidence(*db_, evidence));
  return txn.Commit();
}

absl::StatusOr<std::vector<IndexEvidence>> PgStorage::ListIndexEvidence(
    const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(*db_));
  ASSIGN_OR_RETURN(std::vector<IndexEvidence> out,
                   pgsql::ReadIndexEvidence(*db_, member));
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::Status PgStorage::DeletePeerIndex(const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
  for (const char* sql :
       {"DELETE FROM peer_indexes WHERE member = $1",
        "DELETE FROM peer_index_baselines WHERE member = $1"}) {
    ASSIGN_OR_RETURN(Statement del, db_->Prepare(sql));
    del.BindText(1, member);
    RETURN_IF_ERROR(del.Run());
  }
  return txn.Commit();
}

absl::Status PgStorage::AddDirectoryEvidence(
    const DirectoryEvidence& evidence) {
  RETURN_IF_ERROR(ValidateDirectoryEvidence(evidence));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
  {
    ASSIGN_OR_RETURN(Statement seen,
                     db_->Prepare("SELECT 1 FROM directory_evidence WHERE "
                                  "version = $1 AND conflicting = $2"));
    seen.BindInt(1, static_cast<int64_t>(evidence.version))
        .BindBlob(2, evidence.conflicting);
    ASSIGN_OR_RETURN(bool row, seen.Step());
    if (row) {
      return absl::AlreadyExistsError(
          "this directory evidence is kept already");
    }
  }
  {
    ASSIGN_OR_RETURN(
        Statement insert,
        db_->Prepare("INSERT INTO directory_evidence (version, served_by, "
                     "received_at_ms, adopted, conflicting) "
                     "VALUES ($1, $2, $3, $4, $5)"));
    insert.BindInt(1, static_cast<int64_t>(evidence.version))
        .BindText(2, evidence.served_by)
        .BindInt(3, evidence.received_at_ms)
        .BindBlob(4, evidence.adopted)
        .BindBlob(5, evidence.conflicting);
    RETURN_IF_ERROR(insert.Run());
  }
  return txn.Commit();
}

absl::StatusOr<std::vector<DirectoryEvidence>>
PgStorage::ListDirectoryEvidence() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(*db_));
  std::vector<DirectoryEvidence> out;
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db_->Prepare("SELECT version, served_by, received_at_ms, adopted, "
                     "conflicting FROM directory_evidence ORDER BY id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      DirectoryEvidence e;
      e.version = static_cast<uint64_t>(select.ColumnInt(0));
      e.served_by = select.ColumnText(1);
      e.received_at_ms = select.ColumnInt(2);
      e.adopted = select.ColumnBlob(3);
      e.conflicting = select.ColumnBlob(4);
      out.push_back(std::move(e));
    }
  }
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

// --- Replay cache and quotas -------------------------------------------------

absl::Status PgStorage::RecordMessageId(const std::string& sender,
                                        const Bytes& message_id,
                                        int64_t expires_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertMessageId(*db_, sender, message_id, expires_at_ms);
}

absl::StatusOr<int64_t> PgStorage::SweepMessageIds(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Statement remove,
                   db_->Prepare("DELETE FROM replay WHERE expires_at_ms < $1"));
  RETURN_IF_ERROR(remove.BindInt(1, now_ms).Run());
  return db_->Changes();
}

absl::StatusOr<uint32_t> PgStorage::QuotaUsed(const std::string& member,
                                              int64_t day) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(
      Statement select,
      db_->Prepare("SELECT used FROM quotas WHERE member = $1 AND day = $2"));
  select.BindText(1, member).BindInt(2, day);
  ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<uint32_t>(select.ColumnInt(0)) : 0u;
}

absl::StatusOr<uint32_t> PgStorage::ChargeQuota(const std::string& member,
                                                int64_t day, uint32_t count,
                                                uint32_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite(*db_));
  uint64_t used = 0;
  ASSIGN_OR_RETURN(bool charged,
                   ChargeQuotaIn(*db_, member, day, count, limit, &used));
  if (!charged) {
    return absl::ResourceExhaustedError(
        absl::StrCat(member, " has used ", used, " of ", limit, " for day ",
                     day, "; ", count, " more would exceed it"));
  }
  RETURN_IF_ERROR(txn.Commit());
  return static_cast<uint32_t>(used + count);
}

// A call of RecordMessageIdAndCharge waiting for its group commit. The
// references point into the caller's frame, which outlives the request.
struct PgStorage::AdmitRequest {
  const std::string& sender;
  const Bytes& message_id;
  int64_t expires_at_ms;
  const std::optional<QuotaCharge>& charge;
  absl::StatusOr<AdmitOutcome> result = absl::UnknownError("not committed");
  bool done = false;
};

// Every accepted envelope writes here before it is answered, so this is the
// node's hottest write. A sync costs far more CPU (and time) than the rows,
// so concurrent callers share one transaction: the first caller to find no
// commit running becomes the leader, takes every request queued by then,
// commits them together and wakes their callers; requests that arrive
// meanwhile form the next group. No caller waits on a timer: a lone call
// commits at once.
absl::StatusOr<Storage::AdmitOutcome> PgStorage::RecordMessageIdAndCharge(
    const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
    const std::optional<QuotaCharge>& charge) {
  AdmitRequest request{sender, message_id, expires_at_ms, charge};
  std::unique_lock<std::mutex> admit(admit_mu_);
  admit_queue_.push_back(&request);
  while (!request.done && admit_leader_) admit_cv_.wait(admit);
  if (!request.done) {
    admit_leader_ = true;
    while (!request.done) {
      std::vector<AdmitRequest*> group;
      group.swap(admit_queue_);
      admit.unlock();
      CommitAdmitGroup(group);
      admit.lock();
      for (AdmitRequest* r : group) r->done = true;
    }
    // Hand over: a caller still queued becomes the next leader.
    admit_leader_ = false;
  }
  admit_cv_.notify_all();
  admit.unlock();
  return request.result;
}

void PgStorage::CommitAdmitGroup(const std::vector<AdmitRequest*>& group) {
  std::lock_guard<std::mutex> lock(mu_);
  Database& db = *db_;
  absl::Status failure = Retrying([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite(db));
    // In queue order, so that the outcomes are those of the calls run one
    // after another in that order (two calls with the same pair: the first
    // records it; charges see the ones before them).
    for (AdmitRequest* r : group) {
      absl::Status recorded =
          InsertMessageId(db, r->sender, r->message_id, r->expires_at_ms);
      if (absl::IsAlreadyExists(recorded)) {
        r->result = AdmitOutcome::kAlreadyRecorded;
        continue;
      }
      RETURN_IF_ERROR(recorded);
      r->result = AdmitOutcome::kAccepted;
      if (!r->charge.has_value()) continue;
      uint64_t used = 0;
      ASSIGN_OR_RETURN(
          bool charged,
          ChargeQuotaIn(db, r->sender, r->charge->day, r->charge->count,
                        r->charge->limit, &used));
      if (!charged) r->result = AdmitOutcome::kOverQuota;
    }
    return txn.Commit();
  });
  if (failure.ok()) return;
  // Rolled back: nothing of the group was recorded or charged, so every
  // caller gets the failure, also one whose pair was refused as a replay
  // of another caller's in this group.
  for (AdmitRequest* r : group) r->result = failure;
}

// --- What the office sees ----------------------------------------------------

absl::Status PgStorage::AddHit(const v1::Hit& hit) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertHit(*db_, hit);
}

absl::StatusOr<Page<v1::Hit>> PgStorage::ListHits(
    const std::string& case_number, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  return ListNewestFirst<v1::Hit>(*db_, "hits", "received_at_ms", "hit",
                                  case_number, page, "hit");
}

absl::Status PgStorage::AddNotification(const v1::Notification& n) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertNotification(*db_, n);
}

absl::StatusOr<Page<v1::Notification>> PgStorage::ListNotifications(
    const std::string& case_number, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  return ListNewestFirst<v1::Notification>(*db_, "notifications", "at_ms",
                                           "notification", case_number, page,
                                           "notification");
}

absl::StatusOr<Page<v1::Hit>> PgStorage::ListOfficeHits(
    const std::string& office, const std::string& case_number,
    const PageRequest& page) {
  if (office.empty()) return absl::InvalidArgumentError("no office given");
  std::lock_guard<std::mutex> lock(mu_);
  return ListNewestFirst<v1::Hit>(*db_, "hits", "received_at_ms", "hit",
                                  case_number, page, "hit", office);
}

absl::StatusOr<Page<v1::Notification>> PgStorage::ListOfficeNotifications(
    const std::string& office, const std::string& case_number,
    const PageRequest& page) {
  if (office.empty()) return absl::InvalidArgumentError("no office given");
  std::lock_guard<std::mutex> lock(mu_);
  return ListNewestFirst<v1::Notification>(*db_, "notifications", "at_ms",
                                           "notification", case_number, page,
                                           "notification", office);
}

// --- Cooperation requests ----------------------------------------------------

absl::StatusOr<StoredCase> PgStorage::GetCaseByToken(const Bytes& token) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Transaction txn, BeginRead(*db_));
  ASSIGN_OR_RETURN(std::string number, pgsql::CaseNumberByToken(*db_, token));
  return GetCaseIn(*db_, number);
}

absl::Status PgStorage::PutCooperation(const v1::CooperationRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  return pgsql::PutCooperationIn(*db_, r);
}

absl::StatusOr<v1::CooperationRecord> PgStorage::GetCooperation(
    const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return pgsql::GetCooperationIn(*db_, id);
}

absl::StatusOr<Page<v1::CooperationRecord>> PgStorage::ListCooperations(
    const CooperationFilter& filter, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  return pgsql::ListCooperationsIn(*db_, filter, page);
}

absl::Status PgStorage::MarkCooperationAnnounced(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return pgsql::MarkCooperationAnnouncedIn(*db_, id);
}

// --- Settings ----------------------------------------------------------------

absl::StatusOr<std::optional<Bytes>> PgStorage::GetSetting(
    const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadSetting(*db_, key);
}

absl::Status PgStorage::PutSetting(const std::string& key, const Bytes& value) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteSetting(*db_, key, value);
}

}  // namespace cbx::node
