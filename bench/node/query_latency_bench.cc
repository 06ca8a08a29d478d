// cbx_query_latency_bench: how long a prosecutor waits for a query's
// summary when the node fans it out to one peer and to seven (issue "A
// federation that answers": the 7-peer p99 <= 3 x the 1-peer p99).
//
// A federation of 8 real cbx-node processes on loopback (tests/integration
// harness). Every peer registers one case; RS's holds the Telegram account
// the queries ask about, so each query is one hit (RS: Evaluate, then
// Resolve) and, with 7 peers, six misses (Evaluate only). Once MK holds a
// current copy of every peer's index, MK's prosecutor office sends
// Office.Query with `peers` = [RS] and with all seven peers, alternating
// (and alternating which goes first) so both see the same background: the
// nodes' index syncs and whatever else runs on the machine. The latency is
// measured at the client, from the call until the QuerySummary arrives; it
// includes the office's TLS connection (kept open), the querier's blinding,
// signing, proof checks and its SQLite writes, and every peer's work.
//
// All processes share this machine's cores, so the 7-peer query competes
// with itself for CPU: the ratio measures the fan-out on this machine, not
// on eight machines.
//
//   cbx_query_latency_bench [--queries N] [--warmup N] [--countries N]
//       [--index-interval-ms MS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/node/node_bench_util.h"
#include "cbx/v1/office.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "tests/integration/federation.h"

