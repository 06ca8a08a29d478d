// The web console on real nodes: a prosecutor's browser (a TLS client with
// the office's certificate) registers a case through the console's form,
// and the case is then what the Office port lists and what a peer's index
// copy holds. Refusals: no certificate, a form without the session's token.
// A case registered in RS is found from MK's console: the query page is
// streamed with RS's line and a hit card, and /hit prints its record.
// A case amended in RS's console is found by its new identifier from MK,
// and no longer by the one removed. A cooperation request sent from a hit
// card in MK's console arrives at RS, and RS's console answer reaches MK.
// After MK asked RS, an auditor downloads MK's and RS's exports from their
// consoles and uploads both to MK's /audit/check: verified and reconciled
// with no orphan; a doctored copy is reported as not verified.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cbx/v1/office.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/integration/federation_ops.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Answer = http::response<http::string_body>;

class ConsoleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FederationOptions options;
    options.countries = {"MK", "RS"};
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = fed->release();
    ASSERT_TRUE(fed_->StartAll().ok());
  }
  static void TearDownTestSuite() {
    delete fed_;
    fed_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure()) fed_->DumpLogs();
  }

  static int ConsolePort(const std::string& cc) {
    const nlohmann::json config =
        nlohmann::json::parse(Slurp(fed_->NodeDir(cc) + "/node.json"));
    const std::string listen = config["console_listen"].get<std::string>();
    return std::stoi(listen.substr(listen.rfind(':') + 1));
  }

  // One request to `cc`'s console presenting its office certificate for
  // `role` (none if empty).
  static absl::StatusOr<Answer> Exchange(const std::string& cc,
                                         const std::string& role,
                                         http::request<http::string_body> req) {
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    beast::error_code ec;
    const std::string ca = Slurp(fed_->NodeDir(cc) + "/ca.crt");
    ctx.add_certificate_authority(asio::buffer(ca), ec);
    ctx.set_verify_mode(ssl::verify_peer, ec);
    if (!role.empty()) {
      const std::string cert = fed_->OfficeCertificate(cc, role);
      ctx.use_certificate_chain_file(cert, ec);
      ctx.use_private_key_file(cert.substr(0, cert.size() - 4) + ".key",
                               ssl::context::pem, ec);
    }
    ssl::stream<tcp::socket> stream(io, ctx);
    stream.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), ConsolePort(cc)),
        ec);
    if (ec) return absl::UnavailableError(ec.message());
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) return absl::UnavailableError("handshake: " + ec.message());
    req.version(11);
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    http::write(stream, req, ec);
    if (ec) return absl::UnavailableError("write: " + ec.message());
    beast::flat_buffer buffer;
    Answer answer;
    http::read(stream, buffer, answer, ec);
    if (ec) return absl::UnavailableError("read: " + ec.message());
    return answer;
  }

  // Whether MK's Office.Query for the Telegram username `account`, asked
  // under MK's open case `purpose`, gets a case from RS.
  static bool RsHolds(const std::string& purpose, const std::string& account) {
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram(account);
    req.mutable_purpose()->set_case_number(purpose);
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    req.add_peers("RS");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(20)));
    auto reader = fed_->Office("MK")->Query(&ctx, req);
    v1::QueryEvent event;
    bool hit = false;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().references_size() > 0)
        hit = true;
    }
    return reader->Finish().ok() && hit;
  }

  // Polls RsHolds once a second (each poll is a query of RS, under its
  // daily quota) until it is `want` or 30 s pass.
  static bool WaitForRs(const std::string& account, bool want) {
    return WaitUntil(
        [&] {
          if (RsHolds("MK-2026-0902", account) == want) return true;
          std::this_thread::sleep_for(std::chrono::seconds(1));
          return false;
        },
        std::chrono::seconds(30));
  }

  static Federation* fed_;
};

Federation* ConsoleTest::fed_ = nullptr;

