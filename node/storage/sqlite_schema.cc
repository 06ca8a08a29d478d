#include "node/storage/sqlite_schema.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "cbx/v1/office.pb.h"
#include "core/util/status_macros.h"
#include "node/storage/sqlite_cooperation.h"
#include "node/storage/sqlite_withdrawals.h"

namespace cbx::node::sqlite {
namespace {

// Version 1. Notes on the layout:
// - Tags are stored as the signed 64-bit integer with the tag's bits; code
//   that needs ascending tag order fixes up the signed order on reading.
// - identifiers reference cases by rowid, which keeps the y index small
//   (y, case_id, position).
// - own_index holds each tag of an open case's identifier with the number of
//   such identifiers; a tag enters the set at 1 and leaves at 0, and each
//   entry or exit is a row of index_changes.
// - peer_indexes holds one row per member; the tags column (last, so the
//   other columns are read without touching its overflow pages) packs the
//   sorted tags as big-endian 8-byte values.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  open INTEGER NOT NULL CHECK (open IN (0, 1)),
  record BLOB NOT NULL  -- serialized cbx.v1.Case
);
CREATE TABLE identifiers (
  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  type INTEGER NOT NULL,
  normalized_value TEXT NOT NULL,
  observed_from_ms INTEGER NOT NULL,
  observed_to_ms INTEGER NOT NULL,
  y BLOB NOT NULL,
  tag INTEGER NOT NULL,
  PRIMARY KEY (case_id, position),
  UNIQUE (case_id, type, normalized_value)
) WITHOUT ROWID;
CREATE INDEX identifiers_by_y ON identifiers(y);

CREATE TABLE own_index (
  tag INTEGER PRIMARY KEY,
  refs INTEGER NOT NULL CHECK (refs > 0)
);
CREATE TABLE index_changes (
  version INTEGER PRIMARY KEY,
  tag INTEGER NOT NULL,
  added INTEGER NOT NULL CHECK (added IN (0, 1))
);
-- One row: the own index version and the version through which changes
-- were compacted away.
CREATE TABLE own_index_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  compacted_through INTEGER NOT NULL
);
INSERT INTO own_index_state (id, version, compacted_through) VALUES (1, 0, 0);

CREATE TABLE peer_indexes (
  member TEXT NOT NULL UNIQUE,
  oprf_epoch INTEGER NOT NULL,
  version INTEGER NOT NULL,
  synced_at_ms INTEGER NOT NULL,
  tag_count INTEGER NOT NULL,
  tags BLOB NOT NULL
);

CREATE TABLE replay (
  sender TEXT NOT NULL,
  message_id BLOB NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (sender, message_id)
) WITHOUT ROWID;
CREATE INDEX replay_by_expiry ON replay(expires_at_ms);

CREATE TABLE quotas (
  member TEXT NOT NULL,
  day INTEGER NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (member, day)
) WITHOUT ROWID;

CREATE TABLE hits (
  id INTEGER PRIMARY KEY,
  case_number TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  hit BLOB NOT NULL  -- serialized cbx.v1.Hit
);
CREATE INDEX hits_by_case ON hits(case_number, received_at_ms, id);
CREATE INDEX hits_by_time ON hits(received_at_ms, id);

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  case_number TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  notification BLOB NOT NULL  -- serialized cbx.v1.Notification
);
CREATE INDEX notifications_by_case ON notifications(case_number, at_ms, id);
CREATE INDEX notifications_by_time ON notifications(at_ms, id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
) WITHOUT ROWID;
)sql";

// Version 2 (issue 9, index caps): each peer index copy's daily growth
// baseline, in a table of its own so that peer_indexes keeps its tags
// column last (a column added to peer_indexes would follow the tags, and
// reading it would walk the BLOB's overflow pages); and the signed
// manifests of peers that broke a cap, kept as evidence.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE peer_index_baselines (
  member TEXT PRIMARY KEY NOT NULL,
  day INTEGER NOT NULL,
  count INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE index_evidence (
  id INTEGER PRIMARY KEY,
  member TEXT NOT NULL,
  version INTEGER NOT NULL,
  count INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  reason TEXT NOT NULL,
  manifest BLOB NOT NULL  -- serialized cbx.v1.Envelope, as received
);
CREATE INDEX index_evidence_by_member ON index_evidence(member, id);
)sql";

