// End to end: the real `cbx` binary, run as a child process, against the
// in-process FakeOffice over mutual TLS on 127.0.0.1 (port 0), with a PKI
// made at test time by make_test_certs.sh (the openssl CLI).
//
//   cbx_client_e2e_test --cbx=PATH/cbx --make-certs=PATH/make_test_certs.sh
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/e2e/fake_office.h"
#include "client/e2e/process.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/server_credentials.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::client::testing {
namespace {

namespace fs = std::filesystem;

std::string g_cbx;
std::string g_make_certs;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the cbx binary under test.
ProcessRun RunCbx(const std::vector<std::string>& args,
                  const std::vector<std::string>& extra_env = {}) {
  return RunProcess(g_cbx, args, extra_env);
}

// The PKI and the fake node, shared by every test.
class FakeNodeEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/cbx_e2e_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string cmd = "bash '" + g_make_certs + "' '" + dir_.string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = ReadFile(dir_ / "ca.pem");
    ssl.pem_key_cert_pairs.push_back(
        {ReadFile(dir_ / "server.key"), ReadFile(dir_ / "server.pem")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                             &port_);
    office_ = std::make_unique<FakeOffice>();
    builder.RegisterService(office_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    office_.reset();
    fs::remove_all(dir_);
  }

  static FakeNodeEnvironment* Get() { return instance_; }
  static void Set(FakeNodeEnvironment* e) { instance_ = e; }

  std::string Node() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string File(const std::string& name) const {
    return (dir_ / name).string();
  }
  FakeOffice& office() { return *office_; }

 private:
  static inline FakeNodeEnvironment* instance_ = nullptr;
  fs::path dir_;
  int port_ = 0;
  std::unique_ptr<FakeOffice> office_;
  std::unique_ptr<grpc::Server> server_;
};

FakeNodeEnvironment& Env() { return *FakeNodeEnvironment::Get(); }

// The connection options of the prosecutor's office.
std::vector<std::string> Conn(const std::string& who = "office") {
  return {"--node", Env().Node(),
          "--cert", Env().File(who + ".pem"),
          "--key",  Env().File(who + ".key"),
          "--ca",   Env().File("ca.pem")};
}

// Characters (UTF-8 code points) of `line`.
size_t DisplayWidthOf(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> With(std::vector<std::string> args,
                              const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Adds a case once per process (tests may run in any order or alone).
void EnsureCase(const std::string& number, const std::string& username) {
  v1::Case existing;
  if (Env().office().GetCase(number, &existing)) return;
  ProcessRun r = RunCbx(With(
      Conn(), {"case", "add", number, "--id",
               "telegram_username@2025-01..2025-06:@" + username, "--id",
               "phone:+389 70 123 456", "--offence", "ncii-sharing+ai",
               "--offence", "group-admin", "--role", "administrator",
               "--contact", "+389 2 3100 100 (24/7)", "--opened", "2025-10"}));
  ASSERT_EQ(r.code, 0) << r.err;
}

std::string Joined(const ProcessRun& r) {
  return "stdout:\n" + r.out + "stderr:\n" + r.err;
}

TEST(CbxE2eTest, CaseAddThenListShowsIt) {
  ProcessRun add = RunCbx(With(
      Conn(), {"case", "add", "MK-2026-0100", "--id",
               "telegram_username@2025-01-01..2025-06-30:@Smokva_Admin", "--id",
               "phone:+389 70 123 456", "--offence", "ncii-sharing+ai",
               "--offence", "group-admin", "--role", "administrator",
               "--contact", "+389 2 3100 100 (24/7)", "--opened", "2025-10"}));
  ASSERT_EQ(add.code, 0) << Joined(add);
  EXPECT_NE(add.out.find("added case MK-2026-0100\n"), std::string::npos)
      << add.out;
  // The node's normalized values come back.
  EXPECT_NE(add.out.find("telegram_username:smokva_admin "
                         "(2025-01-01..2025-06-30)"),
            std::string::npos)
      << add.out;
  EXPECT_NE(add.out.find("office        MK/PPO-Skopje"), std::string::npos);

  // What the node received.
  v1::Case stored;
  ASSERT_TRUE(Env().office().GetCase("MK-2026-0100", &stored));
  EXPECT_EQ(Env().office().last_caller(),
            "spiffe://cbx/office/MK/PPO-Skopje/prosecutor");
  EXPECT_EQ(stored.office(), "MK/PPO-Skopje");
  ASSERT_EQ(stored.identifiers_size(), 2);
  EXPECT_EQ(stored.identifiers(0).observed_from_ms(), 1735689600000);
  EXPECT_EQ(stored.identifiers(0).observed_to_ms(), 1751327999999);
  ASSERT_EQ(stored.offences_size(), 2);
  EXPECT_TRUE(stored.offences(0).ai_manipulated());
  EXPECT_EQ(stored.role(), v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  EXPECT_EQ(stored.opened_month(), "2025-10");

  // By default the table fits 100 columns (long cells cut with '…');
  // --wide shows every cell whole.
  ProcessRun fitted = RunCbx(With(Conn(), {"case", "list"}));
  ASSERT_EQ(fitted.code, 0) << Joined(fitted);
  for (const std::string& line : fitted.lines) {
    EXPECT_LE(DisplayWidthOf(line), 100u) << line;
  }
  ProcessRun list = RunCbx(With(Conn(), {"case", "list", "--wide"}));
  ASSERT_EQ(list.code, 0) << Joined(list);
  ASSERT_GE(list.lines.size(), 2u) << list.out;
  EXPECT_EQ(list.lines[0].rfind("CASE", 0), 0u) << list.out;
  EXPECT_NE(list.out.find("MK-2026-0100  open    2025-10  administrator"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("phone:+38970123456"), std::string::npos);

  // Labels follow --lang; the code does not change.
  ProcessRun mk =
      RunCbx(With(Conn(), {"case", "list", "--lang", "mk", "--wide"}));
  ASSERT_EQ(mk.code, 0) << Joined(mk);
  EXPECT_NE(mk.out.find("Водење или администрирање група или канал за таков "
                        "материјал"),
            std::string::npos)
      << mk.out;

  // The language set once (CBX_LANG, any case): headers, statuses and roles
  // follow it too; Serbian in Latin script as sr-Latn (issue 14).
  ProcessRun env_mk = RunCbx(With(Conn(), {"case", "list"}), {"CBX_LANG=MK"});
  ASSERT_EQ(env_mk.code, 0) << Joined(env_mk);
  EXPECT_EQ(env_mk.lines[0].rfind("ПРЕДМЕТ", 0), 0u) << env_mk.out;
  EXPECT_NE(env_mk.out.find("отворен"), std::string::npos) << env_mk.out;
  EXPECT_NE(env_mk.out.find("администратор"), std::string::npos);
  ProcessRun latin =
      RunCbx(With(Conn(), {"case", "list", "--lang", "sr_latn", "--wide"}));
  ASSERT_EQ(latin.code, 0) << Joined(latin);
  EXPECT_EQ(latin.lines[0].rfind("PREDMET", 0), 0u) << latin.out;
  EXPECT_NE(latin.out.find("Vođenje ili administriranje"), std::string::npos)
      << latin.out;
}

// The fake serves two items per page: five cases are three pages, and the
// CLI shows them as one listing, each once, in order; so is the inbox.
TEST(CbxE2eTest, ListingsFollowEveryPage) {
  for (int i = 1; i <= 5; ++i) {
    EnsureCase("MK-2026-080" + std::to_string(i),
               "paged_case_" + std::to_string(i));
  }
  ProcessRun list = RunCbx(With(Conn(), {"case", "list", "--json"}));
  ASSERT_EQ(list.code, 0) << Joined(list);
  nlohmann::json j = nlohmann::json::parse(list.out);
  std::vector<std::string> numbers;
  for (const auto& c : j["cases"]) numbers.push_back(c["case_number"]);
  EXPECT_GE(numbers.size(), 5u);
  EXPECT_TRUE(std::is_sorted(numbers.begin(), numbers.end()));
  EXPECT_EQ(std::adjacent_find(numbers.begin(), numbers.end()), numbers.end());
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(std::count(numbers.begin(), numbers.end(),
                         "MK-2026-080" + std::to_string(i)),
              1);
  }
  EXPECT_FALSE(j.contains("next_page_token"));
  ProcessRun inbox = RunCbx(With(Conn(), {"inbox", "--json"}));
  ASSERT_EQ(inbox.code, 0) << Joined(inbox);
  EXPECT_GE(nlohmann::json::parse(inbox.out)["notifications"].size(), 5u);
  ProcessRun text = RunCbx(With(Conn(), {"case", "list"}));
  ASSERT_EQ(text.code, 0) << Joined(text);
  EXPECT_NE(text.out.find("MK-2026-0801"), std::string::npos);
  EXPECT_NE(text.out.find("MK-2026-0805"), std::string::npos);
}

TEST(CbxE2eTest, DuplicateAndUnknownCasesAreTheNodesErrors) {
  EnsureCase("MK-2026-0200", "dup_admin");
  ProcessRun dup = RunCbx(With(
      Conn(), {"case", "add", "MK-2026-0200", "--id", "phone:+38970999999",
               "--offence", "csam", "--role", "poster", "--contact", "x"}));
  EXPECT_EQ(dup.code, 1) << Joined(dup);
  EXPECT_NE(dup.err.find("cbx: adding case MK-2026-0200: it exists already: "
                         "case MK-2026-0200 exists\n"),
            std::string::npos)
      << dup.err;
  EXPECT_NE(dup.err.find("what to do: "), std::string::npos);
  EXPECT_EQ(dup.err.find("ALREADY_EXISTS"), std::string::npos);

  ProcessRun unknown = RunCbx(With(Conn(), {"case", "close", "MK-1999-0001"}));
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("cbx: closing case MK-1999-0001: the node has "
                             "no such record: "),
            std::string::npos)
      << unknown.err;
}

TEST(CbxE2eTest, AmendAndClose) {
  EnsureCase("MK-2026-0300", "amend_me");
  ProcessRun amend = RunCbx(
      With(Conn(), {"case", "amend", "MK-2026-0300", "--add-id",
                    "telegram_chat@2025-03:https://t.me/balkan_room",
                    "--remove-id", "phone:+38970123456", "--role", "creator"}));
  ASSERT_EQ(amend.code, 0) << Joined(amend);
  EXPECT_NE(amend.out.find("amended case MK-2026-0300"), std::string::npos);
  EXPECT_NE(
      amend.out.find("telegram_chat:balkan_room (2025-03-01..2025-03-31)"),
      std::string::npos)
      << amend.out;
  EXPECT_EQ(amend.out.find("phone:"), std::string::npos) << amend.out;
  EXPECT_NE(amend.out.find("role          creator"), std::string::npos);

  ProcessRun close = RunCbx(With(Conn(), {"case", "close", "MK-2026-0300"}));
  ASSERT_EQ(close.code, 0) << Joined(close);
  EXPECT_NE(close.out.find("status        closed"), std::string::npos);
  ProcessRun open_only = RunCbx(With(Conn(), {"case", "list"}));
  EXPECT_EQ(open_only.out.find("MK-2026-0300"), std::string::npos);
  ProcessRun all = RunCbx(With(Conn(), {"case", "list", "--all"}));
  EXPECT_NE(all.out.find("MK-2026-0300  closed"), std::string::npos) << all.out;
}

TEST(CbxE2eTest, QueryPrintsAnswersAsTheyStreamIn) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  ProcessRun q = RunCbx(
      With(Conn(),
           {"query", "--id", "telegram_username:@SMOKVA_ADMIN", "--id",
            "phone:+38970123456", "--case", "MK-2026-0142", "--legal-basis",
            "MLA-Convention-1959 Art.1", "--offence", "ncii-sharing", "--peer",
            "RS", "--peer", "ba", "--peer", "HR", "--peer", "AL"}));
  // Peer errors are part of the answer.
  ASSERT_EQ(q.code, 0) << Joined(q);
  // Arrival order (HR 50 ms, RS 150, AL 250, BA 450), not the order asked.
  std::vector<std::string> heads;
  std::vector<double> head_ms;
  std::vector<std::string> after_summary;
  for (size_t i = 0; i < q.lines.size(); ++i) {
    if (heads.size() == 5) {
      after_summary.push_back(q.lines[i]);
    } else if (!q.lines[i].empty() && q.lines[i][0] != ' ') {
      heads.push_back(q.lines[i]);
      head_ms.push_back(q.line_ms[i]);
    }
  }
  ASSERT_EQ(heads.size(), 5u) << q.out;
  // After the misses: which types were asked, and the type hint for the
  // Telegram name asked as a username only (issue 14).
  ASSERT_EQ(after_summary.size(), 2u) << q.out;
  EXPECT_EQ(after_summary[0], "types asked: telegram_username, phone");
  EXPECT_EQ(after_summary[1].rfind("note: telegram_username:@SMOKVA_ADMIN was "
                                   "asked as a telegram_username only",
                                   0),
            0u)
      << after_summary[1];
  EXPECT_EQ(heads[0], "HR  MISS      50 ms");
  EXPECT_EQ(heads[1], "RS  HIT      150 ms  1 case reference");
  EXPECT_EQ(heads[2], "AL  MISS     250 ms");
  EXPECT_EQ(heads[3],
            "BA  ERROR    450 ms  DEADLINE_EXCEEDED: BA did not answer within "
            "400 ms");
  EXPECT_EQ(heads[4].rfind("done in ", 0), 0u) << heads[4];
  EXPECT_NE(heads[4].find("1 hit (RS), 2 misses (HR, AL), 1 error (BA); "
                          "query q-"),
            std::string::npos)
      << heads[4];
  // Shown as they arrive, not all at the end: the fake waits 400 ms between
  // HR's answer and BA's.
  EXPECT_GE(head_ms[3] - head_ms[0], 250.0) << q.out;

  // The hit's case reference.
  EXPECT_NE(q.out.find("    case token    5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"),
            std::string::npos)
      << q.out;
  EXPECT_NE(q.out.find("    offences      Non-consensual sharing of intimate "
                       "or manipulated material (AI-manipulated)\n"),
            std::string::npos);
  EXPECT_NE(q.out.find("    matched       telegram_username, observed "
                       "2025-01-01..2025-06-30, your --id 1\n"),
            std::string::npos)
      << q.out;
  EXPECT_NE(q.out.find("    24/7 contact  +381 11 000 0000\n"),
            std::string::npos);

  // The hit is now in `cbx hits`.
  ProcessRun hits = RunCbx(With(Conn(), {"hits", "--case", "MK-2026-0142"}));
  ASSERT_EQ(hits.code, 0) << Joined(hits);
  EXPECT_NE(hits.out.find("MK-2026-0142  RS      RS/VJT-Beograd"),
            std::string::npos)
      << hits.out;
}

// The deadline runs out mid-stream: what arrived stays on stdout, the
// failure is reported, and the exit code says the query did not complete.
// BA answers 450 ms after the node starts the query, so a 400 ms deadline
// (counted from before the connection) always cuts it off; HR (50 ms) and
// usually RS and AL arrive first.
TEST(CbxE2eTest, QueryCutShortByTheTimeoutKeepsWhatArrived) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  ProcessRun q =
      RunCbx(With(Conn(), {"query", "--id", "telegram_username:smokva_admin",
                           "--case", "MK-2026-0142", "--legal-basis", "MLA",
                           "--offence", "ncii-sharing", "--timeout", "0.4"}));
  EXPECT_EQ(q.code, 1) << Joined(q);
  std::vector<std::string> heads;
  for (const std::string& line : q.lines) {
    if (!line.empty() && line[0] != ' ') heads.push_back(line);
  }
  ASSERT_GE(heads.size(), 1u) << Joined(q);
  ASSERT_LE(heads.size(), 3u) << Joined(q);
  EXPECT_EQ(heads[0], "HR  MISS      50 ms");
  if (heads.size() > 1) {
    EXPECT_EQ(heads[1], "RS  HIT      150 ms  1 case reference");
  }
  EXPECT_EQ(q.out.find("BA  ERROR"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("done in"), std::string::npos) << q.out;
  std::string after = "(after " + std::to_string(heads.size()) +
                      (heads.size() == 1 ? " answer)" : " answers)");
  EXPECT_NE(q.err.find("cbx: querying peers for case MK-2026-0142 " + after +
                       ": the node did not answer within 400 ms\n"),
            std::string::npos)
      << q.err;
  EXPECT_NE(q.err.find("what to do: try again, or give it more time with "
                       "--timeout"),
            std::string::npos)
      << q.err;
}

// A file of 2,100 identifiers (a seized phone's contacts) in the --id form,
// the number RS holds on line 1502; comments and a repeated line skipped.
std::string ContactsFile() {
  const std::string path = Env().File("contacts.txt");
  std::ofstream out(path);
  out << "# contacts of the seized phone, exported 2026-12-01\n";
  for (int line = 2; line <= 2103; ++line) {
    if (line == 1502) {
      out << "phone:+381 63 123 4567\n";
    } else if (line == 700) {
      out << "\n";
    } else if (line == 701) {
      out << "email:contact3@example.org\r\n";  // line 5 again
    } else {
      out << "email:contact" << line - 2 << "@example.org\n";
    }
  }
  return path;
}

std::vector<std::string> BulkArgs(const std::string& file) {
  return {"query",
          "--ids-file",
          file,
          "--case",
          "MK-2026-0142",
          "--legal-basis",
          "MLA-Convention-1959 Art.1",
          "--offence",
          "ncii-sharing"};
}

// A bulk check: queries of at most 1024, each hit named by its file line,
// then which peer did not check which lines.
TEST(CbxE2eTest, BulkCheckAsksTheFileInQueriesAndNamesLines) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  const std::string file = ContactsFile();
  const std::vector<int> before = Env().office().query_sizes();
  ProcessRun q = RunCbx(With(Conn(), BulkArgs(file)));
  // BA's errors are answers: exit 0.
  ASSERT_EQ(q.code, 0) << Joined(q);
  std::vector<int> sizes = Env().office().query_sizes();
  sizes.erase(sizes.begin(), sizes.begin() + before.size());
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<int>{52, 1024, 1024})) << Joined(q);

  EXPECT_NE(q.out.find("query 1 of 3 (lines 2-1027 of " + file +
                       "), 1024 identifiers\n"),
            std::string::npos)
      << q.out;
  EXPECT_NE(q.out.find("query 3 of 3 (lines 2052-2103 of " + file +
                       "), 52 identifiers\n"),
            std::string::npos)
      << q.out;
  // In file order, however the two queries in flight end.
  EXPECT_LT(q.out.find("query 1 of 3"), q.out.find("query 2 of 3")) << q.out;
  EXPECT_LT(q.out.find("query 2 of 3"), q.out.find("query 3 of 3")) << q.out;
  EXPECT_NE(q.out.find("matched       phone, observed 2025-01-01..2025-06-30, "
                       "line 1502 of " +
                       file + "\n"),
            std::string::npos)
      << q.out;
  // Misses are in each query's closing line only.
  EXPECT_EQ(q.out.find("HR  MISS"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("BA  ERROR    450 ms  DEADLINE_EXCEEDED"),
            std::string::npos);
  EXPECT_NE(
      q.out.find("bulk check of " + file + ": 2100 identifiers in 3 queries, "),
      std::string::npos)
      << q.out;
  EXPECT_NE(
      q.out.find("(1 repeated line skipped)\n  hits: RS in query 2 ('cbx hits "
                 "--case MK-2026-0142' lists them)\n"),
      std::string::npos)
      << q.out;
  EXPECT_NE(q.out.find("  not checked by: BA in queries 1, 2, 3 (lines "
                       "2-1027, 1028-2051, 2052-2103); ask again for those "
                       "lines\n"),
            std::string::npos)
      << q.out;

  // The same as JSON Lines: every matched identifier with its line.
  ProcessRun j = RunCbx(With(Conn(), With(BulkArgs(file), {"--json"})));
  ASSERT_EQ(j.code, 0) << Joined(j);
  nlohmann::json last;
  int hits = 0;
  for (const std::string& line : j.lines) {
    if (line.empty()) continue;
    nlohmann::json event = nlohmann::json::parse(line);
    if (event["event"] == "answer" && event["outcome"] == "hit") {
      ++hits;
      EXPECT_EQ(event["query"], 2);
      EXPECT_EQ(event["references"][0]["matched"][0]["line"], 1502);
    }
    last = event;
  }
  EXPECT_EQ(hits, 1);
  EXPECT_EQ(last["event"], "bulk_summary");
  EXPECT_EQ(last["identifiers"], 2100);
  EXPECT_EQ(last["duplicates"], 1);
  EXPECT_EQ(last["completed"], 3);
  EXPECT_EQ(last["hits"], nlohmann::json({{"RS", {2}}}));
  EXPECT_EQ(last["errors"], nlohmann::json({{"BA", {1, 2, 3}}}));
  EXPECT_EQ(last["not_sent"], nlohmann::json::array());
}

