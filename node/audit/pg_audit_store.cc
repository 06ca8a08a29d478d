#include "node/audit/pg_audit_store.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::audit {
namespace {

using pg::Params;
using pg::Result;

constexpr int kFormatVersion = kAuditSchemaVersion;

// The tables of audit.db (sqlite_audit_store.cc), in PostgreSQL types, and
// the version row.
constexpr char kSchema[] = R"sql(
CREATE TABLE schema_version (
  id integer PRIMARY KEY CHECK (id = 1),
  version integer NOT NULL
);
CREATE TABLE leaves (
  seq bigint PRIMARY KEY,
  leaf_hash bytea NOT NULL,
  data bytea NOT NULL,
  subtrees bytea NOT NULL
);
CREATE TABLE state (
  id integer PRIMARY KEY CHECK (id = 1),
  size bigint NOT NULL,
  root bytea NOT NULL,
  compact_range bytea NOT NULL
);
CREATE TABLE checkpoints (
  size bigint PRIMARY KEY,
  root bytea NOT NULL,
  note text NOT NULL,
  signed_ms bigint NOT NULL
);
CREATE TABLE cosignatures (
  size bigint NOT NULL REFERENCES checkpoints (size),
  name text NOT NULL,
  key_id bigint NOT NULL,
  line text NOT NULL,
  added bigserial PRIMARY KEY,
  UNIQUE (size, name, key_id)
);
)sql";

// Rows per INSERT statement of a batch (4 parameters each, far below the
// protocol's 65535).
constexpr size_t kRowsPerInsert = 1000;
// Rows per chunk ScanLeaves reads.
constexpr int kScanChunk = 4096;

constexpr size_t kSubtreeHashSize = 32;

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t U64(int64_t v) { return static_cast<uint64_t>(v); }

Bytes BytesAt(const Result& r, int row, int column) {
  return Bytes(r.View(row, column));
}

LeafRow LeafAt(const Result& r, int row) {
  return LeafRow{U64(r.Int(row, 0)), BytesAt(r, row, 1), r.String(row, 2),
                 BytesAt(r, row, 3)};
}

CheckpointRow CheckpointAt(const Result& r, int row) {
  return CheckpointRow{U64(r.Int(row, 0)), BytesAt(r, row, 1),
                       r.String(row, 2), r.Int(row, 3)};
}

bool PlainIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

class PgSnapshot : public AuditStore::ReadSnapshot {
 public:
  explicit PgSnapshot(pg::Transaction txn) : txn_(std::move(txn)) {}
  ~PgSnapshot() override { txn_.Commit().IgnoreError(); }  // read-only

 private:
  pg::Transaction txn_;
};

// pg_try_advisory_lock(`key`) on `conn`'s session: FAILED_PRECONDITION,
// naming `where`, if another session holds it.
absl::Status TryLock(pg::Connection& conn, const std::string& key,
                     const std::string& where) {
  ASSIGN_OR_RETURN(Result r,
                   conn.Query("SELECT pg_try_advisory_lock(hashtext($1))",
                              Params().Text(key)));
  if (!r.Bool(0, 0)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the audit log in ", where,
        " is open already (another cbx-node or AuditLog holds its advisory "
        "lock)"));
  }
  return absl::OkStatus();
}

// Holds the writer's advisory lock: the session that took it. A session
// lock lives as long as its session: when the server goes (a primary
// stopped, its replica promoted under the same multi-host conninfo) the
// lock goes with it, and appends wait until Renew has taken it again on
// the server the conninfo reaches now.
class AdvisoryLock : public AuditBackend::WriterLock {
 public:
  AdvisoryLock(std::unique_ptr<pg::Connection> conn, std::string key,
               std::string where)
      : conn_(std::move(conn)),
        key_(std::move(key)),
        where_(std::move(where)) {}
  // Unlocks before closing: the server releases a closed session's locks
  // only once its backend has noticed the disconnect, so a log opened
  // right after this one closed could still find the lock held.
  ~AdvisoryLock() override {
    if (conn_->broken()) return;
    conn_->Query("SELECT pg_advisory_unlock(hashtext($1))",
                 Params().Text(key_))
        .IgnoreError();
  }

