// Standing watches in node.db (spec/cooperation.md §4): the rows behind
// StorageTransaction's watch methods. Each function runs inside the
// caller's open write transaction on `db`; a write that fails changes
// nothing (it runs in a savepoint of its own).
//
// Tables (schema version 6): `watches` (one row per watch: id, office,
// expiry, the serialized cbx.v1.Watch) and `watch_outputs` (per watch,
// peer and watched identifier: the peer's OPRF epoch, y, its tag and the
// index version its hit was resolved at). No identifier value is stored.
//
// Threading: as the Database (one thread at a time, under the storage's
// mutex).
#ifndef CBX_NODE_STORAGE_PG_PG_WATCHES_H_
#define CBX_NODE_STORAGE_PG_PG_WATCHES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/pg/pg_db.h"
#include "node/storage/storage.h"

namespace cbx::node::pgsql {

// Each has the contract of the StorageTransaction method of the same name.
absl::Status AddWatchIn(Database& db, const StoredWatch& w);
absl::StatusOr<StoredWatch> GetWatchIn(Database& db, const std::string& id);
absl::Status UpdateWatchIn(Database& db, const v1::Watch& record);
absl::Status DeleteWatchIn(Database& db, const std::string& id);
absl::StatusOr<std::vector<v1::Watch>> ListWatchesIn(Database& db,
                                                     const std::string& office);
absl::StatusOr<std::vector<WatchedOutput>> WatchOutputsOfIn(
    Database& db, const std::string& member);
absl::Status SetWatchOutputResolvedIn(Database& db, const std::string& id,
                                      const std::string& member, uint32_t input,
                                      uint64_t version);
absl::Status DeleteWatchOutputsIn(Database& db, const std::string& id,
                                  const std::string& member);
absl::StatusOr<std::vector<std::string>> ExpiredWatchesIn(Database& db,
                                                          int64_t now_ms,
                                                          size_t limit);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_WATCHES_H_
