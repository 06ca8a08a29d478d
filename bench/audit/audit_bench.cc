// cbx_audit_bench: durable audit log appends per second with group commit
// (DESIGN §11: >= 20,000 entries/s), against the raw fdatasync rate of the
// same disk measured in the same run.
//
// Baseline: write(2) of a 512-byte block at the start of a preallocated
// file, then fdatasync(2), in a loop for --sync-seconds, in the folder the
// log lives in. That is the most a log committing one entry per fsync could
// do; group commit's gain is the ratio entries/s ÷ fdatasync/s.
//
// On virtual machines the flush latency depends on whether the CPU idles
// while it waits (the wake-up after an idle halt is slow): the same loop
// can run several times faster while another thread keeps a CPU busy, as
// the log's appending threads do. So the baseline is measured both ways,
// right before each run (the disk's speed drifts during a run too), and
// the ratio is taken against the faster of the two: the conservative one.
//
// Then, for each thread count, a fresh log in that folder and that many
// threads calling Append (each returns only once its entry is durable) for
// --seconds. Reported: entries/s, commits (= WAL fsyncs) per second, mean
// batch size, head file writes per second, Append latency p50/p99, and the
// ratio.
//
// Each thread count runs --repeat times (default 3) and the medians are
// reported with the range: on a shared machine the disk's speed drifts by
// several times within a minute.
//
// Proofs served from large logs: cbx_audit_proof_bench (proof_bench.cc).
//
//   cbx_audit_bench [--dir DIR] [--seconds S] [--sync-seconds S]
//                   [--threads 1,16,64] [--repeat R] [--max-batch N]
//                   [--delay-us U] [--keep]
// Flags of Google Benchmark (--benchmark_*), which `make bench` may pass to
// every benchmark, are ignored.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/audit/audit_log.h"

namespace cbx::node::audit {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr double kGoalEntriesPerSecond = 20000;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "cbx_audit_bench: " << what << "\n";
  std::exit(1);
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

struct Flags {
  std::string dir;
  double seconds = 2;
  double sync_seconds = 1;
  int repeat = 3;
  std::vector<int> threads = {1, 16, 64};
  size_t max_batch = 1024;
  int64_t delay_us = 0;
  bool keep = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  const std::string usage =
      "usage: cbx_audit_bench [--dir DIR] [--seconds S] [--sync-seconds S] "
      "[--threads 1,16,64] [--repeat R] [--max-batch N] [--delay-us U] "
      "[--keep]";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value\n" + usage);
      return argv[++i];
    };
    if (arg.rfind("--benchmark_", 0) == 0) continue;
    if (arg == "--dir") {
      flags.dir = value();
    } else if (arg == "--seconds") {
      if (!absl::SimpleAtod(value(), &flags.seconds) || flags.seconds <= 0) {
        Die("--seconds needs a positive number");
      }
    } else if (arg == "--sync-seconds") {
      if (!absl::SimpleAtod(value(), &flags.sync_seconds) ||
          flags.sync_seconds <= 0) {
        Die("--sync-seconds needs a positive number");
      }
    } else if (arg == "--threads") {
      flags.threads.clear();
      for (absl::string_view part : absl::StrSplit(value(), ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(part, &n) || n < 1) Die("bad --threads");
        flags.threads.push_back(n);
      }
    } else if (arg == "--max-batch") {
      if (!absl::SimpleAtoi(value(), &flags.max_batch) ||
          flags.max_batch == 0) {
        Die("--max-batch needs a positive number");
      }
    } else if (arg == "--delay-us") {
      if (!absl::SimpleAtoi(value(), &flags.delay_us) || flags.delay_us < 0) {
        Die("--delay-us needs a non-negative number");
      }
    } else if (arg == "--repeat") {
      if (!absl::SimpleAtoi(value(), &flags.repeat) || flags.repeat < 1) {
        Die("--repeat needs a positive number");
      }
    } else if (arg == "--keep") {
      flags.keep = true;
    } else {
      Die(usage);
    }
  }
  return flags;
}

// write + fdatasync of one small block, in place, for `seconds`; with
// `busy_cpu`, while another thread spins.
double RawFdatasyncPerSecond(const std::string& path, double seconds,
                             bool busy_cpu) {
  std::atomic<bool> spin{busy_cpu};
  std::thread spinner([&spin] {
    while (spin.load(std::memory_order_relaxed)) {
    }
  });
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("cannot create " + path);
  char block[512];
  std::fill(std::begin(block), std::end(block), 'x');
  // Allocate the block first so the loop syncs data, not a growing size.
  if (pwrite(fd, block, sizeof(block), 0) != sizeof(block) || fsync(fd) != 0) {
    Die("cannot write " + path);
  }
  uint64_t syncs = 0;
  const auto start = SteadyClock::now();
  double elapsed = 0;
  while ((elapsed = SecondsSince(start)) < seconds) {
    block[syncs % sizeof(block)]++;
    if (pwrite(fd, block, sizeof(block), 0) != sizeof(block) ||
        fdatasync(fd) != 0) {
      Die("write/fdatasync failed on " + path);
    }
    ++syncs;
  }
  spin = false;
  spinner.join();
  close(fd);
  std::filesystem::remove(path);
  return static_cast<double>(syncs) / elapsed;
}

