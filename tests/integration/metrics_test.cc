// The admin endpoint of real nodes (issue 12): /metrics checked by Debian's
// `promtool check metrics`, scraped by a real Prometheus server whose HTTP
// API must then return the series; /healthz and /readyz, and /readyz 503
// for a node whose audit log is damaged; gRPC server reflection on the
// Office port. One federation of three nodes for the whole suite.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
};

// A blocking HTTP/1.1 GET to 127.0.0.1:port (the server closes after the
// answer).
HttpReply HttpGet(int port, const std::string& target) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return reply;
  }
  std::string req = absl::StrCat("GET ", target,
                                 " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Connection: close\r\n\r\n");
  (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) raw.append(buf, n);
  close(fd);
  size_t split = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || split == std::string::npos) return reply;
  reply.status = std::atoi(raw.substr(9, 3).c_str());
  reply.headers = raw.substr(0, split);
  reply.body = raw.substr(split + 4);
  // Prometheus answers chunked: undo it (its API answers are small).
  if (reply.headers.find("Transfer-Encoding: chunked") != std::string::npos) {
    std::string body;
    size_t pos = 0;
    while (pos < reply.body.size()) {
      size_t eol = reply.body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::stoul(reply.body.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      body += reply.body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    reply.body = body;
  }
  return reply;
}

int PortOf(const std::string& host_port) {
  return std::atoi(host_port.substr(host_port.rfind(':') + 1).c_str());
}

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = fed->release();
    ASSERT_TRUE(fed_->StartAll().ok());
    // The case RunQuery's purpose names (spec/office-api.md §4.5).
    v1::AddCaseRequest add;
    v1::Case* c = add.mutable_case_();
    c->set_case_number("MK-2026-0142");
    c->add_identifiers()->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    c->mutable_identifiers(0)->set_value("metrics_case_user");
    c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
    c->set_role(v1::PERPETRATOR_ROLE_POSTER);
    c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(60)));
    v1::Case added;
    grpc::Status s = fed_->Office("MK")->AddCase(&ctx, add, &added);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  static void TearDownTestSuite() {
    delete fed_;
    fed_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure()) fed_->DumpLogs();
  }

  static int AdminPort(const std::string& cc) {
    nlohmann::json config =
        nlohmann::json::parse(Slurp(fed_->NodeDir(cc) + "/node.json"));
    return PortOf(config["admin_listen"].get<std::string>());
  }

  // One query from MK's prosecutor to every peer.
  static void RunQuery() {
    v1::QueryRequest req;
    v1::Identifier* id = req.add_identifiers();
    id->set_type(v1::IDENTIFIER_TYPE_PHONE);
    id->set_value("+38970123456");
    req.mutable_purpose()->set_case_number("MK-2026-0142");
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    auto office = fed_->Office("MK");
    grpc::ClientContext ctx;
    auto reader = office->Query(&ctx, req);
    v1::QueryEvent event;
    while (reader->Read(&event)) {
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  static Federation* fed_;
};

Federation* MetricsTest::fed_ = nullptr;

TEST_F(MetricsTest, HealthAndReadiness) {
  for (const std::string cc : {"MK", "RS", "BA"}) {
    HttpReply health = HttpGet(AdminPort(cc), "/healthz");
    EXPECT_EQ(health.status, 200) << cc;
    HttpReply ready = HttpGet(AdminPort(cc), "/readyz");
    EXPECT_EQ(ready.status, 200) << cc << ": " << ready.body;
    EXPECT_NE(ready.body.find("audit_log: ok"), std::string::npos)
        << ready.body;
  }
  EXPECT_EQ(HttpGet(AdminPort("MK"), "/nothing").status, 404);
}

TEST_F(MetricsTest, MetricsPassPromtoolAndCarryTheSeries) {
  RunQuery();
  HttpReply m = HttpGet(AdminPort("MK"), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.headers.find("text/plain; version=0.0.4"), std::string::npos)
      << m.headers;
  const std::vector<std::string> expected = {
      "cbx_build_info{version=\"",
      "cbx_directory_version ",
      "cbx_peer_calls_total{peer=\"RS\",method=\"Evaluate\",code=\"OK\"} ",
      "cbx_peer_call_duration_seconds_bucket{peer=\"RS\",method=\"Evaluate\","
      "le=\"+Inf\"} ",
      "cbx_rpc_server_calls_total{service=\"office\",method=\"Query\","
      "caller=\"prosecutor\",code=\"OK\"} ",
      "cbx_peer_index_version{peer=\"BA\"} ",
      "cbx_peer_index_tags{peer=\"RS\"} ",
      "cbx_peer_index_sync_lag_seconds{peer=\"RS\"} ",
      "cbx_peer_quota_left{peer=\"RS\",quota=\"evaluations\"} ",
      "cbx_audit_log_entries ",
      "cbx_storage_file_bytes{file=\"node.db\"} ",
      "cbx_storage_failing{file=\"audit.db\"} 0",
      "process_resident_memory_bytes ",
      "process_open_fds ",
      "cbx_process_heap_in_use_bytes ",
      "cbx_sqlite_memory_bytes ",
      "cbx_alerts_total{alert=\"phantom-hit\"} 0",
      "cbx_audit_log_damaged 0"};
  // The index series appear once MK holds each peer's copy (its first sync
  // may still be running right after start). A query sent before MK held
  // RS's copy got no evaluation from RS: it is asked again until one is
  // counted (under a loaded ctest -j2 the first sync can take seconds).
  auto missing = [&] {
    for (const std::string& series : expected) {
      if (m.body.find(series) == std::string::npos) return series;
    }
    return std::string();
  };
  const auto deadline =
      std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
  while (!missing().empty() && std::chrono::steady_clock::now() < deadline) {
    if (missing().find("Evaluate") != std::string::npos) RunQuery();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    m = HttpGet(AdminPort("MK"), "/metrics");
  }
  EXPECT_EQ(missing(), "") << m.body;
  // The peer side counts the calls it served, by member.
  HttpReply rs = HttpGet(AdminPort("RS"), "/metrics");
  EXPECT_NE(rs.body.find("cbx_rpc_server_calls_total{service=\"peer\","
                         "method=\"Evaluate\",caller=\"MK\",code=\"OK\"} "),
            std::string::npos)
      << rs.body;
  EXPECT_NE(
      rs.body.find("cbx_peer_quota_used{peer=\"MK\",quota=\"evaluations\"} "),
      std::string::npos);
  const std::string file = fed_->dir() + "/metrics.txt";
  std::ofstream(file) << m.body;
  std::string out;
  int rc = RunCommand("promtool check metrics < '" + file + "'", &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

// A real Prometheus scrapes the three nodes every second; its query API
// must then return cbx_build_info for each and a per-peer series.
TEST_F(MetricsTest, PrometheusScrapesTheFederation) {
  if (access("/usr/bin/prometheus", X_OK) != 0) {
    GTEST_SKIP() << "*** /usr/bin/prometheus is missing (Debian package "
                    "prometheus; scripts/install-deps.sh installs it): the "
                    "real-Prometheus scrape is NOT tested ***";
  }
  const std::string dir = fed_->dir() + "/prometheus";
  std::filesystem::create_directories(dir + "/data");
  // A free port for Prometheus's own listener.
  int port = 0;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    close(fd);
  }
  std::string targets;
  for (const std::string cc : {"MK", "RS", "BA"}) {
    absl::StrAppend(&targets, targets.empty() ? "" : ", ",
                    "'127.0.0.1:", AdminPort(cc), "'");
  }
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      << "scrape_configs:\n  - job_name: cbx\n    static_configs:\n"
      << "      - targets: [" << targets << "]\n";
  const std::string config = dir + "/prometheus.yml";
  std::string storage = "--storage.tsdb.path=" + dir + "/data";
  std::string listen = absl::StrCat("--web.listen-address=127.0.0.1:", port);
  std::string config_flag = "--config.file=" + config;
  const std::string log = dir + "/prometheus.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  char* argv[] = {const_cast<char*>("prometheus"), config_flag.data(),
                  storage.data(), listen.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, "/usr/bin/prometheus", &actions, nullptr, argv,
                        environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  // Polls the query API until every expected series is there.
  const std::vector<std::pair<std::string, std::string>> queries = {
      {"cbx_build_info", "\"job\":\"cbx\""},
      {"count(cbx_build_info)", "\"3\""},
      {"cbx_peer_index_version{peer=\"RS\"}", "\"peer\":\"RS\""},
  };
  bool all = false;
  std::string last;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!all && std::chrono::steady_clock::now() < deadline) {
    all = true;
    for (const auto& [query, expect] : queries) {
      std::string q;
      for (char c : query) {
        if (isalnum(static_cast<unsigned char>(c)) || c == '_') {
          q.push_back(c);
        } else {
          absl::StrAppend(
              &q, "%",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        }
      }
      HttpReply r = HttpGet(port, "/api/v1/query?query=" + q);
      last = query + " -> " + std::to_string(r.status) + " " + r.body;
      if (r.status != 200 || r.body.find(expect) == std::string::npos) {
        all = false;
        break;
      }
    }
    if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_TRUE(all) << "last query: " << last << "\nprometheus log:\n"
                   << Slurp(log);
}

// Server reflection on the Office port lists the node's services.
TEST_F(MetricsTest, ReflectionListsTheServices) {
  auto channel = fed_->OfficeChannel("MK", "operator");
  grpc::reflection::v1alpha::ServerReflection::Stub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub.ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("*");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) {
    names.push_back(s.name());
  }
  while (stream->Read(&resp)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_NE(std::find(names.begin(), names.end(), "cbx.v1.Office"),
            names.end());
  EXPECT_NE(std::find(names.begin(), names.end(),
                      "grpc.reflection.v1alpha.ServerReflection"),
            names.end());
}

// Last (it stops BA for good): a damaged audit log makes /readyz 503 and
// names the check, while /healthz stays 200.
TEST_F(MetricsTest, ReadyzFailsWhenTheAuditLogIsDamaged) {
  fed_->Stop("BA");
  std::string out;
  int rc = RunCommand("sqlite3 '" + fed_->NodeDir("BA") +
                          "/data/audit.db' 'DELETE FROM leaves WHERE seq = "
                          "(SELECT MIN(seq) FROM leaves)'",
                      &out);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(fed_->Start("BA").ok());
  HttpReply ready;
  for (int i = 0; i < 100 && ready.status == 0; ++i) {
    ready = HttpGet(AdminPort("BA"), "/readyz");
  }
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("audit_log: damaged"), std::string::npos)
      << ready.body;
  EXPECT_EQ(HttpGet(AdminPort("BA"), "/healthz").status, 200);
  HttpReply m = HttpGet(AdminPort("BA"), "/metrics");
  EXPECT_NE(m.body.find("cbx_audit_log_damaged 1"), std::string::npos);
  EXPECT_NE(m.body.find("cbx_alerts_total{alert=\"audit-log-damaged\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace cbx::testing
