// The crash loop: a child process (testing/crash_child.cc) appends from
// several threads and signs checkpoints; it is SIGKILLed at a random moment,
// and the log is reopened and checked. Repeated CBX_AUDIT_CRASH_CYCLES times
// (default 50, about ten seconds; a soak run sets 1000, about four minutes).
// The random seed is printed, and CBX_AUDIT_CRASH_SEED replays one.
//
// A SIGKILL loses what the process held, not what the kernel held: this
// checks the log's own ordering (acknowledge only after commit, head after
// commit, recovery on Open), not the disk's honouring of fsync.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/crypto/ed25519.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/testing/test_util.h"

extern char** environ;

namespace cbx::node::audit {
namespace {

using ::cbx::node::audit::testing::EnvNumber;
using ::cbx::node::audit::testing::RawQuery;
using ::cbx::node::audit::testing::ScopedTempDir;

constexpr char kSeedHex[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kOrigin[] = "cbx/XK/audit";
constexpr int kChildThreads = 8;
// A fresh log every this many cycles keeps Verify's O(n) cost bounded.
constexpr int kCyclesPerLog = 10;

struct ChildRun {
  std::string output;  // everything it wrote to stdout
  int wait_status = 0;
};

// Starts the child on `db_path`, kills it after `delay`, and returns what it
// wrote.
ChildRun RunAndKill(const std::string& db_path,
                    std::chrono::microseconds delay) {
  ChildRun run;
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string child = CBX_AUDIT_CRASH_CHILD;
  std::string threads = std::to_string(kChildThreads);
  std::string path = db_path;
  char* argv[] = {child.data(), path.data(), threads.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, child.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    ADD_FAILURE() << "posix_spawn " << child << ": " << rc;
    return run;
  }
  std::thread reader([&] {
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      run.output.append(buf, static_cast<size_t>(n));
    }
  });
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  waitpid(pid, &run.wait_status, 0);
  reader.join();
  close(fds[0]);
  return run;
}

TEST(AuditCrashTest, SigkillLosesNothingAcknowledged) {
  const uint64_t cycles = EnvNumber("CBX_AUDIT_CRASH_CYCLES", 50);
  const uint64_t seed =
      EnvNumber("CBX_AUDIT_CRASH_SEED", std::random_device{}());
  std::printf("  crash loop: %llu cycles, CBX_AUDIT_CRASH_SEED=%llu\n",
              static_cast<unsigned long long>(cycles),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const crypto::Ed25519PrivateKey key =
      crypto::Ed25519PrivateKey::FromSeed(HexDecode(kSeedHex).value()).value();
  const note::Verifier verifier =
      note::Verifier::Create(kOrigin, note::SignatureType::kEd25519,
                             key.public_key())
          .value();

  ScopedTempDir tmp;
  const std::string& root_dir = tmp.path();
  std::string db_path;
  uint64_t total_acked = 0, total_checkpoints = 0, kills_with_output = 0;
  uint64_t largest = 0;
  for (uint64_t cycle = 0; cycle < cycles; ++cycle) {
    if (cycle % kCyclesPerLog == 0) {
      // The previous log has been checked after every kill: drop it.
      std::error_code ignored;
      std::filesystem::remove_all(absl::StrCat(root_dir, "/log"), ignored);
      std::filesystem::create_directory(absl::StrCat(root_dir, "/log"));
      db_path = absl::StrCat(root_dir, "/log/", cycle / kCyclesPerLog, ".db");
    }
    // Up to 250 ms: sometimes during Open, mostly while appending.
    const auto delay = std::chrono::microseconds(rng() % 250000);
    ChildRun run = RunAndKill(db_path, delay);
    SCOPED_TRACE(
        absl::StrCat("cycle ", cycle, ", killed after ", delay.count(), " us"));
    ASSERT_TRUE(WIFSIGNALED(run.wait_status) &&
                WTERMSIG(run.wait_status) == SIGKILL)
        << "the child ended on its own: " << run.output.substr(0, 2000);

    std::set<uint64_t> acked;
    std::vector<std::string> checkpoints;
    // Only whole lines: the last may be cut by the kill.
    std::vector<std::string> lines = absl::StrSplit(run.output, '\n');
    lines.pop_back();
    for (const std::string& line : lines) {
      ASSERT_GE(line.size(), 2u) << line;
      if (line[0] == 'A') {
        uint64_t seq = 0;
        ASSERT_TRUE(absl::SimpleAtoi(line.substr(2), &seq)) << line;
        EXPECT_TRUE(acked.insert(seq).second) << "acknowledged twice: " << seq;
      } else if (line[0] == 'C') {
        absl::StatusOr<Bytes> note = Base64Decode(line.substr(2));
        ASSERT_TRUE(note.ok()) << line;
        checkpoints.push_back(*note);
      } else if (line[0] == 'E') {
        FAIL() << "the child failed: " << line;
      }
    }
    if (!lines.empty()) ++kills_with_output;
    total_acked += acked.size();
    total_checkpoints += checkpoints.size();

    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        AuditLog::Open(db_path, AuditLogOptions());
    ASSERT_TRUE(log.ok()) << log.status();
    const uint64_t size = (*log)->Size();
    largest = std::max(largest, size);
    if (!acked.empty()) {
      ASSERT_LT(*acked.rbegin(), size) << "an acknowledged entry was lost";
      // Spot-check some acknowledged entries by content.
      for (uint64_t seq : {*acked.begin(), *acked.rbegin()}) {
        EXPECT_TRUE((*log)->LeafData(seq).ok()) << seq;
      }
    }
    EXPECT_EQ(RawQuery(db_path, "PRAGMA integrity_check"), "ok");
    absl::Status verified = (*log)->Verify();
    ASSERT_TRUE(verified.ok()) << verified;
    for (const std::string& note : checkpoints) {
      absl::StatusOr<note::SignedCheckpoint> opened =
          note::OpenCheckpoint(note, kOrigin, verifier);
      ASSERT_TRUE(opened.ok()) << opened.status() << "\n" << note;
      const note::Checkpoint& cp = opened->checkpoint;
      ASSERT_LE(cp.size, size) << "a signed checkpoint is ahead of the log";
      if (cp.size == 0) {
        EXPECT_EQ(cp.root_hash, (*log)->RootAt(0).value());
      } else {
        absl::StatusOr<std::vector<Bytes>> proof =
            (*log)->ConsistencyProof(cp.size, size);
        ASSERT_TRUE(proof.ok()) << proof.status();
        EXPECT_TRUE(merkle::VerifyConsistency(cp.size, size, *proof,
                                              cp.root_hash, (*log)->Root())
                        .ok())
            << "the log does not extend checkpoint " << cp.size;
      }
    }
  }
  std::printf(
      "  crash loop: %llu cycles (%llu killed after output), %llu entries "
      "and %llu checkpoints acknowledged, all present; largest log %llu\n",
      static_cast<unsigned long long>(cycles),
      static_cast<unsigned long long>(kills_with_output),
      static_cast<unsigned long long>(total_acked),
      static_cast<unsigned long long>(total_checkpoints),
      static_cast<unsigned long long>(largest));
}

}  // namespace
}  // namespace cbx::node::audit