v1::AuditEntry Entry(int thread, uint64_t i) {
  v1::AuditEntry entry;
  entry.set_direction(v1::AUDIT_DIRECTION_RECEIVED);
  entry.set_peer("RS");
  entry.set_rpc("Peer.Evaluate");
  entry.set_kind("evaluate_request");
  entry.set_envelope_sha256(std::string(32, static_cast<char>(i)));
  entry.set_message_id(std::string(16, static_cast<char>(thread)));
  entry.mutable_outcome()->set_elements(3);
  entry.mutable_outcome()->set_hits(static_cast<uint32_t>(i % 2));
  entry.set_office("RS/TO-Beograd");
  entry.set_user("tuzilac-7");
  return entry;
}

struct RunResult {
  double seconds = 0;
  AuditLogStats stats;
  double p50_us = 0;
  double p99_us = 0;
};

RunResult RunAppends(const std::string& db_path, int threads,
                     const Flags& flags) {
  for (const char* suffix : {"", "-wal", "-shm", ".head", ".lock"}) {
    std::filesystem::remove(db_path + suffix);
  }
  AuditLogOptions options;
  options.max_batch_size = flags.max_batch;
  options.max_batch_delay = absl::Microseconds(flags.delay_us);
  absl::StatusOr<std::unique_ptr<AuditLog>> log =
      AuditLog::Open(db_path, options);
  if (!log.ok()) Die(log.status().ToString());

  std::atomic<bool> stop{false};
  std::vector<std::vector<float>> latencies(threads);
  std::vector<std::thread> workers;
  const auto start = SteadyClock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto before = SteadyClock::now();
        absl::StatusOr<uint64_t> seq = (*log)->Append(Entry(t, i));
        if (!seq.ok()) Die(seq.status().ToString());
        latencies[t].push_back(
            static_cast<float>(std::chrono::duration<double, std::micro>(
                                   SteadyClock::now() - before)
                                   .count()));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.seconds));
  stop = true;
  for (std::thread& worker : workers) worker.join();
  RunResult result;
  result.seconds = SecondsSince(start);
  result.stats = (*log)->Stats();
  std::vector<float> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  if (!all.empty()) {
    result.p50_us = all[all.size() / 2];
    result.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return result;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::filesystem::path dir;
  const bool own_dir = flags.dir.empty();
  if (own_dir) {
    // Beside the working directory rather than in /tmp, which may be a
    // tmpfs where fsync costs nothing.
    std::string pattern =
        (std::filesystem::current_path() / "cbx_audit_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
    dir = pattern;
  } else {
    dir = flags.dir;
    std::filesystem::create_directories(dir);
  }

  std::printf("cbx_audit_bench: folder %s\n", dir.c_str());
  std::printf(
      "  raw = write+fdatasync of 512 B in place, per second, measured "
      "before each run\n  with the CPU idle / with a CPU kept busy; ratio = "
      "entries/s / the larger raw\n\n");
  std::printf("  %7s %9s %9s %11s %9s %10s %8s %8s %8s %7s\n", "threads",
              "raw idle", "raw busy", "entries/s", "fsyncs/s", "mean batch",
              "heads/s", "p50 us", "p99 us", "ratio");

  struct Row {
    double entries = 0;
    double ratio = 0;
  };
  std::vector<std::pair<int, std::vector<Row>>> rows;
  const std::string raw_path = (dir / "fdatasync.bin").string();
  for (int threads : flags.threads) {
    rows.emplace_back(threads, std::vector<Row>());
    for (int run = 0; run < flags.repeat; ++run) {
      const double raw_idle =
          RawFdatasyncPerSecond(raw_path, flags.sync_seconds, false);
      const double raw_busy =
          RawFdatasyncPerSecond(raw_path, flags.sync_seconds, true);
      RunResult r = RunAppends((dir / "audit.db").string(), threads, flags);
      const double entries = r.stats.appended / r.seconds;
      const double commits = r.stats.commits / r.seconds;
      const double mean_batch =
          r.stats.commits == 0
              ? 0
              : static_cast<double>(r.stats.appended) / r.stats.commits;
      const double ratio = entries / std::max(raw_idle, raw_busy);
      std::printf(
          "  %7d %9.0f %9.0f %11.0f %9.0f %10.1f %8.0f %8.0f %8.0f %6.1fx\n",
          threads, raw_idle, raw_busy, entries, commits, mean_batch,
          r.stats.head_writes / r.seconds, r.p50_us, r.p99_us, ratio);
      std::fflush(stdout);
      rows.back().second.push_back(Row{entries, ratio});
    }
  }

  // Medians over the runs: the disk's speed drifts, so one run says little.
  std::printf("\n  %7s %17s %22s %13s\n", "threads", "median entries/s",
              "(min - max)", "median ratio");
  double best_median = 0;
  for (auto& [threads, runs] : rows) {
    std::vector<double> entries, ratios;
    for (const Row& row : runs) {
      entries.push_back(row.entries);
      ratios.push_back(row.ratio);
    }
    std::sort(entries.begin(), entries.end());
    std::sort(ratios.begin(), ratios.end());
    const double median = entries[entries.size() / 2];
    std::printf("  %7d %17.0f %10.0f - %-9.0f %12.1fx\n", threads, median,
                entries.front(), entries.back(), ratios[ratios.size() / 2]);
    if (threads >= 16) best_median = std::max(best_median, median);
  }
  if (best_median > 0) {
    std::printf(
        "\n  goal >= %.0f durable entries/s with >= 16 threads (median of "
        "%d runs): %s (%.0f)\n",
        kGoalEntriesPerSecond, flags.repeat,
        best_median >= kGoalEntriesPerSecond ? "met" : "MISSED", best_median);
  }
  if (own_dir && !flags.keep) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cbx::node::audit

int main(int argc, char** argv) { return cbx::node::audit::Main(argc, argv); }
