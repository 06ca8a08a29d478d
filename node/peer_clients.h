// Channels from this node to every other member's Peer service, over mutual
// TLS: this node's certificate as the client identity, and only the called
// member's own CA(s) as trust roots, so the answer is bound to that member.
// One channel per member, cached and shared by every call to it (gRPC
// multiplexes them). Used by GrpcPeerTransport.
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

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "node/node_context.h"
#include "node/revocation.h"

namespace cbx::node {

class PeerClients {
 public:
  // The CRLs to judge peers' certificates with, read at each handshake.
  // Must be thread-safe; may return null (no CRLs).
  using RevocationSource =
      std::function<std::shared_ptr<const RevocationSet>()>;

  // `revocations` null: the CRLs of context->tls when it is set, none
  // otherwise.
  explicit PeerClients(NodeContext* context,
                       RevocationSource revocations = nullptr);
  ~PeerClients();

  // The stub for `member`, (re)creating its channel when first used, when
  // the directory changed its endpoint or CAs, when this node's TLS
  // identity was reloaded (NodeContext::tls), or when the CRLs in use
  // changed. NOT_FOUND if the member is not in the directory.
  absl::StatusOr<std::shared_ptr<v1::Peer::Stub>> Stub(
      const std::string& member);

  // Why the last handshake with `member` was refused for revocation ("" if
  // it was not, or a later handshake passed): for the error of a call that
  // failed UNAVAILABLE.
  std::string RevocationRefusal(const std::string& member) const;

  // What the handshake checks share with this object; it may outlive it
  // (gRPC keeps a channel's verifier until the channel is gone).
  struct Shared;

 private:
  struct Entry {
    // endpoint + CAs + identity generation + CRLs the channel was made with
    std::string fingerprint;
    std::shared_ptr<v1::Peer::Stub> stub;
  };
  NodeContext* ctx_;
  std::shared_ptr<Shared> shared_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_CLIENTS_H_
