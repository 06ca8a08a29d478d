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
#include <deque>
#include <limits>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/i18n/catalog.h"
#include "node/console/listen_endpoint.h"
#include "node/console/peer_certificate.h"

namespace cbx::node::console {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
namespace msg = i18n::msg;

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

// A refusal of the server's own, in `lang`: `text` is already the
// message's text with its arguments (the node's reasons stay English).
std::string ErrorPage(int status, i18n::Lang lang, i18n::MessageId title,
                      const std::string& text) {
  PageFrame frame;
  frame.lang = lang;
  frame.title = std::string(i18n::Text(title, lang));
  return Page(frame, absl::StrCat("<p class=\"error\">", Escape(text),
                                  "</p>\n<p>HTTP ", status, "</p>"));
}

// A header's value (Beast's string_view is Boost's) as a std::string.
std::string Str(boost::beast::string_view v) { return {v.data(), v.size()}; }

class Connection;

// Request::stream's writer for one answer: counts the bytes queued and not
// yet written, and hands each chunk to its connection on the io_context.
class StreamWriter : public Stream {
 public:
  // A writer for `connection`; null: a stream that was never opened (the
  // handler had replied already), whose Write returns false.
  StreamWriter(std::shared_ptr<Connection> connection, uint32_t bound)
      : connection_(std::move(connection)),
        bound_(bound),
        open_(connection_ != nullptr) {}
  ~StreamWriter() override;
  bool Write(std::string chunk) override;
  void End() override;

  // From the connection, on the io_context: `n` bytes went out; the
  // answer cannot go on (a write failed or timed out).
  void Written(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    queued_ -= n;
  }
  void Fail() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }

 private:
  const std::shared_ptr<Connection> connection_;
  const uint32_t bound_;
  std::mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
};

