#include "node/console/console_server.h"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"

namespace cbx::node::console {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using crypto::testing::IssueTestCertificate;
using crypto::testing::MakeTestCa;
using crypto::testing::TestKeyPair;
using tcp = asio::ip::tcp;

constexpr int64_t kFrom = 1'700'000'000;
constexpr int64_t kTo = 2'000'000'000;
constexpr char kSkopje[] = "spiffe://cbx/office/MK/PPO-Skopje/prosecutor";
constexpr char kOhrid[] = "spiffe://cbx/office/MK/PPO-Ohrid/prosecutor";

using Answer = http::response<http::string_body>;

constexpr uint64_t kMaxUpload = 1024 * 1024;
constexpr char kBoundary[] = "----cbxUpload7";

// A multipart/form-data request to `target`, as a browser sends a form
// with `token` (none if empty) and one file of `file` bytes.
http::request<http::string_body> MultipartPost(const std::string& target,
                                               const std::string& cookie,
                                               const std::string& token,
                                               const std::string& file) {
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::content_type,
          absl::StrCat("multipart/form-data; boundary=", kBoundary));
  if (!cookie.empty()) req.set(http::field::cookie, cookie);
  std::string body;
  if (!token.empty()) {
    absl::StrAppend(&body, "--", kBoundary,
                    "\r\nContent-Disposition: form-data; "
                    "name=\"form_token\"\r\n\r\n",
                    token, "\r\n");
  }
  absl::StrAppend(&body, "--", kBoundary,
                  "\r\nContent-Disposition: form-data; name=\"export\"; "
                  "filename=\"mk.json\"\r\nContent-Type: "
                  "application/json\r\n\r\n",
                  file, "\r\n--", kBoundary, "--\r\n");
  req.body() = std::move(body);
  return req;
}

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ca_ = MakeTestCa("MK node CA", kFrom, kTo);
    office_ca_ = MakeTestCa("MK office CA", kFrom, kTo);
    node_ = IssueTestCertificate(node_ca_, 1, "localhost",
                                 "spiffe://cbx/member/MK", kFrom, kTo);
    skopje_ =
        IssueTestCertificate(office_ca_, 2, "Skopje", kSkopje, kFrom, kTo);
    ohrid_ = IssueTestCertificate(office_ca_, 3, "Ohrid", kOhrid, kFrom, kTo);
    // An office certificate of the right form whose office the node does
    // not accept (authenticate refuses it).
    serbia_ = IssueTestCertificate(office_ca_, 4, "Beograd",
                                   "spiffe://cbx/office/RS/VJT/prosecutor",
                                   kFrom, kTo);
  }
  void TearDown() override {
    for (std::thread& t : producers_) t.join();
    if (server_ != nullptr) {
      asio::post(io_, [this] { server_.reset(); });
    }
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  void StartServer(SessionStore::Options sessions = {},
                   uint32_t max_body = 64 * 1024,
                   uint32_t max_stream_buffer = 1024 * 1024) {
    ConsoleServer::Options options;
    options.sessions = sessions;
    options.max_body_bytes = max_body;
    options.upload_paths = {"/upload"};
    options.max_upload_bytes = kMaxUpload;
    options.max_stream_buffer_bytes = max_stream_buffer;
    options.tls = [this]() -> absl::StatusOr<TlsMaterial> {
      return TlsMaterial{node_.certificate_pem, node_.private_key_pem,
                         office_ca_.certificate_pem, 1};
    };
    options.authenticate =
        [](const crypto::CertificateSummary& cert) -> absl::StatusOr<Caller> {
      for (const std::string& uri : cert.uris) {
        if (uri == kSkopje) return Caller{"MK/PPO-Skopje", "prosecutor", ""};
        if (uri == kOhrid) return Caller{"MK/PPO-Ohrid", "prosecutor", "mk-77"};
      }
      return absl::UnauthenticatedError(
          "office certificate is for country RS, this node is MK");
    };
    options.now_ms = [this] { return now_ms_.load(); };
    std::map<std::pair<std::string, std::string>, Handler> routes;
    routes[{"GET", "/"}] = [this](const Request& r, Reply reply) {
      ++handled_;
      last_ = r;
      reply(Response{200, "text/html; charset=utf-8",
                     absl::StrCat("<p>hello ", Escape(r.caller.Display()),
                                  " token=", r.session.form_token, "</p>"),
                     ""});
    };
    routes[{"POST", "/cases"}] = [this](const Request& r, Reply reply) {
      ++handled_;
      last_ = r;
      // Answered from another thread, as the node's executor would.
      std::thread([reply] { reply(Response{200, "", "", "/cases"}); }).detach();
    };
    routes[{"POST", "/upload"}] = [this](const Request& r, Reply reply) {
      ++handled_;
      last_ = r;
      reply(Response{200, "text/html; charset=utf-8", "<p>checked</p>", ""});
    };
    // A streamed answer written by producer_ on its own thread, as a
    // query's answers come from the node's executor.
    routes[{"GET", "/stream"}] = [this](const Request& r, Reply) {
      ++handled_;
      std::shared_ptr<Stream> stream = r.stream(200);
      producers_.emplace_back([this, stream] { producer_(stream); });
      ++producers_started_;
    };
    // A handler that replies and then tries to stream as well.
    routes[{"GET", "/both"}] = [this](const Request& r, Reply reply) {
      reply(Response{200, "text/html; charset=utf-8", "<p>replied</p>", ""});
      late_stream_wrote_ = r.stream(200)->Write("<p>late</p>");
    };
    absl::StatusOr<std::unique_ptr<ConsoleServer>> server =
        ConsoleServer::Start(io_, "127.0.0.1:0", std::move(routes), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }

  // A TLS connection presenting `client`, with `req` sent on it.
  struct Open {
    asio::io_context io;
    ssl::context ctx{ssl::context::tls_client};
    std::optional<ssl::stream<tcp::socket>> stream;
  };
  // A TLS connection presenting `client`, nothing sent yet.
  std::unique_ptr<Open> Connect(const TestKeyPair& client) {
    auto open = std::make_unique<Open>();
    beast::error_code ec;
    open->ctx.add_certificate_authority(asio::buffer(node_ca_.certificate_pem),
                                        ec);
    open->ctx.use_certificate_chain(asio::buffer(client.certificate_pem), ec);
    open->ctx.use_private_key(asio::buffer(client.private_key_pem),
                              ssl::context::pem, ec);
    open->stream.emplace(open->io, open->ctx);
    open->stream->next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    EXPECT_FALSE(ec) << ec.message();
    open->stream->handshake(ssl::stream_base::client, ec);
    EXPECT_FALSE(ec) << ec.message();
    return open;
  }
  std::unique_ptr<Open> Send(const TestKeyPair& client,
                             http::request<http::string_body> req) {
    std::unique_ptr<Open> open = Connect(client);
    beast::error_code ec;
    req.version(11);
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    http::write(*open->stream, req, ec);
    EXPECT_FALSE(ec) << ec.message();
    return open;
  }

  // Only the header of a POST to `path` declaring `length` bytes of
  // `type` (in `cookie`'s session), and the answer read: for a bound past
  // which the server must answer before the body is written.
  Answer HeaderOnlyPost(const std::string& path, const std::string& cookie,
                        const std::string& type, size_t length) {
    std::unique_ptr<Open> open = Connect(skopje_);
    beast::error_code ec;
    asio::write(*open->stream,
                asio::buffer(absl::StrCat(
                    "POST ", path, " HTTP/1.1\r\nHost: localhost\r\nCookie: ",
                    cookie, "\r\nContent-Type: ", type,
                    "\r\nContent-Length: ", length, "\r\n\r\n")),
                ec);
    EXPECT_FALSE(ec) << ec.message();
    beast::flat_buffer buffer;
    Answer answer;
    if (!ec) http::read(*open->stream, buffer, answer, ec);
    EXPECT_FALSE(ec) << ec.message();
    return answer;
  }

  // One request on a new connection presenting `client` (none if null).
  absl::StatusOr<Answer> Exchange(const TestKeyPair* client,
                                  http::request<http::string_body> req) {
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    beast::error_code ec;
    ctx.add_certificate_authority(asio::buffer(node_ca_.certificate_pem), ec);
    ctx.set_verify_mode(ssl::verify_peer, ec);
    if (client != nullptr) {
      ctx.use_certificate_chain(asio::buffer(client->certificate_pem), ec);
      ctx.use_private_key(asio::buffer(client->private_key_pem),
                          ssl::context::pem, ec);
    }
    ssl::stream<tcp::socket> stream(io, ctx);
    stream.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
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

  static http::request<http::string_body> Get(const std::string& target) {
    return http::request<http::string_body>(http::verb::get, target, 11);
  }
  static http::request<http::string_body> Post(const std::string& target,
                                               const std::string& cookie,
                                               const std::string& body) {
    http::request<http::string_body> req(http::verb::post, target, 11);
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    req.body() = body;
    return req;
  }

  // The session cookie ("cbx_console=<id>") and form token of a GET of /.
  std::pair<std::string, std::string> OpenSession(const TestKeyPair& who) {
    absl::StatusOr<Answer> a = Exchange(&who, Get("/"));
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return {};
    std::string cookie(a->base()[http::field::set_cookie]);
    cookie = cookie.substr(0, cookie.find(';'));
    const std::string body = a->body();
    const size_t at = body.find("token=");
    return {cookie, body.substr(at + 6, 64)};
  }

  TestKeyPair node_ca_, office_ca_, node_, skopje_, ohrid_, serbia_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_{asio::make_work_guard(io_)};
  std::thread thread_;
  std::unique_ptr<ConsoleServer> server_;
  int port_ = 0;
  std::atomic<int64_t> now_ms_{1'750'000'000'000};
  std::atomic<int> handled_{0};
  Request last_;
  std::function<void(std::shared_ptr<Stream>)> producer_;
  std::vector<std::thread> producers_;  // on the io thread; joined first
  std::atomic<bool> late_stream_wrote_{true};
  std::atomic<int> producers_started_{0};

  // Waits for the handler to have started `n` producers, then for them.
  void JoinProducers(int n) {
    while (producers_started_.load() < n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (std::thread& t : producers_) t.join();
    producers_.clear();
  }
};

TEST_F(ConsoleServerTest, PageCarriesSecurityHeadersAndASessionCookie) {
  StartServer();
  absl::StatusOr<Answer> a = Exchange(&skopje_, Get("/"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 200);
  EXPECT_NE(a->body().find("hello MK/PPO-Skopje (prosecutor)"),
            std::string::npos);
  EXPECT_EQ(a->base()["Content-Security-Policy"], kContentSecurityPolicy);
  EXPECT_EQ(a->base()["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(a->base()["X-Frame-Options"], "DENY");
  EXPECT_EQ(a->base()[http::field::cache_control], "no-store");
  EXPECT_EQ(a->base()["Referrer-Policy"], "no-referrer");
  const std::string cookie(a->base()[http::field::set_cookie]);
  EXPECT_TRUE(absl::StartsWith(cookie, "cbx_console=")) << cookie;
  EXPECT_NE(cookie.find("; Secure; HttpOnly; SameSite=Strict"),
            std::string::npos)
      << cookie;
  EXPECT_EQ(server_->sessions(), 1u);
}

TEST_F(ConsoleServerTest, StylesheetIsServedFromTheConsoleItself) {
  StartServer();
  absl::StatusOr<Answer> a = Exchange(&skopje_, Get("/console.css"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 200);
  EXPECT_EQ(a->base()[http::field::content_type], "text/css; charset=utf-8");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ConsoleServerTest, NoClientCertificateFailsTheHandshake) {
  StartServer();
  absl::StatusOr<Answer> a = Exchange(nullptr, Get("/"));
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ConsoleServerTest, CertificateOfAnotherCaFailsTheHandshake) {
  StartServer();
  const TestKeyPair stranger_ca = MakeTestCa("stranger CA", kFrom, kTo);
  const TestKeyPair stranger =
      IssueTestCertificate(stranger_ca, 9, "Skopje", kSkopje, kFrom, kTo);
  absl::StatusOr<Answer> a = Exchange(&stranger, Get("/"));
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ConsoleServerTest, CertificateTheNodeRefusesGetsA403SayingWhy) {
  StartServer();
  absl::StatusOr<Answer> a = Exchange(&serbia_, Get("/"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 403);
  EXPECT_NE(a->body().find("office certificate is for country RS"),
            std::string::npos)
      << a->body();
  EXPECT_EQ(handled_.load(), 0);
  EXPECT_EQ(server_->sessions(), 0u);
}

TEST_F(ConsoleServerTest, PostWithTheSessionsFormTokenRuns) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  ASSERT_EQ(token.size(), 64u);
  absl::StatusOr<Answer> a = Exchange(
      &skopje_,
      Post("/cases", cookie,
           absl::StrCat("number=MK-1&note=a+b%26c&form_token=", token)));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 303);
  EXPECT_EQ(a->base()[http::field::location], "/cases");
  EXPECT_EQ(handled_.load(), 2);
  EXPECT_EQ(First(last_.form, "note"), "a b&c");
  EXPECT_EQ(last_.caller.office, "MK/PPO-Skopje");
}

TEST_F(ConsoleServerTest, PostWithoutSessionOrWithAnotherTokenIsRefused) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  ASSERT_EQ(handled_.load(), 1);
  const std::string wrong(64, 'a');
  for (const auto& [c, body] : std::vector<std::pair<std::string, std::string>>{
           {"", "form_token=" + token},      // no session cookie
           {cookie, "number=MK-1"},          // no token
           {cookie, "form_token=" + wrong},  // another token
           {"cbx_console=" + std::string(64, '0'), "form_token=" + token}}) {
    absl::StatusOr<Answer> a = Exchange(&skopje_, Post("/cases", c, body));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->result_int(), 403) << c << " " << body;
    EXPECT_NE(a->body().find("This form has expired"), std::string::npos);
  }
  EXPECT_EQ(handled_.load(), 1);
}

// An upload route reads a multipart body larger than a form may be, its
// files apart from its fields; the form token is one of its parts.
TEST_F(ConsoleServerTest, UploadRouteReadsAMultipartFormPastTheFormBound) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  const std::string file(512 * 1024, 'x');
  absl::StatusOr<Answer> a =
      Exchange(&skopje_, MultipartPost("/upload", cookie, token, file));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 200) << a->body();
  EXPECT_EQ(handled_.load(), 2);
  ASSERT_NE(last_.files, nullptr);
  ASSERT_EQ(last_.files->count("export"), 1u);
  EXPECT_EQ(last_.files->at("export").filename, "mk.json");
  EXPECT_EQ(last_.files->at("export").content, file);
  EXPECT_EQ(First(last_.form, "form_token"), token);
}

// Attack: a multipart POST must carry the session's form token in its
// body, as every form does; a cookie alone is what another site's page
// would send.
TEST_F(ConsoleServerTest, UploadWithoutTheFormTokenInItsBodyIsRefused) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  for (const std::string& t : {std::string(), std::string(64, 'a')}) {
    auto req = MultipartPost("/upload", cookie, t, "{}");
    // The token elsewhere than the body does not count.
    req.target("/upload?form_token=" + token);
    absl::StatusOr<Answer> a = Exchange(&skopje_, req);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->result_int(), 403);
    EXPECT_NE(a->body().find("This form has expired"), std::string::npos);
  }
  EXPECT_EQ(handled_.load(), 1);
}

