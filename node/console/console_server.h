// The web console's HTTPS server (spec/web-console.md): HTTP/1.1 over TLS
// with mutual authentication, on the node's io_context, for the offices'
// and auditors' browsers.
//
// Every connection must present a client certificate that chains to the
// office CA (`TlsMaterial::client_roots_pem`); the handshake fails
// otherwise. Every request is then authenticated again from that
// certificate by Options::authenticate (the node maps its URI SAN to an
// office, role and person and checks revocation, as on the Office port): a
// certificate it refuses gets a 403 page saying why, and nothing runs.
//
// What the server enforces for every page, so that handlers cannot forget:
//   - security headers on every answer: a strict Content-Security-Policy
//     (nothing but the console's own stylesheet and forms; no script, no
//     frame, no external resource), nosniff, no referrer, no caching, HSTS;
//   - a session per browser (node/console/sessions.h), bound to the
//     certificate, whose form token every POST must carry back in the field
//     `form_token` (403 otherwise, the handler never runs), and POSTs that a
//     browser marks as coming from another site (Sec-Fetch-Site) refused;
//   - bounds: at most max_connections connections, a timeout per request,
//     a header of at most max_header_bytes and a body of at most
//     max_body_bytes, or max_upload_bytes on an upload route (431 / 413),
//     GET and POST only (405), a form that does not decode (400).
//
// Handlers are asynchronous: a handler gets the request and a Reply to call
// once, from any thread (the node runs slow work on its executor); the
// answer is written on the io_context. A handler may instead answer with a
// stream (Request::stream): HTTP/1.1 chunked transfer coding, its chunks
// written from any thread as they come, serialized on the io_context, with
// the same headers as any answer. A stream's unsent bytes are bounded
// (Options::max_stream_buffer_bytes): a browser that does not read is cut
// off, never buffered for without limit; see Stream.
//
// Threading: the acceptor and connections run on the io_context given to
// Start, on whatever thread runs it (the node's main thread). Start and
// the destructor must be called while the io_context is not running on
// another thread, or from its thread. Options' callbacks are called on the
// io_context's thread.
#ifndef CBX_NODE_CONSOLE_CONSOLE_SERVER_H_
#define CBX_NODE_CONSOLE_CONSOLE_SERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "core/crypto/x509_crl.h"
#include "node/console/html.h"
#include "node/console/multipart.h"
#include "node/console/sessions.h"

namespace boost::asio {
class io_context;
}

namespace cbx::node::console {

// Who made a request, as Options::authenticate found it.
struct Caller {
  std::string office;  // "MK/PPO-Skopje"
  std::string role;    // "prosecutor", "auditor", "operator"
  std::string person;  // the staff identifier, if the certificate names one
  std::string Display() const;
};

// A streamed answer's writer (Request::stream). Thread-safe: Write and End
// may be called from any thread; chunks go out in the order Write was
// called, each written on the io_context.
class Stream {
 public:
  virtual ~Stream() = default;
  // Queues `chunk` (empty chunks are skipped). False, and `chunk` dropped,
  // once the answer cannot go on: the browser went away or stopped
  // reading (a write failed or timed out), the bytes queued and not yet
  // written would pass Options::max_stream_buffer_bytes (the connection is
  // then closed: the browser sees a cut-off page, never a complete-looking
  // one), or End was called. The producer should then stop its work.
  virtual bool Write(std::string chunk) = 0;
  // Ends the answer after the chunks queued so far. A stream dropped
  // without End closes its connection once the queued chunks are out.
  virtual void End() = 0;
};

struct Request {
  std::string method;  // "GET" or "POST"
  std::string path;    // without the query string
  Form query;
  Form form;  // a POST's decoded body (a multipart body's text parts)
  // A multipart POST's files, by their input's name (only on the routes of
  // Options::upload_paths; null otherwise). Shared, so that a handler that
  // copies the request to its executor does not copy the uploads; they
  // live as long as the request's last copy.
  std::shared_ptr<const UploadedFiles> files;
  Caller caller;
  Session session;
  std::string accept_language;
  // Starts a streamed answer with this HTTP status, as text/html, instead
  // of calling the Reply: a handler calls one of the two, once (a later
  // call of either is ignored; a stream opened after the Reply, or after
  // the connection ended, is one whose Write returns false). Set by the
  // server; tests of pages set their own.
  std::function<std::shared_ptr<Stream>(int status)> stream;
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  // Set: a 303 See Other to this path (after a POST), body ignored.
  std::string location;
  // Set: the answer is a file to save under this name (Content-Disposition:
  // attachment); ASCII letters, digits and "-_." only.
  std::string attachment{};  // (braces: Response{status, type, body, location}
                             // omits it)
};

using Reply = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Reply)>;

// The server's certificate and key and the roots client certificates must
// chain to, in PEM; `generation` changes when any of them does (a new TLS
// context is made for the next connections).
struct TlsMaterial {
  std::string certificate_pem;
  std::string private_key_pem;
  std::string client_roots_pem;
  uint64_t generation = 0;
};

class ConsoleServer {
 public:
  struct Options {
    int max_connections = 64;
    int64_t request_timeout_ms = 30'000;
    uint32_t max_header_bytes = 16 * 1024;
    uint32_t max_body_bytes = 64 * 1024;
    // The POST paths that take file uploads: their body may also be
    // multipart/form-data (RFC 7578, node/console/multipart.h; refused 415
    // on every other path) and is bounded by max_upload_bytes instead of
    // max_body_bytes. The bound is chosen once the header is read, so a
    // body past it is refused (413) before it is read.
    std::set<std::string> upload_paths;
    uint64_t max_upload_bytes = 64 << 20;
    // A stream's bytes queued and not yet written to the socket, at most.
    uint32_t max_stream_buffer_bytes = 1024 * 1024;
    SessionStore::Options sessions;
    // The TLS material for the next handshake. Required.
    std::function<absl::StatusOr<TlsMaterial>()> tls;
    // Maps the client certificate of a request to its caller;
    // a refusal's message is shown on the 403 page. Required.
    std::function<absl::StatusOr<Caller>(const crypto::CertificateSummary&)>
        authenticate;
    // Milliseconds since the epoch (sessions' times). Required.
    std::function<int64_t()> now_ms;
  };

  // Binds `listen` ("127.0.0.1:7443", "[::1]:0", "localhost:0"; port 0 picks
  // a free port) on `io` and starts accepting. `routes` maps
  // (method, path) — {"GET", "/cases"} — to its handler; other paths are
  // 404, other methods 405. The stylesheet is served at /console.css.
  // INVALID_ARGUMENT for a `listen` that is not an IP address (or
  // localhost) and port, or options missing a callback; FAILED_PRECONDITION
  // if the TLS material does not load; UNAVAILABLE if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Start(
      boost::asio::io_context& io, const std::string& listen,
      std::map<std::pair<std::string, std::string>, Handler> routes,
      Options options);

  // Stops accepting. Open connections end at their timeout or with the
  // io_context.
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  int port() const { return port_; }
  // Live sessions.
  size_t sessions() const;

  // What the acceptor and the connections share (console_server.cc).
  struct State;

 private:
  ConsoleServer() = default;
  std::shared_ptr<State> state_;
  int port_ = 0;
};

// The headers every console answer carries (also for tests).
inline constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace cbx::node::console

#endif  // CBX_NODE_CONSOLE_CONSOLE_SERVER_H_
