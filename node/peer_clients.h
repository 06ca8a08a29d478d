// Channels from this node to every other member's Peer service, over mutual
// TLS: this node's certificate as the client identity, and only the called
// member's own CA(s) as trust roots, so the answer is bound to that member.
// One channel per endpoint of a member (its `endpoint` and, for an
// active/standby pair, each of its `standby_endpoints`), cached and shared
// by every call to it (gRPC multiplexes them). Each channel's handshake
// checks the certificate against the endpoint it dials (gRPC's host name
// check) and the member's CAs, so every endpoint is held to what the one
// endpoint was. Used by GrpcPeerTransport, which picks the endpoint
// (node/peer_endpoints.h).
//
// Revocation (spec/keys.md §5.3): every handshake also checks the peer's
// server certificate against the CRLs in use (TlsCredentials::revocations,
// or the source given to the constructor); a revoked certificate fails the
// handshake, so no request is sent, the call ends UNAVAILABLE, and the node
// logs `peer-certificate-revoked` naming the member and the serial. A
// change of the CRLs in use makes new channels, so a connection opened
// before a revocation is not used for new calls after it.
//
// Threading: thread-safe. Stub() serializes on one mutex (no I/O under it);
// the handshake check runs on gRPC's threads and only reads a snapshot.
#ifndef CBX_NODE_PEER_CLIENTS_H_
#define CBX_NODE_PEER_CLIENTS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "grpcpp/channel.h"
#include "node/grpc_limits.h"
#include "node/node_context.h"
#include "node/peer_endpoints.h"
#include "node/revocation.h"

namespace cbx::node {

struct TlsIdentity;  // node/tls_credentials.h

// How PeerClients' channels notice a connection that went silent while a
// call waits on it (node/grpc_limits.h; tests shorten it).
struct PeerKeepalive {
  int time_ms = kPeerKeepaliveTimeMs;
  int timeout_ms = kPeerKeepaliveTimeoutMs;
};

class PeerClients {
 public:
  // The CRLs to judge peers' certificates with, read at each handshake.
  // Must be thread-safe; may return null (no CRLs).
  using RevocationSource =
      std::function<std::shared_ptr<const RevocationSet>()>;

  // `revocations` null: the CRLs of context->tls when it is set, none
  // otherwise.
  explicit PeerClients(NodeContext* context,
                       RevocationSource revocations = nullptr,
                       PeerKeepalive keepalive = {});
  ~PeerClients();

  // One endpoint of a member, with its channel and a stub on it.
  struct Link {
    std::string endpoint;
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<v1::Peer::Stub> stub;
  };

  // `member`'s links, one per endpoint in directory order (endpoint, then
  // standby_endpoints), (re)creating its channels when first used, when the
  // directory changed its endpoints or CAs, when this node's TLS identity
  // was reloaded (NodeContext::tls), or when the CRLs in use changed.
  // NOT_FOUND if the member is not in the directory.
  absl::StatusOr<std::vector<Link>> Links(const std::string& member);

  // Which endpoint of each member answered last (NodeContext's), and this
  // node's member code, for GrpcPeerTransport's choice and its log line.
  PeerEndpointsInUse& endpoints_in_use() { return *ctx_->peer_endpoints; }
  const std::string& self() const { return ctx_->self(); }

  // Why the last handshake with `member` was refused for revocation ("" if
  // it was not, or a later handshake passed): for the error of a call that
  // failed UNAVAILABLE.
  std::string RevocationRefusal(const std::string& member) const;

  // What the handshake checks share with this object; it may outlive it
  // (gRPC keeps a channel's verifier until the channel is gone).
  struct Shared;

 private:
  struct Entry {
    // endpoints + CAs + identity generation + CRLs the channels were made
    // with
    std::string fingerprint;
    std::vector<Link> links;
  };
  std::shared_ptr<grpc::Channel> NewChannel(const std::string& member,
                                            const std::string& endpoint,
                                            const std::string& roots,
                                            const TlsIdentity* identity);
  NodeContext* ctx_;
  const PeerKeepalive keepalive_;
  std::shared_ptr<Shared> shared_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_CLIENTS_H_
