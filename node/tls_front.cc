#include "node/tls_front.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/crypto/sha256.h"
#include "core/crypto/x509.h"
#include "core/util/status_macros.h"
#include "grpcpp/server_posix.h"
#include "node/console/listen_endpoint.h"
#include "node/console/peer_certificate.h"
#include "node/grpc_limits.h"
#include "node/h2_frames.h"
#include "node/log.h"
#include "node/metrics.h"

namespace cbx::node {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using unix_stream = asio::local::stream_protocol;
using boost::system::error_code;

TlsFrontOptions::TlsFrontOptions()
    : handshake_timeout_ms(kServerHandshakeTimeoutMs),
      max_resets_per_window(kMaxClientResetsPerWindow),
      reset_window_ms(kClientResetWindowMs),
      penalty_ms(kResetFloodPenaltyMs),
      max_penalty_ms(kMaxResetFloodPenaltyMs),
      max_connections(kMaxFrontConnections),
      max_connections_per_certificate(kMaxConnectionsPerCertificate),
      threads(kFrontThreads) {}

namespace {

// gRPC's own TLS 1.2 cipher suites (TLS 1.3's are OpenSSL's defaults).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";

// A penalized certificate's record: closed after its handshake until
// `until_ms`; `length_ms` is the last penalty, doubled at a flood within
// an hour of the previous one.
struct Penalty {
  int64_t until_ms = 0;
  int64_t length_ms = 0;
  int64_t last_flood_ms = 0;
};
constexpr int64_t kPenaltyMemoryMs = 60 * 60'000;

// The connections handed to gRPC, by gRPC's end of the socket pair.
struct Registry {
  std::mutex mu;
  std::map<int, std::pair<uint64_t, std::shared_ptr<const FrontCaller>>> by_fd;
};

Registry& Callers() {
  static Registry* registry = new Registry();
  return *registry;
}

void Register(int fd, uint64_t id, std::shared_ptr<const FrontCaller> caller) {
  Registry& r = Callers();
  std::lock_guard<std::mutex> lock(r.mu);
  r.by_fd[fd] = {id, std::move(caller)};
}

void Unregister(int fd, uint64_t id) {
  Registry& r = Callers();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_fd.find(fd);
  if (it != r.by_fd.end() && it->second.first == id) r.by_fd.erase(it);
}

CounterFamily& Outcomes() {
  static CounterFamily& f = MetricsRegistry::Default().Counter(
      "cbx_tls_front_connections_total",
      "Connections to a port (peer, office) by how the node's TLS front "
      "ended or passed them: handed_to_grpc, handshake_failed, "
      "handshake_timeout, reset_flood (closed for resetting too many "
      "streams), penalized (closed after the handshake: the certificate "
      "flooded recently), over_limit (too many open connections), "
      "over_certificate_limit (too many for one certificate).",
      {"port", "outcome"});
  return f;
}

GaugeFamily& OpenGauge() {
  static GaugeFamily& f = MetricsRegistry::Default().Gauge(
      "cbx_tls_front_open_connections",
      "Connections open at a port's TLS front (peer, office).", {"port"});
  return f;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ALPN (RFC 7301): gRPC clients ask for h2 and refuse a server that does
// not select it; a client that asks only for something else is refused.
int SelectH2(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
             const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kH2, sizeof(kH2), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// The TLS server context of `m`: TLS 1.2 or later with gRPC's suites, no
// session resumption (every connection presents its certificate), and a
// client certificate required that chains to one of m.client_roots_pem.
absl::StatusOr<std::shared_ptr<ssl::context>> MakeContext(
    const TlsFrontMaterial& m, const std::string& field) {
  if (m.certificate_pem == nullptr || m.private_key_pem == nullptr) {
    return absl::FailedPreconditionError(field +
                                         ": no certificate and key to serve");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(c, kTls12Ciphers);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_alpn_select_cb(c, SelectH2, nullptr);
  error_code ec;
  ctx->use_certificate_chain(asio::buffer(*m.certificate_pem), ec);
  if (!ec) {
    ctx->use_private_key(asio::buffer(*m.private_key_pem), ssl::context::pem,
                         ec);
  }
  if (ec || SSL_CTX_check_private_key(c) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": the node's certificate and key do not load",
                     ec ? ": " + ec.message() : std::string()));
  }
  if (m.client_roots_pem == nullptr || m.client_roots_pem->empty()) {
    return absl::FailedPreconditionError(field +
                                         ": no CA to verify callers with");
  }
  ctx->add_certificate_authority(asio::buffer(*m.client_roots_pem), ec);
  if (!ec) {
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert,
                         ec);
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": the callers' CAs do not load: ", ec.message()));
  }
  return ctx;
}

