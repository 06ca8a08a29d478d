// A real cbx-node whose node.db and audit log are both in PostgreSQL
// (spec/node-config.md "node.db in PostgreSQL"), in two schemas of one
// database on a throwaway cluster the test starts
// (node/storage/pg/testing/pg_cluster.h), beside a peer on SQLite: its
// cases, its copy of the peer's index, the hits its query brought back and
// the inbox entry the peer's query left all land in the schema and are
// still there after a restart; `--check` writes nothing (the tables
// unchanged, nothing made in a schema that holds no node.db); the
// conninfo's password never reaches the node's log; `--check` of a pair's
// config reads the term row without making it, and refuses a pair whose
// node.db is in SQLite.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPassword[] = "s3cret-node-db-never-logged";
constexpr char kNodeSchema[] = "cbx_node_mk";
constexpr char kAuditSchema[] = "cbx_audit_mk";

v1::Identifier Email(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id.set_value(value);
  return id;
}

void AddCase(Federation& fed, const std::string& cc, const std::string& number,
             const std::string& email) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  *c->add_identifiers() = Email(email);
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(20)));
  v1::Case out;
  grpc::Status s = fed.Office(cc)->AddCase(&ctx, req, &out);
  ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
}

// `cc`'s office queries `email` for its case `case_number`: the outcome
// the peer `peer` answered (PEER_OUTCOME_UNSPECIFIED if it did not, with
// the call's error in `error` if given).
v1::PeerOutcome QueryOutcome(Federation& fed, const std::string& cc,
                             const std::string& case_number,
                             const std::string& email, const std::string& peer,
                             std::string* error = nullptr) {
  v1::QueryRequest req;
  *req.add_identifiers() = Email(email);
  req.mutable_purpose()->set_case_number(case_number);
  req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
  req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(20)));
  auto reader = fed.Office(cc)->Query(&ctx, req);
  v1::QueryEvent event;
  v1::PeerOutcome outcome = v1::PEER_OUTCOME_UNSPECIFIED;
  while (reader->Read(&event)) {
    if (event.has_answer() && event.answer().member() == peer) {
      outcome = event.answer().outcome();
    }
  }
  const grpc::Status finished = reader->Finish();
  if (!finished.ok() && error != nullptr) *error = finished.error_message();
  return finished.ok() ? outcome : v1::PEER_OUTCOME_UNSPECIFIED;
}

