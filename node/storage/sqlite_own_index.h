// The own tag index in the SQLite backend: tags of open cases' identifiers
// with reference counts (table own_index), the log of set changes
// (index_changes) and the version row (own_index_state). See
// sqlite_schema.cc for the tables.
//
// These functions run inside the caller's transaction; the caller holds the
// connection's lock.
#ifndef CBX_NODE_STORAGE_SQLITE_OWN_INDEX_H_
#define CBX_NODE_STORAGE_SQLITE_OWN_INDEX_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/sqlite_db.h"
#include "node/storage/storage.h"

namespace cbx::node::sqlite {

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

// Applies reference count changes (from TagDeltas) to the own index and
// records each tag that enters or leaves the set as a change with the next
// version. INTERNAL if a count would fall below zero.
absl::Status ApplyTagDeltas(Database& db,
                            const std::vector<std::pair<Tag, int64_t>>& deltas);

}  // namespace cbx::node::sqlite

#endif  // CBX_NODE_STORAGE_SQLITE_OWN_INDEX_H_
