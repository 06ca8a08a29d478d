// The audit log's SQLite tables, one connection each (spec/audit-log.md
// §2.7):
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
//
// The store moves rows; it checks nothing about what they mean (AuditLog and
// its checks do). Not thread-safe: the owner serializes all use of one
// AuditStore, and uses one per connection.
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
#include "node/storage/sqlite_db.h"

namespace cbx::node::audit {

// The schema version of audit.db this build writes and reads (PRAGMA
// user_version). A file with a higher one is refused, never opened: an
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

class AuditStore {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode with
  // synchronous=FULL, through the SQLite VFS `vfs` ("" for the default).
  // Errors as sqlite::Database::Open.
  static absl::StatusOr<std::unique_ptr<AuditStore>> Open(
      const std::string& path, const std::string& vfs = "");

  // Creates the tables and the state row of the empty log if the database
  // is new (user_version 0 and no tables). FAILED_PRECONDITION for a
  // database of another format; DATA_LOSS for one with leaves but no state.
  absl::Status Initialize();

  // The state row; DATA_LOSS if it is missing or malformed.
  absl::StatusOr<StateRow> ReadState();

  // Inserts `leaves` and sets the state row to `state`, in one write
  // transaction: all or nothing, durable when OK.
  absl::Status AppendBatch(const std::vector<LeafRow>& leaves,
                           const merkle::CompactRange& state);

  absl::StatusOr<std::optional<LeafRow>> ReadLeaf(uint64_t sequence);
  // The rows with begin <= seq < end, in order (missing rows are absent).
  absl::StatusOr<std::vector<LeafRow>> ReadLeaves(uint64_t begin, uint64_t end);
  // Calls `visit` for every leaf row in sequence order, stopping at the
  // first error it returns. The views are valid during the call only.
  absl::Status ScanLeaves(
      const std::function<absl::Status(
          uint64_t sequence, std::string_view leaf_hash, std::string_view data,
          std::string_view subtrees)>& visit);
  // The stored hash of perfect subtree (level, index): the leaf hash for
  // level 0. nullopt if the row that holds it is missing; DATA_LOSS if that
  // row's subtrees column does not have the length its sequence implies.
  absl::StatusOr<std::optional<Bytes>> ReadSubtree(uint64_t level,
                                                   uint64_t index);
  // COUNT, MIN and MAX of leaves.seq (COUNT reads the whole table).
  absl::StatusOr<LeafStats> ReadLeafStats();
  // MIN and MAX of leaves.seq, count left 0: two B-tree descents, O(log n)
  // pages whatever the table's size.
  absl::StatusOr<LeafStats> ReadLeafEnds();
  // COUNT of the rows with begin <= seq < end: a range scan of the table
  // (every page of that range is read).
  absl::StatusOr<uint64_t> CountLeaves(uint64_t begin, uint64_t end);

  // ALREADY_EXISTS if a checkpoint of that size is stored.
  absl::Status InsertCheckpoint(const CheckpointRow& row);
  absl::StatusOr<std::optional<CheckpointRow>> ReadCheckpoint(uint64_t size);
  absl::StatusOr<std::optional<CheckpointRow>> LatestCheckpoint();
  absl::StatusOr<std::vector<CheckpointRow>> ListCheckpoints();
  // The cosignature lines of checkpoint `size`, in the order added, each
  // without its final newline.
  absl::StatusOr<std::vector<std::string>> ReadCosignatures(uint64_t size);
  // ALREADY_EXISTS if (size, name, key_id) is stored.
  absl::Status InsertCosignature(uint64_t size, std::string_view name,
                                 uint32_t key_id, std::string_view line);

  // Copies what the WAL holds into the database file without blocking
  // writers or readers (PRAGMA wal_checkpoint(PASSIVE)).
  absl::Status CheckpointWal();
  // Sets when a commit on this connection checkpoints the WAL itself
  // (PRAGMA wal_autocheckpoint, in pages; 0 = never).
  absl::Status SetAutoCheckpoint(int pages);

  // A read transaction: everything read until it ends sees one snapshot.
  absl::StatusOr<sqlite::Transaction> BeginRead();

  sqlite::Database& db() { return *db_; }

 private:
  explicit AuditStore(std::unique_ptr<sqlite::Database> db)
      : db_(std::move(db)) {}

  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_AUDIT_STORE_H_
