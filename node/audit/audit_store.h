// The audit log's store, behind an interface (spec/audit-log.md §2.7):
// its tables, in SQLite (sqlite_audit_store.h, the default) or PostgreSQL
// (pg_audit_store.h), the same in both:
//
//   leaves       (seq, leaf_hash, data, subtrees)  one row per entry
//   state        (size, root, compact_range)       one row: the committed tree
//   checkpoints  (size, root, note, signed_ms)
//   cosignatures (size, name, key_id, line)
//
// Every perfect subtree is stored in the row of the leaf that completes it:
// leaves.subtrees of leaf s holds the hashes of the subtrees (L, s >> L) for
// L = 1 .. trailing_ones(s), lowest level first (level 0 is leaf_hash). So
// subtree (L, i) is in row (i + 1) * 2^L - 1, and a batch of appends writes
// only to the right edge of one B-tree: a third of the WAL pages per commit
// that a separate (level, index) table costs.
#ifndef CBX_NODE_AUDIT_AUDIT_STORE_H_
#define CBX_NODE_AUDIT_AUDIT_STORE_H_

#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/merkle/compact_range.h"
#include "core/util/bytes.h"

namespace cbx::node::audit {

// The schema version of the audit store this build writes and reads
// (audit.db's PRAGMA user_version; a PostgreSQL schema's schema_version
// table). A file with a higher one is refused, never opened: an
// older binary cannot know what a newer one keeps. To change the schema,
// add a migration from each older version and bump this
// (docs/operations.md "Upgrades").
inline constexpr int kAuditSchemaVersion = 1;

// How many perfect subtrees of level >= 1 leaf `sequence` completes: the
// trailing one bits of its index.
inline uint64_t CompletedSubtrees(uint64_t sequence) {
  return static_cast<uint64_t>(std::countr_one(sequence));
}

struct LeafRow {
  uint64_t sequence = 0;
  Bytes leaf_hash;
  std::string data;
  // The perfect subtrees of level >= 1 this leaf completes (see above).
  Bytes subtrees;
};

struct StateRow {
  uint64_t size = 0;
  Bytes root;
  Bytes compact_range;  // merkle::CompactRange::Serialize()
};

struct CheckpointRow {
  uint64_t size = 0;
  Bytes root;
  std::string note;  // the signed note as the log signed it
  int64_t signed_ms = 0;
};

// What a cheap look at the leaves table shows.
struct LeafStats {
  uint64_t count = 0;
  std::optional<uint64_t> min_sequence;  // nullopt when there are no rows
  std::optional<uint64_t> max_sequence;
};

// One connection to the stored log, whatever holds it: SqliteAuditStore
// (audit.db, the default) or PgAuditStore (a PostgreSQL schema). The store
// moves rows; it checks nothing about what they mean (AuditLog and its
// checks do). Not thread-safe: the owner serializes all use of one
// AuditStore, and uses one per connection.
class AuditStore {
 public:
  // What BeginRead returns: while it lives, every read of the store sees
  // one snapshot. Destroying it ends the read transaction.
  class ReadSnapshot {
   public:
    virtual ~ReadSnapshot() = default;
  };

  virtual ~AuditStore() = default;

  // Creates the tables and the state row of the empty log if the store is
  // new (no schema version and no tables). FAILED_PRECONDITION for a store
  // of another format, or of a newer schema version than kAuditSchemaVersion
  // (naming both versions); DATA_LOSS for one with leaves but no state.
  virtual absl::Status Initialize() = 0;

  // The state row; DATA_LOSS if it is missing or malformed.
  virtual absl::StatusOr<StateRow> ReadState() = 0;

  // Inserts `leaves` and sets the state row to `state`, in one write
  // transaction: all or nothing, durable when OK. ALREADY_EXISTS if a leaf
  // row of one of those sequences is stored already.
  virtual absl::Status AppendBatch(const std::vector<LeafRow>& leaves,
                                   const merkle::CompactRange& state) = 0;

