// PgStorage's tables in one PostgreSQL schema, and their version. The
// version lives in the row of table schema_version; a schema without
// tables is given the current layout; one of a newer version than this
// build knows is refused (an older binary never writes a newer layout).
#ifndef CBX_NODE_STORAGE_PG_PG_SCHEMA_H_
#define CBX_NODE_STORAGE_PG_PG_SCHEMA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/pg/pg_db.h"

namespace cbx::node::pgsql {

// The version this build writes. PostgreSQL's layout is numbered apart from
// SQLite's (PRAGMA user_version 7): it starts with everything SQLite's
// version 7 holds.
inline constexpr int64_t kSchemaVersion = 1;

// Whether `name` is a plain lower-case identifier (letters, digits, _; not
// starting with a digit; at most 63 bytes), safe to put into SQL unquoted.
bool PlainIdentifier(const std::string& name);

// The schema's version: 0 if the schema does not exist or holds no tables.
// FAILED_PRECONDITION if it holds tables but no version row (it is not a
// node.db).
absl::StatusOr<int64_t> SchemaVersion(Database& db);

// Makes the schema (if missing) and its tables (if none), or checks the
// version of those there. FAILED_PRECONDITION if a newer build wrote them.
absl::Status MigrateSchema(Database& db);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_SCHEMA_H_
