// The own tag index in PgStorage (as in sqlite_own_index.h): per OPRF key
// generation, the tags of open cases' identifiers with reference counts (table
// own_index), the log of the current generation's set changes (index_changes)
// and the version row (own_index_state); and the generation numbers in use
// (oprf_generations). See pg_schema.cc for the tables.
//
// These functions run inside the caller's transaction; the caller holds the
// connection's lock.
#ifndef CBX_NODE_STORAGE_PG_PG_OWN_INDEX_H_
#define CBX_NODE_STORAGE_PG_PG_OWN_INDEX_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/pg/pg_db.h"
#include "node/storage/storage.h"

namespace cbx::node::pgsql {

// Tags are stored as the signed 64-bit integer with the same bits.
inline int64_t TagToSql(Tag tag) { return static_cast<int64_t>(tag); }
inline Tag TagFromSql(int64_t value) { return static_cast<Tag>(value); }

// Turns tags read in SQL (signed) order into ascending (unsigned) order.
void SignedToUnsignedOrder(std::vector<Tag>& tags);

struct IndexState {
  uint64_t version = 0;
  // Changes with versions up to this one were compacted away.
  uint64_t compacted_through = 0;
};

// DATA_LOSS if the state row is missing.
absl::StatusOr<IndexState> ReadIndexState(Database& db);

// The OPRF key generations in use (schema version 5): reads see `current`;
// the next key's outputs are staged under `staging`; `previous` (if any)
// holds the outputs the last switch replaced. Rows of any other generation
// are garbage.
struct Generations {
  int64_t current = 0;
  std::optional<int64_t> previous;
  int64_t staging = 0;
};
// DATA_LOSS if the row is missing.
absl::StatusOr<Generations> ReadGenerations(Database& db);

// Applies reference count changes (from TagDeltas) to the own index of the
// current generation `generation` and records each tag that enters or
// leaves the set as a change with the next version. INTERNAL if a count
// would fall below zero.
absl::Status ApplyTagDeltas(Database& db, int64_t generation,
                            const std::vector<std::pair<Tag, int64_t>>& deltas);
// The same for the staging generation's tag set, which has no version and
// no change log (it is served only once it becomes current).
absl::Status ApplyStagingTagDeltas(
    Database& db, int64_t generation,
    const std::vector<std::pair<Tag, int64_t>>& deltas);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_OWN_INDEX_H_
