// The web console in a real browser (issue 14): headless Chromium, driven
// through chromedriver, presents an office's certificate the way a clerk's
// browser does, registers a case through the form, and an auditor's
// browser opens the audit pages. A screenshot of every page is kept under
// <build>/test-artifacts/console/ for people to look at.
//
// The same flows are tested at the HTTP level in
// tests/integration/console_test.cc; this test shows that a browser — its
// TLS client authentication, its HTML forms with no script, the CSP the
// console sends — does what those tests assume.
#include <chrono>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "cbx/v1/cases.pb.h"
#include "cbx/v1/office.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/browser/web_driver.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

class ConsoleBrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    missing_ = MissingBrowserTools();
    if (!missing_.empty()) return;
    FederationOptions options;
    options.countries = {"MK", "RS"};
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = fed->release();
    ASSERT_TRUE(fed_->StartAll().ok());
    auto policy = ConsolePolicy::Write({Origin("MK"), Origin("RS")});
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = policy->release();
  }
  static void TearDownTestSuite() {
    delete policy_;
    policy_ = nullptr;
    delete fed_;
    fed_ = nullptr;
  }
  void SetUp() override {
    if (!missing_.empty()) GTEST_SKIP() << "not installed:" << missing_;
  }
  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  static std::string Origin(const std::string& cc) {
    const nlohmann::json config =
        nlohmann::json::parse(Slurp(fed_->NodeDir(cc) + "/node.json"));
    const std::string listen = config["console_listen"].get<std::string>();
    return "https://localhost:" + listen.substr(listen.rfind(':') + 1);
  }

  // A browser holding `cc`'s office certificate for `role`.
  static std::unique_ptr<Browser> BrowserFor(const std::string& cc,
                                             const std::string& role) {
    const std::string cert = fed_->OfficeCertificate(cc, role);
    auto b = Browser::Start(fed_->dir(), cc + "-" + role, cert,
                            cert.substr(0, cert.size() - 4) + ".key",
                            fed_->NodeDir(cc) + "/ca.crt");
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? std::move(b).value() : nullptr;
  }

  // Opens `path` on `cc`'s console, keeps a screenshot named `shot`, and
  // returns the page's HTML.
  static std::string Open(Browser& b, const std::string& cc,
                          const std::string& path, const std::string& shot) {
    EXPECT_TRUE(b.Go(Origin(cc) + path).ok());
    return Shot(b, shot);
  }
  static std::string Shot(Browser& b, const std::string& shot) {
    EXPECT_TRUE(b.Screenshot(absl::StrCat(CBX_TEST_ARTIFACTS_DIR, "/console/",
                                          shot, ".png"))
                    .ok());
    absl::StatusOr<std::string> html = b.Source();
    EXPECT_TRUE(html.ok()) << html.status();
    return html.value_or("");
  }

  static std::string missing_;
  static Federation* fed_;
  static ConsolePolicy* policy_;
};

std::string ConsoleBrowserTest::missing_;
Federation* ConsoleBrowserTest::fed_ = nullptr;
ConsolePolicy* ConsoleBrowserTest::policy_ = nullptr;

TEST_F(ConsoleBrowserTest, ClerkRegistersACaseThroughTheForm) {
  std::unique_ptr<Browser> b = BrowserFor("RS", "prosecutor");
  ASSERT_NE(b, nullptr);
  const std::string home = Open(*b, "RS", "/", "en-home");
  EXPECT_NE(home.find("RS/"), std::string::npos) << home;
  EXPECT_NE(home.find("prosecutor"), std::string::npos);

  Open(*b, "RS", "/cases/new", "en-case-register");
  ASSERT_TRUE(b->Type("input[name=case_number]", "RS-KT-2026-41").ok());
  ASSERT_TRUE(b->Type("input[name=contact_point]", "+381 11 000 0000").ok());
  ASSERT_TRUE(
      b->Click(absl::StrCat("select[name=id_type_0] option[value='",
                            v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "']"))
          .ok());
  ASSERT_TRUE(b->Type("input[name=id_value_0]", "t.me/Browser_Case_User").ok());
  ASSERT_TRUE(b->Click(absl::StrCat("input[name=offence][value='",
                                    v1::OFFENCE_CODE_NCII_SHARING, "']"))
                  .ok());
  ASSERT_TRUE(b->Click("form[action='/cases'] button[type=submit]").ok());

  // The browser followed the 303 to the case's own page.
  absl::StatusOr<std::string> url = b->Url();
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("/case?number=RS-KT-2026-41"), std::string::npos) << *url;
  const std::string shown = Shot(*b, "en-case");
  EXPECT_NE(shown.find("browser_case_user"), std::string::npos) << shown;
  const std::string list = Open(*b, "RS", "/cases", "en-cases");
  EXPECT_NE(list.find("RS-KT-2026-41"), std::string::npos);

  // What the browser registered is the node's case, as `cbx` sees it.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(10)));
  v1::ListCasesResponse cases;
  ASSERT_TRUE(
      fed_->Office("RS")->ListCases(&ctx, v1::ListCasesRequest(), &cases).ok());
  ASSERT_EQ(cases.cases_size(), 1);
  EXPECT_EQ(cases.cases(0).identifiers(0).value(), "browser_case_user");
}

TEST_F(ConsoleBrowserTest, AuditorOpensTheAuditPagesAndTheReport) {
  std::unique_ptr<Browser> b = BrowserFor("MK", "auditor");
  ASSERT_NE(b, nullptr);
  const std::string audit = Open(*b, "MK", "/audit", "en-audit");
  EXPECT_NE(audit.find("cbx/MK/audit"), std::string::npos) << audit;
  EXPECT_NE(audit.find("<td>RS</td>"), std::string::npos);
  const std::string report = Open(*b, "MK", "/audit/report", "en-report");
  EXPECT_NE(report.find("Transparency report: MK"), std::string::npos)
      << report;
  EXPECT_NE(report.find("<svg"), std::string::npos);
  // A prosecutor's certificate is not an auditor's.
  std::unique_ptr<Browser> clerk = BrowserFor("MK", "prosecutor");
  ASSERT_NE(clerk, nullptr);
  const std::string refused = Open(*clerk, "MK", "/audit", "en-audit-refused");
  EXPECT_NE(refused.find("for auditors"), std::string::npos) << refused;
}

}  // namespace
}  // namespace cbx::testing
