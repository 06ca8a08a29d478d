// The Peer service: what this node answers to other members' nodes
// (spec/lookup.md, spec/index-sync.md).
//
// Each handler authorizes (the caller's certificate names a member),
// validates (the envelope's seven checks, with the replay cache and quota
// of node/admission.h), delegates to the lookup responder
// (node/lookup_responder.h) or the witness, and maps the absl::Status to
// gRPC once. Threading: handlers run on gRPC's threads concurrently; the
// service holds no state of its own (the responder and NodeContext are
// thread-safe).
#ifndef CBX_NODE_PEER_SERVICE_H_
#define CBX_NODE_PEER_SERVICE_H_

#include <functional>
#include <string>
#include <string_view>

#include "cbx/v1/peer.grpc.pb.h"
#include "node/checkpoints.h"
#include "node/lookup_responder.h"
#include "node/node_context.h"

namespace cbx::node {

class PeerService final : public v1::Peer::Service {
 public:
  PeerService(NodeContext* context, Checkpoints* checkpoints);

  grpc::Status GetDirectory(grpc::ServerContext* context,
                            const v1::GetDirectoryRequest* request,
                            v1::GetDirectoryResponse* response) override;
  grpc::Status SyncIndex(grpc::ServerContext* context,
                         const v1::Envelope* request,
                         grpc::ServerWriter<v1::IndexPart>* writer) override;
  grpc::Status Evaluate(grpc::ServerContext* context,
                        const v1::Envelope* request,
                        v1::Envelope* response) override;
  grpc::Status Resolve(grpc::ServerContext* context,
                       const v1::Envelope* request,
                       v1::Envelope* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status AddCosignature(grpc::ServerContext* context,
                              const v1::AddCosignatureRequest* request,
                              v1::AddCosignatureResponse* response) override;

 private:
  // Identifies the caller and opens the envelope; logs a refusal.
  absl::StatusOr<envelope::OpenedEnvelope> Admit(grpc::ServerContext* context,
                                                 const v1::Envelope& envelope,
                                                 v1::Message::KindCase kind,
                                                 std::string_view rpc);
  // Logs a refusal of `envelope` (durably) and returns `refusal`, or the
  // log's failure.
  absl::Status Refuse(std::string_view rpc, const std::string& caller,
                      const v1::Envelope& envelope,
                      const absl::Status& refusal);
  // Admits `request` as `kind` and hands it to the responder's `respond`,
  // which answers into `response` and logs the exchange; one mapping to
  // gRPC.
  using RespondFn = absl::StatusOr<v1::Envelope> (LookupResponder::*)(
      const envelope::OpenedEnvelope&);
  grpc::Status Respond(grpc::ServerContext* context,
                       const v1::Envelope& request, v1::Message::KindCase kind,
                       std::string_view rpc, v1::Envelope* response,
                       RespondFn respond);
  // A call without an envelope (received): runs `body` for the identified
  // caller, logs the call with its outcome, and returns it (or the log's
  // failure) as a gRPC status.
  grpc::Status Called(
      grpc::ServerContext* context, std::string_view rpc, std::string_view kind,
      const std::function<absl::Status(const std::string&)>& body,
      AuditCounts* counts = nullptr);

  // OK if `caller` is active in the current directory; PERMISSION_DENIED
  // "caller CC is suspended" otherwise.
  absl::Status RefuseSuspended(const std::string& caller) const;
  // GetCheckpoint's answer: the latest checkpoint with only this node's
  // signature, and a consistency proof from the caller's size.
  absl::Status ServeCheckpoint(const v1::GetCheckpointRequest& request,
                               v1::GetCheckpointResponse* response);

  NodeContext* ctx_;
  Checkpoints* checkpoints_;
  LookupResponder responder_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_SERVICE_H_
