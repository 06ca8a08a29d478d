// The web console in a real browser (issue 14): headless Chromium, driven
// through chromedriver, presents an office's certificate the way a clerk's
// browser does. RS's clerk and MK's clerk register cases through the form,
// MK's clerk asks RS from the query page and opens the hit's record, RS's
// clerk sees in the inbox that MK found its case, and MK's auditor opens
// the audit pages and checks MK's and RS's exports (uploaded through the
// form, reconciled; in English and in Albanian); then the same pages after
// each person chose another
// language with the chooser, and MK's clerk amends a case in Macedonian.
// From the hit's card MK's clerk sends RS a cooperation request, which
// RS's clerk answers in Albanian, and MK's clerk adds a watch.
// A screenshot of every page is kept under
// <build>/test-artifacts/console/<lang>-<page>.png for people to look at
// (README's guides use some of them, docs/console/).
//
// Every page is also checked for what the browser enforces: the response
// carried the console's Content-Security-Policy, the browser fetched
// nothing but the console's own origin, and the page has no script.
//
// The tests run in the order written (gtest's default) and build on each
// other as an office's day does: the query finds the case the first test
// registered, the auditor sees that query.
//
// The same flows are tested at the HTTP level in
// tests/integration/console_test.cc; this test shows that a browser — its
// TLS client authentication, its HTML forms with no script, the CSP the
// console sends — does what those tests assume.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cbx/v1/cases.pb.h"
#include "cbx/v1/office.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "node/console/console_server.h"
#include "tests/browser/web_driver.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

