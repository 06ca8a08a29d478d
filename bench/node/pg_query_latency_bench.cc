// cbx_pg_query_latency_bench: an office's query latency at a node whose
// node.db and audit log are in PostgreSQL against one whose are in SQLite,
// in one federation, in one run (issue 15, "Benchmarks").
//
// Three real cbx-node processes on loopback (tests/integration harness):
// MK keeps node.db and its audit log in a throwaway PostgreSQL cluster this
// benchmark starts (pg_cluster.h, fsync on: every COMMIT is flushed, as
// SQLite's are), BA keeps both in SQLite; RS holds the Telegram account
// the queries ask about. MK's and BA's prosecutor offices each send
// Office.Query to RS (one hit: Evaluate, then Resolve), alternating which
// goes first, so both see the same background. The querier writes the
// query's audit entries and its hit to its storage, so the difference is
// the storage's. Reported: p50/p90/p99 at the client until the
// QuerySummary, the ratio PostgreSQL ÷ SQLite, and the load average.
//
//   cbx_pg_query_latency_bench [--queries N] [--warmup N]
// CBX_PG_QUERY_BENCH=0 skips it; it also exits 0, saying so, when the
// PostgreSQL server binaries are absent.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/node/node_bench_util.h"
#include "cbx/v1/office.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "tests/integration/federation.h"

