// The console's language per person: the choice remembered in node.db's
// settings across sessions and restarts, per person (or office and role),
// the browser's Accept-Language otherwise; POST /language refusing an
// unknown language, a way back off this site, and (over HTTPS, through
// the real server) a form without the session's token.
#include "node/console_language.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"
#include "node/console_pages.h"
#include "node/storage/memory_storage.h"

namespace cbx::node {
namespace {

using console::Request;
using console::Response;

constexpr char kSkopje[] = "MK/PPO-Skopje";

Request As(const std::string& person, const std::string& accept = "",
           const std::string& role = "prosecutor") {
  Request r;
  r.caller = console::Caller{kSkopje, role, person};
  r.session.form_token = std::string(64, 'f');
  r.accept_language = accept;
  r.method = "GET";
  r.path = "/";
  return r;
}

class ConsoleLanguageTest : public ::testing::Test {
 protected:
  ConsoleLanguageTest() { language_.AddRoutes(routes_); }

  Response Choose(Request r, const std::string& encoded) {
    r.method = "POST";
    r.path = "/language";
    absl::StatusOr<console::Form> form = console::ParseForm(encoded);
    EXPECT_TRUE(form.ok());
    r.form = *form;
    std::optional<Response> answer;
    routes_.at({"POST", "/language"})(
        r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  std::optional<Bytes> Stored(const console::Caller& c) {
    absl::StatusOr<std::optional<Bytes>> got =
        storage_.GetSetting(ConsoleLanguage::Key(c));
    EXPECT_TRUE(got.ok());
    return got.ok() ? *got : std::nullopt;
  }

  static bool Inline(std::function<void()> work) {
    work();
    return true;
  }

  MemoryStorage storage_;
  ConsoleLanguage language_{"MK", &storage_, Inline};
  std::map<std::pair<std::string, std::string>, console::Handler> routes_;
};

TEST_F(ConsoleLanguageTest, AChoiceIsRememberedPerPersonAcrossSessions) {
  const Request ana = As("mk-0001", "en");
  EXPECT_EQ(language_.For(ana), i18n::Lang::kEn);
  Response chosen = Choose(ana, "language=sq&return_to=%2Fcases%3Fclosed%3D1");
  EXPECT_EQ(chosen.location, "/cases?closed=1");
  EXPECT_EQ(Stored(ana.caller), "sq");

  // Another session of the same certificate, on a node restarted since
  // (a new ConsoleLanguage over the same node.db): still Albanian, whatever
  // the browser says.
  ConsoleLanguage restarted{"MK", &storage_, Inline};
  Request again = As("mk-0001", "hr, en;q=0.5");
  again.session.form_token = std::string(64, 'a');
  EXPECT_EQ(restarted.For(again), i18n::Lang::kSq);
  EXPECT_NE(restarted.Frame(again, "t").form_token, "");

  // Another person of the same office has their own: their browser's
  // until they choose, then their choice; Ana's stays hers.
  const Request boris = As("mk-0002", "sr-RS, sr;q=0.9");
  EXPECT_EQ(restarted.For(boris), i18n::Lang::kSr);
  EXPECT_EQ(Choose(boris, "language=SR_latn&return_to=%2F").location, "/");
  EXPECT_EQ(Stored(boris.caller), "sr-Latn");
  EXPECT_EQ(language_.For(boris), i18n::Lang::kSrLatn);
  EXPECT_EQ(language_.For(ana), i18n::Lang::kSq);

  // A certificate naming no person: the office and its role.
  const Request desk = As("", "mk");
  EXPECT_EQ(ConsoleLanguage::Key(desk.caller),
            "console.language/MK/PPO-Skopje/role/prosecutor");
  EXPECT_EQ(ConsoleLanguage::Key(ana.caller),
            "console.language/MK/PPO-Skopje/person/mk-0001");
  EXPECT_EQ(language_.For(desk), i18n::Lang::kMk);
  EXPECT_EQ(Choose(desk, "language=cnr").location, "/");
  EXPECT_EQ(language_.For(As("", "en")), i18n::Lang::kCnr);
  EXPECT_EQ(language_.For(As("", "en", "auditor")), i18n::Lang::kEn);
}

TEST_F(ConsoleLanguageTest, TheBrowsersLanguagesWithoutAChoice) {
  for (const auto& [header, want] :
       std::vector<std::pair<std::string, i18n::Lang>>{
           {"", i18n::Lang::kEn},
           {"de-AT, de;q=0.9", i18n::Lang::kEn},
           {"sr-Latn", i18n::Lang::kSrLatn},
           {"sr-RS", i18n::Lang::kSr},
           {"en;q=0.3, sl;q=0.7, hr;q=0.6", i18n::Lang::kSl},
           {"xx-YY, bs-BA;q=0.2", i18n::Lang::kBs}}) {
    EXPECT_EQ(language_.For(As("mk-0003", header)), want) << header;
  }
  // A stored language the catalog no longer has counts as none.
  ASSERT_TRUE(
      storage_.PutSetting(ConsoleLanguage::Key(As("mk-0004").caller), "de")
          .ok());
  EXPECT_EQ(language_.For(As("mk-0004", "hr")), i18n::Lang::kHr);
}

TEST_F(ConsoleLanguageTest, AnUnknownLanguageIsRefusedAndNothingStored) {
  const Request ana = As("mk-0001", "mk");
  for (const std::string& body :
       std::vector<std::string>{"language=de&return_to=%2F", "return_to=%2F",
                                "language=&x=1", "language=sr-Cyrl"}) {
    Response r = Choose(ana, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.location, "");
    // Said in the page's language.
    EXPECT_NE(r.body.find("Во оваа конзола нема јазик"), std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("<html lang=\"mk\">"), std::string::npos);
  }
  EXPECT_EQ(Stored(ana.caller), std::nullopt);
}

TEST_F(ConsoleLanguageTest, AWayBackOffThisConsoleIsRefused) {
  const Request ana = As("mk-0001");
  for (const std::string& back : std::vector<std::string>{
           "%2F%2Fevil.example%2Fx", "https%3A%2F%2Fevil.example%2F",
           "%2F%5Cevil.example", "evil.example", "%2Fok%0D%0ALocation%3A+x",
           "%2Fa+b", "javascript%3Aalert(1)"}) {
    Response r = Choose(ana, "language=hr&return_to=" + back);
    EXPECT_EQ(r.status, 400) << back;
    EXPECT_EQ(r.location, "") << back;
    EXPECT_NE(r.body.find("must be a page of this console"), std::string::npos);
  }
  EXPECT_EQ(Stored(ana.caller), std::nullopt);
  EXPECT_TRUE(ConsoleLanguage::SameSitePath("/case?number=MK-1%2F2&x=y"));
  EXPECT_FALSE(ConsoleLanguage::SameSitePath("//x"));
  EXPECT_FALSE(ConsoleLanguage::SameSitePath(""));
}

TEST_F(ConsoleLanguageTest, AStoppingNodeStoresNothing) {
  ConsoleLanguage stopping{"MK", &storage_,
                           [](std::function<void()>) { return false; }};
  std::map<std::pair<std::string, std::string>, console::Handler> routes;
  stopping.AddRoutes(routes);
  Request r = As("mk-0001");
  r.method = "POST";
  r.form = *console::ParseForm("language=sl&return_to=%2F");
  std::optional<Response> answer;
  routes.at({"POST", "/language"})(r, [&](Response a) { answer = a; });
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503);
  EXPECT_EQ(Stored(r.caller), std::nullopt);
}

// Through the real HTTPS server: the page frame's chooser, its POST
// refused without the session's form token, and the choice kept for a new
// session of the same certificate.
class ConsoleLanguageHttpsTest : public ::testing::Test {
 protected:
  using Answer = boost::beast::http::response<boost::beast::http::string_body>;
  using HttpRequest =
      boost::beast::http::request<boost::beast::http::string_body>;

