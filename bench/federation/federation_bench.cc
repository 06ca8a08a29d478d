// cbx_federation_bench: a whole federation on loopback (issue 12): N real
// cbx-node processes (default 33: EU27 + AL BA ME MK RS XK) with the
// node's default background intervals (index sync and witnessing paced
// with the number of peers, spec/node-config.md), each node's own index
// seeded with M tags (default 10,000). Measured, with the load average:
//
//   threads, RSS  of every node once each holds every peer's index;
//   query         p50/p99 of an office query of one identifier at the
//                 querier (MK) to all N-1 peers (goal p99 < 250 ms);
//   catch-up      a node (AT) stopped, 1% of M new cases added at each of
//                 its peers, restarted: time until its copies of every
//                 peer's index hold them (goal < 10 s);
//   bulk          10,000 identifiers (a seized phone's contacts) checked
//                 at the querier against 7 peers, end to end (goal < 5 s):
//                 as ten queries of 1,000 in turn, then as `cbx query
//                 --ids-file` asks them (client/bulk_query.h: queries of
//                 1024, two at a time).
//
// Seeding: the M tags of each node's own index are random 64-bit values
// written straight into node.db's own_index and index_changes (the node
// stopped), not OPRF outputs of real identifiers: 33M real evaluations would
// take about 45 CPU-minutes. Syncing, storing and matching them costs what
// real tags cost; no query identifier matches one. The catch-up's 1% new
// cases are seeded the same way, except one real Office.AddCase at each
// peer (the node's own OPRF output). Seeding checks the count it leaves:
// an insert the schema silently ignored once left every index empty, so
// the bench measured nothing. The bench's directory raises the policy's
// evaluations_per_peer_per_day to 1,000,000 and max_index_growth_per_day to
// 2^24 (a bulk check of 10,000 identifiers is 10,000 evaluations at each
// of its peers; the default quota is 10,000 a day), and nothing else.
//
//   cbx_federation_bench [--members 33] [--tags 10000] [--queries 20]
//                        [--background-ms MS]
// CBX_FEDERATION_BENCH=0 in the environment skips it (make bench runs it by
// default; it takes several minutes and about 35 processes). Flags of Google
// Benchmark (--benchmark_*) are ignored.
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/bulk_query.h"
#include "core/crypto/p256_baseline.h"
#include "tests/integration/federation.h"

namespace cbx::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

const std::vector<std::string> kMembers = {
    "MK", "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
    "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL",
    "PL", "PT", "RO", "SE", "SI", "SK", "AL", "BA", "ME", "RS", "XK"};
const char kQuerier[] = "MK";
const char kOffline[] = "AT";

// The running federation, stopped by Die: std::exit runs no destructor, and
// 33 orphaned nodes would load the machine long after the bench.
Federation* running_federation = nullptr;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "cbx_federation_bench: " << what << "\n";
  if (running_federation != nullptr) {
    for (const auto& cc : kMembers) {
      if (running_federation->Pid(cc) > 0) running_federation->Kill(cc);
    }
  }
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

int Threads(pid_t pid) {
  int n = 0;
  if (DIR* d = opendir(absl::StrCat("/proc/", pid, "/task").c_str())) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

double RssMb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024;
  }
  return 0;
}

