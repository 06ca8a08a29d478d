// Where node.db is: the config's `storage` section (spec/node-config.md)
// read into an open Storage, for cbx-node's start, --check,
// --install-directory and --recover-audit-log alike, so that none of them
// opens data_dir/node.db while the config puts node.db in PostgreSQL.
#ifndef CBX_NODE_NODE_DB_H_
#define CBX_NODE_NODE_DB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "node/config.h"
#include "node/storage/storage.h"

namespace cbx::node {

// node.db as messages name it: the file data_dir/node.db, or "node.db in
// PostgreSQL schema <schema> (<conninfo, password redacted>)".
std::string NodeDbWhere(const Config& config);

// Opens the node.db the config names: SqliteStorage on data_dir/node.db,
// or PgStorage on storage.conninfo and storage.schema. `read_only`: write
// nothing and make nothing; NOT_FOUND if there is no node.db yet (no file,
// or a schema without node.db's tables). Errors never carry the conninfo's
// password.
absl::StatusOr<std::unique_ptr<Storage>> OpenNodeDb(const Config& config,
                                                    bool read_only = false);

// The data_dir/node.db file a node whose node.db is in PostgreSQL does not
// use (left from before the switch): its path if it exists, else empty.
std::string UnusedNodeDbFile(const Config& config);

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_DB_H_