  absl::Status Check() override { return conn_->PollIdle(); }

  absl::Status Renew() override {
    // Asks the server (a server that vanished without closing the socket
    // looks alive to PollIdle) whether this session holds the lock: after
    // a reconnection whose TryLock failed it is alive but holds nothing.
    if (!conn_->broken()) {
      absl::StatusOr<Result> held = conn_->Query(
          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
          "granted AND pid = pg_backend_pid() AND objid::int8 = "
          "(hashtext($1)::int8 & 4294967295)",
          Params().Text(key_));
      if (held.ok() && held->Int(0, 0) == 1) return absl::OkStatus();
      if (!held.ok() && !conn_->broken()) return held.status();
    }
    if (conn_->broken()) RETURN_IF_ERROR(conn_->Reconnect());
    return TryLock(*conn_, key_, where_);
  }

 private:
  std::unique_ptr<pg::Connection> conn_;
  const std::string key_;
  const std::string where_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PgAuditStore>> PgAuditStore::Open(
    const std::string& conninfo, const std::string& schema,
    std::shared_ptr<const pg::Fence> fence) {
  if (!PlainIdentifier(schema)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a plain schema name: ", schema));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<pg::Connection> conn,
      pg::Connection::Open(conninfo,
                           absl::StrCat("SET search_path TO ", schema)));
  return std::unique_ptr<PgAuditStore>(
      new PgAuditStore(std::move(conn), schema, std::move(fence)));
}

absl::Status PgAuditStore::CheckFence() {
  return fence_ == nullptr ? absl::OkStatus() : pg::CheckFence(*conn_, *fence_);
}

absl::Status PgAuditStore::Initialize() {
  ASSIGN_OR_RETURN(pg::Transaction txn,
                   pg::Transaction::Begin(*conn_, pg::Transaction::Mode::kWrite));
  ASSIGN_OR_RETURN(
      Result tables,
      conn_->Query("SELECT count(*), count(*) FILTER (WHERE tablename = "
                   "'schema_version') FROM pg_tables WHERE schemaname = $1",
                   Params().Text(schema_)));
  if (tables.Int(0, 1) == 1) {
    ASSIGN_OR_RETURN(Result version,
                     conn_->Query("SELECT version FROM schema_version"));
    const int64_t v = version.rows() == 1 ? version.Int(0, 0) : 0;
    if (v == kFormatVersion) return absl::OkStatus();  // rolls back
    if (v > kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the audit schema ", schema_,
          " was written by a newer cbx (schema ", v,
          "); this binary understands up to ", kFormatVersion,
          ": upgrade cbx-node (an older binary never opens a newer audit "
          "log)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the audit schema ", schema_, " has format ", v,
                     "; this node reads ", kFormatVersion));
  }
  if (tables.Int(0, 0) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the PostgreSQL schema ", schema_,
        " holds tables but no format version: it is not an audit log"));
  }
  // CREATE SCHEMA needs the CREATE privilege on the database; an operator
  // may have made the schema instead.
  ASSIGN_OR_RETURN(
      Result exists,
      conn_->Query("SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                   Params().Text(schema_)));
  if (exists.Int(0, 0) == 0) {
    RETURN_IF_ERROR(conn_->Exec(absl::StrCat("CREATE SCHEMA ", schema_)));
  }
  RETURN_IF_ERROR(conn_->Exec(kSchema));
  merkle::CompactRange empty;
  RETURN_IF_ERROR(conn_
                      ->Query("INSERT INTO state (id, size, root, "
                              "compact_range) VALUES (1, 0, $1, $2)",
                              Params().Bytes(empty.Root()).Bytes(
                                  empty.Serialize()))
                      .status());
  RETURN_IF_ERROR(conn_
                      ->Query("INSERT INTO schema_version (id, version) "
                              "VALUES (1, $1::int8::int4)",
                              Params().Int(kFormatVersion))
                      .status());
  return txn.Commit();
}

absl::StatusOr<StateRow> PgAuditStore::ReadState() {
  ASSIGN_OR_RETURN(
      Result r,
      conn_->Query("SELECT size, root, compact_range FROM state WHERE id = 1"));
  if (r.rows() == 0) {
    return absl::DataLossError(
        "the audit database has no state row: it was truncated or edited");
  }
  if (r.Int(0, 0) < 0) {
    return absl::DataLossError("the audit state row has a negative size");
  }
  return StateRow{U64(r.Int(0, 0)), BytesAt(r, 0, 1), BytesAt(r, 0, 2)};
}

absl::Status PgAuditStore::AppendBatch(const std::vector<LeafRow>& leaves,
                                       const merkle::CompactRange& state) {
  ASSIGN_OR_RETURN(pg::Transaction txn,
                   pg::Transaction::Begin(*conn_, pg::Transaction::Mode::kWrite));
  // First: a takeover's term update then waits for this batch, or this
  // batch sees the new term and writes nothing.
  RETURN_IF_ERROR(CheckFence());
  for (size_t first = 0; first < leaves.size(); first += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, leaves.size() - first);
    std::string sql = "INSERT INTO leaves (seq, leaf_hash, data, subtrees) VALUES ";
    Params params;
    for (size_t i = 0; i < n; ++i) {
      const LeafRow& leaf = leaves[first + i];
      const size_t p = 4 * i;
      absl::StrAppend(&sql, i == 0 ? "" : ",", "($", p + 1, ",$", p + 2, ",$",
                      p + 3, ",$", p + 4, ")");
      params.Int(I64(leaf.sequence))
          .Bytes(leaf.leaf_hash)
          .Bytes(leaf.data)
          .Bytes(leaf.subtrees);
    }
    RETURN_IF_ERROR(conn_->Query(sql, params).status());
  }
  ASSIGN_OR_RETURN(Result updated,
                   conn_->Query("UPDATE state SET size = $1, root = $2, "
                                "compact_range = $3 WHERE id = 1",
                                Params()
                                    .Int(I64(state.size()))
                                    .Bytes(state.Root())
                                    .Bytes(state.Serialize())));
  if (updated.affected() != 1) {
    return absl::DataLossError("the audit state row is missing");
  }
  return txn.Commit();
}