// Attack: multipart is read only where a route declares it; a malformed
// body is refused before any handler, saying what is wrong.
TEST_F(ConsoleServerTest, MultipartElsewhereOrMalformedIsRefused) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  absl::StatusOr<Answer> elsewhere =
      Exchange(&skopje_, MultipartPost("/cases", cookie, token, "{}"));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_EQ(elsewhere->result_int(), 415);

  auto unterminated = MultipartPost("/upload", cookie, token, "{}");
  unterminated.body().resize(unterminated.body().size() - 20);
  absl::StatusOr<Answer> a = Exchange(&skopje_, unterminated);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 400);
  EXPECT_NE(a->body().find("part 2: no boundary after its content"),
            std::string::npos)
      << a->body();

  auto no_boundary = MultipartPost("/upload", cookie, token, "{}");
  no_boundary.set(http::field::content_type, "multipart/form-data");
  a = Exchange(&skopje_, no_boundary);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 400);
  EXPECT_NE(a->body().find("no boundary"), std::string::npos);
  EXPECT_EQ(handled_.load(), 1);
}

// Attack: an upload past its route's bound is refused 413 as soon as its
// header says so, before the body is sent; other routes keep the form's
// bound.
TEST_F(ConsoleServerTest, UploadPastItsBoundIsRefusedBeforeItsBodyIsRead) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  (void)token;
  // Only the header is written: the answer must come without the body.
  const Answer answer =
      HeaderOnlyPost("/upload", cookie,
                     absl::StrCat("multipart/form-data; boundary=", kBoundary),
                     kMaxUpload + 1);
  EXPECT_EQ(answer.result_int(), 413);
  EXPECT_NE(answer.body().find(absl::StrCat(kMaxUpload)), std::string::npos)
      << answer.body();
  EXPECT_FALSE(answer.keep_alive());

  // A form elsewhere keeps its 64 KiB. The header alone again: the server
  // answers 413 and closes without reading the body, so a client still
  // writing one may see its connection reset first.
  EXPECT_EQ(HeaderOnlyPost("/cases", cookie,
                           "application/x-www-form-urlencoded", 70 * 1024)
                .result_int(),
            413);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ConsoleServerTest, PostFromAnotherSiteIsRefused) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  auto req = Post("/cases", cookie, "form_token=" + token);
  req.set("Sec-Fetch-Site", "cross-site");
  absl::StatusOr<Answer> a = Exchange(&skopje_, req);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 403);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ConsoleServerTest, SessionIsBoundToTheCertificateThatOpenedIt) {
  StartServer();
  auto [cookie, token] = OpenSession(skopje_);
  // Another office's browser presenting Skopje's cookie and token (stolen
  // from a shared machine, say) gets no session.
  absl::StatusOr<Answer> a =
      Exchange(&ohrid_, Post("/cases", cookie, "form_token=" + token));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 403);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ConsoleServerTest, SessionsExpireWhenIdle) {
  SessionStore::Options sessions;
  sessions.idle_ms = 60'000;
  StartServer(sessions);
  auto [cookie, token] = OpenSession(skopje_);
  now_ms_ += 60'000;
  absl::StatusOr<Answer> a =
      Exchange(&skopje_, Post("/cases", cookie, "form_token=" + token));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->result_int(), 403);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ConsoleServerTest, BoundsAndUnknownPaths) {
  StartServer({}, /*max_body=*/1024);
  auto [cookie, token] = OpenSession(skopje_);
  absl::StatusOr<Answer> big = Exchange(
      &skopje_,
      Post("/cases", cookie,
           absl::StrCat("form_token=", token, "&n=", std::string(2000, 'x'))));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->result_int(), 413);
  absl::StatusOr<Answer> missing = Exchange(&skopje_, Get("/nowhere"));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->result_int(), 404);
  http::request<http::string_body> put(http::verb::put, "/", 11);
  absl::StatusOr<Answer> method = Exchange(&skopje_, put);
  ASSERT_TRUE(method.ok());
  EXPECT_EQ(method->result_int(), 405);
  absl::StatusOr<Answer> bad = Exchange(
      &skopje_, Post("/cases", cookie, "form_token=" + token + "&x=%zz"));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->result_int(), 400);
  EXPECT_EQ(handled_.load(), 1);
}