TEST_F(ConsoleTest, ProsecutorRegistersACaseThatPeersThenHold) {
  absl::StatusOr<Answer> form = Exchange(
      "MK", "prosecutor",
      http::request<http::string_body>(http::verb::get, "/cases/new", 11));
  ASSERT_TRUE(form.ok()) << form.status();
  ASSERT_EQ(form->result_int(), 200) << form->body();
  EXPECT_NE(form->body().find("MK/"), std::string::npos);
  std::string cookie(form->base()[http::field::set_cookie]);
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string& page = form->body();
  const std::string marker = "name=\"form_token\" value=\"";
  const size_t at = page.find(marker);
  ASSERT_NE(at, std::string::npos);
  const std::string token = page.substr(at + marker.size(), 64);

  auto post = [&](const std::string& body) {
    http::request<http::string_body> req(http::verb::post, "/cases", 11);
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set(http::field::cookie, cookie);
    req.body() = body;
    return Exchange("MK", "prosecutor", req);
  };
  const std::string fields =
      "case_number=MK-2026-0900&contact_point=%2B389+2+000+000"
      "&offence=1&role=3&id_type_0=2&id_value_0=%40console_case_user";
  // Without the session's form token: refused, nothing stored.
  absl::StatusOr<Answer> forged = post(fields);
  ASSERT_TRUE(forged.ok()) << forged.status();
  EXPECT_EQ(forged->result_int(), 403);

  absl::StatusOr<Answer> added = post(fields + "&form_token=" + token);
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_EQ(added->result_int(), 303) << added->body();
  EXPECT_EQ(added->base()[http::field::location], "/case?number=MK-2026-0900");

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(10)));
  v1::ListCasesResponse cases;
  ASSERT_TRUE(
      fed_->Office("MK")->ListCases(&ctx, v1::ListCasesRequest(), &cases).ok());
  ASSERT_EQ(cases.cases_size(), 1);
  EXPECT_EQ(cases.cases(0).case_number(), "MK-2026-0900");
  EXPECT_EQ(cases.cases(0).identifiers(0).value(), "console_case_user");
  // Published like any case: RS's copy of MK's index holds its one tag.
  EXPECT_TRUE(fed_->WaitForIndex("RS", {{"MK", 1}}).ok());
}

// The session cookie and form token a GET of `target` on MK's console
// opens.
std::pair<std::string, std::string> SessionOf(const Answer& a) {
  std::string cookie(a.base()[http::field::set_cookie]);
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string marker = "name=\"form_token\" value=\"";
  const size_t at = a.body().find(marker);
  if (at == std::string::npos) return {cookie, ""};
  return {cookie, a.body().substr(at + marker.size(), 64)};
}

