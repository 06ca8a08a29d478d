// The TLS of the node's two gRPC ports (Peer and Office), ended by the node
// itself in front of gRPC (issue 9, spec/threats.md §4): HTTP/2 rapid
// reset (CVE-2023-44487).
//
// gRPC 1.51 has no bound of its own on streams a client opens and resets at
// once (upstream's came in gRPC C-core 1.57.1): a member holding a valid
// certificate, or a thief holding an office's, can starve every other
// caller of a port with them. To count them, the node must see the HTTP/2
// frames, which only the end of the TLS connection does. So the node
// accepts each port's TCP connections and does the TLS handshake itself
// (OpenSSL, with the roots and identity gRPC would use, from
// node/tls_credentials.h), then hands the plain HTTP/2 bytes to the port's
// gRPC server over a socket pair (grpc::AddInsecureChannelFromFd), passing
// bytes both ways. On the way in it reads each frame's 9-byte header
// (node/h2_frames.h, no decoding of header blocks):
//   - a connection whose client resets more than kMaxClientResetsPerWindow
//     streams within kClientResetWindowMs is closed, logged once
//     (connection-closed reason=reset-flood) and counted;
//   - that certificate's new connections are then closed after their
//     handshake for kResetFloodPenaltyMs, doubled at each new flood within
//     an hour, up to kMaxResetFloodPenaltyMs. The key is the certificate's
//     digest, not the member or office it names: a member whose CA issued
//     a certificate naming another member cannot get that member shut out.
//   - a connection that has not finished its TLS handshake and sent the
//     HTTP/2 preface and SETTINGS within kServerHandshakeTimeoutMs is
//     closed (slow loris); at most kMaxFrontConnections are open, at most
//     kMaxConnectionsPerCertificate of them handed on for one certificate.
// Every limit of node/grpc_limits.h that gRPC enforces (streams per
// connection, message sizes, keepalive, idleness, age) still applies: they
// are the gRPC server's and hold for connections handed to it this way.
//
// Who called: the gRPC server sees a connection without TLS, whose peer
// string is "fd:<n>", n being gRPC's end of the socket pair. The front
// records, per such connection, the client certificate of its handshake;
// FrontCallerOf() returns it, and identity.h (CallerMember, CallerOffice)
// and the RPC metrics use it where gRPC's auth context has no certificate.
// The entry goes when the front closes the connection. gRPC closes its end
// of the pair, which frees the number for reuse, only when its transport
// is destroyed, after every call on it ended; so a call never sees a later
// connection's entry.
//
// Revocation: a revoked certificate still completes its handshake (a
// refused handshake would reach the caller as a retryable UNAVAILABLE);
// every call on it is refused UNAUTHENTICATED by the service
// (PeerService::Identify, OfficeService::Authenticate, through
// TlsCredentials::CheckCertificate).
//
// Threading: each front runs `threads` threads of its own on one
// io_context for its acceptor, every handshake and every byte; each
// connection's handlers run one at a time on a strand of its own, and the
// books the connections share (penalties, counts per certificate, the open
// set) are under one mutex. Start, StopAccepting and the destructor are
// called from one thread (the node's); FrontCallerOf is thread-safe (a
// mutex around a map shared by both fronts).
#ifndef CBX_NODE_TLS_FRONT_H_
#define CBX_NODE_TLS_FRONT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"

namespace cbx::node {

// The TLS material of the front's next handshakes; `generation` changes
// whenever any of it does (the TLS context is remade then). Shared, not
// copied: the front asks for it at each accept and reads the PEM only
// when the generation changed.
struct TlsFrontMaterial {
  // The node's certificate (and chain).
  std::shared_ptr<const std::string> certificate_pem;
  std::shared_ptr<const std::string> private_key_pem;
  // The CAs callers' chains must reach.
  std::shared_ptr<const std::string> client_roots_pem;
  uint64_t generation = 0;
};

struct TlsFrontOptions {
  std::string self;    // the member code, for log lines
  std::string port;    // "peer" or "office": log lines, metrics, errors
  std::string listen;  // config <port>_listen: host:port
  // Asked at each accept; must not block for long. Required.
  std::function<absl::StatusOr<TlsFrontMaterial>()> tls;
  // The limits (node/grpc_limits.h by default; tests shorten them).
  int64_t handshake_timeout_ms;
  int max_resets_per_window;
  int64_t reset_window_ms;
  int64_t penalty_ms;
  int64_t max_penalty_ms;
  int max_connections;
  int max_connections_per_certificate;
  // Threads running the front (each connection's work is serialized on a
  // strand of its own, so connections proceed in parallel).
  int threads;
  TlsFrontOptions();
};

// The caller of a connection the front handed to gRPC.
struct FrontCaller {
  std::string certificate_pem;    // the client's leaf certificate
  std::vector<std::string> uris;  // its URI SANs
  std::string remote;             // "ipv4:10.0.0.7:50122"
};

// The caller behind a gRPC peer string ("fd:17") of a connection the front
// handed to gRPC and has not closed; null for any other peer string.
std::shared_ptr<const FrontCaller> FrontCallerOf(std::string_view grpc_peer);

class TlsFront {
 public:
  struct Stats {
    uint64_t accepted = 0;            // TCP connections accepted
    uint64_t handed_to_grpc = 0;      // handshakes completed and handed on
    uint64_t handshake_failures = 0;  // TLS refused or broken
    uint64_t timeouts = 0;            // closed by the handshake timeout
    uint64_t reset_floods = 0;        // closed for a reset flood
    uint64_t refused_penalized = 0;   // closed after the handshake: penalty
    uint64_t refused_full = 0;        // closed: max_connections, or after the
                                // handshake max_connections_per_certificate
    int open = 0;  // connections open now
  };

  // Listens on options.listen and serves `server` (started, with its
  // services and no listening port of its own), which must outlive the
  // front. UNAVAILABLE "<port>_listen: cannot listen on ..." if the address
  // cannot be bound; FAILED_PRECONDITION if the TLS material does not load.
  static absl::StatusOr<std::unique_ptr<TlsFront>> Start(
      grpc::Server* server, TlsFrontOptions options);
  // Closes the listener and every connection, and stops the thread.
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  // The port bound (useful with port 0).
  int port() const { return port_; }
  // No connection is accepted or handed to gRPC after this returns; open
  // ones keep passing bytes (so that gRPC's shutdown reaches its clients).
  void StopAccepting();
  // A copy of the counters (taken on the front's thread).
  Stats stats() const;

  struct State;

 private:
  TlsFront() = default;
  std::unique_ptr<State> state_;
  int port_ = 0;
};

}  // namespace cbx::node

#endif  // CBX_NODE_TLS_FRONT_H_