std::string RemoteOf(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint e = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return absl::StrCat(
      e.address().is_v6() ? "ipv6:[" : "ipv4:", e.address().to_string(),
      e.address().is_v6() ? "]" : "", ":", e.port());
}

class Connection;

}  // namespace

struct TlsFront::State {
  // First: destroyed last, after every socket and timer below; destroying
  // it destroys the handlers still queued, and the connections they hold.
  asio::io_context io;
  // The acceptor's handlers run one at a time on its strand; each
  // connection's on a strand of its own.
  tcp::acceptor acceptor{asio::make_strand(io)};
  grpc::Server* server = nullptr;
  TlsFrontOptions options;
  std::vector<std::thread> threads;
  std::atomic<bool> accepting{true};

  // On the acceptor's strand only.
  std::shared_ptr<ssl::context> context;
  uint64_t generation = 0;

  std::mutex mu;  // the connections' shared books
  // Certificate digest -> its penalty; -> its connections handed on.
  std::map<std::string, Penalty> penalties ABSL_GUARDED_BY(mu);
  std::map<std::string, int> per_certificate ABSL_GUARDED_BY(mu);
  std::map<uint64_t, std::weak_ptr<Connection>> open ABSL_GUARDED_BY(mu);
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;

  mutable std::mutex stats_mu;
  Stats stats ABSL_GUARDED_BY(stats_mu);

  void Count(uint64_t Stats::*field, const char* outcome) {
    {
      std::lock_guard<std::mutex> lock(stats_mu);
      ++(stats.*field);
    }
    Outcomes().With({options.port, outcome}).Increment();
  }
  void SetOpen(size_t n) {
    {
      std::lock_guard<std::mutex> lock(stats_mu);
      stats.open = static_cast<int>(n);
    }
    OpenGauge().With({options.port}).Set(static_cast<double>(n));
  }
};

