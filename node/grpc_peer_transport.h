// PeerTransport over gRPC: each call goes through the member's channel in
// PeerClients (mutual TLS, trusting only that member's CAs), with the
// budget turned into a gRPC deadline here and nowhere else. Thread-safe.
#ifndef CBX_NODE_GRPC_PEER_TRANSPORT_H_
#define CBX_NODE_GRPC_PEER_TRANSPORT_H_

#include "node/peer_clients.h"
#include "node/peer_transport.h"

namespace cbx::node {

class GrpcPeerTransport final : public PeerTransport {
 public:
  // `clients` must outlive this transport.
  explicit GrpcPeerTransport(PeerClients* clients) : clients_(clients) {}

  absl::StatusOr<v1::Envelope> Evaluate(const std::string& member,
                                        const v1::Envelope& request,
                                        int64_t budget_ms) override;
  absl::StatusOr<v1::Envelope> Cooperate(const std::string& member,
                                         const v1::Envelope& request,
                                         int64_t budget_ms) override;
  absl::StatusOr<v1::Envelope> Withdraw(const std::string& member,
                                        const v1::Envelope& request,
                                        int64_t budget_ms) override;
  absl::StatusOr<v1::Envelope> Resolve(const std::string& member,
                                       const v1::Envelope& request,
                                       int64_t budget_ms) override;
  absl::Status SyncIndex(
      const std::string& member, const v1::Envelope& request, int64_t budget_ms,
      const std::function<bool(v1::IndexPart&&)>& on_part) override;
  absl::StatusOr<v1::GetDirectoryResponse> GetDirectory(
      const std::string& member, const v1::GetDirectoryRequest& request,
      int64_t budget_ms) override;
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(
      const std::string& member, const v1::GetCheckpointRequest& request,
      int64_t budget_ms) override;
  absl::StatusOr<v1::AddCosignatureResponse> AddCosignature(
      const std::string& member, const v1::AddCosignatureRequest& request,
      int64_t budget_ms) override;

 private:
  PeerClients* clients_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_GRPC_PEER_TRANSPORT_H_