// Version 3 (issue 10, OPRF key rotation, spec/oprf.md §2): the outputs
// under the next key, staged per identifier value (type, normalized value)
// while the current ones serve; the outputs they replaced, kept for the
// grace window; and an index of identifiers by value, which both walk.
// IF NOT EXISTS: a database brought back to an older user_version (as a
// test does to replay a migration) may hold them already.
constexpr char kSchemaV3[] = R"sql(
CREATE INDEX IF NOT EXISTS identifiers_by_value ON identifiers(type, normalized_value);
CREATE TABLE IF NOT EXISTS staged_outputs (
  type INTEGER NOT NULL,
  normalized_value TEXT NOT NULL,
  y BLOB NOT NULL,
  tag INTEGER NOT NULL,
  PRIMARY KEY (type, normalized_value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS previous_outputs (
  y BLOB PRIMARY KEY NOT NULL,
  type INTEGER NOT NULL,
  normalized_value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Version 4 (issue 10, equivocation): two directory versions with one
// number, both validly signed, kept as evidence (spec/directory.md §8).
// One row per distinct (version, conflicting bytes).
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE IF NOT EXISTS directory_evidence (
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL,
  served_by TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  adopted BLOB NOT NULL,     -- serialized cbx.v1.SignedDirectory
  conflicting BLOB NOT NULL  -- serialized cbx.v1.SignedDirectory
);
CREATE UNIQUE INDEX IF NOT EXISTS directory_evidence_distinct
  ON directory_evidence(version, conflicting);
)sql";

// Version 5 (issue 10, an OPRF key switch that does not block the node,
// spec/oprf.md §2): outputs per key generation. Each identifier row's y and
// tag live in `outputs`, one row per (identifier row, generation); the
// generations in use are named in oprf_generations: `current` (what every
// read sees), `staging` (the next key's outputs, computed in the
// background) and `previous` (the outputs the last switch replaced, kept
// for the grace window; NULL when none). The own index keeps one tag set
// per generation, the staging one maintained as outputs are staged and as
// cases change, so that the switch only flips the generation numbers and
// bumps the index version. Rows of any other generation are garbage, deleted
// in small batches after a switch, a drop or a restart. output_counts and
// identifier_count (kept by triggers) tell the switch in O(1) whether every
// identifier row has a staged output.
// staged_outputs and previous_outputs (version 3) are emptied into
// `outputs` and no longer used; they stay (empty) so that no table of an
// older file disappears. identifiers loses y and tag (now in `outputs`).
constexpr char kSchemaV5[] = R"sql(
CREATE TABLE oprf_generations (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  current INTEGER NOT NULL,
  previous INTEGER,  -- NULL: no previous outputs kept
  staging INTEGER NOT NULL CHECK (staging > current)
);
INSERT INTO oprf_generations (id, current, previous, staging) VALUES (1, 1,
  CASE WHEN EXISTS (SELECT 1 FROM previous_outputs) THEN 0 END, 2);

CREATE TABLE outputs (
  case_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  y BLOB NOT NULL,
  tag INTEGER NOT NULL,  -- 0 in a previous generation migrated from v4
  PRIMARY KEY (case_id, position, generation)
) WITHOUT ROWID;
CREATE INDEX outputs_by_y ON outputs(generation, y);
INSERT INTO outputs (case_id, position, generation, y, tag)
  SELECT case_id, position, 1, y, tag FROM identifiers;
INSERT OR IGNORE INTO outputs (case_id, position, generation, y, tag)
  SELECT i.case_id, i.position, 2, s.y, s.tag FROM staged_outputs s
  JOIN identifiers i ON i.type = s.type
  AND i.normalized_value = s.normalized_value;
INSERT OR IGNORE INTO outputs (case_id, position, generation, y, tag)
  SELECT i.case_id, i.position, 0, p.y, 0 FROM previous_outputs p
  JOIN identifiers i ON i.type = p.type
  AND i.normalized_value = p.normalized_value;
DELETE FROM staged_outputs;
DELETE FROM previous_outputs;

CREATE TABLE own_index_v5 (
  generation INTEGER NOT NULL,
  tag INTEGER NOT NULL,
  refs INTEGER NOT NULL CHECK (refs > 0),
  PRIMARY KEY (generation, tag)
) WITHOUT ROWID;
INSERT INTO own_index_v5 (generation, tag, refs)
  SELECT 1, tag, refs FROM own_index;
INSERT INTO own_index_v5 (generation, tag, refs)
  SELECT 2, o.tag, COUNT(*) FROM outputs o
  JOIN cases c ON c.id = o.case_id
  WHERE o.generation = 2 AND c.open = 1 GROUP BY o.tag;
DROP TABLE own_index;
ALTER TABLE own_index_v5 RENAME TO own_index;

DROP INDEX identifiers_by_y;
ALTER TABLE identifiers DROP COLUMN y;
ALTER TABLE identifiers DROP COLUMN tag;

CREATE TABLE output_counts (
  generation INTEGER PRIMARY KEY,
  rows INTEGER NOT NULL
);
INSERT INTO output_counts (generation, rows)
  SELECT generation, COUNT(*) FROM outputs GROUP BY generation;
CREATE TABLE identifier_count (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rows INTEGER NOT NULL
);
INSERT INTO identifier_count (id, rows)
  SELECT 1, COUNT(*) FROM identifiers;
CREATE TRIGGER outputs_counted AFTER INSERT ON outputs BEGIN
  INSERT INTO output_counts (generation, rows) VALUES (NEW.generation, 1)
    ON CONFLICT (generation) DO UPDATE SET rows = rows + 1;
END;
CREATE TRIGGER outputs_uncounted AFTER DELETE ON outputs BEGIN
  UPDATE output_counts SET rows = rows - 1
    WHERE generation = OLD.generation;
END;
CREATE TRIGGER identifiers_counted AFTER INSERT ON identifiers BEGIN
  UPDATE identifier_count SET rows = rows + 1 WHERE id = 1;
END;
CREATE TRIGGER identifiers_uncounted AFTER DELETE ON identifiers BEGIN
  UPDATE identifier_count SET rows = rows - 1 WHERE id = 1;
END;
)sql";

// Version 6: tables of issue 13's features, one block per feature (each
// helper adds its own; merged here).
constexpr char kSchemaV6[] = R"sql(
-- Cooperation requests (spec/cooperation.md §2, node/cooperation.h):
-- a case's token -> its row (filled from the cases' records by the
-- migration, then by AddCase), and one row per request sent or received.
-- open_due_ms: the request's response_due_ms while it is accepted and
-- unanswered, else 0; receipt_late: a preservation receipt that came late.
-- IF NOT EXISTS: a file a test brought back to an older user_version keeps
-- these tables.
CREATE TABLE IF NOT EXISTS case_tokens (
  token BLOB PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cooperation_requests (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  office TEXT NOT NULL,
  requested_at_ms INTEGER NOT NULL,
  open_due_ms INTEGER NOT NULL,
  receipt_late INTEGER NOT NULL CHECK (receipt_late IN (0, 1)),
  announced INTEGER NOT NULL DEFAULT 0 CHECK (announced IN (0, 1)),
  record BLOB NOT NULL  -- serialized cbx.v1.CooperationRecord
);
CREATE INDEX IF NOT EXISTS cooperation_by_time
  ON cooperation_requests(requested_at_ms, seq);
CREATE INDEX IF NOT EXISTS cooperation_open_due
  ON cooperation_requests(open_due_ms) WHERE open_due_ms > 0;
-- Standing watches (spec/cooperation.md §4, node/watches.h): a watch's
-- record, and per watch, peer and watched identifier the finalized OPRF
-- output y that peer's evaluation gave (never the identifier's value).
-- Both go in the transaction that ends the watch. IF NOT EXISTS: a file a
-- test brought back to an older user_version keeps them.
CREATE TABLE IF NOT EXISTS watches (
  watch_id TEXT PRIMARY KEY,
  office TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  record BLOB NOT NULL  -- serialized cbx.v1.Watch
);
CREATE INDEX IF NOT EXISTS watches_by_office ON watches(office, watch_id);
CREATE INDEX IF NOT EXISTS watches_by_expiry ON watches(expires_at_ms);
CREATE TABLE IF NOT EXISTS watch_outputs (
  watch_id TEXT NOT NULL,
  member TEXT NOT NULL,
  input INTEGER NOT NULL,
  oprf_epoch INTEGER NOT NULL,
  y BLOB NOT NULL,
  tag INTEGER NOT NULL,
  resolved_version INTEGER NOT NULL,  -- 0: not resolved
  PRIMARY KEY (watch_id, member, input)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS watch_outputs_by_member ON watch_outputs(member, watch_id, input);
)sql";

