// The node.db files earlier releases wrote (tests/fixtures/schema/
// node-v<N>.db, made by scripts/make-schema-fixtures.sh) open with today's
// code, are upgraded to kSchemaVersion, and keep their content
// (docs/operations.md "Upgrades"). Every fixture there is tested: one added
// later (a new schema version) needs no change here.
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/storage/sqlite_db.h"
#include "node/storage/sqlite_schema.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage_test_util.h"

namespace cbx::node {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// node-v<N>.db in the fixtures folder, with N.
std::map<int64_t, std::string> NodeFixtures() {
  std::map<int64_t, std::string> found;
  const std::regex name("node-v([0-9]+)\\.db");
  for (const auto& entry : fs::directory_iterator(CBX_SCHEMA_FIXTURES_DIR)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, m, name)) {
      found[std::stoll(m[1])] = entry.path().string();
    }
  }
  return found;
}

// Rows per table of the database at `path`.
std::map<std::string, int64_t> RowCounts(const std::string& path) {
  std::map<std::string, int64_t> counts;
  auto db = sqlite::Database::Open(path, 1000);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return counts;
  std::vector<std::string> tables;
  {
    auto stmt = (*db)->Prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
        "LIKE 'sqlite_%'");
    EXPECT_TRUE(stmt.ok());
    while (*stmt->Step()) tables.push_back(stmt->ColumnText(0));
  }
  for (const std::string& table : tables) {
    auto stmt = (*db)->Prepare("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(stmt.ok());
    EXPECT_TRUE(*stmt->Step());
    counts[table] = stmt->ColumnInt(0);
  }
  return counts;
}

TEST(SchemaFixturesTest, ThereIsAFixtureOfTheCurrentSchema) {
  EXPECT_EQ(NodeFixtures().count(sqlite::kSchemaVersion), 1u)
      << "run scripts/make-schema-fixtures.sh and commit node-v"
      << sqlite::kSchemaVersion << ".db";
}

TEST(SchemaFixturesTest, EachFixtureIsUpgradedWithItsContent) {
  const std::map<int64_t, std::string> fixtures = NodeFixtures();
  ASSERT_FALSE(fixtures.empty());
  for (const auto& [version, fixture] : fixtures) {
    SCOPED_TRACE(fixture);
    TempDir dir;
    const std::string path = dir.File("node.db");
    fs::copy_file(fixture, path);
    const std::map<std::string, int64_t> before = RowCounts(path);
    ASSERT_FALSE(before.empty());

    auto storage = SqliteStorage::Open(path);
    ASSERT_TRUE(storage.ok()) << storage.status();
    ASSERT_OK_AND_ASSIGN(std::string upgraded,
                         (*storage)->Pragma("user_version"));
    EXPECT_EQ(upgraded, std::to_string(sqlite::kSchemaVersion));
    // What the short real run left: a case, a hit, an inbox notification,
    // the peer's index and the directory.
    ASSERT_OK_AND_ASSIGN(Page<StoredCase> cases,
                         (*storage)->ListCases(true, {}));
    ASSERT_EQ(cases.items.size(), 1u);
    EXPECT_EQ(cases.items[0].record.case_number(), "MK-2026-0001");
    EXPECT_EQ(cases.items[0].identifiers.size(), 1u);
    ASSERT_OK_AND_ASSIGN(Page<v1::Hit> hits, (*storage)->ListHits("", {}));
    EXPECT_EQ(hits.items.size(), 1u);
    ASSERT_OK_AND_ASSIGN(Page<v1::Notification> inbox,
                         (*storage)->ListNotifications("", {}));
    EXPECT_EQ(inbox.items.size(), 1u);
    ASSERT_OK_AND_ASSIGN(PeerIndex rs, (*storage)->LoadPeerIndex("RS"));
    EXPECT_EQ(rs.tags.size(), 1u);
    storage->reset();

    // Every row of every table it had is still there.
    const std::map<std::string, int64_t> after = RowCounts(path);
    for (const auto& [table, rows] : before) {
      EXPECT_EQ(after.count(table) ? after.at(table) : -1, rows) << table;
    }
  }
}

TEST(SchemaFixturesTest, ANewerFileIsRefusedAndLeftAsItWas) {
  const std::map<int64_t, std::string> fixtures = NodeFixtures();
  ASSERT_FALSE(fixtures.empty());
  TempDir dir;
  const std::string path = dir.File("node.db");
  fs::copy_file(fixtures.rbegin()->second, path);
  const int64_t newer = sqlite::kSchemaVersion + 1;
  {
    auto db = sqlite::Database::Open(path, 1000);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Exec("PRAGMA user_version = " + std::to_string(newer)));
  }
  auto storage = SqliteStorage::Open(path);
  EXPECT_EQ(storage.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(storage.status().message().find(
                "schema version " + std::to_string(newer) + ", newer than"),
            std::string::npos)
      << storage.status();
  auto db = sqlite::Database::Open(path, 1000);
  ASSERT_TRUE(db.ok());
  ASSERT_OK_AND_ASSIGN(int64_t kept, sqlite::SchemaVersion(**db));
  EXPECT_EQ(kept, newer);
}

}  // namespace
}  // namespace cbx::node
