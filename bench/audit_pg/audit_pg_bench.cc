// cbx_audit_pg_bench: durable audit log appends per second on SQLite and on
// PostgreSQL, in one run on one machine, with the ratio.
//
// PostgreSQL is a throwaway cluster this benchmark starts itself
// (node/storage/pg/testing/pg_cluster.h) with fsync ON (the test clusters
// run with it off): on loopback, one local disk, synchronous_commit on. So
// both stores pay one flush per commit; PostgreSQL adds a round trip per
// statement over loopback and its own WAL. SQLite's log lives in a
// temporary folder on the same file system as the cluster.
//
// For each batch size B (default 1 and 64) and each store, a fresh log and
// one thread appending for --seconds: B = 1 calls Append (one entry, one
// transaction), B > 1 calls AppendAll with B entries (one transaction of B:
// group commit's batch, without the threads that form it). Reported:
// entries/s, commits/s, p50/p99 of a call's latency, and PostgreSQL ÷
// SQLite for entries/s: each of --repeat rounds (default 3) runs both
// stores back to back, and the median of the rounds' ratios is reported.
//
//   cbx_audit_pg_bench [--seconds S] [--repeat R] [--batches 1,64]
// Flags of Google Benchmark (--benchmark_*) are ignored. Exits 0 with a
// message if PostgreSQL's binaries are absent.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/audit/audit_log.h"
#include "node/audit/pg_audit_store.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node::audit {
namespace {

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "cbx_audit_pg_bench: %s\n", what.c_str());
  std::exit(1);
}

v1::AuditEntry Entry(uint64_t i) {
  v1::AuditEntry entry;
  entry.set_direction(v1::AUDIT_DIRECTION_SENT);
  entry.set_peer("RS");
  entry.set_rpc("Peer.Evaluate");
  entry.set_kind("evaluate_request");
  entry.set_envelope_sha256(std::string(32, static_cast<char>(i)));
  entry.set_message_id(std::string(16, static_cast<char>(i + 1)));
  entry.set_office("MK/PPO-Skopje");
  entry.set_user(absl::StrCat("prosecutor-", i % 4));
  entry.mutable_outcome()->set_elements(static_cast<uint32_t>(i % 5 + 1));
  return entry;
}

struct Result {
  double entries_per_s = 0;
  double commits_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Result Run(AuditLog& log, int batch, double seconds) {
  std::vector<double> latencies;
  uint64_t entries = 0;
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (SteadyClock::now() < end) {
    const auto t0 = SteadyClock::now();
    if (batch == 1) {
      if (!log.Append(Entry(entries)).ok()) Die("Append failed");
    } else {
      std::vector<v1::AuditEntry> all;
      for (int i = 0; i < batch; ++i) all.push_back(Entry(entries + i));
      if (!log.AppendAll(std::move(all)).ok()) Die("AppendAll failed");
    }
    latencies.push_back(
        std::chrono::duration<double, std::milli>(SteadyClock::now() - t0)
            .count());
    entries += batch;
  }
  const double elapsed =
      std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  Result r;
  r.entries_per_s = entries / elapsed;
  r.commits_per_s = log.Stats().commits / elapsed;
  r.p50_ms = latencies[latencies.size() / 2];
  r.p99_ms = latencies[latencies.size() * 99 / 100];
  return r;
}

void Print(const char* store, int batch, const Result& r) {
  std::printf("  %-10s batch %3d: %9.0f entries/s  %7.0f commits/s  "
              "p50 %6.2f ms  p99 %6.2f ms\n",
              store, batch, r.entries_per_s, r.commits_per_s, r.p50_ms,
              r.p99_ms);
}

int Main(int argc, char** argv) {
  double seconds = 3;
  int repeat = 3;
  std::vector<int> batches = {1, 64};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--benchmark_", 0) == 0) continue;
    if (arg == "--seconds" && i + 1 < argc) {
      if (!absl::SimpleAtod(argv[++i], &seconds)) Die("bad --seconds");
    } else if (arg == "--repeat" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &repeat) || repeat < 1) {
        Die("bad --repeat");
      }
    } else if (arg == "--batches" && i + 1 < argc) {
      batches.clear();
      for (absl::string_view b : absl::StrSplit(argv[++i], ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(b, &n) || n < 1) Die("bad --batches");
        batches.push_back(n);
      }
    } else {
      Die("usage: cbx_audit_pg_bench [--seconds S] [--repeat R] "
          "[--batches 1,64]");
    }
  }
  if (pg::testing::PgCluster::BinDir().empty()) {
    std::printf("cbx_audit_pg_bench: skipped: %s\n",
                pg::testing::PgCluster::SkipReason().c_str());
    return 0;
  }
  pg::testing::PgClusterOptions options;
  options.fsync = true;
  auto cluster = pg::testing::PgCluster::Start(options);
  if (!cluster.ok()) Die(cluster.status().ToString());
  auto database = (*cluster)->CreateDatabase("cbx_bench");
  if (!database.ok()) Die(database.status().ToString());
  std::string dir =
      (std::filesystem::temp_directory_path() / "cbx_audit_pg_bench_XXXXXX")
          .string();
  if (mkdtemp(dir.data()) == nullptr) Die("mkdtemp");
  std::printf("cbx_audit_pg_bench: durable appends, %g s per run; "
              "PostgreSQL 15 on 127.0.0.1 (fsync on, started in %s), "
              "SQLite in %s\n",
              seconds,
              absl::FormatDuration((*cluster)->start_time()).c_str(),
              dir.c_str());
  // Each round runs both stores, in alternating order: the disk's flush
  // rate drifts by several times within a minute on a shared machine, so
  // only a ratio taken within one round means anything; the median of the
  // rounds' ratios is reported.
  int run = 0;
  for (int batch : batches) {
    std::vector<double> ratios;
    for (int round = 0; round < repeat; ++round) {
      Result results[2];
      for (int k = 0; k < 2; ++k) {
        const int store = (round % 2 == 0) ? k : 1 - k;
        ++run;
        AuditLogOptions log_options;
        absl::StatusOr<std::unique_ptr<AuditLog>> log;
        const std::string name = absl::StrCat(dir, "/run", run);
        if (store == 0) {
          log = AuditLog::Open(name + ".db", log_options);
        } else {
          log_options.head_path = name + ".head";
          auto backend =
              PgAuditBackend::Create(*database, absl::StrCat("run", run));
          if (!backend.ok()) Die(backend.status().ToString());
          log = AuditLog::Open(*std::move(backend), log_options);
        }
        if (!log.ok()) Die(log.status().ToString());
        results[store] = Run(**log, batch, seconds);
        Print(store == 0 ? "SQLite" : "PostgreSQL", batch, results[store]);
      }
      ratios.push_back(results[1].entries_per_s / results[0].entries_per_s);
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("  batch %3d: PostgreSQL / SQLite = %.2f (median of %d "
                "rounds; %.2f to %.2f)\n",
                batch, ratios[ratios.size() / 2], repeat, ratios.front(),
                ratios.back());
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cbx::node::audit

int main(int argc, char** argv) { return cbx::node::audit::Main(argc, argv); }