  void SetUp() override {
    using crypto::testing::IssueTestCertificate;
    using crypto::testing::MakeTestCa;
    node_ca_ = MakeTestCa("MK node CA", kFrom, kTo);
    office_ca_ = MakeTestCa("MK office CA", kFrom, kTo);
    node_ = IssueTestCertificate(node_ca_, 1, "localhost",
                                 "spiffe://cbx/member/MK", kFrom, kTo);
    ana_ = IssueTestCertificate(office_ca_, 2, "Ana", kAna, kFrom, kTo);
    console::ConsoleServer::Options options;
    options.tls = [this]() -> absl::StatusOr<console::TlsMaterial> {
      return console::TlsMaterial{node_.certificate_pem, node_.private_key_pem,
                                  office_ca_.certificate_pem, 1};
    };
    options.authenticate = [](const crypto::CertificateSummary& cert)
        -> absl::StatusOr<console::Caller> {
      for (const std::string& uri : cert.uris) {
        if (uri == kAna) return console::Caller{kSkopje, "prosecutor", "mk-1"};
      }
      return absl::UnauthenticatedError("not an office of MK");
    };
    options.now_ms = [] { return int64_t{1'750'000'000'000}; };
    std::map<std::pair<std::string, std::string>, console::Handler> routes;
    language_.AddRoutes(routes);
    routes[{"GET", "/"}] = [this](const Request& r, console::Reply reply) {
      reply(Response{200, "text/html; charset=utf-8",
                     console::Page(language_.Frame(r, "home"), ""), ""});
    };
    absl::StatusOr<std::unique_ptr<console::ConsoleServer>> server =
        console::ConsoleServer::Start(io_, "127.0.0.1:0", std::move(routes),
                                      options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    boost::asio::post(io_, [this] { server_.reset(); });
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  absl::StatusOr<Answer> Exchange(HttpRequest req) {
    namespace asio = boost::asio;
    namespace ssl = boost::asio::ssl;
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    boost::beast::error_code ec;
    ctx.add_certificate_authority(asio::buffer(node_ca_.certificate_pem), ec);
    ctx.set_verify_mode(ssl::verify_peer, ec);
    ctx.use_certificate_chain(asio::buffer(ana_.certificate_pem), ec);
    ctx.use_private_key(asio::buffer(ana_.private_key_pem), ssl::context::pem,
                        ec);
    ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
    stream.next_layer().connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                server_->port()),
        ec);
    if (!ec) stream.handshake(ssl::stream_base::client, ec);
    if (ec) return absl::UnavailableError(ec.message());
    req.version(11);
    req.set(boost::beast::http::field::host, "localhost");
    req.prepare_payload();
    boost::beast::http::write(stream, req, ec);
    boost::beast::flat_buffer buffer;
    Answer answer;
    if (!ec) boost::beast::http::read(stream, buffer, answer, ec);
    if (ec) return absl::UnavailableError(ec.message());
    return answer;
  }