  virtual absl::StatusOr<std::optional<LeafRow>> ReadLeaf(
      uint64_t sequence) = 0;
  // The rows with begin <= seq < end, in order (missing rows are absent).
  virtual absl::StatusOr<std::vector<LeafRow>> ReadLeaves(uint64_t begin,
                                                          uint64_t end) = 0;
  // Calls `visit` for every leaf row in sequence order, stopping at the
  // first error it returns. The views are valid during the call only.
  virtual absl::Status ScanLeaves(
      const std::function<absl::Status(
          uint64_t sequence, std::string_view leaf_hash, std::string_view data,
          std::string_view subtrees)>& visit) = 0;
  // The stored hash of perfect subtree (level, index): the leaf hash for
  // level 0. nullopt if the row that holds it is missing; DATA_LOSS if that
  // row's subtrees column does not have the length its sequence implies.
  // One point read of one row (O(log n) pages).
  virtual absl::StatusOr<std::optional<Bytes>> ReadSubtree(uint64_t level,
                                                           uint64_t index) = 0;
  // COUNT, MIN and MAX of leaves.seq (COUNT reads the whole table).
  virtual absl::StatusOr<LeafStats> ReadLeafStats() = 0;
  // MIN and MAX of leaves.seq, count left 0: two index descents, O(log n)
  // pages whatever the table's size.
  virtual absl::StatusOr<LeafStats> ReadLeafEnds() = 0;
  // COUNT of the rows with begin <= seq < end: a range scan.
  virtual absl::StatusOr<uint64_t> CountLeaves(uint64_t begin,
                                               uint64_t end) = 0;

  // ALREADY_EXISTS if a checkpoint of that size is stored.
  virtual absl::Status InsertCheckpoint(const CheckpointRow& row) = 0;
  virtual absl::StatusOr<std::optional<CheckpointRow>> ReadCheckpoint(
      uint64_t size) = 0;
  virtual absl::StatusOr<std::optional<CheckpointRow>> LatestCheckpoint() = 0;
  virtual absl::StatusOr<std::vector<CheckpointRow>> ListCheckpoints() = 0;
  // The cosignature lines of checkpoint `size`, in the order added, each
  // without its final newline.
  virtual absl::StatusOr<std::vector<std::string>> ReadCosignatures(
      uint64_t size) = 0;
  // ALREADY_EXISTS if (size, name, key_id) is stored.
  virtual absl::Status InsertCosignature(uint64_t size, std::string_view name,
                                         uint32_t key_id,
                                         std::string_view line) = 0;

  // A read transaction: everything read until it ends sees one snapshot.
  virtual absl::StatusOr<std::unique_ptr<ReadSnapshot>> BeginRead() = 0;

  // Upkeep off the commit path, which AuditLog's head thread runs now and
  // then on a connection of its own (SQLite: copies the WAL into the
  // database file). True if it did something.
  virtual absl::StatusOr<bool> Maintain() = 0;

  // After a failed write: replaces the connection if it can no longer be
  // trusted (a disk fault, a lost server connection); OK otherwise.
  virtual absl::Status ReopenIfFaulted() = 0;
  // Replaces the connection with a new one, so that what is read next
  // comes from the stored data, nothing cached.
  virtual absl::Status Reopen() = 0;
};

// Where one audit log is stored, and how AuditLog reaches it: it makes the
// connections the log's threads use, and keeps a second writer out.
// Thread-safe: AuditLog's threads call Connect concurrently.
class AuditBackend {
 public:
  // Held by the one AuditLog that writes to the store, for its lifetime.
  // Not thread-safe: AuditLog calls Check and Renew under its write mutex.
  class WriterLock {
   public:
    virtual ~WriterLock() = default;
    // Cheap, before each batch: UNAVAILABLE if the lock is known to be
    // lost (PostgreSQL: a session lock dies with its session, so with the
    // server when a replica is promoted); OK otherwise. No round trip.
    virtual absl::Status Check() { return absl::OkStatus(); }
    // Before the log writes again after a failure: asks the store whether
    // the lock is still held and, if it was lost, takes it again
    // (FAILED_PRECONDITION if another writer holds it now, UNAVAILABLE if
    // the store cannot be reached). A file lock cannot be lost: OK.
    virtual absl::Status Renew() { return absl::OkStatus(); }
  };

  virtual ~AuditBackend() = default;

  // Takes the writer lock: FAILED_PRECONDITION (naming where the log is)
  // if another AuditLog holds it, in this process or another.
  virtual absl::StatusOr<std::unique_ptr<WriterLock>> LockWriter() = 0;
  // A new connection to the store.
  virtual absl::StatusOr<std::unique_ptr<AuditStore>> Connect() = 0;
  // The connection the log writes with (Connect, then whatever the backend
  // sets for writing).
  virtual absl::StatusOr<std::unique_ptr<AuditStore>> ConnectWriter() {
    return Connect();
  }
  // The head file's path when AuditLogOptions names none ("" if the
  // backend has no natural place for it: the options must name one).
  virtual std::string DefaultHeadPath() const = 0;
  // Where the log is, for messages (never a password).
  virtual std::string Describe() const = 0;
};

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_AUDIT_STORE_H_