constexpr char kRsCase[] = "RS-KT-2026-41";
constexpr char kMkCase[] = "MK-KT-2026-07";
// The Telegram name of RS's case as MK's clerk types it.
constexpr char kTyped[] = "t.me/Browser_Case_User";

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

  // A browser holding `cc`'s office certificate for `role`; `session`
  // tells apart two browsers (own profile, own cookies) of one person.
  static std::unique_ptr<Browser> BrowserFor(const std::string& cc,
                                             const std::string& role,
                                             const std::string& session = "1") {
    const std::string cert = fed_->OfficeCertificate(cc, role);
    auto b = Browser::Start(fed_->dir(), cc + "-" + role + "-" + session, cert,
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
    return Shot(b, cc, shot);
  }
  // Keeps a screenshot of the page `b` shows, checks what the browser
  // fetched for it (ExpectOnlyTheConsole), and returns its HTML.
  static std::string Shot(Browser& b, const std::string& cc,
                          const std::string& shot) {
    EXPECT_TRUE(b.Screenshot(absl::StrCat(CBX_TEST_ARTIFACTS_DIR, "/console/",
                                          shot, ".png"))
                    .ok());
    ExpectOnlyTheConsole(b, cc, shot);
    absl::StatusOr<std::string> html = b.Source();
    EXPECT_TRUE(html.ok()) << html.status();
    return html.value_or("");
  }

  // What the CSP promises, seen from the browser: every response of the
  // console carried the policy, every request went to the console's own
  // origin, and the page has no script and no link elsewhere to load.
  static void ExpectOnlyTheConsole(Browser& b, const std::string& cc,
                                   const std::string& shot) {
    const std::string origin = Origin(cc) + "/";
    absl::StatusOr<Browser::Fetched> fetched = b.Network();
    ASSERT_TRUE(fetched.ok()) << fetched.status();
    for (const std::string& url : fetched->requested) {
      // data: URLs are inline (Chromium's own icon of a date field).
      EXPECT_TRUE(absl::StartsWith(url, origin) ||
                  absl::StartsWith(url, "data:"))
          << shot << " fetched " << url;
    }
    int pages = 0;
    for (const auto& [url, headers] : fetched->responses) {
      if (!absl::StartsWith(url, origin)) continue;
      ++pages;
      auto csp = headers.find("content-security-policy");
      ASSERT_NE(csp, headers.end()) << shot << ": " << url;
      EXPECT_EQ(csp->second, node::console::kContentSecurityPolicy) << url;
    }
    EXPECT_GT(pages, 0) << shot << ": no response seen";
    EXPECT_EQ(b.Count("script").value_or(-1), 0) << shot;
    EXPECT_EQ(b.Count("[src^='http'],[src^='//'],link[href^='http'],"
                      "link[href^='//']")
                  .value_or(-1),
              0)
        << shot;
  }

  // Opens `path` after the person chose `chosen`: the page must be in it.
  static void OpenIn(Browser& b, const std::string& cc,
                     const std::string& path, const std::string& page,
                     const std::string& chosen) {
    EXPECT_TRUE(b.Go(Origin(cc) + path).ok());
    Shot(b, cc, absl::StrCat(chosen, "-", page));
    EXPECT_EQ(Lang(b), chosen) << path;
  }

  // The page's language: its <html lang>.
  static std::string Lang(Browser& b) {
    return b.Attribute("html", "lang").value_or("(none)");
  }

  // Chooses `lang` with the chooser in the page's header; the browser
  // follows the 303 back to the page.
  static void Choose(Browser& b, const std::string& lang) {
    ASSERT_TRUE(b.Click(absl::StrCat("form[action='/language'] "
                                     "select[name=language] option[value='",
                                     lang, "']"))
                    .ok());
    ASSERT_TRUE(b.Click("form[action='/language'] button[type=submit]").ok());
    WaitUntil([&] { return Lang(b) == lang; });
    EXPECT_EQ(Lang(b), lang);
  }

  // The browser shows a hit's record (and no longer the card linking it).
  static bool OnTheRecord(Browser& b) {
    return b.Url().value_or("").find("/hit?id=") != std::string::npos &&
           b.Count("section.hit").value_or(1) == 0;
  }

  // A submitted form's click may return before the browser has followed
  // the answer (under load): waits up to 20 s for `done`.
  static void WaitUntil(const std::function<bool()>& done) {
    const auto until =
        std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
    while (!done() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Registers a case with one Telegram name through /cases/new.
  static void RegisterThroughTheForm(Browser& b, const std::string& cc,
                                     const std::string& number,
                                     const std::string& telegram,
                                     const std::string& shot) {
    Open(b, cc, "/cases/new", shot);
    ASSERT_TRUE(b.Type("input[name=case_number]", number).ok());
    ASSERT_TRUE(b.Type("input[name=contact_point]",
                       cc == "RS" ? "+381 11 000 0000" : "+389 2 000 0000")
                    .ok());
    ASSERT_TRUE(
        b.Click(absl::StrCat("select[name=id_type_0] option[value='",
                             v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "']"))
            .ok());
    ASSERT_TRUE(b.Type("input[name=id_value_0]", telegram).ok());
    ASSERT_TRUE(b.Click(absl::StrCat("input[name=offence][value='",
                                     v1::OFFENCE_CODE_NCII_SHARING, "']"))
                    .ok());
    // The filled form, for people (README's guide); nothing was fetched.
    EXPECT_TRUE(b.Screenshot(absl::StrCat(CBX_TEST_ARTIFACTS_DIR, "/console/",
                                          shot, "-filled.png"))
                    .ok());
    ASSERT_TRUE(b.Click("form[action='/cases'] button[type=submit]").ok());
    // The browser followed the 303 to the case's own page.
    const std::string page = "/case?number=" + number;
    WaitUntil([&] {
      return b.Url().value_or("").find(page) != std::string::npos &&
             b.Count("main").value_or(0) == 1;
    });
    absl::StatusOr<std::string> url = b.Url();
    ASSERT_TRUE(url.ok());
    EXPECT_NE(url->find("/case?number=" + number), std::string::npos) << *url;
  }

  static std::vector<std::string> CaseNumbers(const std::string& cc) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(10)));
    v1::ListCasesResponse cases;
    EXPECT_TRUE(
        fed_->Office(cc)->ListCases(&ctx, v1::ListCasesRequest(), &cases).ok());
    std::vector<std::string> out;
    for (const v1::Case& c : cases.cases()) out.push_back(c.case_number());
    return out;
  }

  // Asks the peers from /query about `typed` under MK's case; the browser
  // is left on the streamed answer page.
  static void AskFromTheQueryPage(Browser& b, const std::string& shot,
                                  const std::string& typed = kTyped) {
    Open(b, "MK", "/query", shot);
    ASSERT_TRUE(b.Click(absl::StrCat("select[name=case_number] option[value='",
                                     kMkCase, "']"))
                    .ok());
    ASSERT_TRUE(
        b.Type("input[name=legal_basis]", "MLA-Convention-1959 Art.1").ok());
    ASSERT_TRUE(b.Click(absl::StrCat("select[name=offence] option[value='",
                                     v1::OFFENCE_CODE_NCII_SHARING, "']"))
                    .ok());
    ASSERT_TRUE(b.Type("input[name=q_value_0]", typed).ok());
    EXPECT_EQ(b.Count("input[name=peer][value='RS']:checked").value_or(0), 1);
    ASSERT_TRUE(b.Click("form[action='/query'] button[type=submit]").ok());
    // The answer is streamed: it is whole when the "ask again" link after
    // the hits is there.
    WaitUntil(
        [&] { return b.Count("main > p > a[href='/query']").value_or(0) > 0; });
    EXPECT_EQ(b.Count("ul.answers").value_or(0), 1) << "no answer page";
  }

  // Opens RS's inbox until MK's hit is on it (the notice travels from MK
  // to RS after the answer); its HTML.
  static std::string OpenInbox(Browser& b, const std::string& shot) {
    const auto until =
        std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
    std::string inbox;
    do {
      EXPECT_TRUE(b.Go(Origin("RS") + "/inbox").ok());
      (void)b.Network();  // the polls' fetches; the last one is checked
      if (b.Count("td a[href*='number=RS-KT-2026-41']").value_or(0) > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    } while (std::chrono::steady_clock::now() < until);
    EXPECT_TRUE(b.Go(Origin("RS") + "/inbox").ok());
    return Shot(b, "RS", shot);
  }

  // `cc`'s export as its console's /audit/export answers it to `cc`'s
  // auditor, written to a file (its path; "" if it could not be had).
  static std::string ExportFile(const std::string& cc) {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    namespace ssl = boost::asio::ssl;
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    boost::beast::error_code ec;
    const std::string ca = Slurp(fed_->NodeDir(cc) + "/ca.crt");
    const std::string cert = fed_->OfficeCertificate(cc, "auditor");
    ctx.add_certificate_authority(asio::buffer(ca), ec);
    ctx.set_verify_mode(ssl::verify_peer, ec);
    ctx.use_certificate_chain_file(cert, ec);
    ctx.use_private_key_file(cert.substr(0, cert.size() - 4) + ".key",
                             ssl::context::pem, ec);
    ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
    const std::string origin = Origin(cc);
    stream.next_layer().connect(
        asio::ip::tcp::endpoint(
            asio::ip::make_address("127.0.0.1"),
            std::stoi(origin.substr(origin.rfind(':') + 1))),
        ec);
    if (!ec) stream.handshake(ssl::stream_base::client, ec);
    http::request<http::string_body> req(http::verb::get, "/audit/export", 11);
    req.set(http::field::host, "localhost");
    if (!ec) http::write(stream, req, ec);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> answer;
    if (!ec) http::read(stream, buffer, answer, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(answer.result_int(), 200) << answer.body();
    if (ec || answer.result_int() != 200) return "";
    const std::string path = absl::StrCat(fed_->dir(), "/", cc, "-export.json");
    std::ofstream(path) << answer.body();
    return path;
  }

  // Uploads `first` and `second` through /audit/check's form and waits for
  // the result page; its HTML, with a screenshot `shot`.
  static std::string CheckThroughTheForm(Browser& b, const std::string& first,
                                         const std::string& second,
                                         const std::string& shot) {
    Open(b, "MK", "/audit/check", shot + "-form");
    EXPECT_TRUE(b.ChooseFile("input[name=export]", first).ok());
    EXPECT_TRUE(b.ChooseFile("input[name=other]", second).ok());
    EXPECT_TRUE(
        b.Click("form[action='/audit/check'] button[type=submit]").ok());
    // The result: a section per export and the reconciliation.
    WaitUntil([&] { return b.Count("main section").value_or(0) >= 3; });
    return Shot(b, "MK", shot);
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
  EXPECT_EQ(Lang(*b), "en");
  EXPECT_NE(home.find("RS/"), std::string::npos) << home;
  EXPECT_NE(home.find("prosecutor"), std::string::npos);

  RegisterThroughTheForm(*b, "RS", kRsCase, "t.me/Browser_Case_User",
                         "en-case-register");
  const std::string shown = Shot(*b, "RS", "en-case");
  EXPECT_NE(shown.find("browser_case_user"), std::string::npos) << shown;
  const std::string list = Open(*b, "RS", "/cases", "en-cases");
  EXPECT_NE(list.find(kRsCase), std::string::npos);

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

// MK's clerk registers MK's case, asks RS about the name of RS's case
// typed as a t.me link, and follows the hit to its record, /hits; RS's
// clerk sees on /inbox that MK found RS's case.
TEST_F(ConsoleBrowserTest, ClerkFindsAPeersCaseFromTheQueryPage) {
  ASSERT_EQ(CaseNumbers("RS"), std::vector<std::string>{kRsCase})
      << "the first test registers RS's case";
  std::unique_ptr<Browser> b = BrowserFor("MK", "prosecutor");
  ASSERT_NE(b, nullptr);
  RegisterThroughTheForm(*b, "MK", kMkCase, "t.me/mk_own_user",
                         "en-mk-case-register");
  ASSERT_TRUE(fed_->WaitForIndex("MK", {{"RS", 1}}).ok());

  AskFromTheQueryPage(*b, "en-query");
  const std::string answer = Shot(*b, "MK", "en-query-answer");
  EXPECT_NE(answer.find("<li><strong>RS</strong>:"), std::string::npos)
      << answer;
  EXPECT_EQ(b->Count("ul.answers li").value_or(0), 1);
  EXPECT_EQ(b->Count("section.hit").value_or(0), 1);
  EXPECT_NE(answer.find(absl::StrCat("<td>", kTyped, "</td>")),
            std::string::npos)
      << answer;
  EXPECT_NE(answer.find("</html>"), std::string::npos);

  ASSERT_TRUE(b->Click("section.hit a[href^='/hit?id=']").ok());
  WaitUntil([&] { return OnTheRecord(*b); });
  EXPECT_NE(b->Url().value_or("").find("/hit?id="), std::string::npos);
  const std::string record = Shot(*b, "MK", "en-hit-record");
  EXPECT_NE(record.find(kMkCase), std::string::npos) << record;
  EXPECT_NE(record.find(kTyped), std::string::npos);

  const std::string hits = Open(*b, "MK", "/hits", "en-hits");
  EXPECT_EQ(b->Count("section.hit").value_or(0), 1);
  EXPECT_NE(hits.find(kTyped), std::string::npos) << hits;

  std::unique_ptr<Browser> rs = BrowserFor("RS", "prosecutor", "inbox");
  ASSERT_NE(rs, nullptr);
  const std::string inbox = OpenInbox(*rs, "en-inbox");
  EXPECT_NE(inbox.find("<td>MK</td>"), std::string::npos) << inbox;
  EXPECT_EQ(rs->Count("td a[href*='number=RS-KT-2026-41']").value_or(0), 1);
}

// A name no peer has: the answer says what it was asked as, and the
// offer to ask it as a group or channel too asks again with both types.
TEST_F(ConsoleBrowserTest, MissSaysWhichTypesWereAskedAndAsksBothOnRequest) {
  ASSERT_NE(CaseNumbers("MK"), std::vector<std::string>{})
      << "an earlier test registers MK's case";
  std::unique_ptr<Browser> b = BrowserFor("MK", "prosecutor", "miss");
  ASSERT_NE(b, nullptr);
  constexpr char kNobody[] = "t.me/Nobody_Has_This_Name";
  AskFromTheQueryPage(*b, "en-query-miss-form", kNobody);
  const std::string miss = Shot(*b, "MK", "en-query-miss");
  EXPECT_EQ(b->Count("section.hit").value_or(0), 0);
  EXPECT_NE(miss.find(absl::StrCat("Identifier 1 (", kNobody,
                                   ") was asked as: Telegram username.")),
            std::string::npos)
      << miss;
  EXPECT_NE(miss.find("was asked as a Telegram username only"),
            std::string::npos);
  ASSERT_TRUE(b->Click("main form[action='/query'] button[type=submit]").ok());
  WaitUntil([&] {
    return b->Source().value_or("").find("Telegram group or channel.") !=
           std::string::npos;
  });
  const std::string both = Shot(*b, "MK", "en-query-miss-both");
  EXPECT_NE(both.find(absl::StrCat("Identifier 1 (", kNobody,
                                   ") was asked as: Telegram username, "
                                   "Telegram group or channel.")),
            std::string::npos)
      << both;
  EXPECT_EQ(b->Count("main form[action='/query']").value_or(0), 0);
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
  std::unique_ptr<Browser> clerk = BrowserFor("MK", "prosecutor", "audit");
  ASSERT_NE(clerk, nullptr);
  const std::string refused = Open(*clerk, "MK", "/audit", "en-audit-refused");
  EXPECT_NE(refused.find("for auditors"), std::string::npos) << refused;
}

// Issue 14: MK's auditor checks MK's and RS's exports in the browser,
// choosing the files in the form's file inputs (multipart/form-data, the
// form token one of its parts): both verified, reconciled with no orphan;
// then the same in Albanian. The choice is set back to English after.
TEST_F(ConsoleBrowserTest, AuditorChecksAndReconcilesTwoExports) {
  const std::string mk = ExportFile("MK");
  const std::string rs = ExportFile("RS");
  ASSERT_FALSE(mk.empty());
  ASSERT_FALSE(rs.empty());
  std::unique_ptr<Browser> b = BrowserFor("MK", "auditor", "check");
  ASSERT_NE(b, nullptr);
  const std::string en = CheckThroughTheForm(*b, mk, rs, "en-audit-check");
  EXPECT_EQ(Lang(*b), "en");
  for (const char* want :
       {"First export: MK-export.json", "Second export: RS-export.json",
        "Verified: every entry", "Reconciliation",
        "Orphans inside the other export's range (0)"}) {
    EXPECT_NE(en.find(want), std::string::npos) << want << "\n" << en;
  }
  EXPECT_EQ(en.find("Not reconciled"), std::string::npos);
  EXPECT_EQ(b->Count("section .ok").value_or(0), 3) << en;

  Choose(*b, "sq");
  const std::string sq = CheckThroughTheForm(*b, mk, rs, "sq-audit-check");
  EXPECT_EQ(Lang(*b), "sq");
  for (const char* want : {"Eksporti i parë: MK-export.json",
                           "I verifikuar:", "Pajtimi", "I pajtuar:"}) {
    EXPECT_NE(sq.find(want), std::string::npos) << want << "\n" << sq;
  }
  EXPECT_EQ(sq.find("Verified"), std::string::npos);
  Choose(*b, "en");
}

// The same pages after each person chose another language with the
// chooser: MK's clerk Macedonian, RS's clerk Serbian, MK's auditor
// Albanian. The choice is the node's (kept per person), so a new session
// of the same certificate (the browser's cookies gone) gets it without
// choosing again.
TEST_F(ConsoleBrowserTest, ChosenLanguageIsShownAndKeptForTheNextSession) {
  std::unique_ptr<Browser> mk = BrowserFor("MK", "prosecutor", "mk");
  ASSERT_NE(mk, nullptr);
  Open(*mk, "MK", "/", "en-mk-home");
  Choose(*mk, "mk");
  Shot(*mk, "MK", "mk-home");
  for (const auto& [path, page] :
       std::vector<std::pair<std::string, std::string>>{
           {"/cases", "cases"},
           {"/cases/new", "case-register"},
           {std::string("/case?number=") + kMkCase, "case"}}) {
    Open(*mk, "MK", path, "mk-" + page);
    EXPECT_EQ(Lang(*mk), "mk") << path;
  }
  OpenIn(*mk, "MK", "/hits", "hits", "mk");
  AskFromTheQueryPage(*mk, "mk-query");
  const std::string answer = Shot(*mk, "MK", "mk-query-answer");
  EXPECT_EQ(Lang(*mk), "mk");
  EXPECT_EQ(mk->Count("section.hit").value_or(0), 1) << answer;
  // The query page's own texts are Macedonian too.
  for (const char* text :
       {"Одговори од членките", "Резиме", "Што беше прашано",
        "беше прашан само како корисничко име на Telegram",
        "Прашај повторно"}) {
    EXPECT_NE(answer.find(text), std::string::npos) << text << "\n" << answer;
  }
  for (const char* english : {"Summary", "What was asked", "found a case"}) {
    EXPECT_EQ(answer.find(english), std::string::npos) << english;
  }
  ASSERT_TRUE(mk->Click("section.hit a[href^='/hit?id=']").ok());
  WaitUntil([&] { return OnTheRecord(*mk); });
  Shot(*mk, "MK", "mk-hit-record");
  EXPECT_EQ(Lang(*mk), "mk");

  std::unique_ptr<Browser> rs = BrowserFor("RS", "prosecutor", "sr");
  ASSERT_NE(rs, nullptr);
  Open(*rs, "RS", "/cases", "en-rs-cases");
  Choose(*rs, "sr");
  Shot(*rs, "RS", "sr-cases");
  OpenIn(*rs, "RS", "/inbox", "inbox", "sr");

  std::unique_ptr<Browser> auditor = BrowserFor("MK", "auditor", "sq");
  ASSERT_NE(auditor, nullptr);
  Open(*auditor, "MK", "/", "en-auditor-home");
  Choose(*auditor, "sq");
  Shot(*auditor, "MK", "sq-auditor-home");
  OpenIn(*auditor, "MK", "/audit", "audit", "sq");
  OpenIn(*auditor, "MK", "/audit/report", "report", "sq");

  // New sessions of the same certificates: the node's choice.
  for (const auto& [browser, cc, lang] :
       std::vector<std::tuple<Browser*, std::string, std::string>>{
           {mk.get(), "MK", "mk"},
           {rs.get(), "RS", "sr"},
           {auditor.get(), "MK", "sq"}}) {
    ASSERT_TRUE(browser->DeleteCookies().ok());
    Open(*browser, cc, "/", lang + "-home-next-session");
    EXPECT_EQ(Lang(*browser), lang) << cc;
  }
}

// MK's clerk, in Macedonian, amends a case from its page: a value whose
// type cannot be told is refused next to its row in Macedonian, with what
// was typed kept; then the case's name is removed and a t.me link added
// as a username and as a group or channel. The case as `cbx` lists it
// follows.
TEST_F(ConsoleBrowserTest, ClerkAmendsACaseInMacedonian) {
  constexpr char kAmended[] = "MK-KT-2026-77";
  std::unique_ptr<Browser> b = BrowserFor("MK", "prosecutor", "amend");
  ASSERT_NE(b, nullptr);
  Open(*b, "MK", "/", "en-amend-home");
  Choose(*b, "mk");
  RegisterThroughTheForm(*b, "MK", kAmended, "@mk_amend_before",
                         "mk-amend-case-register");
  ASSERT_TRUE(b->Click("main a[href^='/cases/amend?number=']").ok());
  WaitUntil(
      [&] { return b->Count("form[action='/cases/amend']").value_or(0) == 1; });
  const std::string form = Shot(*b, "MK", "mk-case-amend");
  EXPECT_EQ(Lang(*b), "mk");
  for (const char* text :
       {"Измена на предметот MK-KT-2026-77", "Идентификатори на предметот",
        "Отстрани", "Идентификатори за додавање", "Зачувај ги измените"}) {
    EXPECT_NE(form.find(text), std::string::npos) << text << "\n" << form;
  }

  ASSERT_TRUE(b->Type("input[name=add_value_0]", "hello world").ok());
  ASSERT_TRUE(b->Click("form[action='/cases/amend'] button[type=submit]").ok());
  WaitUntil([&] { return b->Count("#add_0_error").value_or(0) == 1; });
  const std::string refused = Shot(*b, "MK", "mk-case-amend-refused");
  EXPECT_NE(refused.find("Идентификатор 1: видот не може да се препознае од "
                         "вредноста; изберете го видот."),
            std::string::npos)
      << refused;
  EXPECT_EQ(b->Attribute("input[name=add_value_0]", "value").value_or(""),
            "hello world");

  // Type clears the field first.
  ASSERT_TRUE(b->Type("input[name=add_value_0]", "t.me/MK_Amend_Added").ok());
  ASSERT_TRUE(b->Click("input[name=add_chat_0]").ok());
  ASSERT_TRUE(b->Click("input[name=remove_0]").ok());
  ASSERT_TRUE(b->Click("form[action='/cases/amend'] button[type=submit]").ok());
  const std::string page = std::string("/case?number=") + kAmended;
  WaitUntil([&] {
    return b->Url().value_or("").find(page) != std::string::npos &&
           b->Count("main").value_or(0) == 1;
  });
  const std::string shown = Shot(*b, "MK", "mk-case-amended");
  EXPECT_EQ(Lang(*b), "mk");
  EXPECT_NE(shown.find("mk_amend_added"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("mk_amend_before"), std::string::npos);

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(10)));
  v1::ListCasesResponse cases;
  ASSERT_TRUE(
      fed_->Office("MK")->ListCases(&ctx, v1::ListCasesRequest(), &cases).ok());
  std::vector<std::string> ids;
  for (const v1::Case& c : cases.cases()) {
    if (c.case_number() != kAmended) continue;
    for (const v1::Identifier& id : c.identifiers()) {
      ids.push_back(absl::StrCat(static_cast<int>(id.type()), ":", id.value()));
    }
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids,
            (std::vector<std::string>{"2:mk_amend_added", "3:mk_amend_added"}));
}

// MK's clerk asks RS for information from the card of the hit an earlier
// test found; RS's clerk, in Albanian, finds the request received and
// answers it; the answer reaches MK's console. Then MK's clerk adds a
// watch for a name no peer has yet.
TEST_F(ConsoleBrowserTest, RequestSentFromAHitIsAnsweredInAlbanian) {
  ASSERT_NE(CaseNumbers("MK"), std::vector<std::string>{})
      << "an earlier test registers MK's case and finds RS's";
  std::unique_ptr<Browser> mk = BrowserFor("MK", "prosecutor", "coop");
  ASSERT_NE(mk, nullptr);
  Open(*mk, "MK", "/hits", "en-hits-for-request");
  // The console remembers each person's language: the amend test before
  // this one left MK's prosecutor in Macedonian.
  Choose(*mk, "en");
  ASSERT_TRUE(mk->Click("section.hit a[href^='/requests/new?hit=']").ok());
  WaitUntil(
      [&] { return mk->Count("form[action='/requests']").value_or(0) == 1; });
  const std::string form = Shot(*mk, "MK", "en-request-new");
  EXPECT_NE(form.find("Send a cooperation request"), std::string::npos)
      << form;
  ASSERT_TRUE(mk->Click(absl::StrCat("select[name=type] option[value='",
                                     v1::COOPERATION_TYPE_INFORMATION, "']"))
                  .ok());
  ASSERT_TRUE(
      mk->Type("input[name=legal_basis]", "Budapest Convention Art. 25").ok());
  ASSERT_TRUE(mk->Click("form[action='/requests'] button[type=submit]").ok());
  WaitUntil([&] {
    return mk->Url().value_or("").find("/request?id=") != std::string::npos &&
           mk->Count("main").value_or(0) == 1;
  });
  const std::string url = mk->Url().value_or("");
  const size_t at = url.find("/request?id=");
  ASSERT_NE(at, std::string::npos) << url;
  const std::string path = url.substr(at);
  const std::string sent = Shot(*mk, "MK", "en-request-sent");
  EXPECT_NE(sent.find("accepted; awaiting the answer"), std::string::npos)
      << sent;

  std::unique_ptr<Browser> rs = BrowserFor("RS", "prosecutor", "coop");
  ASSERT_NE(rs, nullptr);
  Open(*rs, "RS", "/", "sq-coop-home");
  Choose(*rs, "sq");
  const std::string list = Open(*rs, "RS", "/requests", "sq-requests");
  EXPECT_EQ(Lang(*rs), "sq");
  EXPECT_NE(list.find("marrë nga MK"), std::string::npos) << list;
  Open(*rs, "RS", path, "sq-request-received");
  ASSERT_TRUE(rs->Click(absl::StrCat("select[name=outcome] option[value='",
                                     v1::RESPONSE_OUTCOME_DONE, "']"))
                  .ok());
  ASSERT_TRUE(
      rs->Click("form[action='/requests/respond'] button[type=submit]").ok());
  WaitUntil([&] {
    return rs->Count("form[action='/requests/respond']").value_or(1) == 0 &&
           rs->Count("main").value_or(0) == 1;
  });
  const std::string answered = Shot(*rs, "RS", "sq-request-answered");
  EXPECT_NE(answered.find("përgjigjur: U krye"), std::string::npos)
      << answered;

  const std::string back = Open(*mk, "MK", path, "en-request-answered");
  EXPECT_NE(back.find("answered: Done"), std::string::npos) << back;

  // A watch, from the query form's fields and how many days.
  Open(*mk, "MK", "/watches/new", "en-watch-new");
  ASSERT_TRUE(mk->Click(absl::StrCat("select[name=case_number] option[value='",
                                     kMkCase, "']"))
                  .ok());
  ASSERT_TRUE(mk->Type("input[name=legal_basis]", "CPC art. 286").ok());
  ASSERT_TRUE(mk->Click(absl::StrCat("select[name=offence] option[value='",
                                     v1::OFFENCE_CODE_NCII_SHARING, "']"))
                  .ok());
  ASSERT_TRUE(mk->Type("input[name=q_value_0]", "t.me/Browser_Watch_User").ok());
  ASSERT_TRUE(mk->Type("input[name=days]", "30").ok());
  ASSERT_TRUE(mk->Click("form[action='/watches'] button[type=submit]").ok());
  WaitUntil([&] {
    return absl::EndsWith(mk->Url().value_or(""), "/watches") &&
           mk->Count("form[action='/watches/remove']").value_or(0) > 0;
  });
  const std::string watches = Shot(*mk, "MK", "en-watches");
  EXPECT_NE(watches.find("CPC art. 286"), std::string::npos) << watches;
  EXPECT_NE(watches.find("Telegram username"), std::string::npos);
}

}  // namespace
}  // namespace cbx::testing