namespace {

// One connection: the TLS handshake, then bytes passed both ways between
// the client and gRPC's end of a socket pair, the client's frames counted.
// Every method runs on the connection's strand (the socket's executor).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(TlsFront::State* state, tcp::socket socket,
             std::shared_ptr<ssl::context> context, uint64_t id)
      : state_(state),
        context_(std::move(context)),
        remote_(RemoteOf(socket)),
        executor_(socket.get_executor()),
        tls_(std::move(socket), *context_),
        grpc_side_(executor_),
        timer_(executor_),
        id_(id),
        window_start_ms_(SteadyMs()) {}
  // A connection the front's destructor left open: its sockets close with
  // it, and its entry goes (the front's books went before it).
  ~Connection() {
    if (!closed_ && grpc_fd_ >= 0) Unregister(grpc_fd_, id_);
  }
  const asio::any_io_executor& executor() const { return executor_; }

  void Begin() {
    timer_.expires_after(
        std::chrono::milliseconds(state_->options.handshake_timeout_ms));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_ || self->frames_.preface_done()) return;
      self->state_->Count(&TlsFront::Stats::timeouts, "handshake_timeout");
      self->Close();
    });
    tls_.async_handshake(
        ssl::stream_base::server,
        [self = shared_from_this()](error_code ec) { self->OnHandshake(ec); });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    // The books first: the client may look at them once it sees the end.
    if (grpc_fd_ >= 0) Unregister(grpc_fd_, id_);
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (counted_) {
        auto it = state_->per_certificate.find(digest_);
        if (it != state_->per_certificate.end() && --it->second <= 0) {
          state_->per_certificate.erase(it);
        }
      }
      state_->open.erase(id_);
      state_->SetOpen(state_->open.size());
    }
    timer_.cancel();
    error_code ignored;
    tls_.lowest_layer().close(ignored);
    grpc_side_.close(ignored);
  }

 private:
  void OnHandshake(error_code ec) {
    if (closed_) return;
    std::string pem;
    if (!ec) pem = PeerCertificatePem(tls_.native_handle());
    if (ec || pem.empty()) {
      state_->Count(&TlsFront::Stats::handshake_failures, "handshake_failed");
      LogEvent(state_->options.self, "debug", "handshake-failed",
               {{"port", state_->options.port},
                {"remote", remote_},
                {"reason", ec ? ec.message() : "no client certificate"}});
      return Close();
    }
    digest_ = crypto::Sha256(pem);
    auto caller = std::make_shared<FrontCaller>();
    caller->certificate_pem = std::move(pem);
    absl::StatusOr<std::vector<std::string>> uris =
        crypto::CertificateUriSans(caller->certificate_pem);
    if (uris.ok()) caller->uris = *std::move(uris);
    caller->remote = remote_;
    if (Penalized()) {
      state_->Count(&TlsFront::Stats::refused_penalized, "penalized");
      return Close();
    }
    // One certificate may not take the port's every connection.
    bool over = false;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      int& mine = state_->per_certificate[digest_];
      over = mine >= state_->options.max_connections_per_certificate;
      if (!over) {
        ++mine;
        counted_ = true;
      }
    }
    if (over) {
      state_->Count(&TlsFront::Stats::refused_full, "over_certificate_limit");
      return Close();
    }
    if (!state_->accepting) return Close();
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      LogEvent(state_->options.self, "error", "connection-refused",
               {{"port", state_->options.port},
                {"remote", remote_},
                {"reason", absl::StrCat("socketpair: ", strerror(errno))}});
      return Close();
    }
    const int flags = fcntl(fds[1], F_GETFL);
    fcntl(fds[1], F_SETFL, flags | O_NONBLOCK);
    // Room for gRPC to write an index chunk's worth before it waits for the
    // front (the kernel caps it at net.core.wmem_max / rmem_max).
    const int room = 1 << 20;
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &room, sizeof(room));
    setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
    grpc_side_.assign(unix_stream(), fds[0], ec);
    if (ec) {
      close(fds[0]);
      close(fds[1]);
      return Close();
    }
    grpc_fd_ = fds[1];
    Register(grpc_fd_, id_, std::move(caller));
    // gRPC owns fds[1] from here, and closes it with its transport.
    grpc::AddInsecureChannelFromFd(state_->server, fds[1]);
    state_->Count(&TlsFront::Stats::handed_to_grpc, "handed_to_grpc");
    ReadClient();
    ReadGrpc();
  }

  void Cork(bool on) {
    const int value = on ? 1 : 0;
    setsockopt(tls_.lowest_layer().native_handle(), IPPROTO_TCP, TCP_CORK,
               &value, sizeof(value));
  }

  bool Penalized() {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->penalties.find(digest_);
    return it != state_->penalties.end() && SteadyMs() < it->second.until_ms;
  }

  void ReadClient() {
    tls_.async_read_some(asio::buffer(in_), [self = shared_from_this()](
                                                error_code ec, size_t n) {
      if (self->closed_) return;
      if (ec || !self->Inspect(n)) return self->Close();
      asio::async_write(self->grpc_side_, asio::buffer(self->in_.data(), n),
                        [self](error_code ec, size_t) {
                          if (self->closed_) return;
                          if (ec) return self->Close();
                          self->ReadClient();
                        });
    });
  }

  // gRPC's bytes to the client. The buffer starts at one TLS record and
  // grows to kBulkBytes once a read fills it (an index stream): each pass
  // through the front's thread then moves 256 KiB, not 16, which on a
  // loaded machine is what bounds a bulk transfer.
  void ReadGrpc() {
    grpc_side_.async_read_some(
        asio::buffer(out_),
        [self = shared_from_this()](error_code ec, size_t n) {
          if (self->closed_) return;
          if (ec) return self->Close();  // gRPC closed the connection
          const bool full = n == self->out_.size();
          // More than a record: its records leave as few full segments,
          // not one send and one wake-up of the client per 16 KiB record
          // (uncorked, and so sent, when the write completes).
          const bool cork = n > kRecordBytes;
          if (cork) self->Cork(true);
          asio::async_write(self->tls_, asio::buffer(self->out_.data(), n),
                            [self, full, cork](error_code ec, size_t) {
                              if (self->closed_) return;
                              if (cork) self->Cork(false);
                              if (ec) return self->Close();
                              if (full && self->out_.size() < kBulkBytes) {
                                self->out_.resize(kBulkBytes);
                              }
                              self->ReadGrpc();
                            });
        });
  }

  // Counts the client's next `n` bytes; false if the connection must end.
  bool Inspect(size_t n) {
    frames_.Feed(in_.data(), n);
    if (frames_.malformed()) return false;  // gRPC would end it too
    const int64_t now = SteadyMs();
    if (now - window_start_ms_ >= state_->options.reset_window_ms) {
      window_start_ms_ = now;
      window_resets_ = frames_.resets();
    }
    const uint64_t resets = frames_.resets() - window_resets_;
    if (resets <=
        static_cast<uint64_t>(state_->options.max_resets_per_window)) {
      return true;
    }
    int64_t penalty_ms = 0;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      Penalty& p = state_->penalties[digest_];
      const bool repeat =
          p.last_flood_ms != 0 && now - p.last_flood_ms < kPenaltyMemoryMs;
      p.length_ms =
          repeat ? std::min(2 * p.length_ms, state_->options.max_penalty_ms)
                 : state_->options.penalty_ms;
      p.until_ms = now + p.length_ms;
      p.last_flood_ms = now;
      penalty_ms = p.length_ms;
      ForgetOldPenalties(now);
    }
    state_->Count(&TlsFront::Stats::reset_floods, "reset_flood");
    std::shared_ptr<const FrontCaller> caller =
        FrontCallerOf(absl::StrCat("fd:", grpc_fd_));
    LogEvent(state_->options.self, "warn", "connection-closed",
             {{"port", state_->options.port},
              {"reason", "reset-flood"},
              {"caller", caller != nullptr && !caller->uris.empty()
                             ? absl::StrJoin(caller->uris, ",")
                             : "unknown"},
              {"remote", remote_},
              {"resets", std::to_string(resets)},
              {"window_ms", std::to_string(now - window_start_ms_)},
              {"penalty_ms", std::to_string(penalty_ms)}});
    return false;
  }

  void ForgetOldPenalties(int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (state_->penalties.size() < 1024) return;
    for (auto it = state_->penalties.begin(); it != state_->penalties.end();) {
      if (now - it->second.last_flood_ms >= kPenaltyMemoryMs &&
          now >= it->second.until_ms) {
        it = state_->penalties.erase(it);
      } else {
        ++it;
      }
    }
  }

  TlsFront::State* const state_;
  const std::shared_ptr<ssl::context> context_;  // outlives tls_
  const std::string remote_;
  const asio::any_io_executor executor_;  // the connection's strand
  ssl::stream<tcp::socket> tls_;
  unix_stream::socket grpc_side_;
  asio::steady_timer timer_;
  const uint64_t id_;
  Bytes digest_;
  int grpc_fd_ = -1;
  bool closed_ = false;
  H2ClientFrames frames_;
  int64_t window_start_ms_;
  uint64_t window_resets_ = 0;
  // One TLS record's worth each way to start with (16 KiB); out_ grows to
  // kBulkBytes for a bulk stream (ReadGrpc). At most 272 KiB a connection.
  static constexpr size_t kRecordBytes = 16 * 1024;
  static constexpr size_t kBulkBytes = 256 * 1024;
  std::array<uint8_t, kRecordBytes> in_;
  std::vector<uint8_t> out_ = std::vector<uint8_t>(kRecordBytes);
  bool counted_ = false;  // in state_->per_certificate
};

