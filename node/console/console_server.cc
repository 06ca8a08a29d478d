#include "node/console/console_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "node/console/listen_endpoint.h"

namespace cbx::node::console {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {
constexpr char kSessionCookie[] = "cbx_console";
constexpr char kFormTokenField[] = "form_token";
}  // namespace

std::string Caller::Display() const {
  std::string out = absl::StrCat(office, " (", role);
  if (!person.empty()) absl::StrAppend(&out, ", ", person);
  out += ")";
  return out;
}

// What the acceptor and every connection share: connections hold it, so it
// outlives the ConsoleServer while any of them is queued on the io_context.
struct ConsoleServer::State {
  State(asio::io_context& io,
        std::map<std::pair<std::string, std::string>, Handler> r, Options o)
      : acceptor(io),
        routes(std::move(r)),
        options(std::move(o)),
        sessions(options.sessions) {}
  tcp::acceptor acceptor;
  const std::map<std::pair<std::string, std::string>, Handler> routes;
  const Options options;
  SessionStore sessions;
  std::atomic<int> open{0};
  bool closed = false;  // on the io_context's thread only
  // The TLS context for new connections, remade when the material's
  // generation changes; on the io_context's thread only.
  std::shared_ptr<ssl::context> context;
  uint64_t generation = 0;
};

namespace {

// A TLS server context from `m`: TLS 1.2 or later, the client must present
// a certificate that chains to one of m.client_roots_pem, whose names are
// sent to the browser as the acceptable issuers.
absl::StatusOr<std::shared_ptr<ssl::context>> MakeContext(
    const TlsMaterial& m) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) ctx->use_certificate_chain(asio::buffer(m.certificate_pem), ec);
  if (!ec) {
    ctx->use_private_key(asio::buffer(m.private_key_pem), ssl::context::pem,
                         ec);
  }
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "console: the node's certificate and key do not load: ", ec.message()));
  }
  ctx->add_certificate_authority(asio::buffer(m.client_roots_pem), ec);
  if (!ec) {
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert,
                         ec);
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("console: the office CA does not load: ", ec.message()));
  }
  BIO* bio = BIO_new_mem_buf(m.client_roots_pem.data(),
                             static_cast<int>(m.client_roots_pem.size()));
  while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    SSL_CTX_add_client_CA(ctx->native_handle(), ca);
    X509_free(ca);
  }
  BIO_free(bio);
  return ctx;
}