absl::StatusOr<std::optional<LeafRow>> PgAuditStore::ReadLeaf(
    uint64_t sequence) {
  ASSIGN_OR_RETURN(Result r, conn_->Query("SELECT seq, leaf_hash, data, "
                                          "subtrees FROM leaves WHERE seq = $1",
                                          Params().Int(I64(sequence))));
  if (r.rows() == 0) return std::nullopt;
  return LeafAt(r, 0);
}

absl::StatusOr<std::vector<LeafRow>> PgAuditStore::ReadLeaves(uint64_t begin,
                                                              uint64_t end) {
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT seq, leaf_hash, data, subtrees FROM "
                                "leaves WHERE seq >= $1 AND seq < $2 ORDER BY "
                                "seq",
                                Params().Int(I64(begin)).Int(I64(end))));
  std::vector<LeafRow> rows;
  rows.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) rows.push_back(LeafAt(r, i));
  return rows;
}

absl::Status PgAuditStore::ScanLeaves(
    const std::function<absl::Status(uint64_t, std::string_view,
                                     std::string_view, std::string_view)>&
        visit) {
  // Sequences may be negative in an edited table: start below them all.
  int64_t after = std::numeric_limits<int64_t>::min();
  bool first = true;
  while (true) {
    ASSIGN_OR_RETURN(
        Result r,
        conn_->Query(
            absl::StrCat("SELECT seq, leaf_hash, data, subtrees FROM leaves ",
                         first ? "WHERE seq >= $1" : "WHERE seq > $1",
                         " ORDER BY seq LIMIT ", kScanChunk),
            Params().Int(after)));
    first = false;
    for (int i = 0; i < r.rows(); ++i) {
      RETURN_IF_ERROR(visit(U64(r.Int(i, 0)), r.View(i, 1), r.View(i, 2),
                            r.View(i, 3)));
    }
    if (r.rows() < kScanChunk) return absl::OkStatus();
    after = r.Int(r.rows() - 1, 0);
  }
}