// The headers every answer carries (spec/web-console.md §2).
void SecurityHeaders(http::response_header<>& h) {
  h.set("Content-Security-Policy", kContentSecurityPolicy);
  h.set("X-Content-Type-Options", "nosniff");
  h.set("X-Frame-Options", "DENY");
  h.set("Referrer-Policy", "no-referrer");
  h.set("Cross-Origin-Opener-Policy", "same-origin");
  h.set(http::field::cache_control, "no-store");
  h.set(http::field::strict_transport_security, "max-age=31536000");
}

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

  // The header first, then the body within the bound of the header's
  // route: an upload route's bound is not every route's.
  void Read() {
    parser_.emplace();
    parser_->header_limit(state_->options.max_header_bytes);
    // No bound while the header is read (Beast would check a Content-Length
    // against it as the header ends): OnHeader sets the route's own. (Not
    // boost::none: Beast 1.74 compares a length with it as greater.)
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    Deadline();
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const http::request<http::string_body>& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    const bool upload = req.method() == http::verb::post &&
                        state_->options.upload_paths.count(std::string(target));
    body_limit_ = upload ? state_->options.max_upload_bytes
                         : state_->options.max_body_bytes;
    parser_->body_limit(body_limit_);
    // A declared length past the bound is refused before any of the body
    // is read; a chunked body is cut off by the parser at the bound.
    if (boost::optional<uint64_t> n = parser_->content_length();
        n.has_value() && *n > body_limit_) {
      return OnRead(http::error::body_limit);
    }
    if (parser_->is_done()) return OnRead({});
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    // A header too large was not read: its refusal is in English. A form
    // too large comes after a header that was.
    lang_ = ec == http::error::header_limit
                ? i18n::Lang::kEn
                : i18n::BestLanguage(
                      Str(parser_->get()[http::field::accept_language]));
    if (ec == http::error::header_limit) {
      return Refuse(431, msg::kConsoleErrorHeaderTooLargeTitle,
                    msg::kConsoleErrorHeaderTooLargeText);
    }
    if (ec == http::error::body_limit) {
      return Refuse(413, msg::kConsoleErrorFormTooLargeTitle,
                    msg::kConsoleErrorFormTooLargeText,
                    {absl::StrCat(body_limit_)});
    }
    if (ec) return Close();  // closed, timed out, malformed
    keep_alive_ = parser_->get().keep_alive();
    Handle(parser_->get());
  }

  // Everything the server checks before a handler runs; see the header.
  void Handle(const http::request<http::string_body>& req) {
    const bool get = req.method() == http::verb::get;
    if (!get && req.method() != http::verb::post) {
      return Refuse(405, msg::kConsoleErrorNotAllowedTitle,
                    msg::kConsoleErrorNotAllowedText);
    }
    absl::StatusOr<Caller> caller = state_->options.authenticate(certificate_);
    if (!caller.ok()) {
      return Refuse(403, msg::kConsoleErrorCertificateTitle,
                    msg::kConsoleErrorCertificateText,
                    {std::string(caller.status().message())});
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
      return Refuse(400, msg::kConsoleErrorBadAddressTitle,
                    msg::kConsoleErrorBadAddressText,
                    {std::string(parsed.status().message())});
    }
    request.query = *std::move(parsed);
    FindSession(req, request.session);
    if (!get && !CheckPost(req, request)) return;
    auto route = state_->routes.find({request.method, request.path});
    if (route == state_->routes.end()) {
      return Refuse(404, msg::kConsoleErrorNotFoundTitle,
                    msg::kConsoleErrorNotFoundText);
    }
    Dispatch(route->second, std::move(request));
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
      Refuse(403, msg::kConsoleErrorRefusedTitle, msg::kConsoleErrorOtherSite);
      return false;
    }
    if (absl::Status read = ReadBody(req, request); !read.ok()) {
      if (read.code() == absl::StatusCode::kUnimplemented) {
        Refuse(415, msg::kConsoleErrorRefusedTitle,
               msg::kConsoleErrorNotUrlencoded);
      } else {
        Refuse(400, msg::kConsoleErrorBadFormTitle,
               msg::kConsoleErrorBadFormText, {std::string(read.message())});
      }
      return false;
    }
    if (!new_session_.empty() ||
        !SessionStore::FormTokenMatches(request.session,
                                        First(request.form, kFormTokenField))) {
      Refuse(403, msg::kConsoleErrorFormExpiredTitle,
             msg::kConsoleErrorFormExpiredText);
      return false;
    }
    return true;
  }

  // A POST's body into request.form (and request.files): URL-encoded, or
  // multipart/form-data on an upload route. UNIMPLEMENTED for another
  // type (415), INVALID_ARGUMENT for a body that does not decode (400).
  absl::Status ReadBody(const http::request<http::string_body>& req,
                        Request& request) const {
    const std::string type = Str(req[http::field::content_type]);
    const std::string media = MediaType(type);
    if (media == "multipart/form-data" &&
        state_->options.upload_paths.count(request.path) != 0) {
      absl::StatusOr<MultipartForm> parts = ParseMultipart(type, req.body());
      if (!parts.ok()) return parts.status();
      request.form = std::move(parts->fields);
      request.files =
          std::make_shared<const UploadedFiles>(std::move(parts->files));
      return absl::OkStatus();
    }
    if (media != "application/x-www-form-urlencoded") {
      return absl::UnimplementedError("not a form");
    }
    absl::StatusOr<Form> form = ParseForm(req.body());
    if (!form.ok()) return form.status();
    request.form = *std::move(form);
    return absl::OkStatus();
  }

  // Streaming, for StreamWriter (the rest of the class is private).
 public:
  // What a stream's chunks are, in the connection's queue.
  enum class Chunk { kData, kLast, kAbort };

  // From a StreamWriter: queues a chunk (kLast ends the answer, kAbort
  // closes the connection once the chunks before it are out). Posts to the
  // io_context; thread-safe.
  void QueueChunk(Chunk kind, std::string data) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), kind,
                                        d = std::move(data)]() mutable {
      if (self->stream_failed_) return;
      self->chunks_.emplace_back(kind, std::move(d));
      self->Pump();
    });
  }
  // From a StreamWriter whose bound was passed: closes the connection now,
  // dropping what is queued. Thread-safe.
  void AbortStream() {
    asio::post(stream_.get_executor(),
               [self = shared_from_this()] { self->FailStream(); });
  }

 private:
  void Dispatch(const Handler& handler, Request request) {
    auto once = std::make_shared<std::atomic<bool>>(false);
    request.stream = [self = shared_from_this(),
                      once](int status) -> std::shared_ptr<Stream> {
      if (once->exchange(true)) {
        return std::make_shared<StreamWriter>(nullptr, 0);
      }
      auto writer = std::make_shared<StreamWriter>(
          self, self->state_->options.max_stream_buffer_bytes);
      asio::post(self->stream_.get_executor(),
                 [self, writer, status] { self->BeginStream(status, writer); });
      return writer;
    };
    handler(request, [self = shared_from_this(), once](Response r) {
      if (once->exchange(true)) return;  // a second call is ignored
      asio::post(
          self->stream_.get_executor(),
          [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  // Answers `status` with the page of `title` and `text` (its {1}...
  // replaced by `args`) in the language of the request being read.
  void Refuse(int status, i18n::MessageId title, i18n::MessageId text,
              std::initializer_list<std::string_view> args = {}) {
    keep_alive_ = keep_alive_ && status < 500 && status != 431 && status != 413;
    Write(Response{
        status, "text/html; charset=utf-8",
        ErrorPage(status, lang_, title, i18n::Format(text, lang_, args)), ""});
  }

  void Write(Response r);
  // The Set-Cookie value of the session this answer opens.
  std::string SessionCookie() const {
    return absl::StrCat(kSessionCookie, "=", new_session_,
                        "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=",
                        state_->options.sessions.max_ms / 1000);
  }
  // On the io_context: writes a streamed answer's head, then its chunks.
  void BeginStream(int status, std::shared_ptr<StreamWriter> writer);
  // Writes the next queued chunk unless one is being written.
  void Pump();
  // The stream cannot go on: tells the writer, drops the queue, closes.
  void FailStream() {
    stream_failed_ = true;
    chunks_.clear();
    if (auto w = writer_.lock()) w->Fail();
    Close();
  }

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
  uint64_t body_limit_ = 0;  // the bound of the request being read
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  // The language of this request's refusals: the best match of its
  // Accept-Language (no session, so no person's choice, is known here).
  i18n::Lang lang_;
  std::string new_session_;  // the id whose cookie this answer sets
  // A streamed answer (on the io_context's thread only).
  http::response<http::empty_body> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::weak_ptr<StreamWriter> writer_;
  std::deque<std::pair<Chunk, std::string>> chunks_;
  std::string chunk_;  // the one being written
  bool head_written_ = false;
  bool chunk_writing_ = false;
  bool stream_failed_ = false;
};

StreamWriter::~StreamWriter() {
  std::lock_guard<std::mutex> lock(mu_);
  if (connection_ != nullptr && !ended_) {
    connection_->QueueChunk(Connection::Chunk::kAbort, "");
  }
}

bool StreamWriter::Write(std::string chunk) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the answer
    if (queued_ + chunk.size() > bound_) {
      open_ = false;
      ended_ = true;
      connection_->AbortStream();
      return false;
    }
    queued_ += chunk.size();
  }
  connection_->QueueChunk(Connection::Chunk::kData, std::move(chunk));
  return true;
}

void StreamWriter::End() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return;
  open_ = false;
  ended_ = true;
  connection_->QueueChunk(Connection::Chunk::kLast, "");
}

void Connection::BeginStream(int status, std::shared_ptr<StreamWriter> writer) {
  writer_ = writer;
  stream_head_ = {};
  stream_head_.version(11);
  stream_head_.result(static_cast<http::status>(status));
  stream_head_.set(http::field::content_type, "text/html; charset=utf-8");
  SecurityHeaders(stream_head_);
  if (!new_session_.empty()) {
    stream_head_.set(http::field::set_cookie, SessionCookie());
    new_session_.clear();
  }
  stream_head_.keep_alive(keep_alive_);
  stream_head_.chunked(true);
  serializer_.emplace(stream_head_);
  Deadline();
  http::async_write_header(
      stream_, *serializer_,
      [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->FailStream();
        self->head_written_ = true;
        self->Pump();
      });
}

void Connection::Pump() {
  if (!head_written_ || chunk_writing_ || chunks_.empty()) return;
  auto [kind, data] = std::move(chunks_.front());
  chunks_.pop_front();
  if (kind == Chunk::kAbort) return FailStream();
  chunk_writing_ = true;
  Deadline();  // each chunk has the request timeout to go out
  if (kind == Chunk::kLast) {
    asio::async_write(
        stream_, http::make_chunk_last(),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->chunk_writing_ = false;
          self->head_written_ = false;
          self->serializer_.reset();
          if (ec || !self->keep_alive_) return self->Close();
          self->Read();
        });
    return;
  }
  chunk_ = std::move(data);
  asio::async_write(stream_, http::make_chunk(asio::buffer(chunk_)),
                    [self = shared_from_this(), n = chunk_.size()](
                        beast::error_code ec, size_t) {
                      self->chunk_writing_ = false;
                      if (auto w = self->writer_.lock()) w->Written(n);
                      if (ec) return self->FailStream();
                      self->Pump();
                    });
}

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
    std::string file;  // only characters that need no quoting anywhere
    for (char c : r.attachment) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
          c == '_' || c == '.') {
        file.push_back(c);
      }
    }
    if (!file.empty()) {
      response_.set(http::field::content_disposition,
                    absl::StrCat("attachment; filename=\"", file, "\""));
    }
  }
  SecurityHeaders(response_);
  if (response_.result() == http::status::method_not_allowed) {
    response_.set(http::field::allow, "GET, POST");
  }
  if (!new_session_.empty()) {
    response_.set(http::field::set_cookie, SessionCookie());
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
