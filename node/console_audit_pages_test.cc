// The console's auditor pages in process, over a test node with a real
// audit log and fake peers whose logs this node witnesses: what an auditor
// sees, that each look is logged with the person who looked, that a
// forked peer log is shown as an alert, and that other roles see nothing.
#include "node/console_audit_pages.h"

#include <optional>

#include "client/audit/export.h"
#include "core/logcheck/log_keys.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "gtest/gtest.h"
#include "node/checkpoints.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"
#include "node/witnessing.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakeLog;
using ::cbx::node::testing::FakeNodeKey;
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
        pages_(
            &node_.ctx(), &office_, &language_,
            [](std::function<void()> work) {
              work();
              return true;
            },
            genesis_) {
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

  // A POST of /audit/check with these uploads (name: file name, content).
  Response PostCheck(
      Request r,
      const std::map<std::string, std::pair<std::string, std::string>>& files) {
    r.method = "POST";
    r.path = "/audit/check";
    console::UploadedFiles uploads;
    for (const auto& [name, file] : files) {
      uploads[name] =
          console::UploadedFile{file.first, "application/json", file.second};
    }
    r.files = std::make_shared<const console::UploadedFiles>(uploads);
    std::optional<Response> answer;
    routes_.at({"POST", "/audit/check"})(
        r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  // Entries in MK's log, and a checkpoint of them cosigned by RS and AL
  // (the test federation's threshold is 2): what auditors are shown.
  void WitnessedLog() {
    for (int i = 0; i < 3; ++i) Get("/audit", As("auditor", "a-17"));
    ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/true).ok());
    absl::StatusOr<std::string> best = checkpoints_.BestCheckpoint();
    ASSERT_TRUE(best.ok()) << best.status();
    for (const char* witness : {"RS", "AL"}) {
      absl::StatusOr<note::Note> n = note::ParseNote(*best);
      ASSERT_TRUE(n.ok());
      auto cosigner = note::Cosigner::Create(logcheck::WitnessName(witness),
                                             FakeNodeKey(witness));
      ASSERT_TRUE(cosigner.ok());
      auto sig = cosigner->Cosign(n->text, node_.clock().NowMs() / 1000);
      ASSERT_TRUE(sig.ok());
      n->signatures.push_back(*sig);
      ASSERT_TRUE(
          checkpoints_.AcceptCosignature(witness, *note::FormatNote(*n)).ok());
    }
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

// GET /audit/export answers the file `cbx audit export` writes, as an
// attachment, and is logged as Office.AuditExport with the person.
TEST_F(AuditPagesTest, ExportIsTheFileCbxWritesAndIsLogged) {
  WitnessedLog();
  Response file = Get("/audit/export", As("auditor", "a-17"));
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.content_type, "application/json; charset=utf-8");
  absl::StatusOr<client::audit::AuditExport> parsed =
      client::audit::ParseExport(file.body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->member, "MK");
  ASSERT_FALSE(parsed->entries.empty());
  EXPECT_EQ(parsed->entries.front().index, 0u);
  EXPECT_EQ(file.attachment,
            absl::StrCat("cbx-audit-MK-0-", parsed->entries.size(), ".json"));
  EXPECT_EQ(client::audit::FormatExport(*parsed), file.body);
  client::audit::ExportCheckOptions check;
  check.now_ms = node_.clock().NowMs();
  EXPECT_TRUE(client::audit::VerifyExport(genesis_, *parsed, check).ok());

  std::vector<v1::AuditEntry> logged =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AuditExport");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].user(), "a-17");
  EXPECT_EQ(logged[0].outcome().status_code(), 0);

  // A range: entries [1, 3).
  Response part = Get("/audit/export", As("auditor", ""), "from=1&to=3");
  ASSERT_EQ(part.status, 200) << part.body;
  EXPECT_EQ(part.attachment, "cbx-audit-MK-1-3.json");
  parsed = client::audit::ParseExport(part.body);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->entries.size(), 2u);
  EXPECT_EQ(parsed->entries[0].index, 1u);
}

TEST_F(AuditPagesTest, BadExportRangeIsRefusedWithTheNodesMessage) {
  WitnessedLog();
  Response past = Get("/audit/export", As("auditor", ""), "from=2&to=999");
  EXPECT_EQ(past.status, 400);
  EXPECT_NE(past.body.find("must be non-empty and within the checkpoint"),
            std::string::npos)
      << past.body;
  // The form is kept, with what was typed.
  EXPECT_NE(past.body.find("value=\"999\""), std::string::npos);
  EXPECT_EQ(node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AuditExport")
                .size(),
            1u);
  // What is not a number is not asked of the node, nor logged.
  Response junk = Get("/audit/export", As("auditor", ""), "from=%3Cb%3E");
  EXPECT_EQ(junk.status, 400);
  EXPECT_EQ(junk.body.find("<b>"), std::string::npos);
  EXPECT_NE(junk.body.find("whole numbers"), std::string::npos);
  EXPECT_EQ(node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Office.AuditExport")
                .size(),
            1u);
}