  // GET / in a new session with `accept`: the page, its session cookie
  // and the chooser's form token.
  struct Page {
    std::string body, cookie, token;
  };
  Page Home(const std::string& accept) {
    HttpRequest req(boost::beast::http::verb::get, "/", 11);
    req.set(boost::beast::http::field::accept_language, accept);
    absl::StatusOr<Answer> a = Exchange(req);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return {};
    Page page{a->body(),
              std::string(a->base()[boost::beast::http::field::set_cookie]),
              ""};
    page.cookie = page.cookie.substr(0, page.cookie.find(';'));
    const std::string field = "name=\"form_token\" value=\"";
    const size_t at = page.body.find(field);
    if (at != std::string::npos)
      page.token = page.body.substr(at + field.size(), 64);
    return page;
  }

  absl::StatusOr<Answer> Post(const std::string& cookie,
                              const std::string& body) {
    HttpRequest req(boost::beast::http::verb::post, "/language", 11);
    req.set(boost::beast::http::field::content_type,
            "application/x-www-form-urlencoded");
    req.set(boost::beast::http::field::cookie, cookie);
    req.body() = body;
    return Exchange(req);
  }

  static constexpr int64_t kFrom = 1'700'000'000;
  static constexpr int64_t kTo = 2'000'000'000;
  static constexpr char kAna[] =
      "spiffe://cbx/office/MK/PPO-Skopje/prosecutor/mk-1";
  crypto::testing::TestKeyPair node_ca_, office_ca_, node_, ana_;
  MemoryStorage storage_;
  ConsoleLanguage language_{"MK", &storage_, [](std::function<void()> work) {
                              work();
                              return true;
                            }};
  boost::asio::io_context io_;
  std::optional<
      boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      work_{boost::asio::make_work_guard(io_)};
  std::thread thread_;
  std::unique_ptr<console::ConsoleServer> server_;
};

TEST_F(ConsoleLanguageHttpsTest, ChooserPostNeedsTheTokenAndTheChoiceStays) {
  Page first = Home("sq-AL, en;q=0.5");
  EXPECT_NE(first.body.find("<html lang=\"sq\">"), std::string::npos);
  ASSERT_EQ(first.token.size(), 64u) << first.body;
  const console::Caller ana{kSkopje, "prosecutor", "mk-1"};

  // Without the form token, or with another: 403, nothing stored.
  for (const std::string& body :
       {std::string("language=mk&return_to=%2F"),
        "language=mk&return_to=%2F&form_token=" + std::string(64, '0')}) {
    absl::StatusOr<Answer> refused = Post(first.cookie, body);
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_EQ(refused->result_int(), 403) << body;
    EXPECT_EQ(*storage_.GetSetting(ConsoleLanguage::Key(ana)), std::nullopt);
  }

  absl::StatusOr<Answer> chosen =
      Post(first.cookie, "language=mk&return_to=%2F&form_token=" + first.token);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ(chosen->result_int(), 303);
  EXPECT_EQ(chosen->base()[boost::beast::http::field::location], "/");

  // A new session (no cookie) of the same certificate: Macedonian.
  Page later = Home("sq-AL, en;q=0.5");
  EXPECT_NE(later.cookie, first.cookie);
  EXPECT_NE(later.body.find("<html lang=\"mk\">"), std::string::npos);
  EXPECT_NE(later.body.find("<option value=\"mk\" lang=\"mk\" selected>"
                            "македонски</option>"),
            std::string::npos);
}

}  // namespace
}  // namespace cbx::node
