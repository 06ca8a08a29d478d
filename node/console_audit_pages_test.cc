// The console's auditor pages in process, over a test node with a real
// audit log and fake peers whose logs this node witnesses: what an auditor
// sees, that each look is logged with the person who looked, that a
// forked peer log is shown as an alert, and that other roles see nothing.
#include "node/console_audit_pages.h"

#include <optional>

#include "gtest/gtest.h"
#include "node/checkpoints.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"
#include "node/witnessing.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakeLog;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;
using console::Request;
using console::Response;

class AuditPagesTest : public ::testing::Test {
 protected:
  AuditPagesTest()
      : genesis_(FakeGenesis()),
        node_(genesis_),
        peers_(genesis_, "MK", &node_.clock()),
        witnessing_(&node_.ctx(), &peers_),
        checkpoints_(&node_.ctx()),
        office_(&node_.ctx(), nullptr, nullptr, &witnessing_, &checkpoints_),
        language_("MK", node_.ctx().storage.get(),
                  [](std::function<void()> work) {
                    work();
                    return true;
                  }),
        pages_(&node_.ctx(), &office_, &language_,
               [](std::function<void()> work) {
                 work();
                 return true;
               }) {
    pages_.AddRoutes(routes_);
  }

  static Request As(const std::string& role, const std::string& person) {
    Request r;
    r.caller = console::Caller{"MK/Audit-Office", role, person};
    return r;
  }

  Response Get(const std::string& path, Request r,
               const std::string& query = "") {
    r.method = "GET";
    r.path = path;
    absl::StatusOr<console::Form> form = console::ParseForm(query);
    EXPECT_TRUE(form.ok());
    r.query = *form;
    std::optional<Response> answer;
    routes_.at({"GET", path})(r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  v1::SignedDirectory genesis_;
  TestNode node_;
  FakePeers peers_;
  Witnessing witnessing_;
  Checkpoints checkpoints_;
  OfficeService office_;
  ConsoleLanguage language_;
  AuditPages pages_;
  std::map<std::pair<std::string, std::string>, console::Handler> routes_;
};

TEST_F(AuditPagesTest, OverviewShowsOwnLogAndWitnessedPeersAndIsLogged) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  Response page = Get("/audit", As("auditor", "a-17"));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("cbx/MK/audit"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("not yet witnessed"), std::string::npos);
  // RS: 5 entries cosigned, consistent; AL never witnessed yet.
  EXPECT_NE(page.body.find("<td>RS</td>"), std::string::npos);
  EXPECT_NE(page.body.find("<td>5</td>"), std::string::npos);
  EXPECT_NE(page.body.find("consistent"), std::string::npos);
  EXPECT_NE(page.body.find("not cosigned yet"), std::string::npos);
  EXPECT_NE(page.body.find("No alerts"), std::string::npos);

  std::vector<v1::AuditEntry> logged =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AuditCheckpoint");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].user(), "a-17");
  EXPECT_EQ(logged[0].office(), "MK/Audit-Office");
}

TEST_F(AuditPagesTest, ForkedPeerLogIsAnAlert) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  peers_.SetLog("RS", FakeLog::kForkRoot, 0);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(witnessing_.WitnessPeer("RS").ok());
  ::testing::internal::GetCapturedStderr();

  Response page = Get("/audit", As("auditor", ""));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find("No alerts"), std::string::npos);
  EXPECT_NE(page.body.find("role=\"alert\""), std::string::npos);
  EXPECT_NE(page.body.find("class=\"error\""), std::string::npos);
}

TEST_F(AuditPagesTest, ReportOfAMonthWithItsSignature) {
  const std::string month =
      absl::FormatTime("%Y-%m", absl::FromUnixMillis(node_.clock().NowMs()),
                       absl::UTCTimeZone());
  Response page = Get("/audit/report", As("auditor", "a-17"));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Transparency report: MK, " + month),
            std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("<svg"), std::string::npos);
  EXPECT_NE(page.body.find("type=\"month\""), std::string::npos);
  EXPECT_NE(page.body.find("cbx audit report --export FILE --month " + month),
            std::string::npos);
  EXPECT_EQ(
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.GetReport").size(),
      1u);
}

TEST_F(AuditPagesTest, MalformedOrFutureMonthIsRefusedAndSaysWhy) {
  Response bad = Get("/audit/report", As("auditor", ""), "month=2026-13");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("class=\"error\""), std::string::npos);
  // What was typed is shown back as text, never markup.
  Response markup = Get("/audit/report", As("auditor", ""), "month=%3Cb%3E");
  EXPECT_EQ(markup.status, 400);
  EXPECT_EQ(markup.body.find("<b>"), std::string::npos);
  Response future = Get("/audit/report", As("auditor", ""), "month=2999-01");
  EXPECT_EQ(future.status, 400);
}

TEST_F(AuditPagesTest, OtherRolesSeeNothingAndAreLoggedAsRefused) {
  for (const char* role : {"prosecutor", "operator"}) {
    for (const char* path : {"/audit", "/audit/report"}) {
      Response page = Get(path, As(role, ""));
      EXPECT_EQ(page.status, 403) << role << " " << path;
      EXPECT_NE(page.body.find("for auditors"), std::string::npos);
      EXPECT_EQ(page.body.find("<svg"), std::string::npos);
    }
  }
  // Refused as the Office port refuses them, and logged as such.
  for (const char* rpc : {"Office.AuditCheckpoint", "Office.GetReport"}) {
    std::vector<v1::AuditEntry> logged =
        node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, rpc);
    ASSERT_EQ(logged.size(), 2u) << rpc;
    for (const v1::AuditEntry& e : logged) {
      EXPECT_EQ(e.outcome().status_code(),
                static_cast<int>(absl::StatusCode::kPermissionDenied));
    }
  }
}

// The auditor's pages in the caller's language: frame, headings, labels
// and the commands to run; the node's own words (its log's name) as they
// are.
TEST_F(AuditPagesTest, PagesAreInTheCallersLanguage) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  Request sq = As("auditor", "a-17");
  sq.accept_language = "sq";
  Response overview = Get("/audit", sq);
  ASSERT_EQ(overview.status, 200) << overview.body;
  for (const char* want :
       {"<html lang=\"sq\">", "<h2>Sinjalizime</h2>",
        "<h2>Regjistri i auditimit i kësaj nyjeje</h2>", "<dt>Hyrje</dt>",
        "në përputhje", "<code>cbx audit verify-export</code>",
        "cbx/MK/audit"}) {
    EXPECT_NE(overview.body.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(overview.body.find("Root hash"), std::string::npos);

  const std::string month =
      absl::FormatTime("%Y-%m", absl::FromUnixMillis(node_.clock().NowMs()),
                       absl::UTCTimeZone());
  Request hr = As("auditor", "a-17");
  hr.accept_language = "hr-HR";
  Response report = Get("/audit/report", hr);
  ASSERT_EQ(report.status, 200) << report.body;
  for (const std::string& want :
       {std::string("<html lang=\"hr\">"), std::string("Mjesec (UTC)"),
        "cbx audit report --export FILE --month " + month}) {
    EXPECT_NE(report.body.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(report.body.find("Transparency report"), std::string::npos);

  Request sl = As("prosecutor", "");
  sl.accept_language = "sl";
  Response refused = Get("/audit", sl);
  EXPECT_EQ(refused.status, 403);
  // The role too is in the page's language (console.office_role.*).
  EXPECT_NE(refused.body.find("Te strani so za revizorje; vloga v vašem "
                              "potrdilu je tožilec."),
            std::string::npos)
      << refused.body;
}

}  // namespace
}  // namespace cbx::node