// Peer index copies in PgStorage, as in SQLite (sqlite_peer_index.h): one
// row per member in table peer_indexes, the sorted tags packed into one
// bytea of big-endian 8-byte values (DESIGN §6: 8 bytes per identifier),
// which arrives whole in the binary result and is swapped into the vector.
//
// These functions run inside the caller's transaction; the caller holds the
// connection's lock.
#ifndef CBX_NODE_STORAGE_PG_PG_PEER_INDEX_H_
#define CBX_NODE_STORAGE_PG_PG_PEER_INDEX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/util/bytes.h"
#include "node/storage/pg/pg_db.h"
#include "node/storage/storage.h"

namespace cbx::node::pgsql {

// The columns ReadPeerIndex expects; append a WHERE or ORDER BY clause.
inline constexpr char kSelectPeerIndexes[] =
    "SELECT p.rowid, p.member, p.oprf_epoch, p.version, p.synced_at_ms, "
    "p.tag_count, COALESCE(b.day, 0), COALESCE(b.count, 0), p.tags "
    "FROM peer_indexes AS p LEFT JOIN peer_index_baselines AS b "
    "ON b.member = p.member";

// The BLOB for `tags`: each tag as 8 bytes, big-endian.
Bytes PackTags(const std::vector<Tag>& tags);

// Replaces (or adds) the row of `index.member` and its baseline. The caller
// has validated it and holds a write transaction.
absl::Status WritePeerIndex(Database& db, const PeerIndex& index);

// Reads the peer index in the current row of `stmt` (kSelectPeerIndexes).
// DATA_LOSS if the bytea's size does not match the tag count or the tags do
// not strictly ascend.
absl::StatusOr<PeerIndex> ReadPeerIndex(Database& db, const Statement& stmt);

// Adds `evidence` and drops the member's oldest beyond
// kMaxIndexEvidencePerMember. The caller has validated it and holds a write
// transaction.
absl::Status WriteIndexEvidence(Database& db, const IndexEvidence& evidence);
// `member`'s evidence (everyone's if empty), oldest first.
absl::StatusOr<std::vector<IndexEvidence>> ReadIndexEvidence(
    Database& db, const std::string& member);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_PEER_INDEX_H_
