// The SQLite backend's schema and its migrations. The schema version lives
// in PRAGMA user_version; each migration takes the database from one version
// to the next in its own transaction, so an interrupted upgrade resumes
// where it stopped.
#ifndef CBX_NODE_STORAGE_SQLITE_SCHEMA_H_
#define CBX_NODE_STORAGE_SQLITE_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/sqlite_db.h"

namespace cbx::node::sqlite {

// The version this build writes.
inline constexpr int64_t kSchemaVersion = 7;

// The database's schema version (0 for a new file).
absl::StatusOr<int64_t> SchemaVersion(Database& db);

// Brings the schema to kSchemaVersion. FAILED_PRECONDITION if the file was
// written by a newer build (its version is above kSchemaVersion).
absl::Status MigrateSchema(Database& db);

}  // namespace cbx::node::sqlite

#endif  // CBX_NODE_STORAGE_SQLITE_SCHEMA_H_
