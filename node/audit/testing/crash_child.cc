// cbx_audit_crash_child DB_PATH THREADS
//
// Opens the audit log at DB_PATH and appends from THREADS threads until it
// is killed, while another thread signs a checkpoint every few
// milliseconds. It reports on stdout, one line per event, each written with
// one write(2) (so a line is whole or absent, whenever the kill comes):
//
//   O <size>         opened, with <size> entries
//   A <sequence>     Append returned OK: the entry is acknowledged durable
//   C <base64 note>  SignCheckpoint returned this signed checkpoint
//   E <status>       an unexpected error (the child then exits non-zero)
//
// The checkpoint key is RFC 8032 §7.1 TEST 1's, name cbx/XK/audit.
// crash_test.cc SIGKILLs this process at random moments and checks that
// the reopened log holds every acknowledged entry and extends every
// reported checkpoint.
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/ed25519.h"
#include "node/audit/audit_log.h"

namespace cbx::node::audit {
namespace {

constexpr char kSeedHex[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

void Report(std::string_view line) {
  std::string out(line);
  out.push_back('\n');
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = write(STDOUT_FILENO, rest.data(), rest.size());
    if (n <= 0) _exit(4);  // the parent is gone
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

[[noreturn]] void Fail(const absl::Status& status) {
  Report(absl::StrCat("E ", status.ToString()));
  _exit(3);
}

v1::AuditEntry Entry(int thread, uint64_t i) {
  v1::AuditEntry entry;
  entry.set_direction(i % 2 == 0 ? v1::AUDIT_DIRECTION_SENT
                                 : v1::AUDIT_DIRECTION_RECEIVED);
  entry.set_peer(thread % 2 == 0 ? "RS" : "BA");
  entry.set_rpc("Peer.Evaluate");
  entry.set_kind(i % 2 == 0 ? "evaluate_request" : "evaluate_response");
  entry.set_envelope_sha256(std::string(32, static_cast<char>(i)));
  entry.set_message_id(std::string(16, static_cast<char>(thread)));
  entry.mutable_outcome()->set_elements(static_cast<uint32_t>(i % 3 + 1));
  entry.set_office("XK/PPO-Prishtina");
  entry.set_user(absl::StrCat("prosecutor-", thread));
  return entry;
}

int Main(int argc, char** argv) {
  int threads = 0;
  if (argc != 3 || !absl::SimpleAtoi(argv[2], &threads) || threads < 1) {
    Report("E usage: cbx_audit_crash_child DB_PATH THREADS");
    return 2;
  }
  absl::StatusOr<crypto::Ed25519PrivateKey> key =
      crypto::Ed25519PrivateKey::FromSeed(HexDecode(kSeedHex).value());
  if (!key.ok()) Fail(key.status());
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      AuditLog::Open(argv[1], AuditLogOptions());
  if (!log.ok()) Fail(log.status());
  Report(absl::StrCat("O ", (*log)->Size()));

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&log, t] {
      for (uint64_t i = 0;; ++i) {
        absl::StatusOr<uint64_t> seq = (*log)->Append(Entry(t, i));
        if (!seq.ok()) Fail(seq.status());
        Report(absl::StrCat("A ", *seq));
      }
    });
  }
  workers.emplace_back([&log, &key] {
    while (true) {
      absl::StatusOr<std::string> note =
          (*log)->SignCheckpoint(*key, "cbx/XK/audit");
      if (!note.ok()) Fail(note.status());
      Report(absl::StrCat("C ", Base64Encode(*note)));
      usleep(3000);
    }
  });
  // Never reached in the test, which kills the process; a safety net if
  // the parent dies first.
  sleep(120);
  _exit(0);
}

}  // namespace
}  // namespace cbx::node::audit

int main(int argc, char** argv) { return cbx::node::audit::Main(argc, argv); }