TEST_F(ConsoleTest, QueryFromTheConsoleStreamsRsAnswerAndItsHitCard) {
  // RS registers the case; MK's office has an open case to ask under.
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "RS", "RS-2026-0077", "@rs_console_target").ok());
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "MK", "MK-2026-0901", "@mk_own_user").ok());
  ASSERT_TRUE(fed_->WaitForIndex("MK", {{"RS", 1}}).ok());

  absl::StatusOr<Answer> form =
      Exchange("MK", "prosecutor",
               http::request<http::string_body>(http::verb::get, "/query", 11));
  ASSERT_TRUE(form.ok()) << form.status();
  ASSERT_EQ(form->result_int(), 200) << form->body();
  EXPECT_NE(form->body().find("<option value=\"MK-2026-0901\">"),
            std::string::npos);
  EXPECT_NE(form->body().find("name=\"peer\" value=\"RS\" checked"),
            std::string::npos);
  const auto [cookie, token] = SessionOf(*form);
  ASSERT_EQ(token.size(), 64u);

  http::request<http::string_body> ask(http::verb::post, "/query", 11);
  ask.set(http::field::content_type, "application/x-www-form-urlencoded");
  ask.set(http::field::cookie, cookie);
  ask.body() = absl::StrCat(
      "case_number=MK-2026-0901&legal_basis=MLA-Convention-1959+Art.1"
      "&offence=1&q_type_0=0&q_value_0=t.me%2FRS_Console_Target"
      "&peers_shown=1&peer=RS&form_token=",
      token);
  absl::StatusOr<Answer> page = Exchange("MK", "prosecutor", ask);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->result_int(), 200) << page->body();
  EXPECT_TRUE(page->chunked());
  const std::string& body = page->body();
  const size_t line = body.find("<strong>RS</strong>: <strong>found a case");
  const size_t summary = body.find("<h2>Summary</h2>");
  const size_t card = body.find("<section class=\"hit\">");
  ASSERT_NE(line, std::string::npos) << body;
  ASSERT_NE(summary, std::string::npos) << body;
  ASSERT_NE(card, std::string::npos) << body;
  EXPECT_LT(line, summary);
  EXPECT_LT(summary, card);
  EXPECT_NE(body.find("its index copy was"), std::string::npos);
  // The matched value as the office typed it, and the peer's office.
  EXPECT_NE(body.find("<td>t.me/RS_Console_Target</td>"), std::string::npos)
      << body;
  EXPECT_NE(body.find("RS/"), std::string::npos);
  EXPECT_NE(body.find("</html>"), std::string::npos);

  // The card's printable record.
  const std::string link = "href=\"/hit?id=";
  const size_t at = body.find(link, card);
  ASSERT_NE(at, std::string::npos);
  const std::string target =
      body.substr(at + 6, body.find('"', at + 6) - at - 6);
  absl::StatusOr<Answer> record =
      Exchange("MK", "prosecutor",
               http::request<http::string_body>(http::verb::get, target, 11));
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->result_int(), 200) << record->body();
  EXPECT_NE(record->body().find("Record of a hit"), std::string::npos);
  EXPECT_NE(record->body().find("Asked under your case</th><td>MK-2026-0901"),
            std::string::npos);
  EXPECT_NE(record->body().find("t.me/RS_Console_Target"), std::string::npos);
  // The hit is also on /hits, grouped per RS case.
  absl::StatusOr<Answer> hits =
      Exchange("MK", "prosecutor",
               http::request<http::string_body>(http::verb::get, "/hits", 11));
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_NE(hits->body().find("t.me/RS_Console_Target"), std::string::npos);
}

// The language chooser on a real node: the choice kept in node.db's
// settings, a new session of the same certificate in it whatever the
// browser asks for (spec/web-console.md §5).
TEST_F(ConsoleTest, ChosenLanguageIsKeptForTheNextSession) {
  http::request<http::string_body> get(http::verb::get, "/", 11);
  get.set(http::field::accept_language, "sq");
  absl::StatusOr<Answer> home = Exchange("RS", "prosecutor", get);
  ASSERT_TRUE(home.ok()) << home.status();
  ASSERT_EQ(home->result_int(), 200) << home->body();
  EXPECT_NE(home->body().find("<html lang=\"sq\">"), std::string::npos);
  std::string cookie(home->base()[http::field::set_cookie]);
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string marker = "name=\"form_token\" value=\"";
  const size_t at = home->body().find(marker);
  ASSERT_NE(at, std::string::npos);
  const std::string token = home->body().substr(at + marker.size(), 64);

  http::request<http::string_body> choose(http::verb::post, "/language", 11);
  choose.set(http::field::content_type, "application/x-www-form-urlencoded");
  choose.set(http::field::cookie, cookie);
  choose.body() = "language=sr-Latn&return_to=%2Fcases&form_token=" + token;
  absl::StatusOr<Answer> chosen = Exchange("RS", "prosecutor", choose);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  ASSERT_EQ(chosen->result_int(), 303) << chosen->body();
  EXPECT_EQ(chosen->base()[http::field::location], "/cases");

  absl::StatusOr<Answer> later = Exchange("RS", "prosecutor", get);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_NE(later->body().find("<html lang=\"sr-Latn\">"), std::string::npos)
      << later->body();
  EXPECT_NE(later->body().find(">Početna</a>"), std::string::npos);
}