// A query that fails as a whole stops the check: the queries in flight
// end, the rest are not sent and are named, and the exit code says so.
TEST(CbxE2eTest, BulkCheckStopsAtAFailedQueryAndNamesWhatWasNotSent) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  const std::string file = ContactsFile();
  const size_t before = Env().office().query_sizes().size();
  // Every query waits 450 ms for BA: a 0.4 s deadline cuts the first two.
  ProcessRun q =
      RunCbx(With(Conn(), With(BulkArgs(file), {"--timeout", "0.4"})));
  EXPECT_EQ(q.code, 1) << Joined(q);
  // Query 3 (52 identifiers) never reached the node. (The first two did,
  // unless a slow machine spent the 0.4 s before they arrived.)
  const std::vector<int> sizes = Env().office().query_sizes();
  EXPECT_LE(sizes.size(), before + 2) << Joined(q);
  for (size_t i = before; i < sizes.size(); ++i) {
    EXPECT_EQ(sizes[i], 1024) << Joined(q);
  }
  EXPECT_NE(q.err.find("query 1 of 3 (lines 2-1027 of " + file + ")"),
            std::string::npos)
      << q.err;
  EXPECT_NE(q.out.find("  failed: queries 1, 2 (lines 2-1027, 1028-2051)\n"
                       "  not sent after the failure: query 3 (lines "
                       "2052-2103); nothing was asked for them\n"),
            std::string::npos)
      << q.out;
}