namespace cbx::bench {
namespace {

constexpr char kPg[] = "MK";
constexpr char kSqlite[] = "BA";
constexpr char kHitPeer[] = "RS";
constexpr char kAccount[] = "bench_room_admin";

v1::Identifier Telegram(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

void AddCase(testing::Federation& fed, const std::string& cc,
             const std::string& number, const std::string& account) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  *c->add_identifiers() = Telegram(account);
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::Case out;
  grpc::Status s = fed.Office(cc)->AddCase(&ctx, req, &out);
  if (!s.ok()) Die("AddCase at " + cc + ": " + s.error_message());
}

// One query from `cc`'s office to RS: the client's wait until the
// QuerySummary in ms; dies unless RS answered HIT.
double Query(v1::Office::Stub& office, const std::string& cc) {
  v1::QueryRequest req;
  *req.add_identifiers() = Telegram(kAccount);
  req.mutable_purpose()->set_case_number(cc + "-2026-1");
  req.mutable_purpose()->set_legal_basis("MLA Convention 1959, Art. 1");
  req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  req.add_peers(kHitPeer);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const double start = NowSeconds();
  auto reader = office.Query(&ctx, req);
  v1::QueryEvent event;
  double ms = -1;
  bool hit = false;
  while (reader->Read(&event)) {
    if (event.has_answer() && event.answer().member() == kHitPeer) {
      hit = event.answer().outcome() == v1::PEER_OUTCOME_HIT;
    } else if (event.has_summary()) {
      ms = (NowSeconds() - start) * 1000;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok() || ms < 0 || !hit) {
    Die(absl::StrCat("query from ", cc,
                     " did not hit RS: ", status.error_message()));
  }
  return ms;
}

int Main(int argc, char** argv) {
  SetProgramName("cbx_pg_query_latency_bench");
  int64_t queries = 300;
  int64_t warmup = 30;
  Flags flags("cbx_pg_query_latency_bench [--queries N] [--warmup N]");
  flags.Int("--queries", &queries, 1, 100'000);
  flags.Int("--warmup", &warmup, 0, 10'000);
  flags.Parse(argc, argv);
  if (const char* skip = std::getenv("CBX_PG_QUERY_BENCH");
      skip != nullptr && std::string(skip) == "0") {
    std::printf("cbx_pg_query_latency_bench: skipped (CBX_PG_QUERY_BENCH=0)\n");
    return 0;
  }
  if (node::pg::testing::PgCluster::BinDir().empty()) {
    std::printf("cbx_pg_query_latency_bench: skipped: %s\n",
                node::pg::testing::PgCluster::SkipReason().c_str());
    return 0;
  }
  node::pg::testing::PgClusterOptions pg_options;
  pg_options.fsync = true;
  auto cluster = node::pg::testing::PgCluster::Start(pg_options);
  if (!cluster.ok()) Die(cluster.status().ToString());
  auto conninfo = (*cluster)->CreateDatabase("cbx_bench");
  if (!conninfo.ok()) Die(conninfo.status().ToString());
  std::printf(
      "cbx_pg_query_latency_bench: Office.Query to one peer (a hit) from a "
      "node on PostgreSQL (%s) and one on SQLite (%s), alternating\n"
      "machine: %d usable cores, %s; the 3 nodes, PostgreSQL and this client "
      "share them; load average before: %s\n",
      kPg, kSqlite, UsableCores(), CpuModel().c_str(), LoadAverage().c_str());
  std::fflush(stdout);

  testing::FederationOptions options;
  options.countries = {kPg, kSqlite, kHitPeer};
  options.edit_spec = [](nlohmann::json& spec) {
    spec["policy"]["evaluations_per_peer_per_day"] = 4'000'000'000u;
  };
  options.edit_config = [&](const std::string& cc, nlohmann::json& c) {
    if (cc != kPg) return;
    c["storage"] = {{"backend", "postgresql"},
                    {"conninfo", *conninfo},
                    {"schema", "cbx_node"}};
    c["audit_log"] = {{"backend", "postgresql"},
                      {"conninfo", *conninfo},
                      {"schema", "cbx_audit"}};
  };
  auto federation = testing::Federation::Create(options);
  if (!federation.ok()) Die(federation.status().ToString());
  std::unique_ptr<testing::Federation> owner = *std::move(federation);
  testing::Federation& fed = *owner;
  SetCleanup([&owner] { owner.reset(); });
  if (absl::Status s = fed.StartAll(); !s.ok()) Die(s.ToString());
  AddCase(fed, kHitPeer, "RS-2026-1", kAccount);
  AddCase(fed, kPg, "MK-2026-1", "bench_mk_own");
  AddCase(fed, kSqlite, "BA-2026-1", "bench_ba_own");
  for (const char* querier : {kPg, kSqlite}) {
    if (absl::Status s = fed.WaitForIndex(querier, {{kHitPeer, 1}}, 0, 60'000);
        !s.ok()) {
      fed.DumpLogs();
      Die(s.ToString());
    }
  }

  std::map<std::string, std::unique_ptr<v1::Office::Stub>> offices;
  std::map<std::string, std::vector<double>> ms;
  for (const char* cc : {kPg, kSqlite}) offices[cc] = fed.Office(cc);
  const double wall0 = NowSeconds();
  for (int64_t i = 0; i < warmup + queries; ++i) {
    std::vector<std::string> order = {kPg, kSqlite};
    if (i % 2 == 1) std::swap(order[0], order[1]);
    for (const std::string& cc : order) {
      const double took = Query(*offices[cc], cc);
      if (i >= warmup) ms[cc].push_back(took);
    }
  }
  const double wall = NowSeconds() - wall0;
  std::printf(
      "%lld queries per node (after %lld warm-up) in %.1f s; load "
      "average after: %s\n",
      static_cast<long long>(queries), static_cast<long long>(warmup), wall,
      LoadAverage().c_str());
  std::printf("client-side latency until the QuerySummary (ms):\n");
  std::printf("  %-22s %8s %8s %8s\n", "querier's storage", "p50", "p90",
              "p99");
  std::map<std::string, std::map<int, double>> p;
  for (const char* cc : {kPg, kSqlite}) {
    std::vector<double>& v = ms[cc];
    std::sort(v.begin(), v.end());
    for (int q : {50, 90, 99}) p[cc][q] = Percentile(v, q);
    std::printf("  %-22s %8.2f %8.2f %8.2f\n",
                cc == std::string(kPg) ? "PostgreSQL (MK)" : "SQLite (BA)",
                p[cc][50], p[cc][90], p[cc][99]);
  }
  std::printf("ratio PostgreSQL / SQLite: p50 %.2f, p99 %.2f\n",
              p[kPg][50] / p[kSqlite][50], p[kPg][99] / p[kSqlite][99]);
  return 0;
}

}  // namespace
}  // namespace cbx::bench

int main(int argc, char** argv) { return cbx::bench::Main(argc, argv); }