// Version 7: more of issue 13's features, one block per feature (each
// helper adds its own; merged here).
constexpr char kSchemaV7[] = R"sql(
-- Withdrawal of case references (spec/cooperation.md §2.4,
-- node/withdrawal.h, node/storage/sqlite_withdrawals.h). At the origin:
-- one row per case token and member that resolved it (next_attempt_ms 0
-- once it ended: receipt, or given up). At the receiver: the tombstone of
-- each withdrawn reference, and each hit's member and case token (filled
-- for older hits by the migration) so that a withdrawal finds its hits.
CREATE TABLE IF NOT EXISTS withdrawals (
  case_token BLOB NOT NULL,
  member TEXT NOT NULL,
  case_number TEXT NOT NULL,
  office TEXT NOT NULL,
  reason INTEGER NOT NULL,
  queued_at_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  receipt BLOB,  -- the signed DeletionReceipt envelope, once it came
  given_up INTEGER NOT NULL CHECK (given_up IN (0, 1)),
  last_error TEXT NOT NULL,
  PRIMARY KEY (case_token, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS withdrawals_due
  ON withdrawals(next_attempt_ms) WHERE next_attempt_ms > 0;
CREATE TABLE IF NOT EXISTS withdrawn_references (
  member TEXT NOT NULL,
  case_token BLOB NOT NULL,
  reason INTEGER NOT NULL,
  withdrawn_at_ms INTEGER NOT NULL,
  kept_until_ms INTEGER NOT NULL,  -- 0: deleted at once
  deleted_at_ms INTEGER NOT NULL,  -- 0 while kept
  PRIMARY KEY (member, case_token)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS withdrawn_references_kept
  ON withdrawn_references(kept_until_ms)
  WHERE deleted_at_ms = 0 AND kept_until_ms > 0;
CREATE TABLE IF NOT EXISTS hit_tokens (
  hit_id INTEGER PRIMARY KEY REFERENCES hits(id) ON DELETE CASCADE,
  member TEXT NOT NULL,
  case_token BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS hit_tokens_by_token
  ON hit_tokens(case_token, member);
-- Offices see their own (spec/cooperation.md §6): the column
-- cases.office and its index are added by AddCaseOffices (C++, after this
-- block), since SQLite has no ADD COLUMN IF NOT EXISTS.
)sql";

// kMigrations[i] takes the schema from version i to version i + 1. To change
// the schema, append a step (never edit a released one) and bump
// kSchemaVersion.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3,
                                       kSchemaV4, kSchemaV5, kSchemaV6,
                                       kSchemaV7};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Whether `table` has a column `column`.
absl::StatusOr<bool> HasColumn(Database& db, const char* table,
                               const char* column) {
  absl::StatusOr<Statement> stmt =
      db.Prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, table).BindText(2, column);
  return stmt->Step();
}

// Version 7, offices see their own (spec/cooperation.md §6): the owning
// office of each case ("MK/PPO-Skopje", its record's office) as a column,
// so that a listing of one office's cases, hits and inbox is a query;
// filled from the cases' records. Hits and notifications need no column of
// their own: each belongs to the office of the case its case_number names,
// and one whose case was purged to none. A file a test brought back to an
// older user_version keeps the column: it is added only if missing.
absl::Status AddCaseOffices(Database& db) {
  ASSIGN_OR_RETURN(bool has, HasColumn(db, "cases", "office"));
  if (!has) {
    RETURN_IF_ERROR(
        db.Exec("ALTER TABLE cases ADD COLUMN office TEXT NOT NULL DEFAULT ''"));
  }
  RETURN_IF_ERROR(db.Exec(
      "CREATE INDEX IF NOT EXISTS cases_by_office ON cases(office, number)"));
  ASSIGN_OR_RETURN(Statement select, db.Prepare("SELECT id, record FROM cases"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    v1::Case record;
    std::string_view blob = select.ColumnBlobView(1);
    if (!record.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError("a stored case is damaged");
    }
    ASSIGN_OR_RETURN(Statement update,
                     db.Prepare("UPDATE cases SET office = ?2 WHERE id = ?1"));
    update.BindInt(1, select.ColumnInt(0)).BindText(2, record.office());
    RETURN_IF_ERROR(update.Run());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> SchemaVersion(Database& db) {
  absl::StatusOr<Statement> stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("PRAGMA user_version returned no row");
  return stmt->ColumnInt(0);
}

absl::Status MigrateSchema(Database& db) {
  absl::StatusOr<int64_t> version = SchemaVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database has schema version ", *version,
        ", newer than this build's ", kSchemaVersion, "; upgrade cbx-node"));
  }
  if (*version < 0) {
    return absl::DataLossError(
        absl::StrCat("the database has schema version ", *version));
  }
  for (int64_t v = *version; v < kSchemaVersion; ++v) {
    absl::StatusOr<Transaction> txn =
        Transaction::Begin(db, Transaction::Mode::kWrite);
    if (!txn.ok()) return txn.status();
    absl::Status status = absl::OkStatus();
    // A database a test brought back to an older user_version keeps the
    // shape of version 5 (identifiers without y): that step is done.
    bool done = false;
    if (v == 4) {
      absl::StatusOr<bool> has_y = HasColumn(db, "identifiers", "y");
      if (!has_y.ok()) return has_y.status();
      done = !*has_y;
    }
    if (!done) status = db.Exec(kMigrations[v]);
    // The cases' tokens are inside their serialized records.
    if (status.ok() && v == 5) status = BackfillCaseTokens(db);
    // Withdrawals: the hits' member and case token (sqlite_withdrawals.h).
    if (status.ok() && v == 6) status = BackfillHitTokens(db);
    // The cases' owning offices are inside their serialized records.
    if (status.ok() && v == 6) status = AddCaseOffices(db);
    if (status.ok()) {
      status = db.Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
    }
    if (status.ok()) status = txn->Commit();
    if (!status.ok()) {
      return absl::Status(
          status.code(), absl::StrCat("migrating the schema to version ", v + 1,
                                      ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace cbx::node::sqlite