void Accept(TlsFront::State* state) {
  // Each accepted socket gets a strand of its own.
  auto on_accept = [state](error_code ec, tcp::socket socket) {
    if (!state->accepting || ec == asio::error::operation_aborted) return;
    if (ec) return Accept(state);
    size_t open_now = 0;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      open_now = state->open.size();
    }
    if (static_cast<int>(open_now) >= state->options.max_connections) {
      state->Count(&TlsFront::Stats::refused_full, "over_limit");
      error_code ignored;
      socket.close(ignored);
      return Accept(state);
    }
    {
      std::lock_guard<std::mutex> lock(state->stats_mu);
      ++state->stats.accepted;
    }
    absl::StatusOr<TlsFrontMaterial> material = state->options.tls();
    if (material.ok() && material->generation != state->generation) {
      absl::StatusOr<std::shared_ptr<ssl::context>> made =
          MakeContext(*material, state->options.port + "_listen");
      if (made.ok()) {
        state->context = *std::move(made);
        state->generation = material->generation;
      } else {
        LogEvent(state->options.self, "error", "tls-reload-refused",
                 {{"what", state->options.port + "_front"},
                  {"reason", std::string(made.status().message())}});
        state->generation = material->generation;  // said once
      }
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      const uint64_t id = state->next_id++;
      connection = std::make_shared<Connection>(state, std::move(socket),
                                                state->context, id);
      state->open[id] = connection;
      state->SetOpen(state->open.size());
    }
    asio::dispatch(connection->executor(),
                   [connection] { connection->Begin(); });
    Accept(state);
  };
  state->acceptor.async_accept(
      asio::any_io_executor(asio::make_strand(state->io)),
      std::move(on_accept));
}

