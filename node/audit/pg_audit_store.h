// The audit log in a PostgreSQL schema (spec/audit-log.md §2.7): the same
// four tables as audit.db (leaves with the right-edge subtree layout, state,
// checkpoints, cosignatures) plus schema_version, the version row audit.db
// keeps in PRAGMA user_version. A batch of appends is one transaction (its
// leaf rows in multi-row INSERTs, the state row updated in the same
// statement), durable at COMMIT; proofs read the perfect subtrees from the
// database, one point read each. Reads that must see one snapshot run in
// a REPEATABLE READ READ ONLY transaction.
//
// One writer per log: the writer holds a session advisory lock keyed by the
// schema's name, on a connection of its own, for as long as its AuditLog
// lives. In an active/standby pair (spec/active-standby.md) the backend is
// given the node's fence (node/storage/pg/pg_fence.h): AppendBatch,
// InsertCheckpoint and InsertCosignature then check, inside their
// transaction, that the node still holds its term, and fail with the
// fenced status (pg::IsFenced) otherwise.
//
// The head file (spec/audit-log.md §2.8) stays a local file: AuditLogOptions
// must name it.
//
// Threading: a PgAuditStore is not thread-safe (AuditStore); a
// PgAuditBackend is.
#ifndef CBX_NODE_AUDIT_PG_AUDIT_STORE_H_
#define CBX_NODE_AUDIT_PG_AUDIT_STORE_H_

#include <memory>
#include <string>

#include "node/audit/audit_store.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_fence.h"

namespace cbx::node::audit {

class PgAuditStore : public AuditStore {
 public:
  // Connects with `conninfo`, its search_path set to `schema` (which
  // Initialize creates if missing). UNAVAILABLE if the server cannot be
  // reached (pg::Connection::Open).
  static absl::StatusOr<std::unique_ptr<PgAuditStore>> Open(
      const std::string& conninfo, const std::string& schema,
      std::shared_ptr<const pg::Fence> fence = nullptr);

  // The format version is schema_version.version.
  absl::Status Initialize() override;
  absl::StatusOr<StateRow> ReadState() override;
  absl::Status AppendBatch(const std::vector<LeafRow>& leaves,
                           const merkle::CompactRange& state) override;
  absl::StatusOr<std::optional<LeafRow>> ReadLeaf(uint64_t sequence) override;
  absl::StatusOr<std::vector<LeafRow>> ReadLeaves(uint64_t begin,
                                                  uint64_t end) override;
  // Reads a chunk of rows at a time (keyset pagination), so a large log is
  // never held in memory; inside BeginRead's snapshot when one is open.
  absl::Status ScanLeaves(
      const std::function<absl::Status(uint64_t, std::string_view,
                                       std::string_view, std::string_view)>&
          visit) override;
  absl::StatusOr<std::optional<Bytes>> ReadSubtree(uint64_t level,
                                                   uint64_t index) override;
  absl::StatusOr<LeafStats> ReadLeafStats() override;
  absl::StatusOr<LeafStats> ReadLeafEnds() override;
  absl::StatusOr<uint64_t> CountLeaves(uint64_t begin, uint64_t end) override;
  absl::Status InsertCheckpoint(const CheckpointRow& row) override;
  absl::StatusOr<std::optional<CheckpointRow>> ReadCheckpoint(
      uint64_t size) override;
  absl::StatusOr<std::optional<CheckpointRow>> LatestCheckpoint() override;
  absl::StatusOr<std::vector<CheckpointRow>> ListCheckpoints() override;
  absl::StatusOr<std::vector<std::string>> ReadCosignatures(
      uint64_t size) override;
  absl::Status InsertCosignature(uint64_t size, std::string_view name,
                                 uint32_t key_id,
                                 std::string_view line) override;
  absl::StatusOr<std::unique_ptr<ReadSnapshot>> BeginRead() override;
  // Nothing to do (the server checkpoints its own WAL): false.
  absl::StatusOr<bool> Maintain() override { return false; }
  // Reconnects a connection the server lost.
  absl::Status ReopenIfFaulted() override;
  absl::Status Reopen() override;

 private:
  PgAuditStore(std::unique_ptr<pg::Connection> conn, std::string schema,
               std::shared_ptr<const pg::Fence> fence)
      : conn_(std::move(conn)),
        schema_(std::move(schema)),
        fence_(std::move(fence)) {}

  // Inside an open write transaction: the fence's check (OK without one).
  absl::Status CheckFence();

  std::unique_ptr<pg::Connection> conn_;
  const std::string schema_;
  const std::shared_ptr<const pg::Fence> fence_;  // null: no pair
};

// The log in schema `schema` of the database `conninfo` names.
class PgAuditBackend : public AuditBackend {
 public:
  // INVALID_ARGUMENT unless `schema` is a plain lower-case identifier
  // ([a-z_][a-z0-9_]*, at most 63 bytes) or `conninfo` does not parse.
  static absl::StatusOr<std::shared_ptr<PgAuditBackend>> Create(
      std::string conninfo, std::string schema = "cbx_audit");

  // pg_try_advisory_lock on a connection of its own, held by the lock.
  absl::StatusOr<std::unique_ptr<WriterLock>> LockWriter() override;
  absl::StatusOr<std::unique_ptr<AuditStore>> Connect() override;
  // None: the options must name the head file.
  std::string DefaultHeadPath() const override { return ""; }
  // "PostgreSQL schema <schema> (<redacted conninfo>)".
  std::string Describe() const override;

  // The fence every store connected from now on checks before it appends,
  // signs or cosigns (an active/standby pair's term); before Open.
  void SetFence(std::shared_ptr<const pg::Fence> fence) {
    fence_ = std::move(fence);
  }

 private:
  PgAuditBackend(std::string conninfo, std::string schema)
      : conninfo_(std::move(conninfo)), schema_(std::move(schema)) {}

  const std::string conninfo_;
  const std::string schema_;
  std::shared_ptr<const pg::Fence> fence_;
};

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_PG_AUDIT_STORE_H_