// A file with a bad line is refused whole before anything is sent.
TEST(CbxE2eTest, BulkCheckWithABadLineSendsNothing) {
  const std::string path = Env().File("bad_contacts.txt");
  {
    std::ofstream out(path);
    out << "email:one@example.org\nphone:+389 70\nemail:two@example.org\n";
  }
  const int calls = Env().office().calls();
  ProcessRun q = RunCbx(With(Conn(), BulkArgs(path)));
  EXPECT_EQ(q.code, 2) << Joined(q);
  EXPECT_NE(q.err.find("--ids-file '" + path +
                       "': 1 line does not hold an identifier in the --id "
                       "form (TYPE:VALUE or TYPE@WINDOW:VALUE):\n  " +
                       path + ":2: "),
            std::string::npos)
      << q.err;
  EXPECT_EQ(Env().office().calls(), calls);

  ProcessRun both = RunCbx(
      With(Conn(), With(BulkArgs(path), {"--id", "email:x@example.org"})));
  EXPECT_EQ(both.code, 2) << Joined(both);
  EXPECT_NE(both.err.find("give the identifiers either with --id or in the "
                          "file, not both"),
            std::string::npos)
      << both.err;
}

// What only the node can know (its directory) comes back as its
// INVALID_ARGUMENT, shown with the node's reason.
TEST(CbxE2eTest, NodeRefusalIsShownWithItsReason) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  ProcessRun q = RunCbx(
      With(Conn(), {"query", "--id", "telegram_username:smokva_admin", "--case",
                    "MK-2026-0142", "--legal-basis", "MLA", "--offence",
                    "ncii-sharing", "--peer", "RS", "--peer", "FR"}));
  EXPECT_EQ(q.code, 1) << Joined(q);
  EXPECT_TRUE(q.out.empty()) << q.out;
  EXPECT_EQ(q.err,
            "cbx: querying peers for case MK-2026-0142: the node refused the "
            "request: peers: FR is not a member of the directory\n"
            "what to do: correct what the message names and run the command "
            "again; nothing was changed\n");
  // The gRPC code only with --verbose (or --json).
  ProcessRun v = RunCbx(
      With(Conn(), {"query", "--id", "telegram_username:smokva_admin", "--case",
                    "MK-2026-0142", "--legal-basis", "MLA", "--offence",
                    "ncii-sharing", "--peer", "FR", "--verbose"}));
  EXPECT_EQ(v.code, 1) << Joined(v);
  EXPECT_NE(v.err.find("details: INVALID_ARGUMENT: peers: FR is not a member "
                       "of the directory\n"),
            std::string::npos)
      << v.err;
}

