// cbx_pg_failover_bench: how long an office waits when a node of an
// active/standby pair on PostgreSQL goes, or when the database's primary
// goes (issue 15, "Benchmarks"; spec/active-standby.md).
//
//   - SIGKILL of the active node, --kills times (default 5), alternating the
//     two processes: from the kill to the first AddCase the other node
//     acknowledges. The killed process is started again and waits as the
//     standby before the next round.
//   - SIGSTOP of the active node, --stops times (default 5): the same
//     measure; this one is bound by the lease (leadership.lease_ms), since
//     a paused node's session stays open. Then SIGCONT: the old active must
//     step down (exit 75), which is counted.
//   - Promotion of a synchronous replica, --promotions times (default 3),
//     each on a new primary and replica: an audit log (the node's defaults)
//     on the two-host conninfo appends; the primary is stopped as a crash
//     would, the replica promoted --promote-after-ms later (the operator's
//     or cluster manager's delay, default 1000); from the stop, and from
//     the promotion, to the first acknowledged append.
//
// The pair is MK's node from the integration harness (pg_pair_harness.h)
// on a throwaway cluster (pg_cluster.h); the offices call each node's own
// Office port, so the figures hold no proxy or client retry policy.
// Printed: min / median / max per measure, with the load average.
//
//   cbx_pg_failover_bench [--kills N] [--stops N] [--promotions N]
//                         [--lease-ms N] [--poll-ms N] [--promote-after-ms N]
// Exits 0, saying so, when PostgreSQL's server binaries are absent.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/node/node_bench_util.h"
#include "node/audit/audit_log.h"
#include "node/audit/pg_audit_store.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "tests/integration/federation.h"
#include "tests/integration/pg_pair_harness.h"

namespace cbx::bench {
namespace {

using Clock = std::chrono::steady_clock;
using node::pg::testing::PgCluster;
using testing::PairNode;

constexpr char kMember[] = "MK";

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// "min A, median B, max C ms (N)".
std::string Summary(std::vector<double> ms) {
  if (ms.empty()) return "no sample";
  std::sort(ms.begin(), ms.end());
  return absl::StrFormat("min %.0f, median %.0f, max %.0f ms (N = %d)",
                         ms.front(), ms[ms.size() / 2], ms.back(),
                         static_cast<int>(ms.size()));
}

// The pair, its offices and the case numbers it has been given.
struct Pair {
  testing::Federation* fed = nullptr;
  PairNode nodes[2];
  std::unique_ptr<v1::Office::Stub> offices[2];
  int active = 0;  // index into nodes
  int cases = 0;

