// The Peer service: what this node answers to other members' nodes
// (spec/lookup.md, spec/index-sync.md).
//
// Each handler authorizes (the caller's certificate names a member),
// validates (the envelope's seven checks, with the replay cache and quota
// of node/admission.h), delegates to the lookup responder
// (node/lookup_responder.h) or the witness, and maps the absl::Status to
// gRPC once. The three envelope methods are registered "streamed" (a
// gRPC handler that reads the request itself) only so that a body that is
// not an Envelope is refused INVALID_ARGUMENT "request is not a cbx
// Envelope" and logged, where gRPC's own deserializer answers INTERNAL
// with no message (spec/errors.md §2); on the wire they are the same
// unary and server-streaming calls. Threading: handlers run on gRPC's
// threads concurrently; the
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

// The generated service with Evaluate, Resolve and SyncIndex read by the
// handlers themselves (see above).
using PeerServiceBase = v1::Peer::WithStreamedUnaryMethod_Evaluate<
    v1::Peer::WithStreamedUnaryMethod_Resolve<
        v1::Peer::WithSplitStreamingMethod_SyncIndex<v1::Peer::Service>>>;

// The refusal of a Peer request whose body does not parse as an Envelope.
absl::Status NotAnEnvelope();

class PeerService final : public PeerServiceBase {
 public:
  PeerService(NodeContext* context, Checkpoints* checkpoints);

  // Evaluate and Resolve as the gRPC methods answer them, for a caller
  // already identified (`caller` is CallerMember's result: an error if the
  // certificate named no member) and a request that parsed (`request`
  // null if it did not: NotAnEnvelope, logged). Every refusal is logged
  // RECEIVED before it is returned. Thread-safe.
  absl::StatusOr<v1::Envelope> EvaluateAs(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* request);
  absl::StatusOr<v1::Envelope> ResolveAs(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* request);

  grpc::Status GetDirectory(grpc::ServerContext* context,
                            const v1::GetDirectoryRequest* request,
                            v1::GetDirectoryResponse* response) override;
  grpc::Status StreamedSyncIndex(
      grpc::ServerContext* context,
      grpc::ServerSplitStreamer<v1::Envelope, v1::IndexPart>* stream) override;
  grpc::Status StreamedEvaluate(
      grpc::ServerContext* context,
      grpc::ServerUnaryStreamer<v1::Envelope, v1::Envelope>* stream) override;
  grpc::Status StreamedResolve(
      grpc::ServerContext* context,
      grpc::ServerUnaryStreamer<v1::Envelope, v1::Envelope>* stream) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status AddCosignature(grpc::ServerContext* context,
                              const v1::AddCosignatureRequest* request,
                              v1::AddCosignatureResponse* response) override;

 private:
  // Opens the envelope from the identified `caller` (`envelope` null: the
  // body was not an Envelope); logs a refusal. The stateless checks of an
  // evaluate request run before its quota is charged.
  absl::StatusOr<envelope::OpenedEnvelope> Admit(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* envelope,
      v1::Message::KindCase kind, std::string_view rpc);
  // Logs a refusal of `envelope` (durably; null: a body that was not an
  // Envelope) and returns `refusal`, or the log's failure.
  absl::Status Refuse(std::string_view rpc, const std::string& caller,
                      const v1::Envelope* envelope,
                      const absl::Status& refusal);
  // Admits `request` as `kind` and hands it to the responder's `respond`,
  // which answers into `response` and logs the exchange; one mapping to
  // gRPC.
  using RespondFn = absl::StatusOr<v1::Envelope> (LookupResponder::*)(
      const envelope::OpenedEnvelope&);
  absl::StatusOr<v1::Envelope> Respond(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* request,
      v1::Message::KindCase kind, std::string_view rpc, RespondFn respond);
  // A call without an envelope (received): runs `body` for the identified
  // caller, logs the call with its outcome, and returns it (or the log's
  // failure) as a gRPC status.
  grpc::Status Called(
      grpc::ServerContext* context, std::string_view rpc, std::string_view kind,
      const std::function<absl::Status(const std::string&)>& body,
      AuditCounts* counts = nullptr);

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