TEST(CbxE2eTest, JsonOutputParses) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  ProcessRun q = RunCbx(With(
      Conn(),
      {"--json", "query", "--id", "telegram_username:smokva_admin", "--case",
       "MK-2026-0142", "--legal-basis", "MLA", "--offence", "ncii-sharing"}));
  ASSERT_EQ(q.code, 0) << Joined(q);
  // JSON Lines: one object per event, the summary last.
  ASSERT_EQ(q.lines.size(), 5u) << q.out;
  std::vector<std::string> members;
  for (size_t i = 0; i < q.lines.size(); ++i) {
    nlohmann::json j = nlohmann::json::parse(q.lines[i]);
    if (i + 1 < q.lines.size()) {
      EXPECT_EQ(j["event"], "answer");
      members.push_back(j["member"]);
    } else {
      EXPECT_EQ(j["event"], "summary");
      EXPECT_EQ(j["hit_members"], nlohmann::json::parse(R"(["RS"])"));
      EXPECT_EQ(j["failed_members"], nlohmann::json::parse(R"(["BA"])"));
    }
  }
  EXPECT_EQ(members, (std::vector<std::string>{"HR", "RS", "AL", "BA"}));
  nlohmann::json rs = nlohmann::json::parse(q.lines[1]);
  EXPECT_EQ(rs["outcome"], "hit");
  EXPECT_EQ(rs["references"][0]["offences"][0]["code"], "ncii-sharing");
  EXPECT_EQ(rs["references"][0]["matched"][0]["observed_to"],
            "2025-06-30T23:59:59.999Z");
  nlohmann::json ba = nlohmann::json::parse(q.lines[3]);
  EXPECT_EQ(ba["outcome"], "error");
  EXPECT_EQ(ba["status_code"], "DEADLINE_EXCEEDED");

  // One document for every other command.
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"case", "list", "--json"},
        {"hits", "--json"},
        {"inbox", "--json", "--lang", "sq"},
        {"peers", "--json"}}) {
    ProcessRun r = RunCbx(With(Conn(), cmd));
    ASSERT_EQ(r.code, 0) << Joined(r);
    ASSERT_EQ(r.lines.size(), 1u) << r.out;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j.is_object());
    if (cmd[0] == "case") {
      EXPECT_FALSE(j["cases"].empty());
      EXPECT_EQ(j["cases"][0]["office"], "MK/PPO-Skopje");
    } else if (cmd[0] == "inbox") {
      EXPECT_EQ(j["notifications"][0]["purpose"]["offence"], "ncii-threat");
      EXPECT_EQ(j["notifications"][0]["purpose"]["offence_label"],
                "Kërcënim për shpërndarjen e materialit intim ose të "
                "manipuluar (zhvatje seksuale)");
    } else if (cmd[0] == "peers") {
      EXPECT_EQ(j["directory_version"], 4);
      ASSERT_EQ(j["peers"].size(), 4u);
      EXPECT_EQ(j["peers"][0]["member"], "AL");
      EXPECT_EQ(j["peers"][0]["cosigned_size"], 1000);
      EXPECT_EQ(j["peers"][0]["cosigned_at"], "2025-11-03T07:59:00Z");
      EXPECT_TRUE(j["peers"][0]["witness_alert"].is_null());
      EXPECT_EQ(j["peers"][1]["member"], "BA");
      EXPECT_EQ(j["peers"][1]["cosigned_size"], 4120);
      EXPECT_EQ(j["peers"][1]["witness_alert"],
                "since 2025-11-03T07:00:00.000Z: BA's log shrank from 4120 to "
                "96 (2 checkpoints refused, the latest of size 130)");
    } else {
      EXPECT_EQ(j["hits"][0]["reference"]["member"], "RS");
    }
  }
}