absl::StatusOr<std::optional<Bytes>> PgAuditStore::ReadSubtree(uint64_t level,
                                                               uint64_t index) {
  if (level == 0) {
    ASSIGN_OR_RETURN(Result r,
                     conn_->Query("SELECT leaf_hash FROM leaves WHERE seq = $1",
                                  Params().Int(I64(index))));
    if (r.rows() == 0) return std::nullopt;
    return BytesAt(r, 0, 0);
  }
  // The subtree's last leaf, which completed it (sqlite_audit_store.cc).
  const uint64_t seq = ((index + 1) << level) - 1;
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT subtrees FROM leaves WHERE seq = $1",
                                Params().Int(I64(seq))));
  if (r.rows() == 0) return std::nullopt;
  std::string_view hashes = r.View(0, 0);
  const size_t want = CompletedSubtrees(seq) * kSubtreeHashSize;
  if (hashes.size() != want) {
    return absl::DataLossError(
        absl::StrCat("the row of leaf ", seq, " holds ", hashes.size(),
                     " bytes of perfect subtree hashes; it completes ",
                     CompletedSubtrees(seq), " subtrees, ", want, " bytes"));
  }
  return Bytes(hashes.substr((level - 1) * kSubtreeHashSize, kSubtreeHashSize));
}

absl::StatusOr<LeafStats> PgAuditStore::ReadLeafStats() {
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT count(*), min(seq), max(seq) FROM "
                                "leaves"));
  LeafStats stats;
  stats.count = U64(r.Int(0, 0));
  if (!r.IsNull(0, 1)) stats.min_sequence = U64(r.Int(0, 1));
  if (!r.IsNull(0, 2)) stats.max_sequence = U64(r.Int(0, 2));
  return stats;
}

absl::StatusOr<LeafStats> PgAuditStore::ReadLeafEnds() {
  // PostgreSQL answers each of MIN and MAX of an indexed column with one
  // index descent, both in one statement.
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT min(seq), max(seq) FROM leaves"));
  LeafStats stats;
  if (!r.IsNull(0, 0)) stats.min_sequence = U64(r.Int(0, 0));
  if (!r.IsNull(0, 1)) stats.max_sequence = U64(r.Int(0, 1));
  return stats;
}

absl::StatusOr<uint64_t> PgAuditStore::CountLeaves(uint64_t begin,
                                                   uint64_t end) {
  ASSIGN_OR_RETURN(
      Result r,
      conn_->Query("SELECT count(*) FROM leaves WHERE seq >= $1 AND seq < $2",
                   Params().Int(I64(begin)).Int(I64(end))));
  return U64(r.Int(0, 0));
}

absl::Status PgAuditStore::InsertCheckpoint(const CheckpointRow& row) {
  ASSIGN_OR_RETURN(
      pg::Transaction txn,
      pg::Transaction::Begin(*conn_, pg::Transaction::Mode::kWrite));
  RETURN_IF_ERROR(CheckFence());
  RETURN_IF_ERROR(
      conn_
          ->Query(
              "INSERT INTO checkpoints (size, root, note, signed_ms) VALUES "
              "($1, $2, $3, $4)",
              Params()
                  .Int(I64(row.size))
                  .Bytes(row.root)
                  .Text(row.note)
                  .Int(row.signed_ms))
          .status());
  return txn.Commit();
}

absl::StatusOr<std::optional<CheckpointRow>> PgAuditStore::ReadCheckpoint(
    uint64_t size) {
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT size, root, note, signed_ms FROM "
                                "checkpoints WHERE size = $1",
                                Params().Int(I64(size))));
  if (r.rows() == 0) return std::nullopt;
  return CheckpointAt(r, 0);
}