// The address to bind: an IP address or localhost (ParseListenEndpoint),
// or else a host name resolved here, as gRPC would.
absl::StatusOr<tcp::endpoint> BindAddress(asio::io_context& io,
                                          const std::string& field,
                                          const std::string& listen) {
  absl::StatusOr<tcp::endpoint> endpoint = ParseListenEndpoint(field, listen);
  if (endpoint.ok()) return endpoint;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return endpoint.status();
  tcp::resolver resolver(io);
  error_code ec;
  auto results =
      resolver.resolve(listen.substr(0, colon), listen.substr(colon + 1),
                       tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(
        absl::StrCat(field, ": cannot listen on ", listen, ": ",
                     ec ? ec.message() : "the name resolves to no address"));
  }
  return results.begin()->endpoint();
}

}  // namespace

std::shared_ptr<const FrontCaller> FrontCallerOf(std::string_view grpc_peer) {
  absl::string_view rest(grpc_peer.data(), grpc_peer.size());
  if (!absl::ConsumePrefix(&rest, "fd:")) return nullptr;
  int fd = -1;
  if (!absl::SimpleAtoi(rest, &fd)) return nullptr;
  Registry& r = Callers();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_fd.find(fd);
  if (it == r.by_fd.end()) return nullptr;
  return it->second.second;
}

absl::StatusOr<std::unique_ptr<TlsFront>> TlsFront::Start(
    grpc::Server* server, TlsFrontOptions options) {
  if (server == nullptr || !options.tls) {
    return absl::InvalidArgumentError("TLS front: server and tls required");
  }
  absl::StatusOr<TlsFrontMaterial> material = options.tls();
  if (!material.ok()) return material.status();
  absl::StatusOr<std::shared_ptr<ssl::context>> context =
      MakeContext(*material, options.port + "_listen");
  if (!context.ok()) return context.status();
  std::unique_ptr<TlsFront> front(new TlsFront());
  front->state_ = std::make_unique<State>();
  State& s = *front->state_;
  s.server = server;
  s.options = std::move(options);
  s.context = *std::move(context);
  s.generation = material->generation;
  ASSIGN_OR_RETURN(
      tcp::endpoint endpoint,
      BindAddress(s.io, s.options.port + "_listen", s.options.listen));
  error_code ec;
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && endpoint.address().is_v6()) {
    s.acceptor.set_option(asio::ip::v6_only(false), ec);
  }
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(s.options.port, "_listen: cannot listen on ",
                     s.options.listen, ": ", ec.message()));
  }
  front->port_ = s.acceptor.local_endpoint().port();
  Accept(&s);
  const int threads = std::max(1, s.options.threads);
  for (int t = 0; t < threads; ++t) {
    s.threads.emplace_back([&s] { s.io.run(); });
  }
  return front;
}

void TlsFront::StopAccepting() {
  if (state_ == nullptr || state_->threads.empty()) return;
  // Once only: after the acceptor closed, the threads may have run out of
  // work and ended, and nothing would run a second close.
  if (!state_->accepting.exchange(false)) return;
  std::promise<void> done;
  asio::post(state_->acceptor.get_executor(), [state = state_.get(), &done] {
    error_code ignored;
    state->acceptor.close(ignored);
    done.set_value();
  });
  done.get_future().wait();
}

TlsFront::~TlsFront() {
  if (state_ == nullptr) return;
  // Nothing is accepted or handed on any more; the threads stop, and the
  // connections still open are destroyed with the io_context (closing
  // their sockets: their clients and gRPC see the end).
  StopAccepting();
  state_->io.stop();
  for (std::thread& t : state_->threads) t.join();
  state_->threads.clear();
}

TlsFront::Stats TlsFront::stats() const {
  std::lock_guard<std::mutex> lock(state_->stats_mu);
  return state_->stats;
}

}  // namespace cbx::node