TEST(CbxE2eTest, TablesForInboxAndPeers) {
  EnsureCase("MK-2026-0142", "smokva_admin");
  ProcessRun inbox = RunCbx(With(Conn(), {"inbox", "--case", "MK-2026-0142"}));
  ASSERT_EQ(inbox.code, 0) << Joined(inbox);
  ASSERT_EQ(inbox.lines.size(), 2u) << inbox.out;
  EXPECT_EQ(inbox.lines[0].rfind("AT", 0), 0u);
  EXPECT_NE(inbox.lines[1].find("MK-2026-0142  AL    AL/SPAK-Tirana  "
                                "AL-2025-311"),
            std::string::npos)
      << inbox.out;

  ProcessRun peers = RunCbx(With(Conn(), {"peers", "--wide"}));
  ASSERT_EQ(peers.code, 0) << Joined(peers);
  EXPECT_EQ(peers.lines[0], "directory version 4, this node MK");
  EXPECT_NE(peers.out.find("RS      Србија"), std::string::npos) << peers.out;
  ASSERT_EQ(peers.lines.size(), 6u) << peers.out;
  EXPECT_NE(
      peers.lines[1].find("COSIGNED  COSIGNED AT           WITNESS ALERT"),
      std::string::npos)
      << peers.lines[1];
  EXPECT_NE(peers.lines[2].find("1000      2025-11-03T07:59:00Z  -"),
            std::string::npos)
      << peers.lines[2];
  EXPECT_NE(peers.lines[3].find("4120      2025-11-03T07:00:00Z  since "
                                "2025-11-03T07:00:00.000Z: BA's log shrank"),
            std::string::npos)
      << peers.lines[3];
}