TEST_F(ConsoleTest, CaseAmendedInTheConsoleIsFoundByItsNewIdentifier) {
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "RS", "RS-2026-0100", "@rs_before_amend").ok());
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "MK", "MK-2026-0902", "@mk_amend_purpose").ok());
  ASSERT_TRUE(WaitForRs("@rs_before_amend", true));

  absl::StatusOr<Answer> form =
      Exchange("RS", "prosecutor",
               http::request<http::string_body>(
                   http::verb::get, "/cases/amend?number=RS-2026-0100", 11));
  ASSERT_TRUE(form.ok()) << form.status();
  ASSERT_EQ(form->result_int(), 200) << form->body();
  EXPECT_NE(form->body().find("name=\"cur_0\" value=\"2:rs_before_amend\""),
            std::string::npos)
      << form->body();
  const auto [cookie, token] = SessionOf(*form);
  ASSERT_EQ(token.size(), 64u);

  http::request<http::string_body> amend(http::verb::post, "/cases/amend", 11);
  amend.set(http::field::content_type, "application/x-www-form-urlencoded");
  amend.set(http::field::cookie, cookie);
  amend.body() = absl::StrCat(
      "case_number=RS-2026-0100&cur_0=2%3Ars_before_amend&remove_0=1"
      "&add_type_0=0&add_value_0=%40RS_Added_By_Amend&form_token=",
      token);
  absl::StatusOr<Answer> amended = Exchange("RS", "prosecutor", amend);
  ASSERT_TRUE(amended.ok()) << amended.status();
  ASSERT_EQ(amended->result_int(), 303) << amended->body();
  EXPECT_EQ(amended->base()[http::field::location],
            "/case?number=RS-2026-0100");

  // RS's index follows the change and MK's copy of it follows RS.
  EXPECT_TRUE(WaitForRs("t.me/rs_added_by_amend", true));
  EXPECT_FALSE(RsHolds("MK-2026-0902", "@rs_before_amend"));
}

