// The audit.db files earlier releases wrote (tests/fixtures/schema/
// audit-v<M>.db, made by scripts/make-schema-fixtures.sh from a short real
// run) open with today's code and keep their entries and checkpoints
// (docs/operations.md "Upgrades"). Every fixture there is tested.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/sqlite_audit_store.h"
#include "node/audit/head_file.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

namespace fs = std::filesystem;

std::map<int, std::string> AuditFixtures() {
  std::map<int, std::string> found;
  const std::regex name("audit-v([0-9]+)\\.db");
  for (const auto& entry : fs::directory_iterator(CBX_SCHEMA_FIXTURES_DIR)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, m, name)) {
      found[std::stoi(m[1])] = entry.path().string();
    }
  }
  return found;
}

TEST(AuditSchemaFixturesTest, EachFixtureOpensWithItsEntriesAndCheckpoints) {
  const std::map<int, std::string> fixtures = AuditFixtures();
  ASSERT_EQ(fixtures.count(kAuditSchemaVersion), 1u)
      << "run scripts/make-schema-fixtures.sh and commit audit-v"
      << kAuditSchemaVersion << ".db";
  for (const auto& [version, fixture] : fixtures) {
    SCOPED_TRACE(fixture);
    const std::string dir = fs::temp_directory_path() /
                            ("cbx_audit_fixture_" + std::to_string(::getpid()) +
                             "_" + std::to_string(version));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = dir + "/audit.db";
    fs::copy_file(fixture, path);
    {
      // A backup holds the database only; the head file the node kept
      // beside it recorded the size and root of the state it wrote last.
      auto store = SqliteAuditStore::Open(path);
      ASSERT_TRUE(store.ok()) << store.status();
      auto state = (*store)->ReadState();
      ASSERT_TRUE(state.ok()) << state.status();
      ASSERT_TRUE(
          WriteHead(path + ".head", Head{state->size, state->root}).ok());
    }
    {
      auto log = AuditLog::Open(path, {});
      ASSERT_TRUE(log.ok()) << log.status();
      EXPECT_GT((*log)->Size(), 4u);
      EXPECT_TRUE((*log)->Verify().ok());
      auto latest = (*log)->LatestCheckpoint();
      ASSERT_TRUE(latest.ok()) << latest.status();
      EXPECT_NE(latest->find("cbx/MK/audit\n"), std::string::npos) << *latest;
      auto entries = (*log)->ReadEntries(0, (*log)->Size());
      ASSERT_TRUE(entries.ok()) << entries.status();
      EXPECT_EQ(entries->size(), (*log)->Size());
      // It takes new entries.
      EXPECT_TRUE((*log)->Append(testing::SampleEntry(1)).ok());
    }
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace cbx::node::audit