  // Calls AddCase at node `i` until it is acknowledged; dies after 60 s.
  void AwaitAcknowledged(int i) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::string last;
    while (Clock::now() < deadline) {
      const grpc::Status s =
          testing::PairAddCase(*offices[i], absl::StrCat("MK-2026-", ++cases),
                               std::chrono::milliseconds(2000));
      if (s.ok()) return;
      last = s.error_message();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    fed->DumpLogs();
    Die(absl::StrCat("MK ", nodes[i].name(),
                     " acknowledged no AddCase within 60 s: ", last));
  }
  void StartStandby(int i) {
    if (absl::Status s = nodes[i].Spawn(); !s.ok()) Die(s.ToString());
    if (!testing::WaitStandby(*offices[i], std::chrono::seconds(60))) {
      Die(absl::StrCat("MK ", nodes[i].name(), " never became the standby"));
    }
  }
  // Takes the active node down with `down`; the time until the other one
  // acknowledges an AddCase, in ms. The other one is then the active.
  double TakeOver(const std::function<void(PairNode&)>& down) {
    const int other = 1 - active;
    const auto t0 = Clock::now();
    down(nodes[active]);
    AwaitAcknowledged(other);
    const double ms = MsSince(t0);
    active = other;
    return ms;
  }
};

std::vector<double> Promotions(int64_t n, int64_t promote_after_ms,
                               std::vector<double>* after_promote) {
  std::vector<double> from_stop;
  std::string dir =
      (std::filesystem::temp_directory_path() / "cbx_pg_failover_bench_XXXXXX")
          .string();
  if (n > 0 && mkdtemp(dir.data()) == nullptr) Die("mkdtemp");
  for (int64_t i = 0; i < n; ++i) {
    node::pg::testing::PgClusterOptions options;
    options.fsync = true;
    auto primary = PgCluster::Start(options);
    if (!primary.ok()) Die(primary.status().ToString());
    auto replica = (*primary)->StartReplica();
    if (!replica.ok()) Die(replica.status().ToString());
    const std::string conninfo =
        PgCluster::MultiHostConninfo(**primary, **replica, "postgres");
    auto backend = node::audit::PgAuditBackend::Create(conninfo, "cbx_audit");
    if (!backend.ok()) Die(backend.status().ToString());
    node::audit::AuditLogOptions log_options;
    log_options.head_path = absl::StrCat(dir, "/audit-", i, ".head");
    auto log = node::audit::AuditLog::Open(*std::move(backend), log_options);
    if (!log.ok()) Die(log.status().ToString());
    v1::AuditEntry entry;
    entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
    entry.set_rpc("Office.AddCase");
    entry.set_kind("add_case");
    entry.set_office("MK/PPO-Skopje");
    for (int k = 0; k < 20; ++k) {
      if (!(*log)->Append(entry).ok()) Die("append before the stop failed");
    }
    const auto stopped = Clock::now();
    if (absl::Status s = (*primary)->StopImmediately(); !s.ok()) {
      Die(s.ToString());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(promote_after_ms));
    if (absl::Status s = (*replica)->Promote(); !s.ok()) Die(s.ToString());
    const auto promoted = Clock::now();
    const auto deadline = promoted + std::chrono::seconds(60);
    while (!(*log)->Append(entry).ok()) {
      if (Clock::now() > deadline) Die("no append within 60 s of promotion");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    from_stop.push_back(MsSince(stopped));
    after_promote->push_back(MsSince(promoted));
  }
  if (n > 0) std::filesystem::remove_all(dir);
  return from_stop;
}

int Main(int argc, char** argv) {
  SetProgramName("cbx_pg_failover_bench");
  int64_t kills = 5, stops = 5, promotions = 3;
  int64_t lease_ms = 3000, poll_ms = 200, promote_after_ms = 1000;
  Flags flags(
      "cbx_pg_failover_bench [--kills N] [--stops N] [--promotions N] "
      "[--lease-ms N] [--poll-ms N] [--promote-after-ms N]");
  flags.Int("--kills", &kills, 0, 1000);
  flags.Int("--stops", &stops, 0, 1000);
  flags.Int("--promotions", &promotions, 0, 100);
  flags.Int("--lease-ms", &lease_ms, 1000, 600'000);
  flags.Int("--poll-ms", &poll_ms, 50, 200'000);
  flags.Int("--promote-after-ms", &promote_after_ms, 0, 60'000);
  flags.Parse(argc, argv);
  if (PgCluster::BinDir().empty()) {
    std::printf("cbx_pg_failover_bench: skipped: %s\n",
                PgCluster::SkipReason().c_str());
    return 0;
  }
  if (poll_ms * 3 > lease_ms) Die("--poll-ms must be at most --lease-ms / 3");
  std::printf(
      "cbx_pg_failover_bench: MK's active/standby pair on PostgreSQL 15 "
      "(loopback, fsync on), lease %lld ms, poll %lld ms\nmachine: %d usable "
      "cores, %s; load average before: %s\n",
      static_cast<long long>(lease_ms), static_cast<long long>(poll_ms),
      UsableCores(), CpuModel().c_str(), LoadAverage().c_str());
  std::fflush(stdout);

  node::pg::testing::PgClusterOptions pg_options;
  pg_options.fsync = true;
  auto cluster = PgCluster::Start(pg_options);
  if (!cluster.ok()) Die(cluster.status().ToString());
  auto conninfo = (*cluster)->CreateDatabase("cbx_bench");
  if (!conninfo.ok()) Die(conninfo.status().ToString());
  testing::FederationOptions options;
  options.countries = {kMember, "RS"};
  options.edit_config = [&](const std::string& cc, nlohmann::json& c) {
    if (cc != kMember) return;
    c["storage"] = {{"backend", "postgresql"},
                    {"conninfo", *conninfo},
                    {"schema", "cbx_node"}};
    c["audit_log"] = {{"backend", "postgresql"},
                      {"conninfo", *conninfo},
                      {"schema", "cbx_audit"}};
    c["leadership"] = {
        {"name", "a"}, {"lease_ms", lease_ms}, {"poll_ms", poll_ms}};
  };
  auto federation = testing::Federation::Create(options);
  if (!federation.ok()) Die(federation.status().ToString());
  std::unique_ptr<testing::Federation> owner = *std::move(federation);
  auto pair = std::make_unique<Pair>();
  pair->fed = owner.get();
  SetCleanup([&pair, &owner] {
    pair.reset();
    owner.reset();
  });
  if (absl::Status s = testing::WritePairConfigs(
          *owner, kMember, pair->nodes[0], pair->nodes[1]);
      !s.ok()) {
    Die(s.ToString());
  }
  for (int i = 0; i < 2; ++i) {
    pair->offices[i] =
        testing::PairOfficeAt(*owner, kMember, pair->nodes[i].office_port());
  }
  if (absl::Status s = pair->nodes[0].Spawn(); !s.ok()) Die(s.ToString());
  pair->AwaitAcknowledged(0);
  pair->StartStandby(1);

  std::vector<double> killed;
  for (int64_t i = 0; i < kills; ++i) {
    killed.push_back(pair->TakeOver([](PairNode& n) { n.Kill(); }));
    pair->StartStandby(1 - pair->active);
  }
  std::vector<double> paused;
  int stepped_down = 0;
  for (int64_t i = 0; i < stops; ++i) {
    const int old = pair->active;
    paused.push_back(pair->TakeOver([](PairNode& n) { n.Signal(SIGSTOP); }));
    pair->nodes[old].Signal(SIGCONT);
    if (pair->nodes[old].WaitExit(std::chrono::seconds(30)) == 75) {
      ++stepped_down;
    }
    pair->nodes[old].Kill();
    pair->StartStandby(old);
  }
  pair.reset();
  std::vector<double> after_promote;
  const std::vector<double> promoted =
      Promotions(promotions, promote_after_ms, &after_promote);

  std::printf("load average after: %s\n", LoadAverage().c_str());
  std::printf(
      "failover: takeover after SIGKILL of the active node, kill to "
      "the other node's first acknowledged AddCase: %s\n",
      Summary(killed).c_str());
  std::printf(
      "failover: takeover after SIGSTOP of the active node "
      "(lease-bound, lease %lld ms): %s; the paused node stepped "
      "down (exit 75) after SIGCONT in %d of %lld\n",
      static_cast<long long>(lease_ms), Summary(paused).c_str(), stepped_down,
      static_cast<long long>(stops));
  std::printf(
      "failover: database promotion (replica promoted %lld ms after "
      "the primary's stop), stop to the audit log's first "
      "acknowledged append: %s; promotion to it: %s\n",
      static_cast<long long>(promote_after_ms), Summary(promoted).c_str(),
      Summary(after_promote).c_str());
  return 0;
}

}  // namespace
}  // namespace cbx::bench

int main(int argc, char** argv) { return cbx::bench::Main(argc, argv); }