// CPU seconds (user and system) `pid` has used so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks).
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: count from after it.
  const size_t after = stat.rfind(')');
  if (after == std::string::npos) return 0;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(after + 2), ' ', absl::SkipEmpty());
  double user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &user) ||
      !absl::SimpleAtod(fields[12], &system)) {
    return 0;
  }
  return (user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Microseconds of CPU one bare P-256 EC_POINT_mul takes on this machine
// now (core/crypto/p256_baseline.h, the crypto bench's unit): a bulk
// check is nearly all P-256 arithmetic, so its time in this unit compares
// across machines of different speed. The median of five runs of 500.
double MulMicros() {
  crypto::P256ScalarMulBaseline baseline;
  std::vector<double> runs;
  for (int run = 0; run < 5; ++run) {
    timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (int i = 0; i < 500; ++i) baseline.Run();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    runs.push_back(((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) /
                   500 / 1e3);
  }
  std::sort(runs.begin(), runs.end());
  return runs[2];
}

double CpuSeconds(Federation& fed, const std::vector<std::string>& members) {
  double sum = 0;
  for (const auto& cc : members) sum += CpuSeconds(fed.Pid(cc));
  return sum;
}

// Waits until `members` together use less than a quarter of one core over
// two seconds (a restart's own pulls and checks are over; their paced
// background rounds go on), at most `limit_s`; returns the seconds waited.
double WaitQuiet(Federation& fed, const std::vector<std::string>& members,
                 int limit_s) {
  const auto start = SteadyClock::now();
  double before = CpuSeconds(fed, members);
  while (SecondsSince(start) < limit_s) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double now = CpuSeconds(fed, members);
    if (now - before < 0.5) break;
    before = now;
  }
  return SecondsSince(start);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// Adds `tags` new random tags to `cc`'s own index, each a change of its
// index change log (node stopped), in the current OPRF generation; dies
// unless the index then holds `expect` tags.
void Seed(Federation& fed, const std::string& cc, int64_t tags,
          int64_t expect) {
  const std::string sql = absl::StrCat(
      "BEGIN; CREATE TEMP TABLE seed (tag INTEGER PRIMARY KEY); "
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE "
      "i < ",
      tags,
      ") INSERT OR IGNORE INTO seed SELECT random() FROM c; "
      "DELETE FROM seed WHERE tag IN (SELECT tag FROM own_index); "
      "INSERT INTO own_index (generation, tag, refs) SELECT (SELECT current "
      "FROM oprf_generations), tag, 1 FROM seed; "
      "INSERT INTO index_changes (version, tag, added) SELECT (SELECT "
      "version FROM own_index_state) + ROW_NUMBER() OVER (ORDER BY tag), "
      "tag, 1 FROM seed; UPDATE own_index_state SET version = version + "
      "(SELECT COUNT(*) FROM seed); COMMIT; SELECT COUNT(*) FROM own_index;");
  std::string out;
  if (RunCommand(
          "sqlite3 '" + fed.NodeDir(cc) + "/data/node.db' \"" + sql + "\"",
          &out) != 0) {
    Die(cc + ": seeding failed: " + out);
  }
  int64_t held = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(out), &held) ||
      held != expect) {
    Die(absl::StrCat(cc, ": seeding left ", absl::StripAsciiWhitespace(out),
                     " tags in the index, not ", expect));
  }
}

// Sets `cc`'s three background intervals to `ms` in its node.json (the node
// stopped).
void SetBackgroundMs(Federation& fed, const std::string& cc, int64_t ms) {
  const std::string path = fed.NodeDir(cc) + "/node.json";
  std::ifstream in(path);
  nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
  if (config.is_discarded()) Die(path + ": not JSON");
  config["sync"]["index_interval_ms"] = ms;
  config["sync"]["directory_interval_ms"] = ms;
  config["audit"]["witness_interval_ms"] = ms;
  std::ofstream out(path, std::ios::trunc);
  out << config.dump(2) << "\n";
  if (!out) Die(path + ": cannot write");
}

v1::Identifier Email(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id.set_value(value);
  return id;
}

// A query of `cc`'s office to `peers`, under the case the bench opens at
// `cc` (AddCase below), without identifiers.
v1::QueryRequest QueryPurpose(const std::string& cc,
                              const std::vector<std::string>& peers) {
  v1::QueryRequest req;
  for (const auto& p : peers) req.add_peers(p);
  req.mutable_purpose()->set_case_number(cc + "-2026-0142");
  req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
  req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  return req;
}

// One office query at `cc`; its duration in seconds (stream read to the end).
// Over `office`'s open connection (an office's console keeps one; the
// TLS handshake of a new one is not the query's).
double TimedQuery(v1::Office::Stub& office, const std::string& cc,
                  const std::vector<v1::Identifier>& ids,
                  const std::vector<std::string>& peers, int* answers) {
  v1::QueryRequest req = QueryPurpose(cc, peers);
  for (const auto& id : ids) *req.add_identifiers() = id;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  const auto start = SteadyClock::now();
  auto reader = office.Query(&ctx, req);
  v1::QueryEvent event;
  int ok_answers = 0;
  while (reader->Read(&event)) {
    if (event.has_answer() &&
        event.answer().outcome() != v1::PEER_OUTCOME_ERROR) {
      ++ok_answers;
    }
  }
  grpc::Status status = reader->Finish();
  const double s = SecondsSince(start);
  if (!status.ok()) Die("query at " + cc + ": " + status.error_message());
  if (answers != nullptr) *answers = ok_answers;
  return s;
}

