#include "node/storage/sqlite_schema.h"

#include <string>

#include "absl/strings/str_cat.h"

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

// kMigrations[i] takes the schema from version i to version i + 1. To change
// the schema, append a step (never edit a released one) and bump
// kSchemaVersion.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3,
                                       kSchemaV4};
static_assert(std::size(kMigrations) == kSchemaVersion);

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
    absl::Status status = db.Exec(kMigrations[v]);
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
