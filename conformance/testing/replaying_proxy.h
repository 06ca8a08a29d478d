// A Peer service that breaks one rule of the protocol, for the test that
// shows the conformance kit can fail: it forwards every call to a real
// node, presenting the caller's own kit certificate, except that an
// Evaluate, Resolve or SyncIndex request it has seen before (byte for byte)
// is answered from its cache with the node's first answer — a node that
// answers replayed envelopes (envelope.md §4 check 6).
//
// Requests are forwarded as raw bytes, so whatever the node answers to a
// body that is not an Envelope reaches the caller unchanged. Thread-safe:
// gRPC's threads run the handlers; the cache has its own lock.
#ifndef CBX_CONFORMANCE_TESTING_REPLAYING_PROXY_H_
#define CBX_CONFORMANCE_TESTING_REPLAYING_PROXY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cbx::conformance {

class ReplayingProxy {
 public:
  // Listens on a free loopback port with QT's certificate from `kit_dir`,
  // forwarding to `node_peer_address`.
  static absl::StatusOr<std::unique_ptr<ReplayingProxy>> Start(
      const std::string& kit_dir, const std::string& node_peer_address);
  ~ReplayingProxy();

  const std::string& address() const { return address_; }

 private:
  struct Impl;
  ReplayingProxy() = default;
  std::unique_ptr<Impl> impl_;
  std::string address_;
};

}  // namespace cbx::conformance

#endif  // CBX_CONFORMANCE_TESTING_REPLAYING_PROXY_H_