// Queries until `peer` answers HIT (its index reaches `cc` by index sync).
void QueryUntilHit(Federation& fed, const std::string& cc,
                   const std::string& case_number, const std::string& email,
                   const std::string& peer) {
  const auto deadline =
      std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  v1::PeerOutcome outcome = v1::PEER_OUTCOME_UNSPECIFIED;
  std::string error;
  while (std::chrono::steady_clock::now() < deadline) {
    outcome = QueryOutcome(fed, cc, case_number, email, peer, &error);
    if (outcome == v1::PEER_OUTCOME_HIT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  FAIL() << cc << " never got a hit from " << peer << " (last outcome "
         << outcome << ", " << error << ")";
}

class StoragePgNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_PG_DATABASE_OR_SKIP(conninfo);
    conninfo_ = conninfo;
    FederationOptions options;
    options.countries = {"MK", "RS"};
    options.edit_config = [this](const std::string& cc, nlohmann::json& c) {
      c["audit"]["checkpoint_interval_ms"] = 300;
      c["sync"]["index_interval_ms"] = 300;
      if (cc != "MK") return;  // RS keeps node.db and audit.db in SQLite
      const std::string with_password =
          absl::StrCat(conninfo_, " password=", kPassword);
      c["storage"] = {{"backend", "postgresql"},
                      {"conninfo", with_password},
                      {"schema", kNodeSchema}};
      c["audit_log"] = {{"backend", "postgresql"},
                        {"conninfo", with_password},
                        {"schema", kAuditSchema}};
    };
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = *std::move(fed);
    // A node.db file from before node.db moved to PostgreSQL: the node
    // must say it does not use it (and never read it: it is not SQLite).
    fs::create_directories(fed_->NodeDir("MK") + "/data");
    std::ofstream(fed_->NodeDir("MK") + "/data/node.db") << "stale";
    ASSERT_TRUE(fed_->StartAll().ok());
  }
  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  std::unique_ptr<node::pg::Connection> Connect(const std::string& schema) {
    auto conn = node::pg::Connection::Open(
        conninfo_, absl::StrCat("SET search_path TO ", schema));
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  // The first column of the first row of `sql` in MK's node.db schema.
  int64_t Count(const std::string& sql) {
    auto conn = Connect(kNodeSchema);
    if (conn == nullptr) return -1;
    auto r = conn->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    return r.ok() && r->rows() > 0 ? r->Int(0, 0) : -1;
  }

  // Every table of `schema` and an md5 of all its rows: equal before and
  // after means nothing in the schema was written.
  std::map<std::string, std::string> Fingerprint(const std::string& schema) {
    std::map<std::string, std::string> out;
    auto conn = Connect(schema);
    if (conn == nullptr) return out;
    auto tables = conn->Query(absl::StrCat(
        "SELECT tablename FROM pg_tables WHERE schemaname = '", schema, "'"));
    EXPECT_TRUE(tables.ok()) << tables.status();
    if (!tables.ok()) return out;
    for (int i = 0; i < tables->rows(); ++i) {
      const std::string table = tables->String(i, 0);
      auto rows = conn->Query(
          absl::StrCat("SELECT count(*)::text || ':' || coalesce(md5("
                       "string_agg(t::text, ',' ORDER BY t::text)), '') FROM ",
                       table, " t"));
      EXPECT_TRUE(rows.ok()) << table << ": " << rows.status();
      out[table] = rows.ok() ? rows->String(0, 0) : "?";
    }
    return out;
  }

  // MK's config with `schema` as node.db's schema, written beside it.
  std::string ConfigWithSchema(const std::string& schema) {
    const std::string dir = fed_->NodeDir("MK");
    nlohmann::json c = nlohmann::json::parse(Slurp(dir + "/node.json"));
    c["storage"]["schema"] = schema;
    const std::string path = dir + "/node-" + schema + ".json";
    std::ofstream(path) << c.dump(2);
    return path;
  }

  std::string conninfo_;
  std::unique_ptr<Federation> fed_;
};

TEST_F(StoragePgNodeTest, NodeDbLivesInPostgresqlAndSurvivesARestart) {
  AddCase(*fed_, "MK", "MK-2026-1", "mk-suspect@example.org");
  AddCase(*fed_, "RS", "RS-2026-1", "rs-suspect@example.org");
  // RS's query hits MK's case (MK's inbox gets RS's notification); MK's
  // query hits RS's case through MK's copy of RS's index (a hit stored).
  QueryUntilHit(*fed_, "RS", "RS-2026-1", "mk-suspect@example.org", "MK");
  QueryUntilHit(*fed_, "MK", "MK-2026-1", "rs-suspect@example.org", "RS");

  EXPECT_EQ(Count("SELECT count(*) FROM cases"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM peer_indexes WHERE member = 'RS'"), 1);
  const int64_t hits = Count("SELECT count(*) FROM hits");
  const int64_t notes = Count("SELECT count(*) FROM notifications");
  EXPECT_GE(hits, 1);
  EXPECT_GE(notes, 1);
  // Nothing of node.db in SQLite: the stale file is as it was.
  const std::string data = fed_->NodeDir("MK") + "/data";
  EXPECT_EQ(Slurp(data + "/node.db"), "stale");
  EXPECT_FALSE(fs::exists(data + "/node.db-wal"));
  EXPECT_FALSE(fs::exists(data + "/audit.db"));

  fed_->Stop("MK");
  ASSERT_TRUE(fed_->Start("MK").ok());
  EXPECT_EQ(Count("SELECT count(*) FROM cases"), 1);
  EXPECT_GE(Count("SELECT count(*) FROM hits"), hits);
  EXPECT_GE(Count("SELECT count(*) FROM notifications"), notes);
  // Through the Office API too: the case, the hits and the inbox.
  {
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    v1::ListHitsRequest req;
    req.set_case_number("MK-2026-1");
    v1::ListHitsResponse got;
    ASSERT_TRUE(fed_->Office("MK")->ListHits(&ctx, req, &got).ok());
    EXPECT_GE(got.hits_size(), 1);
  }
  {
    grpc::ClientContext ctx;
    v1::ListInboxResponse inbox;
    ASSERT_TRUE(fed_->Office("MK")
                    ->ListInbox(&ctx, v1::ListInboxRequest(), &inbox)
                    .ok());
    ASSERT_GE(inbox.notifications_size(), 1);
    EXPECT_EQ(inbox.notifications(0).from_member(), "RS");
  }
  {
    grpc::ClientContext ctx;
    v1::ListCasesResponse got;
    ASSERT_TRUE(
        fed_->Office("MK")->ListCases(&ctx, v1::ListCasesRequest(), &got).ok());
    ASSERT_EQ(got.cases_size(), 1);
    EXPECT_EQ(got.cases(0).case_number(), "MK-2026-1");
  }
  // The copy of RS's index was loaded from the schema: MK answers a hit
  // on RS's case at once, and RS still finds MK's case.
  EXPECT_EQ(
      QueryOutcome(*fed_, "MK", "MK-2026-1", "rs-suspect@example.org", "RS"),
      v1::PEER_OUTCOME_HIT);
  QueryUntilHit(*fed_, "RS", "RS-2026-1", "mk-suspect@example.org", "MK");

  const std::string log = Slurp(fed_->LogOf("MK"));
  EXPECT_EQ(log.find(kPassword), std::string::npos);
  EXPECT_NE(
      log.find(absl::StrCat("node.db in PostgreSQL schema ", kNodeSchema)),
      std::string::npos);
  EXPECT_NE(log.find("password=<redacted>"), std::string::npos);
  EXPECT_NE(log.find("node-db-file-unused"), std::string::npos);
}

TEST_F(StoragePgNodeTest, CheckWritesNothing) {
  AddCase(*fed_, "MK", "MK-2026-1", "mk-suspect@example.org");
  fed_->Stop("MK");
  const auto node_before = Fingerprint(kNodeSchema);
  const auto audit_before = Fingerprint(kAuditSchema);
  ASSERT_FALSE(node_before.empty());
  ASSERT_EQ(node_before.at("cases").substr(0, 2), "1:");

  std::string out;
  const std::string node = NodeBinary() + " --allow-root --config '";
  EXPECT_EQ(
      RunCommand(node + fed_->NodeDir("MK") + "/node.json' --check", &out), 0)
      << out;
  EXPECT_NE(out.find("opened read-only"), std::string::npos) << out;
  EXPECT_NE(out.find("present, not used"), std::string::npos) << out;
  EXPECT_EQ(out.find(kPassword), std::string::npos) << out;
  EXPECT_EQ(Fingerprint(kNodeSchema), node_before);
  EXPECT_EQ(Fingerprint(kAuditSchema), audit_before);

  // A schema that holds no node.db: said, and not made.
  EXPECT_EQ(
      RunCommand(node + ConfigWithSchema("cbx_node_fresh") + "' --check", &out),
      0)
      << out;
  EXPECT_NE(out.find("absent (made at the first start)"), std::string::npos)
      << out;
  EXPECT_EQ(out.find(kPassword), std::string::npos) << out;
  auto conn = Connect("public");
  ASSERT_NE(conn, nullptr);
  auto made = conn->Query(
      "SELECT count(*) FROM pg_namespace WHERE nspname = 'cbx_node_fresh'");
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->Int(0, 0), 0);

  // One node of an active/standby pair: the leadership section is checked
  // and its term row read, not made (no node of the pair has run).
  const std::string dir = fed_->NodeDir("MK");
  nlohmann::json pair = nlohmann::json::parse(Slurp(dir + "/node.json"));
  pair["leadership"] = {{"name", "a"}, {"lease_ms", 3000}, {"poll_ms", 200}};
  std::ofstream(dir + "/node-pair.json") << pair.dump(2);
  EXPECT_EQ(RunCommand(node + dir + "/node-pair.json' --check", &out), 0)
      << out;
  EXPECT_NE(out.find("leadership: name a, lease 3000 ms, poll 200 ms"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("cbx_leadership.leader: absent"), std::string::npos)
      << out;
  auto pair_schema = conn->Query(
      "SELECT count(*) FROM pg_namespace WHERE nspname = 'cbx_leadership'");
  ASSERT_TRUE(pair_schema.ok()) << pair_schema.status();
  EXPECT_EQ(pair_schema->Int(0, 0), 0);
  EXPECT_EQ(Fingerprint(kNodeSchema), node_before);
  EXPECT_EQ(Fingerprint(kAuditSchema), audit_before);
  // A pair whose node.db is an SQLite file of each machine is refused.
  pair["storage"] = {{"backend", "sqlite"}};
  std::ofstream(dir + "/node-pair-sqlite.json") << pair.dump(2);
  EXPECT_EQ(RunCommand(node + dir + "/node-pair-sqlite.json' --check", &out), 2)
      << out;
  EXPECT_NE(out.find("leadership: needs storage.backend \"postgresql\""),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace cbx::testing