namespace cbx::bench {
namespace {

constexpr double kGoalRatio = 3.0;
constexpr char kQuerier[] = "MK";
constexpr char kHitPeer[] = "RS";
const std::vector<std::string> kAllCountries = {"MK", "RS", "BA", "HR",
                                                "ME", "AL", "XK", "SI"};

struct Options {
  int64_t queries = 200;
  int64_t warmup = 20;
  int64_t countries = 8;
  int64_t index_interval_ms = 2000;
};

v1::Identifier Id(v1::IdentifierType type, const std::string& value) {
  v1::Identifier id;
  id.set_type(type);
  id.set_value(value);
  return id;
}

void AddCase(testing::Federation& fed, const std::string& cc,
             const std::string& number, const v1::Identifier& id) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  *c->add_identifiers() = id;
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::Case out;
  grpc::Status s = fed.Office(cc)->AddCase(&ctx, req, &out);
  if (!s.ok()) Die("AddCase at " + cc + ": " + s.error_message());
}

struct Sample {
  double client_ms = 0;
  int64_t node_ms = 0;  // QuerySummary.elapsed_ms, the querier's own figure
  // PeerAnswer.latency_ms as the querier measured it: the hit peer's
  // (Evaluate + Resolve) and each missing peer's (Evaluate only).
  std::vector<double> hit_peer_ms;
  std::vector<double> miss_peer_ms;
};

struct Series {
  std::string name;
  std::vector<std::string> peers;
  std::vector<Sample> samples;
  int64_t unexpected = 0;
  std::string first_unexpected;
};

// One query; checks that RS hit and every other peer missed.
Sample RunQuery(v1::Office::Stub& office, Series& series, bool record) {
  v1::QueryRequest req;
  *req.add_identifiers() =
      Id(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "bench_room_admin");
  *req.add_identifiers() =
      Id(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "nobody_holds_this_7731");
  req.mutable_purpose()->set_case_number("MK-2026-0142");
  req.mutable_purpose()->set_legal_basis("MLA Convention 1959, Art. 1");
  req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  for (const std::string& p : series.peers) req.add_peers(p);

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const double start = NowSeconds();
  auto reader = office.Query(&ctx, req);
  v1::QueryEvent event;
  std::map<std::string, v1::PeerAnswer> answers;
  Sample sample;
  bool summary = false;
  while (reader->Read(&event)) {
    if (event.has_answer()) {
      answers[event.answer().member()] = event.answer();
    } else if (event.has_summary()) {
      sample.client_ms = (NowSeconds() - start) * 1000;
      sample.node_ms = event.summary().elapsed_ms();
      summary = true;
    }
  }
  grpc::Status status = reader->Finish();
  std::string problem;
  if (!status.ok()) {
    problem = "query failed: " + status.error_message();
  } else if (!summary) {
    problem = "no QuerySummary";
  } else {
    for (const std::string& p : series.peers) {
      auto it = answers.find(p);
      const v1::PeerOutcome want =
          p == kHitPeer ? v1::PEER_OUTCOME_HIT : v1::PEER_OUTCOME_MISS;
      if (it == answers.end()) {
        problem = "no answer from " + p;
      } else if (it->second.outcome() != want) {
        problem = p + " answered " +
                  v1::PeerOutcome_Name(it->second.outcome()) + " " +
                  it->second.error();
      }
      if (!problem.empty()) break;
    }
  }
  if (!summary) sample.client_ms = (NowSeconds() - start) * 1000;
  for (const auto& [member, answer] : answers) {
    (member == kHitPeer ? sample.hit_peer_ms : sample.miss_peer_ms)
        .push_back(static_cast<double>(answer.latency_ms()));
  }
  if (record && !problem.empty() && series.unexpected++ == 0) {
    series.first_unexpected = problem;
  }
  return sample;
}

struct Stats {
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  s.p50 = Percentile(v, 50);
  s.p90 = Percentile(v, 90);
  s.p99 = Percentile(v, 99);
  s.max = v.empty() ? 0 : v.back();
  for (double x : v) s.mean += x / v.size();
  return s;
}

int Main(int argc, char** argv) {
  SetProgramName("cbx_query_latency_bench");
  Options o;
  Flags flags(
      "cbx_query_latency_bench [--queries N] [--warmup N] [--countries N] "
      "[--index-interval-ms MS]");
  flags.Int("--queries", &o.queries, 1, 100'000);
  flags.Int("--warmup", &o.warmup, 0, 10'000);
  flags.Int("--countries", &o.countries, 3,
            static_cast<int64_t>(kAllCountries.size()));
  flags.Int("--index-interval-ms", &o.index_interval_ms, 100, 86'400'000);
  flags.Parse(argc, argv);

  const std::vector<std::string> countries(kAllCountries.begin(),
                                           kAllCountries.begin() + o.countries);
  const int cores = UsableCores();
  std::printf(
      "cbx_query_latency_bench: Office.Query latency, fan-out to 1 peer vs "
      "%lld peers\n"
      "machine: %d usable cores (%d online), %s; all %lld nodes and this "
      "client share them\n"
      "federation: %lld countries, index sync every %lld ms (other node timers "
      "at their defaults); %lld queries per "
      "fan-out after %lld warm-up queries each; each query asks 2 Telegram "
      "accounts, one held by %s\n",
      static_cast<long long>(o.countries - 1), cores, OnlineCores(),
      CpuModel().c_str(), static_cast<long long>(o.countries),
      static_cast<long long>(o.countries),
      static_cast<long long>(o.index_interval_ms),
      static_cast<long long>(o.queries), static_cast<long long>(o.warmup),
      kHitPeer);
  std::fflush(stdout);

  testing::FederationOptions options;
  options.countries = countries;
  options.index_interval_ms = o.index_interval_ms;
  options.edit_spec = [](nlohmann::json& spec) {
    spec["policy"]["evaluations_per_peer_per_day"] = 4'000'000'000u;
  };
  const double create0 = NowSeconds();
  auto federation = testing::Federation::Create(options);
  if (!federation.ok()) Die(federation.status().ToString());
  std::unique_ptr<testing::Federation> owner = *std::move(federation);
  testing::Federation& fed = *owner;
  SetCleanup([&owner] { owner.reset(); });
  UseDefaultTimers(fed, countries, o.index_interval_ms);
  if (absl::Status s = fed.StartAll(); !s.ok()) Die(s.ToString());
  std::printf("federation made and started in %.1f s (%s)\n",
              NowSeconds() - create0, fed.dir().c_str());

  AddCase(fed, kQuerier, "MK-2026-0142",
          Id(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "bench_room_admin"));
  std::map<std::string, uint64_t> counts;
  std::vector<std::string> peers;
  for (const std::string& cc : countries) {
    if (cc == kQuerier) continue;
    peers.push_back(cc);
    const std::string account =
        cc == kHitPeer ? "bench_room_admin" : "bench_other_" + cc;
    AddCase(fed, cc, cc + "-2026-7",
            Id(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, account));
    counts[cc] = 1;
  }
  const double sync0 = NowSeconds();
  if (absl::Status s = fed.WaitForIndex(kQuerier, counts, 0, 60'000); !s.ok()) {
    fed.DumpLogs();
    Die(s.ToString());
  }
  std::printf("%s holds every peer's index after %.1f s\n", kQuerier,
              NowSeconds() - sync0);
  std::fflush(stdout);

  Series one{"1 peer", {kHitPeer}, {}, 0, ""};
  Series all{std::to_string(peers.size()) + " peers", peers, {}, 0, ""};
  auto office = fed.Office(kQuerier, "prosecutor");
  std::map<std::string, pid_t> pids;
  for (const std::string& cc : countries) pids[cc] = NodePid(fed, cc);
  auto nodes_cpu = [&] {
    double sum = 0;
    for (const auto& [cc, pid] : pids) sum += ProcessCpuSeconds(pid);
    return sum;
  };
  const double querier_cpu0 = ProcessCpuSeconds(pids[kQuerier]);
  const double nodes_cpu0 = nodes_cpu();
  const double client_cpu0 = SelfCpuSeconds();
  const MachineCpu machine0 = ReadMachineCpu();
  const double wall0 = NowSeconds();
  for (int64_t i = 0; i < o.warmup + o.queries; ++i) {
    const bool record = i >= o.warmup;
    Series* order[2] = {&one, &all};
    if (i % 2 == 1) std::swap(order[0], order[1]);
    for (Series* s : order) {
      Sample sample = RunQuery(*office, *s, record);
      if (record) s->samples.push_back(sample);
    }
  }
  const double wall = NowSeconds() - wall0;
  const MachineCpu machine1 = ReadMachineCpu();
  const double querier_cpu = ProcessCpuSeconds(pids[kQuerier]) - querier_cpu0;
  const double all_nodes_cpu = nodes_cpu() - nodes_cpu0;
  const double client_cpu = SelfCpuSeconds() - client_cpu0;
  const double machine_busy = machine1.busy - machine0.busy;

  std::printf(
      "\n%lld + %lld queries in %.1f s; the machine was %.0f%% busy "
      "meanwhile: the %zu nodes %.1f s of CPU (querier %s %.1f s), this "
      "client %.1f s, anything else %.1f s\n",
      static_cast<long long>(2 * o.queries),
      static_cast<long long>(2 * o.warmup), wall,
      100 * machine_busy / std::max(1e-9, machine1.total - machine0.total),
      countries.size(), all_nodes_cpu, kQuerier, querier_cpu, client_cpu,
      std::max(0.0, machine_busy - all_nodes_cpu - client_cpu));
  std::printf("client-side latency until the QuerySummary (ms):\n");
  std::printf("  %-9s %8s %8s %8s %8s %8s   %s\n", "fan-out", "p50", "p90",
              "p99", "max", "mean", "querier's elapsed_ms p50/p99");
  std::map<std::string, Stats> stats;
  for (Series* s : {&one, &all}) {
    std::vector<double> client, node;
    for (const Sample& x : s->samples) {
      client.push_back(x.client_ms);
      node.push_back(static_cast<double>(x.node_ms));
    }
    Stats c = Summarize(client);
    Stats n = Summarize(node);
    stats[s->name] = c;
    std::printf("  %-9s %8.2f %8.2f %8.2f %8.2f %8.2f   %.0f / %.0f\n",
                s->name.c_str(), c.p50, c.p90, c.p99, c.max, c.mean, n.p50,
                n.p99);
  }
  std::printf(
      "per-peer answer latency at the querier (PeerAnswer.latency_ms), "
      "p50 / p99:\n");
  for (Series* s : {&one, &all}) {
    std::vector<double> hit, miss;
    for (const Sample& x : s->samples) {
      hit.insert(hit.end(), x.hit_peer_ms.begin(), x.hit_peer_ms.end());
      miss.insert(miss.end(), x.miss_peer_ms.begin(), x.miss_peer_ms.end());
    }
    Stats h = Summarize(hit);
    std::printf("  %-9s hit %s (Evaluate + Resolve) %.0f / %.0f ms",
                s->name.c_str(), kHitPeer, h.p50, h.p99);
    if (!miss.empty()) {
      Stats m = Summarize(miss);
      std::printf("; misses (Evaluate only) %.0f / %.0f ms", m.p50, m.p99);
    }
    std::printf("\n");
  }
  for (Series* s : {&one, &all}) {
    if (s->unexpected > 0) {
      std::printf("  %s: %lld queries did not answer as expected; first: %s\n",
                  s->name.c_str(), static_cast<long long>(s->unexpected),
                  s->first_unexpected.c_str());
    }
  }
  const double ratio_p99 = stats[all.name].p99 / stats[one.name].p99;
  const double ratio_p50 = stats[all.name].p50 / stats[one.name].p50;
  std::printf(
      "ratio %s / 1 peer: p50 %.2f, p99 %.2f\n"
      "goal (%s p99 <= %.0f x 1-peer p99): %.2f ms vs %.2f ms, ratio %.2f: "
      "goal %s\n",
      all.name.c_str(), ratio_p50, ratio_p99, all.name.c_str(), kGoalRatio,
      stats[all.name].p99, stats[one.name].p99, ratio_p99,
      ratio_p99 <= kGoalRatio ? "met" : "missed");
  if (one.unexpected + all.unexpected > 0) {
    fed.DumpLogs();
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace cbx::bench

int main(int argc, char** argv) { return cbx::bench::Main(argc, argv); }