absl::StatusOr<std::optional<CheckpointRow>> PgAuditStore::LatestCheckpoint() {
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT size, root, note, signed_ms FROM "
                                "checkpoints ORDER BY size DESC LIMIT 1"));
  if (r.rows() == 0) return std::nullopt;
  return CheckpointAt(r, 0);
}

absl::StatusOr<std::vector<CheckpointRow>> PgAuditStore::ListCheckpoints() {
  ASSIGN_OR_RETURN(Result r,
                   conn_->Query("SELECT size, root, note, signed_ms FROM "
                                "checkpoints ORDER BY size"));
  std::vector<CheckpointRow> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(CheckpointAt(r, i));
  return rows;
}

absl::StatusOr<std::vector<std::string>> PgAuditStore::ReadCosignatures(
    uint64_t size) {
  ASSIGN_OR_RETURN(Result r, conn_->Query("SELECT line FROM cosignatures "
                                          "WHERE size = $1 ORDER BY added",
                                          Params().Int(I64(size))));
  std::vector<std::string> lines;
  for (int i = 0; i < r.rows(); ++i) lines.push_back(r.String(i, 0));
  return lines;
}

absl::Status PgAuditStore::InsertCosignature(uint64_t size,
                                             std::string_view name,
                                             uint32_t key_id,
                                             std::string_view line) {
  ASSIGN_OR_RETURN(
      pg::Transaction txn,
      pg::Transaction::Begin(*conn_, pg::Transaction::Mode::kWrite));
  RETURN_IF_ERROR(CheckFence());
  RETURN_IF_ERROR(
      conn_
          ->Query("INSERT INTO cosignatures (size, name, key_id, line) VALUES "
                  "($1, $2, $3, $4)",
                  Params().Int(I64(size)).Text(name).Int(key_id).Text(line))
          .status());
  return txn.Commit();
}

absl::StatusOr<std::unique_ptr<AuditStore::ReadSnapshot>>
PgAuditStore::BeginRead() {
  ASSIGN_OR_RETURN(
      pg::Transaction txn,
      pg::Transaction::Begin(*conn_, pg::Transaction::Mode::kSnapshot));
  return std::make_unique<PgSnapshot>(std::move(txn));
}

absl::Status PgAuditStore::ReopenIfFaulted() {
  return conn_->ReconnectIfBroken();
}

absl::Status PgAuditStore::Reopen() { return conn_->Reconnect(); }

// --- PgAuditBackend ----------------------------------------------------------

absl::StatusOr<std::shared_ptr<PgAuditBackend>> PgAuditBackend::Create(
    std::string conninfo, std::string schema) {
  if (!PlainIdentifier(schema)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the audit log's PostgreSQL schema must be a plain lower-case name "
        "([a-z_][a-z0-9_]*, at most 63 bytes), not ",
        schema));
  }
  if (pg::Redacted(conninfo) == "<unparseable conninfo>") {
    return absl::InvalidArgumentError(
        "the audit log's PostgreSQL conninfo does not parse");
  }
  return std::shared_ptr<PgAuditBackend>(
      new PgAuditBackend(std::move(conninfo), std::move(schema)));
}

absl::StatusOr<std::unique_ptr<AuditBackend::WriterLock>>
PgAuditBackend::LockWriter() {
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn,
                   pg::Connection::Open(conninfo_));
  std::string key = absl::StrCat("cbx audit log ", schema_);
  RETURN_IF_ERROR(TryLock(*conn, key, Describe()));
  return std::make_unique<AdvisoryLock>(std::move(conn), std::move(key),
                                        Describe());
}

absl::StatusOr<std::unique_ptr<AuditStore>> PgAuditBackend::Connect() {
  ASSIGN_OR_RETURN(std::unique_ptr<PgAuditStore> store,
                   PgAuditStore::Open(conninfo_, schema_, fence_));
  return std::unique_ptr<AuditStore>(std::move(store));
}

std::string PgAuditBackend::Describe() const {
  return absl::StrCat("PostgreSQL schema ", schema_, " (",
                      pg::Redacted(conninfo_), ")");
}

}  // namespace cbx::node::audit