void AddCase(v1::Office::Stub& office, const std::string& cc,
             const std::string& number, const std::string& email) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  *c->add_identifiers() = Email(email);
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::Case out;
  grpc::Status s = office.AddCase(&ctx, req, &out);
  if (!s.ok()) Die("AddCase at " + cc + ": " + s.error_message());
}

// Index counts of every peer of `querier`, each `count`.
std::map<std::string, uint64_t> Counts(const std::vector<std::string>& members,
                                       const std::string& querier,
                                       uint64_t count) {
  std::map<std::string, uint64_t> counts;
  for (const auto& m : members) {
    if (m != querier) counts[m] = count;
  }
  return counts;
}

int Main(int argc, char** argv) {
  if (const char* skip = std::getenv("CBX_FEDERATION_BENCH");
      skip != nullptr && std::string(skip) == "0") {
    std::printf("cbx_federation_bench: skipped (CBX_FEDERATION_BENCH=0)\n");
    return 0;
  }
  int members = 33;
  int64_t tags = 10000;
  int queries = 20;
  // 0: the node's defaults for the background rounds (paced with the
  // peers). Otherwise every node's index sync, witnessing and directory
  // rounds run every this many ms: with 33 nodes sharing one machine's
  // cores, a long interval stands in for each member's own machine.
  int64_t background_ms = 0;
  // The harness's waits for a node's start and sync (not measurements):
  // 33 nodes restarting together on 2 cores, each loading 32 copies, take
  // longer than a test federation's 20 s.
  setenv("CBX_TEST_TIME_SCALE", "6", /*overwrite=*/0);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--benchmark_", 0) == 0) continue;
    if (i + 1 < argc && arg == "--members" &&
        absl::SimpleAtoi(argv[i + 1], &members)) {
      ++i;
    } else if (i + 1 < argc && arg == "--tags" &&
               absl::SimpleAtoi(argv[i + 1], &tags)) {
      ++i;
    } else if (i + 1 < argc && arg == "--queries" &&
               absl::SimpleAtoi(argv[i + 1], &queries)) {
      ++i;
    } else if (i + 1 < argc && arg == "--background-ms" &&
               absl::SimpleAtoi(argv[i + 1], &background_ms)) {
      ++i;
    } else {
      Die("usage: cbx_federation_bench [--members N] [--tags M] [--queries K] "
          "[--background-ms MS]");
    }
  }
  members = std::clamp(members, 9, static_cast<int>(kMembers.size()));
  FederationOptions options;
  options.countries.assign(kMembers.begin(), kMembers.begin() + members);
  options.edit_spec = [](nlohmann::json& spec) {
    spec["policy"]["evaluations_per_peer_per_day"] = 1000000;
    spec["policy"]["max_index_growth_per_day"] = 1 << 24;
  };
  // The node's own defaults for the background work, not the tests' fast
  // ones (--background-ms is applied once every node holds every copy).
  options.edit_config = [](const std::string&, nlohmann::json& config) {
    config["sync"].erase("index_interval_ms");
    config["sync"].erase("directory_interval_ms");
    config["audit"].erase("witness_interval_ms");
  };
  std::printf(
      "cbx_federation_bench: %d members on loopback, %lld seeded tags each, "
      "%s; load at start %s\n",
      members, static_cast<long long>(tags),
      background_ms > 0
          ? absl::StrCat("background rounds every ", background_ms, " ms")
                .c_str()
          : "the node's default (paced) background rounds",
      LoadAverage().c_str());
  std::fflush(stdout);
  auto made = Federation::Create(options);
  if (!made.ok()) Die(made.status().ToString());
  Federation& fed = **made;
  running_federation = &fed;
  const std::vector<std::string>& all = options.countries;

  // First start makes each node.db; then seed them stopped.
  auto start = SteadyClock::now();
  if (absl::Status s = fed.StartAll(); !s.ok()) Die(s.ToString());
  for (const auto& cc : all) fed.Stop(cc);
  for (const auto& cc : all) Seed(fed, cc, tags, tags);
  for (const auto& cc : all) {
    if (absl::Status s = fed.Spawn(cc); !s.ok()) Die(s.ToString());
  }
  for (const auto& cc : all) {
    if (absl::Status s = fed.WaitReady(cc); !s.ok()) Die(s.ToString());
  }
  std::printf("  started and seeded in %.1f s\n", SecondsSince(start));
  std::fflush(stdout);

  // Every node holds every peer's index, and the storm of 33 x 32 first
  // pulls is over before anything is measured: a real member pulls only its
  // own 32, on its own machine.
  start = SteadyClock::now();
  for (const auto& cc : all) {
    if (absl::Status s =
            fed.WaitForIndex(cc, Counts(all, cc, tags), 0, 1200000);
        !s.ok()) {
      Die(absl::StrCat(cc, ": first sync: ", s.ToString()));
    }
    if (cc == kQuerier) {
      std::printf("  first full sync at %s (%d copies of %lld tags): %.1f s\n",
                  kQuerier, members - 1, static_cast<long long>(tags),
                  SecondsSince(start));
      std::fflush(stdout);
    }
  }
  std::printf("  every node holds every peer's index: %.1f s; load %s\n",
              SecondsSince(start), LoadAverage().c_str());
  // The querier's office queries under its own open case (spec/office-api.md
  // §4.5): one more tag in the querier's index from here on.
  AddCase(*fed.Office(kQuerier), kQuerier, absl::StrCat(kQuerier, "-2026-0142"),
          absl::StrCat("purpose@", kQuerier, ".example.org"));
  if (background_ms > 0) {
    // Restarted with the long intervals; each node still pulls once at its
    // start (its copies are already whole, so nothing is missed).
    for (const auto& cc : all) fed.Stop(cc);
    for (const auto& cc : all) SetBackgroundMs(fed, cc, background_ms);
    for (const auto& cc : all) {
      if (absl::Status s = fed.Spawn(cc); !s.ok()) Die(s.ToString());
    }
    for (const auto& cc : all) {
      if (absl::Status s = fed.WaitReady(cc); !s.ok()) Die(s.ToString());
    }
  }
  // A minute of the background work alone (index pulls, witnessing,
  // directory rounds), so that the load average shows it.
  std::this_thread::sleep_for(std::chrono::seconds(60));
  std::printf("  after a minute of background work alone: load %s\n",
              LoadAverage().c_str());
  std::fflush(stdout);

  // Threads and RSS.
  std::vector<double> rss;
  std::vector<double> threads;
  for (const auto& cc : all) {
    rss.push_back(RssMb(fed.Pid(cc)));
    threads.push_back(Threads(fed.Pid(cc)));
  }
  double thread_sum = 0;
  for (double t : threads) thread_sum += t;
  std::printf(
      "  threads per node: min %.0f max %.0f (all nodes: %.0f); RSS per node: "
      "median %.0f MB max %.0f MB; load %s\n",
      *std::min_element(threads.begin(), threads.end()),
      *std::max_element(threads.begin(), threads.end()), thread_sum,
      Percentile(rss, 0.5), *std::max_element(rss.begin(), rss.end()),
      LoadAverage().c_str());
  std::fflush(stdout);

  // Query p99 at the querier to every peer.
  auto querier_office = fed.Office(kQuerier);
  std::vector<double> latencies;
  int min_answers = members;
  for (int q = 0; q < queries; ++q) {
    int answers = 0;
    latencies.push_back(TimedQuery(
        *querier_office, kQuerier,
        {Email(absl::StrCat("nobody", q, "@example.org"))}, {}, &answers));
    min_answers = std::min(min_answers, answers);
  }
  std::printf(
      "  query of 1 identifier at %s to %d peers, %d queries: p50 %.0f ms, "
      "p99 %.0f ms (goal < 250 ms); fewest peers answering: %d; load %s\n",
      kQuerier, members - 1, queries, Percentile(latencies, 0.5) * 1000,
      Percentile(latencies, 0.99) * 1000, min_answers, LoadAverage().c_str());
  std::fflush(stdout);

  // A day offline: 1% new cases at every peer meanwhile. All but one of
  // each peer's are seeded (the peers stopped, then started again): at 1M
  // tags that is 10,000 a peer, 320,000 AddCase calls this one machine
  // would take most of an hour over. The last one is a real AddCase, so
  // that a case registered the ordinary way is among what must arrive.
  fed.Stop(kOffline);
  const int64_t added = std::max<int64_t>(1, tags / 100);
  start = SteadyClock::now();
  std::vector<std::string> peers_of_offline;
  for (const auto& cc : all) {
    if (cc != kOffline) peers_of_offline.push_back(cc);
  }
  for (const auto& cc : peers_of_offline) {
    AddCase(*fed.Office(cc), cc, absl::StrCat(cc, "-2026-0001"),
            absl::StrCat("offline@", cc, ".example.org"));
  }
  // Restarted, each peer pulls from the others at once, whatever its
  // interval (with --background-ms, its next round may be far off).
  if (added > 1 || background_ms > 0) {
    for (const auto& cc : peers_of_offline) fed.Stop(cc);
    for (const auto& cc : peers_of_offline) {
      const int64_t purpose_case = cc == kQuerier ? 1 : 0;
      if (added > 1) Seed(fed, cc, added - 1, tags + purpose_case + added);
    }
    for (const auto& cc : peers_of_offline) {
      if (absl::Status s = fed.Spawn(cc); !s.ok()) Die(s.ToString());
    }
    for (const auto& cc : peers_of_offline) {
      if (absl::Status s = fed.WaitReady(cc); !s.ok()) Die(s.ToString());
    }
  }
  // AT's peers first catch up with one another (their restart's own
  // storm), so that AT's catch-up is timed against a settled federation.
  // (With --background-ms a peer started before another pulls from it only
  // a round later: not waited for.)
  std::map<std::string, uint64_t> day_after;
  for (const auto& cc : peers_of_offline) {
    day_after[cc] = tags + added + (cc == kQuerier ? 1 : 0);
  }
  for (const auto& cc : peers_of_offline) {
    if (background_ms > 0) break;
    std::map<std::string, uint64_t> counts = day_after;
    counts.erase(cc);
    if (absl::Status s = fed.WaitForIndex(cc, counts, 0, 1200000); !s.ok()) {
      Die(absl::StrCat(cc, ": sync after the day: ", s.ToString()));
    }
  }
  std::printf(
      "  %s stopped; %lld new cases at each of its %d peers (%lld seeded, 1 "
      "by AddCase), the peers restarted%s: %.1f s; load %s\n",
      kOffline, static_cast<long long>(added), members - 1,
      static_cast<long long>(added - 1),
      background_ms > 0 ? "" : " and in sync with one another",
      SecondsSince(start), LoadAverage().c_str());
  std::fflush(stdout);
  // A member back after a day offline finds peers that ran all day: their
  // restart here (to seed them) and its own pulls and checks are over
  // before AT starts.
  const double quiet = WaitQuiet(fed, peers_of_offline, 90);
  std::printf(
      "  the peers quiet (under a quarter core together) after %.1f s; "
      "load %s\n",
      quiet, LoadAverage().c_str());
  std::fflush(stdout);
  start = SteadyClock::now();
  if (absl::Status s = fed.Start(kOffline); !s.ok()) Die(s.ToString());
  const double ready = SecondsSince(start);
  const double peers_cpu_before = CpuSeconds(fed, peers_of_offline);
  std::map<std::string, uint64_t> caught_up =
      Counts(all, kOffline, tags + added);
  ++caught_up[kQuerier];  // its purpose case
  if (absl::Status s = fed.WaitForIndex(kOffline, caught_up, 0, 600000);
      !s.ok()) {
    Die(absl::StrCat(kOffline, ": catch-up: ", s.ToString()));
  }
  const double caught_up_s = SecondsSince(start);
  std::printf(
      "  catch-up of %s: ready %.1f s after its start, in sync with all %d "
      "peers %.1f s after it (goal < 10 s); %s used %.1f CPU s, its peers "
      "%.1f; load %s\n",
      kOffline, ready, members - 1, caught_up_s, kOffline,
      CpuSeconds(fed.Pid(kOffline)),
      CpuSeconds(fed, peers_of_offline) - peers_cpu_before,
      LoadAverage().c_str());
  std::fflush(stdout);

  // Bulk: 10,000 identifiers against 7 peers, as ten queries of 1,000 one
  // after another (a query holds at most 1024, spec/office-api.md Q2).
  const std::vector<std::string> seven(all.begin() + 2, all.begin() + 9);
  constexpr int kContacts = 10000;
  constexpr int kPerQuery = 1000;
  double bulk = 0;
  auto bulk_office = fed.Office(kQuerier);
  int answers = 7;
  const double querier_cpu = CpuSeconds(fed.Pid(kQuerier));
  const double seven_cpu = CpuSeconds(fed, seven);
  for (int first = 0; first < kContacts; first += kPerQuery) {
    std::vector<v1::Identifier> contacts;
    for (int i = first; i < first + kPerQuery; ++i) {
      contacts.push_back(Email(absl::StrCat("contact", i, "@example.org")));
    }
    int answered = 0;
    bulk += TimedQuery(*bulk_office, kQuerier, contacts, seven, &answered);
    answers = std::min(answers, answered);
  }
  // Each member runs on a machine of its own in a federation; here all
  // eight share this one, so the CPU time each used says what the check
  // costs the querier's machine alone. The times are also given in
  // multiplications of this machine, measured now.
  const double querier_used = CpuSeconds(fed.Pid(kQuerier)) - querier_cpu;
  const double seven_used = CpuSeconds(fed, seven) - seven_cpu;

  // The same check as an office makes it: `cbx query --ids-file` with
  // 10,000 other contacts, through the client's own plan and runner.
  std::string contacts;
  for (int i = 0; i < kContacts; ++i) {
    absl::StrAppend(&contacts, "email:contact", i, "@example.net\n");
  }
  absl::StatusOr<client::IdentifierFile> file =
      client::ParseIdentifierFile(contacts, "contacts");
  if (!file.ok()) Die(file.status().ToString());
  const client::BulkQueryPlan plan = client::PlanBulkQuery(
      *file, QueryPurpose(kQuerier, seven), /*both_types=*/false);
  const double file_querier_cpu = CpuSeconds(fed.Pid(kQuerier));
  const double file_seven_cpu = CpuSeconds(fed, seven);
  int file_answers = 7;
  const auto file_start = SteadyClock::now();
  client::RunQueries(
      *bulk_office, plan.batches, client::kBulkStreams,
      [] { return std::chrono::system_clock::now() + std::chrono::minutes(2); },
      [&](size_t, const client::BulkBatchResult& r) {
        if (!r.status.ok() || !r.has_summary) {
          Die(absl::StrCat("bulk check at ", kQuerier, ": ",
                           r.status.error_message()));
        }
        int answered = 0;
        for (const v1::PeerAnswer& a : r.answers) {
          answered += a.outcome() != v1::PEER_OUTCOME_ERROR;
        }
        file_answers = std::min(file_answers, answered);
      });
  const double file_s = SecondsSince(file_start);
  const double file_querier_used =
      CpuSeconds(fed.Pid(kQuerier)) - file_querier_cpu;
  const double file_seven_used = CpuSeconds(fed, seven) - file_seven_cpu;
  const double mul_us = MulMicros();
  std::printf(
      "  bulk check of 10,000 identifiers at %s against 7 peers (%s), ten "
      "queries of 1,000 in turn: %.2f s (goal < 5 s), fewest answering %d of "
      "7; CPU used: %s %.1f s, the seven peers %.1f s together; load %s\n"
      "  in P-256 multiplications of this machine (EC_POINT_mul %.1f us of "
      "CPU, measured after the check): the check %.0f, %s's CPU %.0f, the "
      "seven peers' %.0f\n",
      kQuerier, absl::StrJoin(seven, " ").c_str(), bulk, answers, kQuerier,
      querier_used, seven_used, LoadAverage().c_str(), mul_us,
      bulk * 1e6 / mul_us, kQuerier, querier_used * 1e6 / mul_us,
      seven_used * 1e6 / mul_us);
  std::printf(
      "  the same as cbx query --ids-file (%zu queries, %d at a time): %.2f s "
      "(goal < 5 s, %.0f multiplications), fewest answering %d of 7; CPU "
      "used: %s %.1f s, the seven peers %.1f s together; load %s\n",
      plan.batches.size(), client::kBulkStreams, file_s, file_s * 1e6 / mul_us,
      file_answers, kQuerier, file_querier_used, file_seven_used,
      LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace cbx::testing

int main(int argc, char** argv) { return cbx::testing::Main(argc, argv); }
