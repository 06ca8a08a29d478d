// cbx_audit_open_bench: how long AuditLog::Open takes on a large log, cold
// and warm (issue 12: under 1 s cold at 10M entries), and how long the leaf
// count it leaves to its check thread (spec/audit-log.md §2.9) then runs,
// with the latency of an Append made while that count runs.
//
// The log is one built by cbx_audit_proof_bench (its --cache-dir keeps
// audit-<N>.db; `--entries 10000000 --cache-dir /var/tmp/cbx-audit-10m`
// builds the 10M one in about six minutes). Each run:
//
//   cold   `sync; echo 3 > /proc/sys/vm/drop_caches` (needs root; without
//          it, posix_fadvise(DONTNEED) of the database's files, and the run
//          says so), then Open;
//   warm   Open again, the file in the page cache as the cold run left it.
//
// For each: Open's time, whether the count was still running when Open
// returned, the time until it completed (from Open's start), one Append's
// latency while it ran, and the load average when the run began. Appends
// go into the log: each run adds one entry.
//
//   cbx_audit_open_bench --db PATH [--runs R]    (or CBX_AUDIT_OPEN_DB=PATH)
// Flags of Google Benchmark (--benchmark_*) are ignored.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/audit/audit_log.h"

namespace cbx::node::audit {
namespace {

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "cbx_audit_open_bench: " << what << "\n";
  std::exit(1);
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

// Empties the page cache: all of it if this process may, else the log's
// files. Returns how.
std::string DropCaches(const std::string& db_path) {
  sync();
  {
    std::ofstream drop("/proc/sys/vm/drop_caches");
    if (drop && (drop << "3\n") && drop.flush()) return "drop_caches";
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    int fd = open((db_path + suffix).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
  return "fadvise";
}

void Run(const std::string& db_path, const std::string& state) {
  const std::string load = LoadAverage();
  const auto start = SteadyClock::now();
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      AuditLog::Open(db_path, AuditLogOptions());
  const double open_s = SecondsSince(start);
  if (!log.ok()) Die(log.status().ToString());
  const bool running = (*log)->OpenCheckRunning();
  double append_ms = -1;
  if (running) {
    v1::AuditEntry entry;
    entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
    entry.set_rpc("bench.open");
    entry.set_kind("open_bench");
    const auto append_start = SteadyClock::now();
    absl::StatusOr<uint64_t> appended = (*log)->Append(entry);
    append_ms = SecondsSince(append_start) * 1000;
    if (!appended.ok()) Die(appended.status().ToString());
  }
  absl::Status checked = (*log)->WaitForOpenCheck();
  const double check_s = SecondsSince(start);
  if (!checked.ok()) Die(checked.ToString());
  std::printf(
      "  %-22s Open %6.3f s  count %s, done at %6.3f s  append while "
      "counting %s  size %llu  load %s\n",
      state.c_str(), open_s, running ? "after Open" : "within Open ", check_s,
      append_ms < 0 ? "     -   " : absl::StrCat(append_ms, " ms").c_str(),
      static_cast<unsigned long long>((*log)->Size()), load.c_str());
  std::fflush(stdout);
}

}  // namespace
}  // namespace cbx::node::audit

int main(int argc, char** argv) {
  std::string db;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--benchmark_", 0) == 0) continue;
    if (arg == "--db" && i + 1 < argc) {
      db = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc &&
               absl::SimpleAtoi(argv[++i], &runs)) {
    } else {
      cbx::node::audit::Die("usage: cbx_audit_open_bench --db PATH [--runs R]");
    }
  }
  if (db.empty() && std::getenv("CBX_AUDIT_OPEN_DB") != nullptr) {
    db = std::getenv("CBX_AUDIT_OPEN_DB");
  }
  if (db.empty()) {
    std::printf(
        "cbx_audit_open_bench: no --db (or CBX_AUDIT_OPEN_DB) given; nothing "
        "to measure\n");
    return 0;
  }
  std::printf("cbx_audit_open_bench: AuditLog::Open of %s\n", db.c_str());
  for (int r = 0; r < runs; ++r) {
    const std::string how = cbx::node::audit::DropCaches(db);
    cbx::node::audit::Run(db, absl::StrCat("cold (", how, ")"));
    cbx::node::audit::Run(db, "warm");
  }
  return 0;
}
