// Backup and restore of a real node's node.db (issue 12; docs/operations.md
// "Backup and restore"), with the real binaries: an online backup while the
// node serves, restore refused while it runs and for a file that is not
// this member's, damaged or newer; a restore that the node then starts on;
// and a node.db without its audit log refused at start (exit 2).
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

namespace fs = std::filesystem;

void AddCase(Federation& fed, const std::string& cc, const std::string& number,
             const std::string& email) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  v1::Identifier* id = c->add_identifiers();
  id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id->set_value(email);
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  // The first call may meet a connection still being made on a loaded
  // machine (the whole suite beside it): wait for it rather than fail at
  // once with UNAVAILABLE.
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::Case out;
  grpc::Status s = fed.Office(cc)->AddCase(&ctx, req, &out);
  ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class BackupRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions options;
    options.countries = {"MK", "RS"};
    options.edit_config = [](const std::string&, nlohmann::json& config) {
      config["audit"]["checkpoint_interval_ms"] = 300;
    };
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = *std::move(fed);
    ASSERT_TRUE(fed_->StartAll().ok());
    out_dir_ = fed_->dir() + "/backups";
    fs::create_directories(out_dir_);
  }
  void TearDown() override {
    if (HasFailure()) fed_->DumpLogs();
  }

  std::string Config(const std::string& cc) const {
    return fed_->NodeDir(cc) + "/node.json";
  }
  std::string Data(const std::string& cc) const {
    return fed_->NodeDir(cc) + "/data";
  }
  // cbx-admin with `args`; its exit code, its output in *out.
  int Admin(const std::string& args, std::string* out) {
    return RunCommand(AdminBinary() + " " + args, out);
  }
  // The checkpoint size MK's node.db records (0 if none yet).
  uint64_t RecordedCheckpoint(const std::string& cc) {
    std::string out;
    RunCommand("sqlite3 " + Quote(Data(cc) + "/node.db") +
                   " \"SELECT CAST(value AS TEXT) FROM settings WHERE key = "
                   "'audit/checkpoint-size'\"",
               &out);
    return out.empty() ? 0 : std::stoull(out);
  }
  void WaitForCheckpointRecorded(const std::string& cc, uint64_t above) {
    auto deadline =
        std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
    while (RecordedCheckpoint(cc) <= above &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_GT(RecordedCheckpoint(cc), above);
  }

  std::unique_ptr<Federation> fed_;
  std::string out_dir_;
};