TEST(CbxE2eTest, BadArgumentExitsTwoAndSendsNothing) {
  int before = Env().office().calls();
  for (std::vector<std::string> bad :
       {std::vector<std::string>{"case", "add", "MK-2026-0999", "--id",
                                 "msisdn:+38970123456", "--offence", "csam",
                                 "--role", "poster", "--contact", "x"},
        {"case", "add", "MK-2026-0999", "--id",
         "phone@2025-06-30..2025-01-01:+38970123456", "--offence", "csam",
         "--role", "poster", "--contact", "x"},
        {"case", "add", "MK-2026-0999", "--id", "phone:+38970123456",
         "--offence", "csam", "--role", "poster"},
        {"query", "--id", "phone:+38970123456", "--case", "MK-2026-0142",
         "--legal-basis", "MLA", "--offence", "stalking"}}) {
    ProcessRun r = RunCbx(With(Conn(), bad));
    EXPECT_EQ(r.code, 2) << Joined(r);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("cbx: "), std::string::npos);
  }
  EXPECT_EQ(Env().office().calls(), before);
  v1::Case none;
  EXPECT_FALSE(Env().office().GetCase("MK-2026-0999", &none));
}

TEST(CbxE2eTest, MissingCertificateFileExitsTwo) {
  std::vector<std::string> conn = Conn();
  conn[3] = Env().File("nope.pem");
  ProcessRun r = RunCbx(With(conn, {"peers"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "cbx: --cert '" + Env().File("nope.pem") +
                       "': cannot read the file: No such file or directory\n");
}

TEST(CbxE2eTest, UnreachableNodeExitsOneWithTheHint) {
  // A port that was free a moment ago and has no listener now.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  close(fd);
  std::string node = "127.0.0.1:" + std::to_string(port);

  std::vector<std::string> conn = Conn();
  conn[1] = node;
  ProcessRun r = RunCbx(With(conn, {"case", "list", "--timeout", "10"}));
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err,
            "cbx: listing cases: nothing answers at " + node +
                ": the connection was refused\n"
                "what to do: check the port in --node (or CBX_NODE) and ask "
                "your node's operator whether the node is running\n");
}

TEST(CbxE2eTest, NodeCertificateMustVerifyAgainstTheGivenCa) {
  std::vector<std::string> conn = Conn();
  conn[7] = Env().File("other-ca.pem");
  int before = Env().office().calls();
  ProcessRun r = RunCbx(With(conn, {"peers"}));
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("the node's certificate is not trusted: it is not "
                       "issued by the CA in --ca '" +
                       Env().File("other-ca.pem") + "'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_EQ(Env().office().calls(), before);
}

// An office certificate the node does not trust (issued by another CA):
// the node ends the handshake; the office is told its certificate was
// refused, not the TLS library's words.
TEST(CbxE2eTest, OurCertificateRefusedByTheNodeIsNamed) {
  int before = Env().office().calls();
  ProcessRun r = RunCbx(With(Conn("stranger"), {"peers"}));
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("did not accept your certificate --cert '" +
                       Env().File("stranger.pem") + "'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("Socket closed"), std::string::npos) << r.err;
  EXPECT_EQ(Env().office().calls(), before);
}

// The files are checked before connecting: a key of another certificate is
// named, and nothing is sent.
TEST(CbxE2eTest, KeyOfAnotherCertificateIsNamedBeforeConnecting) {
  std::vector<std::string> conn = Conn();
  conn[5] = Env().File("auditor.key");
  int before = Env().office().calls();
  ProcessRun r = RunCbx(With(conn, {"peers"}));
  EXPECT_EQ(r.code, 2) << Joined(r);
  EXPECT_EQ(r.err, "cbx: the key --key '" + Env().File("auditor.key") +
                       "' does not belong to the certificate --cert '" +
                       Env().File("office.pem") +
                       "'; give the key file that was made together with "
                       "this certificate\nnothing was sent\n");
  EXPECT_EQ(Env().office().calls(), before);
}

TEST(CbxE2eTest, UnknownHostIsNamed) {
  std::vector<std::string> conn = Conn();
  conn[1] = "cbx-node.nosuch.invalid:7443";
  ProcessRun r = RunCbx(With(conn, {"peers", "--timeout", "10"}));
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("the address cbx-node.nosuch.invalid given with "
                       "--node could not be found"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("ARES"), std::string::npos) << r.err;
}

TEST(CbxE2eTest, RoleIsCheckedByTheNode) {
  ProcessRun r = RunCbx(With(Conn("auditor"), {"case", "list"}));
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("cbx: listing cases: your certificate may not do "
                       "this: role auditor may not call this\n"
                       "what to do: cases, query, hits and inbox need a "
                       "prosecutor certificate"),
            std::string::npos)
      << r.err;
}

TEST(CbxE2eTest, ConnectionFromEnvironmentAndServerNameOverride) {
  std::string port = Env().Node().substr(Env().Node().rfind(':') + 1);
  ProcessRun r = RunCbx(
      {"peers", "--server-name", "localhost"},
      {"CBX_NODE=127.0.0.1:" + port, "CBX_CERT=" + Env().File("office.pem"),
       "CBX_KEY=" + Env().File("office.key"),
       "CBX_CA=" + Env().File("ca.pem")});
  EXPECT_EQ(r.code, 0) << Joined(r);
  EXPECT_NE(r.out.find("directory version 4"), std::string::npos);

  // A name the node's certificate does not carry fails verification.
  r = RunCbx(
      {"peers", "--server-name", "cbx-node.elsewhere.example"},
      {"CBX_NODE=127.0.0.1:" + port, "CBX_CERT=" + Env().File("office.pem"),
       "CBX_KEY=" + Env().File("office.key"),
       "CBX_CA=" + Env().File("ca.pem")});
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("for the name cbx-node.elsewhere.example"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace cbx::client::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--cbx=", 0) == 0)
      cbx::client::testing::g_cbx = arg.substr(6);
    if (arg.rfind("--make-certs=", 0) == 0) {
      cbx::client::testing::g_make_certs = arg.substr(13);
    }
  }
  if (cbx::client::testing::g_cbx.empty() ||
      cbx::client::testing::g_make_certs.empty()) {
    std::cerr << "usage: " << argv[0]
              << " --cbx=PATH/cbx --make-certs=PATH/make_test_certs.sh\n";
    return 2;
  }
  auto* env = new cbx::client::testing::FakeNodeEnvironment();
  cbx::client::testing::FakeNodeEnvironment::Set(env);
  ::testing::AddGlobalTestEnvironment(env);
  return RUN_ALL_TESTS();
}