// The PEM of the certificate the TLS peer presented, or "".
std::string PeerCertificatePem(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (PEM_write_bio_X509(bio, cert) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

std::string ErrorPage(int status, const std::string& title,
                      const std::string& text) {
  PageFrame frame;
  frame.title = title;
  return Page(frame, absl::StrCat("<p class=\"error\">", Escape(text),
                                  "</p>\n<p>HTTP ", status, "</p>"));
}

// A header's value (Beast's string_view is Boost's) as a std::string.
std::string Str(boost::beast::string_view v) { return {v.data(), v.size()}; }

// One connection: a TLS handshake, then requests, one at a time, until the
// browser closes, a request asks to close, or the timeout passes.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<ConsoleServer::State> state,
             std::shared_ptr<ssl::context> context)
      : state_(std::move(state)),
        context_(std::move(context)),
        stream_(std::move(socket), *context_) {
    state_->open.fetch_add(1);
  }
  ~Connection() { state_->open.fetch_sub(1); }

  void Begin() {
    Deadline();
    stream_.async_handshake(
        ssl::stream_base::server,
        [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->Close();
          const std::string pem =
              PeerCertificatePem(self->stream_.native_handle());
          absl::StatusOr<crypto::CertificateSummary> summary =
              crypto::SummarizeCertificate(pem);
          if (!summary.ok()) return self->Close();
          self->certificate_ = *std::move(summary);
          self->Read();
        });
  }

 private:
  void Deadline() {
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::milliseconds(state_->options.request_timeout_ms));
  }

  void Read() {
    parser_.emplace();
    parser_->header_limit(state_->options.max_header_bytes);
    parser_->body_limit(state_->options.max_body_bytes);
    Deadline();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return Refuse(431, "Request too large",
                    "The request's header is too "
                    "large.");
    }
    if (ec == http::error::body_limit) {
      return Refuse(413, "Form too large",
                    absl::StrCat("A form may hold at most ",
                                 state_->options.max_body_bytes, " bytes."));
    }
    if (ec) return Close();  // closed, timed out, malformed
    keep_alive_ = parser_->get().keep_alive();
    Handle(parser_->get());
  }

  // Everything the server checks before a handler runs; see the header.
  void Handle(const http::request<http::string_body>& req) {
    const bool get = req.method() == http::verb::get;
    if (!get && req.method() != http::verb::post) {
      return Refuse(405, "Not allowed", "Only GET and POST are used here.");
    }
    absl::StatusOr<Caller> caller = state_->options.authenticate(certificate_);
    if (!caller.ok()) {
      return Refuse(403, "Certificate refused",
                    std::string(caller.status().message()));
    }
    std::string target(req.target());
    std::string query;
    if (size_t q = target.find('?'); q != std::string::npos) {
      query = target.substr(q + 1);
      target.resize(q);
    }
    if (get && target == "/console.css") {
      Response css{200, "text/css; charset=utf-8", std::string(Stylesheet()),
                   ""};
      return Write(std::move(css));
    }
    Request request;
    request.method = get ? "GET" : "POST";
    request.path = target;
    request.caller = *std::move(caller);
    request.accept_language = Str(req[http::field::accept_language]);
    absl::StatusOr<Form> parsed = ParseForm(query);
    if (!parsed.ok()) {
      return Refuse(400, "Bad address", std::string(parsed.status().message()));
    }
    request.query = *std::move(parsed);
    FindSession(req, request.session);
    if (!get && !CheckPost(req, request)) return;
    auto route = state_->routes.find({request.method, request.path});
    if (route == state_->routes.end()) {
      return Refuse(404, "Not found", "There is no such page.");
    }
    Dispatch(route->second, request);
  }

  // The browser's session, or a new one (its cookie is set in the answer).
  void FindSession(const http::request<http::string_body>& req,
                   Session& session) {
    const std::string id =
        CookieValue(Str(req[http::field::cookie]), kSessionCookie);
    const int64_t now = state_->options.now_ms();
    const std::string& fingerprint = certificate_.sha256_fingerprint;
    std::optional<Session> found =
        id.empty() ? std::nullopt : state_->sessions.Find(id, fingerprint, now);
    if (found.has_value()) {
      session = *std::move(found);
      new_session_.clear();
    } else {
      session = state_->sessions.Start(fingerprint, now);
      new_session_ = session.id;
    }
  }

  // A POST's checks: not from another site, a form, and the session's form
  // token. Answers the refusal itself and returns false.
  bool CheckPost(const http::request<http::string_body>& req,
                 Request& request) {
    const std::string site = Str(req["Sec-Fetch-Site"]);
    if (!site.empty() && site != "same-origin" && site != "none") {
      Refuse(403, "Refused", "This form was sent from another site.");
      return false;
    }
    const std::string type = Str(req[http::field::content_type]);
    if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded") {
      Refuse(415, "Refused", "Forms are sent URL-encoded.");
      return false;
    }
    absl::StatusOr<Form> form = ParseForm(req.body());
    if (!form.ok()) {
      Refuse(400, "Bad form", std::string(form.status().message()));
      return false;
    }
    request.form = *std::move(form);
    if (!new_session_.empty() ||
        !SessionStore::FormTokenMatches(request.session,
                                        First(request.form, kFormTokenField))) {
      Refuse(403, "Form expired",
             "This form has expired or did not come from this console. "
             "Go back, reload the page and send it again.");
      return false;
    }
    return true;
  }

  void Dispatch(const Handler& handler, const Request& request) {
    auto once = std::make_shared<std::atomic<bool>>(false);
    handler(request, [self = shared_from_this(), once](Response r) {
      if (once->exchange(true)) return;  // a second call is ignored
      asio::post(
          self->stream_.get_executor(),
          [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Refuse(int status, const std::string& title, const std::string& text) {
    keep_alive_ = keep_alive_ && status < 500 && status != 431 && status != 413;
    Write(Response{status, "text/html; charset=utf-8",
                   ErrorPage(status, title, text), ""});
  }

  void Write(Response r);

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(
        tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  std::shared_ptr<ConsoleServer::State> state_;
  std::shared_ptr<ssl::context> context_;  // outlives stream_
  beast::ssl_stream<beast::tcp_stream> stream_;
  crypto::CertificateSummary certificate_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  std::string new_session_;  // the id whose cookie this answer sets
};

void Connection::Write(Response r) {
  response_ = {};
  response_.version(11);
  if (!r.location.empty()) {
    response_.result(http::status::see_other);
    response_.set(http::field::location, r.location);
    r.body.clear();
  } else {
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::content_type, r.content_type);
  }
  response_.set("Content-Security-Policy", kContentSecurityPolicy);
  response_.set("X-Content-Type-Options", "nosniff");
  response_.set("X-Frame-Options", "DENY");
  response_.set("Referrer-Policy", "no-referrer");
  response_.set("Cross-Origin-Opener-Policy", "same-origin");
  response_.set(http::field::cache_control, "no-store");
  response_.set(http::field::strict_transport_security, "max-age=31536000");
  if (response_.result() == http::status::method_not_allowed) {
    response_.set(http::field::allow, "GET, POST");
  }
  if (!new_session_.empty()) {
    response_.set(
        http::field::set_cookie,
        absl::StrCat(kSessionCookie, "=", new_session_,
                     "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=",
                     state_->options.sessions.max_ms / 1000));
    new_session_.clear();
  }
  response_.keep_alive(keep_alive_);
  response_.body() = std::move(r.body);
  response_.prepare_payload();
  Deadline();
  http::async_write(stream_, response_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (ec || !self->keep_alive_) return self->Close();
                      self->Read();
                    });
}

void Accept(const std::shared_ptr<ConsoleServer::State>& state) {
  state->acceptor.async_accept(
      [state](beast::error_code ec, tcp::socket socket) {
        if (state->closed || ec == asio::error::operation_aborted) return;
        if (!ec && state->open.load() < state->options.max_connections) {
          absl::StatusOr<TlsMaterial> material = state->options.tls();
          if (material.ok() && (state->context == nullptr ||
                                material->generation != state->generation)) {
            absl::StatusOr<std::shared_ptr<ssl::context>> made =
                MakeContext(*material);
            if (made.ok()) {
              state->context = *std::move(made);
              state->generation = material->generation;
            }
          }
          std::make_shared<Connection>(std::move(socket), state, state->context)
              ->Begin();
        } else if (!ec) {
          beast::error_code ignored;  // over the bound: closed at once
          socket.close(ignored);
        }
        Accept(state);
      });
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(
    asio::io_context& io, const std::string& listen,
    std::map<std::pair<std::string, std::string>, Handler> routes,
    Options options) {
  if (!options.tls || !options.authenticate || !options.now_ms) {
    return absl::InvalidArgumentError(
        "console: tls, authenticate and now_ms are required");
  }
  absl::StatusOr<tcp::endpoint> endpoint =
      ParseListenEndpoint("console_listen", listen);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<TlsMaterial> material = options.tls();
  if (!material.ok()) return material.status();
  absl::StatusOr<std::shared_ptr<ssl::context>> context =
      MakeContext(*material);
  if (!context.ok()) return context.status();
  std::unique_ptr<ConsoleServer> server(new ConsoleServer());
  server->state_ =
      std::make_shared<State>(io, std::move(routes), std::move(options));
  server->state_->context = *std::move(context);
  server->state_->generation = material->generation;
  tcp::acceptor& acceptor = server->state_->acceptor;
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "console_listen: cannot listen on ", listen, ": ", ec.message()));
  }
  server->port_ = acceptor.local_endpoint().port();
  Accept(server->state_);
  return server;
}

ConsoleServer::~ConsoleServer() {
  if (state_ == nullptr) return;
  state_->closed = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

size_t ConsoleServer::sessions() const { return state_->sessions.size(); }

}  // namespace cbx::node::console