TEST_F(BackupRestoreTest, OnlineBackupRestoreAndTheRefusals) {
  AddCase(*fed_, "MK", "MK-2026-1", "first@example.org");
  WaitForCheckpointRecorded("MK", 0);

  // 1. An online backup, private from its creation.
  const std::string backup = out_dir_ + "/mk-node.db";
  const std::string audit_copy = out_dir_ + "/mk-audit.db";
  std::string out;
  ASSERT_EQ(Admin("backup --config " + Config("MK") + " --out " + backup +
                      " --audit-out " + audit_copy,
                  &out),
            0)
      << out;
  EXPECT_NE(out.find("personal data"), std::string::npos) << out;
  EXPECT_NE(out.find("never put it back"), std::string::npos) << out;
  for (const std::string& file : {backup, audit_copy}) {
    struct stat st;
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  EXPECT_NE(Admin("backup --config " + Config("MK") + " --out " + backup, &out),
            0);
  EXPECT_NE(out.find("never overwrites"), std::string::npos) << out;

  // 2. Restore refuses while the node runs.
  EXPECT_EQ(
      Admin("restore --config " + Config("MK") + " --from " + backup, &out), 1);
  EXPECT_NE(out.find("cbx-node is running"), std::string::npos) << out;

  // 3. The node goes on; it is stopped and the backup put back.
  AddCase(*fed_, "MK", "MK-2026-2", "second@example.org");
  const uint64_t before_stop = RecordedCheckpoint("MK");
  WaitForCheckpointRecorded("MK", before_stop);
  fed_->Stop("MK");
  ASSERT_EQ(
      Admin("restore --config " + Config("MK") + " --from " + backup, &out), 0)
      << out;
  EXPECT_NE(out.find("member:    MK"), std::string::npos) << out;
  EXPECT_NE(out.find("directory: version 1, verified"), std::string::npos)
      << out;
  EXPECT_NE(out.find("cases:     1,"), std::string::npos) << out;
  EXPECT_NE(out.find("/node.db.before-restore-"), std::string::npos) << out;
  // node.db is older than the audit log beside it: the node starts.
  ASSERT_TRUE(fed_->Start("MK").ok());
  fed_->Stop("MK");

  // 4. Not this member's, damaged, or newer: refused, nothing changed.
  const std::string rs_backup = out_dir_ + "/rs-node.db";
  ASSERT_EQ(
      Admin("backup --config " + Config("RS") + " --out " + rs_backup, &out), 0)
      << out;
  EXPECT_EQ(
      Admin("restore --config " + Config("MK") + " --from " + rs_backup, &out),
      1);
  EXPECT_NE(out.find("belongs to member RS"), std::string::npos) << out;
  const std::string newer = out_dir_ + "/newer.db";
  fs::copy_file(backup, newer);
  ASSERT_EQ(
      RunCommand("sqlite3 " + Quote(newer) + " 'PRAGMA user_version=99'", &out),
      0)
      << out;
  EXPECT_EQ(
      Admin("restore --config " + Config("MK") + " --from " + newer, &out), 1);
  EXPECT_NE(out.find("written by a newer cbx (schema 99)"), std::string::npos)
      << out;
  const std::string junk = out_dir_ + "/junk.db";
  std::ofstream(junk) << std::string(10000, 'x');
  EXPECT_EQ(Admin("restore --config " + Config("MK") + " --from " + junk, &out),
            1);
  EXPECT_FALSE(fs::exists(Data("MK") + "/node.db.restoring"));
  ASSERT_TRUE(fed_->Start("MK").ok());
  fed_->Stop("MK");
}

// The attack on the log's continuity: node.db put in a data folder without
// its audit log. Before issue 12 the node started with a fresh, empty log.
TEST_F(BackupRestoreTest, NodeDbWithoutItsAuditLogIsRefusedAtStart) {
  AddCase(*fed_, "MK", "MK-2026-1", "first@example.org");
  WaitForCheckpointRecorded("MK", 0);
  fed_->Stop("MK");
  const std::string data = Data("MK");
  const std::string kept = fed_->NodeDir("MK") + "/kept-audit";
  fs::create_directories(kept);
  for (const char* name :
       {"audit.db", "audit.db-wal", "audit.db-shm", "audit.db.head"}) {
    if (fs::exists(data + "/" + name)) {
      fs::rename(data + "/" + name, kept + "/" + name);
    }
  }
  const std::string node =
      NodeBinary() + " --allow-root --config " + Config("MK");
  std::string out;
  EXPECT_EQ(RunCommand(node, &out), 2) << out;
  EXPECT_NE(out.find("/audit.db is missing"), std::string::npos) << out;
  EXPECT_NE(out.find("/node.db implies an audit log of at least"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("docs/operations.md"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(data + "/audit.db")) << "the refusal created a log";
  // An empty file is no better.
  std::ofstream(data + "/audit.db").close();
  EXPECT_EQ(RunCommand(node, &out), 2) << out;
  EXPECT_NE(out.find("audit.db is empty"), std::string::npos) << out;
  fs::remove(data + "/audit.db");
  // Recovery without a directory that announces a new log generation:
  // refused, naming what the directory must say, and nothing changed.
  EXPECT_EQ(RunCommand(node + " --recover-audit-log", &out), 2) << out;
  EXPECT_NE(out.find("must name, for MK, audit log generation 2"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(data + "/audit.db")) << "the refusal created a log";
  // Its own log put back, the node starts.
  for (const auto& entry : fs::directory_iterator(kept)) {
    fs::rename(entry.path(), data + "/" + entry.path().filename().string());
  }
  ASSERT_TRUE(fed_->Start("MK").ok());
}

// Restoring onto a new machine: the config's data_dir does not exist yet.
// Restore creates it as cbx-node does (0700) and restores into it; it says
// that the audit log is missing (the node then refuses to start until the
// operator follows the recovery procedure). Before issue 12 restore failed
// with "cannot open .../audit.db.lock".
TEST_F(BackupRestoreTest, RestoreOntoANewMachineCreatesTheDataFolder) {
  AddCase(*fed_, "MK", "MK-2026-1", "first@example.org");
  const std::string backup = out_dir_ + "/mk-node.db";
  std::string out;
  ASSERT_EQ(Admin("backup --config " + Config("MK") + " --out " + backup, &out),
            0)
      << out;
  // The new machine's config: MK's, with a data folder two levels down
  // that does not exist.
  const std::string new_data = fed_->dir() + "/new-machine/var/cbx";
  nlohmann::json config;
  std::ifstream(Config("MK")) >> config;
  config["data_dir"] = new_data;
  // Beside MK's own (relative paths in a config resolve against its folder).
  const std::string new_config = fed_->NodeDir("MK") + "/new-machine.json";
  std::ofstream(new_config) << config.dump(2);
  ASSERT_FALSE(fs::exists(new_data));

  EXPECT_EQ(Admin("restore --config " + new_config + " --from " + backup, &out),
            0)
      << out;
  EXPECT_NE(out.find("created the data folder " + new_data + " (mode 0700)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("audit.db is missing"), std::string::npos) << out;
  struct stat st;
  ASSERT_EQ(::stat(new_data.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(fs::exists(new_data + "/node.db"));

  // A failed restore into a folder it created leaves no folder behind.
  const std::string other_data = fed_->dir() + "/other-machine/cbx";
  config["data_dir"] = other_data;
  std::ofstream(new_config, std::ios::trunc) << config.dump(2);
  const std::string junk = out_dir_ + "/junk.db";
  std::ofstream(junk) << std::string(10000, 'x');
  EXPECT_EQ(Admin("restore --config " + new_config + " --from " + junk, &out),
            1)
      << out;
  EXPECT_FALSE(fs::exists(other_data)) << out;
}

}  // namespace
}  // namespace cbx::testing
