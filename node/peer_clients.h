// Channels from this node to every other member's Peer service, over mutual
// TLS: this node's certificate as the client identity, and only the called
// member's own CA(s) as trust roots, so the answer is bound to that member.
// One channel per member, cached and shared by every call to it (gRPC
// multiplexes them). Used by GrpcPeerTransport. Thread-safe.
#ifndef CBX_NODE_PEER_CLIENTS_H_
#define CBX_NODE_PEER_CLIENTS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "node/node_context.h"

namespace cbx::node {

class PeerClients {
 public:
  explicit PeerClients(NodeContext* context) : ctx_(context) {}

  // The stub for `member`, (re)creating its channel when first used, when
  // the directory changed its endpoint or CAs, or when this node's TLS
  // identity was reloaded (NodeContext::tls). NOT_FOUND if the member is
  // not in the directory.
  absl::StatusOr<std::shared_ptr<v1::Peer::Stub>> Stub(
      const std::string& member);

 private:
  struct Entry {
    // endpoint + CAs + identity generation the channel was made with
    std::string fingerprint;
    std::shared_ptr<v1::Peer::Stub> stub;
  };
  NodeContext* ctx_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_CLIENTS_H_
