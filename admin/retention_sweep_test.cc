// cbx-admin retention sweep's refusals, without a node: each changes
// nothing in the data folder (admin/retention_sweep.h). The sweep itself,
// on a real node's data, is tests/integration/retention_sweep_test.cc.
#include "admin/retention_sweep.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

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

class RetentionSweepRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cbx_admin_sweep_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A node.db with one setting in data/, as a node would have left it.
  void MakeNodeDb() {
    auto db = node::SqliteStorage::Open(NodeDb());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->PutSetting("left", "by the node").ok());
  }
  std::string NodeDb() const { return (dir_ / "data/node.db").string(); }

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

  // The data folder's file names, to see that a refusal made none.
  std::string Listing() const {
    std::string names;
    for (const auto& e : fs::directory_iterator(dir_ / "data")) {
      names += e.path().filename().string() + " ";
    }
    return names;
  }

  fs::path dir_;
};

TEST_F(RetentionSweepRefusalTest, RefusedWhileTheLogsWriterLockIsHeld) {
  MakeNodeDb();
  const std::string before = ReadAll(NodeDb());
  // What a running node holds (audit::SqliteAuditBackend::LockWriter).
  const std::string lock = (dir_ / "data/audit.db.lock").string();
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string files = Listing();

  RetentionSweepArgs args;
  args.config = WriteConfig("");
  std::ostringstream out;
  absl::Status s = RetentionSweep(args, out);
  ::close(fd);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("cbx-node is running"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--dry-run"), std::string::npos) << s;
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(ReadAll(NodeDb()), before);
  EXPECT_EQ(Listing(), files);  // no audit.db made, nothing else either
}

TEST_F(RetentionSweepRefusalTest, RefusedWithoutNodeDb) {
  for (bool dry_run : {false, true}) {
    RetentionSweepArgs args;
    args.config = WriteConfig("");
    args.dry_run = dry_run;
    std::ostringstream out;
    absl::Status s = RetentionSweep(args, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find("nothing to sweep"), std::string::npos) << s;
    EXPECT_FALSE(fs::exists(NodeDb())) << "dry run " << dry_run;
    EXPECT_FALSE(fs::exists(dir_ / "data/audit.db")) << "dry run " << dry_run;
  }
}

TEST_F(RetentionSweepRefusalTest, DryRunRefusesNodeDbInPostgresql) {
  MakeNodeDb();  // a stale file from before the switch: never swept
  const std::string before = ReadAll(NodeDb());
  const std::string files = Listing();
  RetentionSweepArgs args;
  args.config = WriteConfig(
      std::string(R"("storage": {"backend": "postgresql", "schema": )") +
      R"("cbx_node_mk", "conninfo": "host=127.0.0.1 dbname=cbx password=)" +
      kPassword + "\"},");
  args.dry_run = true;
  std::ostringstream out;
  absl::Status s = RetentionSweep(args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("PostgreSQL"), std::string::npos) << s;
  EXPECT_NE(s.message().find("pg_dump"), std::string::npos) << s;
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s;
  EXPECT_EQ(ReadAll(NodeDb()), before);
  EXPECT_EQ(Listing(), files);
}

}  // namespace
}  // namespace cbx::admin
