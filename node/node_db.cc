#include "node/node_db.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_storage.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::node {

std::string NodeDbWhere(const Config& config) {
  if (config.storage.backend == StorageConfig::Backend::kSqlite) {
    return config.data_dir + "/node.db";
  }
  return absl::StrCat("node.db in PostgreSQL schema ", config.storage.schema,
                      " (", pg::Redacted(config.storage.conninfo), ")");
}

absl::StatusOr<std::unique_ptr<Storage>> OpenNodeDb(const Config& config,
                                                    bool read_only) {
  if (config.storage.backend == StorageConfig::Backend::kSqlite) {
    SqliteStorage::Options options;
    options.read_only = read_only;
    auto storage = SqliteStorage::Open(config.data_dir + "/node.db", options);
    if (!storage.ok()) return storage.status();
    return std::unique_ptr<Storage>(*std::move(storage));
  }
  PgStorage::Options options;
  options.schema = config.storage.schema;
  options.read_only = read_only;
  auto storage = PgStorage::Open(config.storage.conninfo, options);
  if (!storage.ok()) {
    return absl::Status(
        storage.status().code(),
        absl::StrCat(NodeDbWhere(config), ": ", storage.status().message()));
  }
  return std::unique_ptr<Storage>(*std::move(storage));
}

std::string UnusedNodeDbFile(const Config& config) {
  if (config.storage.backend == StorageConfig::Backend::kSqlite) return "";
  const std::string file = config.data_dir + "/node.db";
  std::error_code ec;
  return std::filesystem::exists(file, ec) ? file : "";
}

}  // namespace cbx::node