TEST_F(ConsoleTest, RequestSentFromMkConsoleIsAnsweredInRsConsole) {
  // A GET of `target` on `cc`'s console as its prosecutor.
  auto Get = [](const std::string& cc, const std::string& target) {
    return Exchange(
        cc, "prosecutor",
        http::request<http::string_body>(http::verb::get, target, 11));
  };
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "RS", "RS-2026-0200", "@rs_coop_target").ok());
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "MK", "MK-2026-0903", "@mk_coop_own").ok());
  // MK's query hits once MK's copy of RS's index holds the case: MK
  // stores the hit, RS the notification that it gave MK the reference.
  ASSERT_TRUE(WaitUntil(
      [] {
        if (RsHolds("MK-2026-0903", "@rs_coop_target")) return true;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return false;
      },
      std::chrono::seconds(30)));

  // From the hit card to the send form.
  absl::StatusOr<Answer> hits = Get("MK", "/hits");
  ASSERT_TRUE(hits.ok()) << hits.status();
  const std::string link = "href=\"/requests/new?hit=";
  const size_t at = hits->body().find(link);
  ASSERT_NE(at, std::string::npos) << hits->body();
  const size_t from = at + 6;
  absl::StatusOr<Answer> form =
      Get("MK", hits->body().substr(from, hits->body().find('"', from) - from));
  ASSERT_TRUE(form.ok()) << form.status();
  ASSERT_EQ(form->result_int(), 200) << form->body();
  const auto [mk_cookie, mk_token] = SessionOf(*form);
  ASSERT_EQ(mk_token.size(), 64u);
  auto hidden = [&](const std::string& name) {
    const std::string marker = "name=\"" + name + "\" value=\"";
    const size_t v = form->body().find(marker);
    if (v == std::string::npos) return std::string();
    const size_t start = v + marker.size();
    return form->body().substr(start, form->body().find('"', start) - start);
  };
  http::request<http::string_body> send(http::verb::post, "/requests", 11);
  send.set(http::field::content_type, "application/x-www-form-urlencoded");
  send.set(http::field::cookie, mk_cookie);
  send.body() = absl::StrCat(
      "hit=", hidden("hit"), "&case_token=", hidden("case_token"),
      "&case_number=", hidden("case_number"),
      "&type=1&legal_basis=Budapest+Convention+Art.+25&form_token=", mk_token);
  absl::StatusOr<Answer> sent = Exchange("MK", "prosecutor", send);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->result_int(), 303) << sent->body();
  const std::string location(sent->base()[http::field::location]);
  ASSERT_EQ(location.rfind("/request?id=", 0), 0u) << location;
  const std::string id = location.substr(12);

  // RS's office finds it received, and answers it in its console.
  absl::StatusOr<Answer> listed = Get("RS", "/requests");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_NE(listed->body().find(id.substr(0, 8)), std::string::npos)
      << listed->body();
  // (In the language RS's clerk chose in an earlier test: the peer and
  // its office are the check.)
  EXPECT_NE(listed->body().find("MK (MK/"), std::string::npos);
  absl::StatusOr<Answer> record = Get("RS", location);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_NE(record->body().find("action=\"/requests/respond\""),
            std::string::npos)
      << record->body();
  const auto [rs_cookie, rs_token] = SessionOf(*record);
  http::request<http::string_body> respond(http::verb::post,
                                           "/requests/respond", 11);
  respond.set(http::field::content_type, "application/x-www-form-urlencoded");
  respond.set(http::field::cookie, rs_cookie);
  respond.body() = absl::StrCat("id=", id, "&outcome=1&form_token=", rs_token);
  absl::StatusOr<Answer> answered = Exchange("RS", "prosecutor", respond);
  ASSERT_TRUE(answered.ok()) << answered.status();
  ASSERT_EQ(answered->result_int(), 303) << answered->body();

  // The answer reached MK's node: its console shows it.
  absl::StatusOr<Answer> mk_record = Get("MK", location);
  ASSERT_TRUE(mk_record.ok()) << mk_record.status();
  EXPECT_NE(mk_record->body().find("answered: Done"), std::string::npos)
      << mk_record->body();
}

