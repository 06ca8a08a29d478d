// What this node asks of another member's Peer service (proto/cbx/v1/
// peer.proto), as an interface: the gRPC implementation
// (node/grpc_peer_transport.h) in production, in-process fake members
// (node/testing/fake_peer.h) in unit tests.
//
// Every call names the member asked and a time budget in milliseconds (not
// an absolute deadline, so that a fake clock stays fake): a call not
// answered within it fails with DEADLINE_EXCEEDED. Other failures carry the
// status the member answered with, or UNAVAILABLE when it cannot be
// reached, NOT_FOUND when `member` is not in the directory. A transport
// moves bytes only: it opens no envelope and logs nothing; the caller
// checks every reply and writes the audit entries.
//
// Implementations are thread-safe: calls to several members (and several
// calls to one member) may run at once on different threads. Each call
// blocks its thread until the reply or the budget's end.
#ifndef CBX_NODE_PEER_TRANSPORT_H_
#define CBX_NODE_PEER_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/peer.pb.h"

namespace cbx::node {

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;

  // Peer.Evaluate: `request` (an evaluate_request envelope) -> the reply
  // envelope, unopened.
  virtual absl::StatusOr<v1::Envelope> Evaluate(const std::string& member,
                                                const v1::Envelope& request,
                                                int64_t budget_ms) = 0;

  // Peer.Resolve: `request` (a resolve_request envelope) -> the reply
  // envelope, unopened.
  virtual absl::StatusOr<v1::Envelope> Resolve(const std::string& member,
                                               const v1::Envelope& request,
                                               int64_t budget_ms) = 0;

  // Peer.SyncIndex: calls `on_part` with each part of the stream, in order,
  // as it arrives (a full copy is never buffered twice), on the calling
  // thread; returns the stream's final status. Parts delivered before a
  // failure stay delivered: the caller judges them by that status. If
  // `on_part` returns false the call is cancelled at once: no further part
  // is read or delivered, and the result is CANCELLED (the caller, which
  // stopped the stream, knows why).
  virtual absl::Status SyncIndex(
      const std::string& member, const v1::Envelope& request, int64_t budget_ms,
      const std::function<bool(v1::IndexPart&&)>& on_part) = 0;

  // Peer.GetDirectory.
  virtual absl::StatusOr<v1::GetDirectoryResponse> GetDirectory(
      const std::string& member, const v1::GetDirectoryRequest& request,
      int64_t budget_ms) = 0;

  // Peer.GetCheckpoint.
  virtual absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(
      const std::string& member, const v1::GetCheckpointRequest& request,
      int64_t budget_ms) = 0;

  // Peer.Cooperate: `request` (a cooperation_request or
  // cooperation_response envelope) -> the reply envelope (a
  // cooperation_receipt), unopened.
  virtual absl::StatusOr<v1::Envelope> Cooperate(const std::string& member,
                                                 const v1::Envelope& request,
                                                 int64_t budget_ms) = 0;

  // Peer.Withdraw: `request` (a withdrawal envelope) -> the reply envelope
  // (a deletion_receipt), unopened.
  virtual absl::StatusOr<v1::Envelope> Withdraw(const std::string& member,
                                                const v1::Envelope& request,
                                                int64_t budget_ms) = 0;

  // Peer.AddCosignature.
  virtual absl::StatusOr<v1::AddCosignatureResponse> AddCosignature(
      const std::string& member, const v1::AddCosignatureRequest& request,
      int64_t budget_ms) = 0;
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_TRANSPORT_H_
