// cbx-admin retention sweep on a real node's data folder (issue 12;
// docs/operations.md "Retention"), with the real binaries: refused while
// the node runs and while anything holds the audit log's writer lock
// (changing nothing); --dry-run prints what would go and changes nothing;
// the sweep deletes, appends one retention_sweep entry with the counts,
// a second sweep finds nothing, and the node starts again on the result.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

extern char** environ;

namespace cbx::testing {
namespace {

namespace fs = std::filesystem;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class RetentionSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions options;
    options.countries = {"MK", "RS"};
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = *std::move(fed);
    ASSERT_TRUE(fed_->StartAll().ok());
  }
  void TearDown() override {
    if (HasFailure()) fed_->DumpLogs();
  }

  std::string Config() const { return fed_->NodeDir("MK") + "/node.json"; }
  std::string Data() const { return fed_->NodeDir("MK") + "/data"; }
  int Admin(const std::string& args, std::string* out) {
    return RunCommand(AdminBinary() + " " + args, out);
  }
  // One number from `sql` on `db` (-1 if sqlite3 printed none).
  int64_t Number(const std::string& db, const std::string& sql) {
    std::string out;
    RunCommand("sqlite3 " + Quote(db) + " " + Quote(sql), &out);
    return out.empty() ? -1 : std::stoll(out);
  }
  int64_t ReplayRows() {
    return Number(Data() + "/node.db", "SELECT COUNT(*) FROM replay");
  }
  int64_t AuditSize() {
    return Number(Data() + "/audit.db", "SELECT size FROM state WHERE id = 1");
  }
  // RS sends MK `n` Evaluate envelopes: n replay-cache rows at MK.
  void EvaluateFromRs(int n) {
    auto rs_to_mk = fed_->PeerAs("MK", "RS");
    for (int i = 0; i < n; ++i) {
      v1::Envelope env =
          SealAs(*fed_, "RS", "MK", [](v1::Message& m) { FillEvaluate(m); });
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       Scaled(std::chrono::seconds(10)));
      v1::Envelope reply;
      grpc::Status s = rs_to_mk->Evaluate(&ctx, env, &reply);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  std::unique_ptr<Federation> fed_;
};

// flock(1) holding `file` until killed: another holder of the log's lock.
// -o: its `sleep` child does not inherit the lock, so killing flock frees it.
pid_t HoldLock(const std::string& file) {
  const char* argv[] = {"flock", "-o", file.c_str(), "sleep", "60", nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "flock", nullptr, nullptr,
                   const_cast<char* const*>(argv), environ) != 0) {
    return 0;
  }
  // Held once a non-blocking flock of our own fails.
  for (int i = 0; i < 100; ++i) {
    if (RunCommand("flock -n " + Quote(file) + " true", nullptr) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pid;
}

TEST_F(RetentionSweepTest, RefusedWhileRunningDryRunThenSweepOffline) {
  EvaluateFromRs(3);
  ASSERT_GE(ReplayRows(), 3);
  std::string out;

  // 1. Refused while the node runs.
  EXPECT_EQ(Admin("retention sweep --config " + Config(), &out), 1) << out;
  EXPECT_NE(out.find("cbx-node is running"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing was changed"), std::string::npos) << out;

  // 2. The node stops; time passes: the replay rows expire (their expiry
  //    set in the past, as two days offline would leave them).
  fed_->Stop("MK");
  ASSERT_EQ(RunCommand("sqlite3 " + Quote(Data() + "/node.db") +
                           " 'UPDATE replay SET expires_at_ms = 1000'",
                       &out),
            0)
      << out;
  const int64_t rows = ReplayRows();
  const int64_t size = AuditSize();
  ASSERT_GE(rows, 3);
  ASSERT_GT(size, 0);

  // 3. Another holder of the writer lock: refused, nothing changed.
  const pid_t holder = HoldLock(Data() + "/audit.db.lock");
  ASSERT_GT(holder, 0);
  EXPECT_EQ(Admin("retention sweep --config " + Config(), &out), 1) << out;
  EXPECT_NE(out.find("cbx-node is running"), std::string::npos) << out;
  ::kill(holder, SIGTERM);
  ::waitpid(holder, nullptr, 0);
  EXPECT_EQ(ReplayRows(), rows);
  EXPECT_EQ(AuditSize(), size);

  // 4. The dry run says what would go, and changes nothing.
  ASSERT_EQ(Admin("retention sweep --dry-run --config " + Config(), &out), 0)
      << out;
  EXPECT_NE(out.find("would delete"), std::string::npos) << out;
  EXPECT_NE(out.find("replay_entries        " + std::to_string(rows)),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("would append one retention_sweep entry"),
            std::string::npos)
      << out;
  EXPECT_EQ(ReplayRows(), rows);
  EXPECT_EQ(AuditSize(), size);
  for (const auto& f : fs::directory_iterator(Data())) {
    EXPECT_EQ(f.path().filename().string().find("dry-run"), std::string::npos)
        << f.path();
  }

  // 5. The sweep deletes them and logs one entry with the counts.
  ASSERT_EQ(Admin("retention sweep --config " + Config(), &out), 0) << out;
  EXPECT_NE(out.find("deleted:"), std::string::npos) << out;
  EXPECT_NE(out.find("replay_entries        " + std::to_string(rows)),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("entry " + std::to_string(size) + " (retention_sweep)"),
            std::string::npos)
      << out;
  EXPECT_EQ(ReplayRows(), 0);
  EXPECT_EQ(AuditSize(), size + 1);

  // 6. Again: nothing left, nothing logged.
  ASSERT_EQ(Admin("retention sweep --config " + Config(), &out), 0) << out;
  EXPECT_NE(out.find("no audit entry appended"), std::string::npos) << out;
  EXPECT_EQ(AuditSize(), size + 1);

  // 7. The node starts on the swept node.db and the longer log.
  ASSERT_TRUE(fed_->Start("MK").ok());
}

}  // namespace
}  // namespace cbx::testing
