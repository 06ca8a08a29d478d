// The Storage backends the conformance suites run over (TYPED_TEST_SUITE
// with testing::StorageBackends and testing::StorageBackendNames): every
// behaviour the node relies on is checked on SQLite, in memory and on
// PostgreSQL alike. A fixture's SetUp first skips the test if its backend
// cannot run here (CBX_STORAGE_BACKEND_OR_SKIP).
//
// Tests on PostgreSQL are named */Postgres.*, each in a fresh schema of the
// binary's shared test cluster (node/storage/pg/testing/pg_cluster.h);
// ctest runs each suite's in one process (one cluster start).
#ifndef CBX_NODE_STORAGE_TESTING_STORAGE_BACKENDS_H_
#define CBX_NODE_STORAGE_TESTING_STORAGE_BACKENDS_H_

#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "node/storage/memory_storage.h"
#include "node/storage/pg/pg_storage.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage.h"
#include "node/storage/storage_test_util.h"

namespace cbx::node::testing {

struct SqliteBackend {
  static constexpr const char* kName = "Sqlite";
  static std::string SkipReason() { return ""; }
  static std::unique_ptr<Storage> Make(const TempDir& dir) {
    auto storage = SqliteStorage::Open(dir.File("node.db"));
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }
};

struct MemoryBackend {
  static constexpr const char* kName = "Memory";
  static std::string SkipReason() { return ""; }
  static std::unique_ptr<Storage> Make(const TempDir&) {
    return std::make_unique<MemoryStorage>();
  }
};

// PgStorage in a fresh schema; skipped where PostgreSQL's binaries are
// absent.
struct PostgresBackend {
  static constexpr const char* kName = "Postgres";
  static std::string SkipReason() {
    return node::pg::testing::PgCluster::BinDir().empty()
               ? node::pg::testing::PgCluster::SkipReason()
               : "";
  }
  static std::unique_ptr<Storage> Make(const TempDir&) {
    absl::StatusOr<node::pg::testing::PgSchema> schema =
        node::pg::testing::FreshSchema();
    EXPECT_TRUE(schema.ok()) << schema.status();
    if (!schema.ok()) return nullptr;
    PgStorage::Options options;
    options.schema = schema->schema;
    auto storage = PgStorage::Open(schema->conninfo, options);
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }
};

using StorageBackends =
    ::testing::Types<SqliteBackend, MemoryBackend, PostgresBackend>;

class StorageBackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// For a typed fixture's SetUp: skips the test if `Backend` cannot run here.
#define CBX_STORAGE_BACKEND_OR_SKIP(Backend)            \
  do {                                                  \
    const std::string cbx_skip = Backend::SkipReason(); \
    if (!cbx_skip.empty()) GTEST_SKIP() << cbx_skip;    \
  } while (0)

}  // namespace cbx::node::testing

#endif  // CBX_NODE_STORAGE_TESTING_STORAGE_BACKENDS_H_