// The server's own refusals come before any session: they are in the
// browser's best language (Accept-Language), with `<html lang>`; English
// without one, and for a header too large to have been read.
TEST_F(ConsoleServerTest, RefusalsAreInTheBrowsersLanguage) {
  StartServer({}, /*max_body=*/1024);
  auto [cookie, token] = OpenSession(skopje_);
  auto missing = Get("/nowhere");
  missing.set(http::field::accept_language, "mk-MK,mk;q=0.9,en;q=0.5");
  absl::StatusOr<Answer> mk = Exchange(&skopje_, missing);
  ASSERT_TRUE(mk.ok()) << mk.status();
  EXPECT_EQ(mk->result_int(), 404);
  EXPECT_NE(mk->body().find("<html lang=\"mk\">"), std::string::npos);
  EXPECT_NE(mk->body().find("<title>Не е пронајдено"), std::string::npos)
      << mk->body();
  EXPECT_NE(mk->body().find("Нема таква страница."), std::string::npos);

  auto expired = Post("/cases", cookie, "form_token=" + std::string(64, 'a'));
  expired.set(http::field::accept_language, "sr-Latn-RS");
  absl::StatusOr<Answer> sr = Exchange(&skopje_, expired);
  ASSERT_TRUE(sr.ok()) << sr.status();
  EXPECT_EQ(sr->result_int(), 403);
  EXPECT_NE(sr->body().find("<html lang=\"sr-Latn\">"), std::string::npos);
  EXPECT_NE(sr->body().find("Ovaj obrazac je istekao"), std::string::npos)
      << sr->body();

  auto big =
      Post("/cases", cookie,
           absl::StrCat("form_token=", token, "&n=", std::string(2000, 'x')));
  big.set(http::field::accept_language, "sq");
  absl::StatusOr<Answer> sq = Exchange(&skopje_, big);
  ASSERT_TRUE(sq.ok()) << sq.status();
  EXPECT_EQ(sq->result_int(), 413);
  EXPECT_NE(sq->body().find("<html lang=\"sq\">"), std::string::npos);
  EXPECT_NE(
      sq->body().find("Një formular mund të mbajë më së shumti 1024 bajtë."),
      std::string::npos)
      << sq->body();

  absl::StatusOr<Answer> plain = Exchange(&skopje_, Get("/nowhere"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_NE(plain->body().find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(plain->body().find("There is no such page."), std::string::npos);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ConsoleServerTest, StreamedAnswerArrivesChunkByChunkWithTheHeaders) {
  std::promise<void> go;
  std::shared_future<void> gone = go.get_future().share();
  producer_ = [gone](std::shared_ptr<Stream> s) {
    EXPECT_TRUE(s->Write("<p>first</p>"));
    gone.wait();  // the browser has shown the first chunk
    EXPECT_TRUE(s->Write("<p>second</p>"));
    s->End();
    EXPECT_FALSE(s->Write("<p>after the end</p>"));
  };
  StartServer();
  std::unique_ptr<Open> open = Send(skopje_, Get("/stream"));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  beast::error_code ec;
  http::read_header(*open->stream, buffer, parser, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_TRUE(parser.get().chunked());
  EXPECT_EQ(parser.get()["Content-Security-Policy"], kContentSecurityPolicy);
  EXPECT_EQ(parser.get()[http::field::cache_control], "no-store");
  EXPECT_TRUE(absl::StartsWith(
      std::string(parser.get()[http::field::set_cookie]), "cbx_console="));
  while (parser.get().body().find("first") == std::string::npos) {
    http::read_some(*open->stream, buffer, parser, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  EXPECT_EQ(parser.get().body().find("second"), std::string::npos);
  go.set_value();
  http::read(*open->stream, buffer, parser, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "<p>first</p><p>second</p>");
}

TEST_F(ConsoleServerTest, BrowserThatDoesNotReadIsCutOffAtTheBound) {
  // The node never holds more than the bound for a browser that stops
  // reading: Write says false and the connection is closed.
  std::atomic<int64_t> written{0};
  std::atomic<bool> refused{false};
  producer_ = [&](std::shared_ptr<Stream> s) {
    const std::string chunk(16 * 1024, 'x');
    while (written.load() < (int64_t{256} << 20)) {
      if (!s->Write(chunk)) {
        refused = true;
        return;
      }
      written += static_cast<int64_t>(chunk.size());
    }
  };
  StartServer({}, 64 * 1024, /*max_stream_buffer=*/64 * 1024);
  std::unique_ptr<Open> open = Send(skopje_, Get("/stream"));
  JoinProducers(1);  // the browser reads nothing
  EXPECT_TRUE(refused.load());
  EXPECT_LT(written.load(), int64_t{256} << 20);
  // How much the socket and the bound took before the cut (the figure the
  // README gives): in the test's XML output.
  RecordProperty("bytes_accepted_before_cutoff",
                 std::to_string(written.load()));
  // What the browser then reads is cut off: no complete answer.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  beast::error_code ec;
  http::read(*open->stream, buffer, parser, ec);
  EXPECT_TRUE(ec);
  EXPECT_FALSE(parser.is_done());
}

TEST_F(ConsoleServerTest, BrowserThatWentAwayStopsTheProducer) {
  std::promise<void> closed;
  std::shared_future<void> closed_f = closed.get_future().share();
  std::atomic<bool> refused{false};
  producer_ = [&, closed_f](std::shared_ptr<Stream> s) {
    closed_f.wait();
    for (int i = 0; i < 10'000 && !refused; ++i) {
      if (!s->Write(std::string(1024, 'y'))) refused = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  StartServer();
  {
    std::unique_ptr<Open> open = Send(skopje_, Get("/stream"));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    beast::error_code ec;
    http::read_header(*open->stream, buffer, parser, ec);
    ASSERT_FALSE(ec) << ec.message();
    open->stream->next_layer().close(ec);  // the browser is gone
  }
  closed.set_value();
  JoinProducers(1);
  EXPECT_TRUE(refused.load());
}

TEST_F(ConsoleServerTest, StreamOpenedAfterTheReplyWritesNothing) {
  StartServer();
  absl::StatusOr<Answer> a = Exchange(&skopje_, Get("/both"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->body(), "<p>replied</p>");
  EXPECT_FALSE(late_stream_wrote_.load());
}

TEST_F(ConsoleServerTest, BadListenAddressIsRefused) {
  ConsoleServer::Options options;
  options.tls = [] { return absl::StatusOr<TlsMaterial>(TlsMaterial{}); };
  options.authenticate =
      [](const crypto::CertificateSummary&) -> absl::StatusOr<Caller> {
    return Caller{};
  };
  options.now_ms = [] { return int64_t{0}; };
  EXPECT_EQ(ConsoleServer::Start(io_, "nowhere:1", {}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ConsoleServer::Start(io_, "127.0.0.1:0", {}, options).status().code(),
      absl::StatusCode::kFailedPrecondition);
  options.now_ms = nullptr;
  EXPECT_EQ(
      ConsoleServer::Start(io_, "127.0.0.1:0", {}, options).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::node::console