// The body of /audit/check's form with `files` (input name, file name,
// content) and the session's form token, as a browser sends it.
http::request<http::string_body> CheckUpload(
    const std::string& cookie, const std::string& token,
    const std::vector<std::tuple<std::string, std::string, std::string>>&
        files) {
  const std::string boundary = "----cbxE2eBoundary";
  http::request<http::string_body> req(http::verb::post, "/audit/check", 11);
  req.set(http::field::content_type,
          "multipart/form-data; boundary=" + boundary);
  req.set(http::field::cookie, cookie);
  std::string body = absl::StrCat(
      "--", boundary,
      "\r\nContent-Disposition: form-data; name=\"form_token\"\r\n\r\n", token,
      "\r\n");
  for (const auto& [name, file, content] : files) {
    absl::StrAppend(
        &body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"",
        name, "\"; filename=\"", file,
        "\"\r\nContent-Type: application/json\r\n\r\n", content, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary, "--\r\n");
  req.body() = std::move(body);
  return req;
}

// Issue 14: reconciliation in the console. MK asks RS; MK's and RS's
// exports, each downloaded from its own console, are uploaded together to
// MK's /audit/check and reconciled with no orphan; a doctored copy of RS's
// export is reported as not verified, naming its entry.
TEST_F(ConsoleTest, AuditorReconcilesMkAndRsExportsInTheConsole) {
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "RS", "RS-2026-0500", "@rs_audited_case").ok());
  ASSERT_TRUE(
      AddTelegramCase(*fed_, "MK", "MK-2026-0500", "@mk_audit_own").ok());
  // Once MK's copy of RS's index holds the case, MK's query finds it.
  ASSERT_TRUE(WaitUntil(
      [] {
        if (RsHolds("MK-2026-0500", "rs_audited_case")) return true;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return false;
      },
      std::chrono::seconds(30)));

  absl::StatusOr<Answer> form = Exchange(
      "MK", "auditor",
      http::request<http::string_body>(http::verb::get, "/audit/check", 11));
  ASSERT_TRUE(form.ok()) << form.status();
  ASSERT_EQ(form->result_int(), 200) << form->body();
  EXPECT_NE(form->body().find("enctype=\"multipart/form-data\""),
            std::string::npos);
  const auto [cookie, token] = SessionOf(*form);
  ASSERT_EQ(token.size(), 64u);

  auto download = [](const std::string& cc) -> std::string {
    absl::StatusOr<Answer> a = Exchange(
        cc, "auditor",
        http::request<http::string_body>(http::verb::get, "/audit/export", 11));
    if (!a.ok() || a->result_int() != 200) return "";
    EXPECT_NE(std::string(a->base()[http::field::content_disposition])
                  .find("attachment; filename=\"cbx-audit-" + cc + "-0-"),
              std::string::npos);
    return a->body();
  };
  // The query's entries are in both exports once a witnessed checkpoint
  // of each log covers them (checkpoints every 2 s, cosigned within 1 s).
  std::string page, mk, rs;
  const bool matched = WaitUntil(
      [&] {
        mk = download("MK");
        rs = download("RS");
        absl::StatusOr<Answer> a = Exchange(
            "MK", "auditor",
            CheckUpload(cookie, token,
                        {{"export", "mk.json", mk}, {"other", "rs.json", rs}}));
        page = a.ok() ? a->body() : "";
        if (page.find("Reconciled:") != std::string::npos &&
            page.find("<dt>Matched pairs</dt><dd>0</dd>") ==
                std::string::npos) {
          return true;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return false;
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(matched) << page;
  for (const char* want :
       {"First export: mk.json", "Second export: rs.json",
        "Verified: every entry", "<code>cbx/MK/audit", "<code>cbx/RS/audit",
        "Orphans inside the other export's range (0)", "Reconciliation"}) {
    EXPECT_NE(page.find(want), std::string::npos) << want << "\n" << page;
  }
  EXPECT_EQ(page.find("Not reconciled"), std::string::npos);

  // RS's export with one leaf byte changed: not verified, naming its entry.
  const std::string leaf = "\"leaf_hex\":\"";
  const size_t at = rs.find(leaf, rs.find("\"index\":1,"));
  ASSERT_NE(at, std::string::npos);
  std::string doctored = rs;
  char& c = doctored[at + leaf.size() + 10];
  c = c == '0' ? '1' : '0';
  absl::StatusOr<Answer> refused = Exchange(
      "MK", "auditor",
      CheckUpload(cookie, token,
                  {{"export", "mk.json", mk}, {"other", "rs.json", doctored}}));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->result_int(), 422) << refused->body();
  EXPECT_NE(refused->body().find("<code>rs.json</code> does not verify:"),
            std::string::npos)
      << refused->body();
  EXPECT_NE(refused->body().find("entry 1"), std::string::npos);
  EXPECT_EQ(refused->body().find("Reconciled:"), std::string::npos);
}

TEST_F(ConsoleTest, BrowserWithoutACertificateIsNotServed) {
  absl::StatusOr<Answer> a = Exchange(
      "MK", "", http::request<http::string_body>(http::verb::get, "/", 11));
  EXPECT_FALSE(a.ok());
}

TEST_F(ConsoleTest, AuditorIsToldCasesAreForProsecutors) {
  absl::StatusOr<Answer> a =
      Exchange("MK", "auditor",
               http::request<http::string_body>(http::verb::get, "/cases", 11));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 403);
  EXPECT_NE(a->body().find("role is auditor"), std::string::npos);
}

}  // namespace
}  // namespace cbx::testing