// POST /audit/check verifies an uploaded export against the node's pinned
// genesis and says what it holds; logged as Console.CheckExports.
TEST_F(AuditPagesTest, CheckVerifiesAnUploadedExportAndIsLogged) {
  WitnessedLog();
  const std::string file = Get("/audit/export", As("auditor", "a-17")).body;
  Response page =
      PostCheck(As("auditor", "a-17"), {{"export", {"mk.json", file}}});
  ASSERT_EQ(page.status, 200) << page.body;
  for (const char* want :
       {"First export: mk.json", "Verified: every entry", "<code>cbx/MK/audit",
        "<code>RS</code>", "<code>AL</code>", "2 of 2 needed: witnessed"}) {
    EXPECT_NE(page.body.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(page.body.find("class=\"error\""), std::string::npos);
  std::vector<v1::AuditEntry> logged =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Console.CheckExports");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].user(), "a-17");
  EXPECT_EQ(logged[0].outcome().status_code(), 0);

  // Two exports of one member cannot be reconciled: said, never a result.
  Response same = PostCheck(As("auditor", ""), {{"export", {"a.json", file}},
                                                {"other", {"b.json", file}}});
  EXPECT_EQ(same.status, 400);
  EXPECT_NE(same.body.find("cannot be reconciled"), std::string::npos);
  EXPECT_EQ(same.body.find("Reconciled:"), std::string::npos);
}

// Attack: one leaf byte changed in an export is reported as not verified,
// naming the entry, never as verified.
TEST_F(AuditPagesTest, TamperedExportIsNotVerifiedAndNamesTheEntry) {
  WitnessedLog();
  absl::StatusOr<client::audit::AuditExport> file =
      client::audit::ParseExport(Get("/audit/export", As("auditor", "")).body);
  ASSERT_TRUE(file.ok());
  ASSERT_GT(file->entries.size(), 2u);
  file->entries[2].leaf[5] ^= 0x01;
  Response page = PostCheck(
      As("auditor", "a-17"),
      {{"export", {"doctored.json", client::audit::FormatExport(*file)}}});
  EXPECT_EQ(page.status, 422) << page.body;
  EXPECT_NE(page.body.find("<code>doctored.json</code> does not verify:"),
            std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("entry 2"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("class=\"error\" role=\"alert\""),
            std::string::npos);
  EXPECT_EQ(page.body.find("Verified:"), std::string::npos);
  std::vector<v1::AuditEntry> logged =
      node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Console.CheckExports");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AuditPagesTest, NoFileOrAFileThatIsNotAnExportIsRefused) {
  Response none = PostCheck(As("auditor", ""), {{"export", {"", ""}}});
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("Choose an export to verify."), std::string::npos);
  EXPECT_NE(none.body.find("enctype=\"multipart/form-data\""),
            std::string::npos);
  Response junk =
      PostCheck(As("auditor", ""), {{"export", {"<x>.json", "{\"a\":1}"}}});
  EXPECT_EQ(junk.status, 400);
  EXPECT_NE(junk.body.find("&lt;x&gt;.json</code> is not an audit export:"),
            std::string::npos)
      << junk.body;
  EXPECT_EQ(junk.body.find("<x>"), std::string::npos);
}

// Attack: another role's upload is refused before anything is read, and
// logged as refused; the form and the download are refused too.
TEST_F(AuditPagesTest, OtherRolesCannotCheckOrDownloadAndAreLogged) {
  WitnessedLog();
  const std::string file = Get("/audit/export", As("auditor", "")).body;
  for (const char* role : {"prosecutor", "operator"}) {
    Response page = PostCheck(As(role, "p-1"), {{"export", {"mk.json", file}}});
    EXPECT_EQ(page.status, 403) << role;
    EXPECT_NE(page.body.find("for auditors"), std::string::npos);
    EXPECT_EQ(page.body.find("Verified"), std::string::npos);
    EXPECT_EQ(Get("/audit/check", As(role, "")).status, 403);
    Response download = Get("/audit/export", As(role, ""));
    EXPECT_EQ(download.status, 403);
    EXPECT_EQ(download.body.find("cbx-audit-export"), std::string::npos);
  }
  for (const char* rpc : {"Console.CheckExports", "Office.AuditExport"}) {
    std::vector<v1::AuditEntry> logged =
        node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, rpc);
    size_t refused = 0;
    for (const v1::AuditEntry& e : logged) {
      if (e.outcome().status_code() ==
          static_cast<int>(absl::StatusCode::kPermissionDenied)) {
        ++refused;
      }
    }
    EXPECT_EQ(refused, 2u) << rpc;
  }
}

TEST_F(AuditPagesTest, CheckPagesAreInTheCallersLanguage) {
  WitnessedLog();
  Request sq = As("auditor", "a-17");
  sq.accept_language = "sq";
  Response form = Get("/audit/check", sq);
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_NE(form.body.find("Eksporti për t'u verifikuar"), std::string::npos);
  // The auditor's menu leads to the page.
  EXPECT_NE(form.body.find("<a href=\"/audit/check\">Kontrolli i eksporteve "
                           "të auditimit</a>"),
            std::string::npos)
      << form.body;
  const std::string file = Get("/audit/export", sq).body;
  Request mk = As("auditor", "a-17");
  mk.accept_language = "mk";
  Response page = PostCheck(mk, {{"export", {"mk.json", file}}});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Прв извоз: mk.json"), std::string::npos);
  EXPECT_NE(page.body.find("Проверено:"), std::string::npos);
  EXPECT_EQ(page.body.find("Verified"), std::string::npos);
}

}  // namespace
}  // namespace cbx::node