// The Storage backends the conformance suites run over (TYPED_TEST_SUITE
// with testing::StorageBackends and testing::StorageBackendNames): every
// behaviour the node relies on is checked on SQLite and in memory alike.
#ifndef CBX_NODE_STORAGE_TESTING_STORAGE_BACKENDS_H_
#define CBX_NODE_STORAGE_TESTING_STORAGE_BACKENDS_H_

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "gtest/gtest.h"
#include "node/storage/memory_storage.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage.h"
#include "node/storage/storage_test_util.h"

namespace cbx::node::testing {

struct SqliteBackend {
  static std::unique_ptr<Storage> Make(const TempDir& dir) {
    auto storage = SqliteStorage::Open(dir.File("node.db"));
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }
};

struct MemoryBackend {
  static std::unique_ptr<Storage> Make(const TempDir&) {
    return std::make_unique<MemoryStorage>();
  }
};

using StorageBackends = ::testing::Types<SqliteBackend, MemoryBackend>;

class StorageBackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Memory";
  }
};

}  // namespace cbx::node::testing

#endif  // CBX_NODE_STORAGE_TESTING_STORAGE_BACKENDS_H_
