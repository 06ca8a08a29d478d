// cbx-admin backup / restore refuse a node whose node.db (or, for
// --audit-out, whose audit log) is in PostgreSQL: they copy SQLite files,
// and such a node's data_dir may still hold a stale node.db from before the
// switch, which a backup would copy (and a restore replace) as if it were
// the node's state. The refusal names the database's own tools, never the
// conninfo's password, and changes nothing.
#include "admin/backup_restore.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::admin {
namespace {

namespace fs = std::filesystem;

constexpr char kPassword[] = "hunter2-node-db";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class BackupRestorePostgresqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cbx_admin_pg_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    // The node.db file left from before node.db moved to PostgreSQL.
    auto old = node::SqliteStorage::Open((dir_ / "data/node.db").string());
    ASSERT_TRUE(old.ok()) << old.status();
    ASSERT_TRUE((*old)->PutSetting("left", "from before").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // node.json with `sections` (JSON members, each ending in a comma).
  std::string WriteConfig(const std::string& sections) {
    const std::string path = (dir_ / "node.json").string();
    std::ofstream(path) << "{" << sections << R"(
      "member": "MK", "data_dir": "data",
      "peer_listen": "127.0.0.1:7101", "office_listen": "127.0.0.1:7201",
      "tls": {"certificate": "node.crt", "private_key": "node.key",
              "office_ca": "ca.crt"},
      "keys": {"node_signing_key": "s.key", "oprf_key": "o.key"},
      "directory": {"genesis": "genesis.pb"}})";
    return path;
  }

  static std::string PgSection(const std::string& name,
                               const std::string& schema) {
    return "\"" + name + R"(": {"backend": "postgresql", "schema": ")" +
           schema + R"(", "conninfo": "host=127.0.0.1 dbname=cbx password=)" +
           kPassword + "\"},";
  }

  fs::path dir_;
};

TEST_F(BackupRestorePostgresqlTest, BackupRefusesNodeDbInPostgresql) {
  BackupArgs args;
  args.config = WriteConfig(PgSection("storage", "cbx_node_mk"));
  args.out = (dir_ / "node.db.backup").string();
  std::ostringstream out, err;
  absl::Status s = Backup(args, out, err);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("node.db is in PostgreSQL"), std::string::npos)
      << s;
  EXPECT_NE(s.message().find("cbx_node_mk"), std::string::npos) << s;
  EXPECT_NE(s.message().find("pg_dump"), std::string::npos) << s;
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s;
  EXPECT_FALSE(fs::exists(args.out)) << "the stale node.db was copied";
  EXPECT_EQ(out.str() + err.str(), "");
}

TEST_F(BackupRestorePostgresqlTest, BackupAuditOutRefusesAuditLogInPg) {
  BackupArgs args;
  args.config = WriteConfig(PgSection("audit_log", "cbx_audit_mk"));
  args.out = (dir_ / "node.db.backup").string();
  args.audit_out = (dir_ / "audit.db.copy").string();
  std::ostringstream out, err;
  absl::Status s = Backup(args, out, err);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("audit log is in PostgreSQL"), std::string::npos)
      << s;
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s;
  // Refused before anything is copied, node.db included.
  EXPECT_FALSE(fs::exists(args.out));
  EXPECT_FALSE(fs::exists(args.audit_out));
}

TEST_F(BackupRestorePostgresqlTest, RestoreRefusesNodeDbInPostgresql) {
  const std::string node_db = (dir_ / "data/node.db").string();
  const std::string before = ReadAll(node_db);
  const std::string backup = (dir_ / "node.db.backup").string();
  fs::copy_file(node_db, backup);
  RestoreArgs args;
  args.config = WriteConfig(PgSection("storage", "cbx_node_mk"));
  args.from = backup;
  args.now_ms = 1'700'000'000'000;
  std::ostringstream out, err;
  absl::Status s = Restore(args, out, err);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("pg_restore"), std::string::npos) << s;
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s;
  // The data folder as it was: the old file neither replaced nor moved.
  EXPECT_EQ(ReadAll(node_db), before);
  for (const auto& entry : fs::directory_iterator(dir_ / "data")) {
    EXPECT_EQ(entry.path().filename().string().find("before-restore"),
              std::string::npos)
        << entry.path();
  }
}

TEST_F(BackupRestorePostgresqlTest, SqliteNodeDbIsStillBackedUp) {
  BackupArgs args;
  args.config = WriteConfig("");
  args.out = (dir_ / "node.db.backup").string();
  std::ostringstream out, err;
  absl::Status s = Backup(args, out, err);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(fs::exists(args.out));
}

}  // namespace
}  // namespace cbx::admin
