// The Peer service: what this node answers to other members' nodes
// (spec/lookup.md, spec/index-sync.md).
//
// Each handler authorizes (the caller's certificate names a member),
// validates (the envelope's seven checks, with the replay cache and quota
// of node/admission.h), delegates to the lookup responder
// (node/lookup_responder.h) or the witness, and maps the absl::Status to
// gRPC once. Threading: handlers run on gRPC's sync server threads
// concurrently; the service holds no state of its own (the responder and
// NodeContext are thread-safe).
//
// The service registers the six methods of cbx.v1.Peer itself, as the
// generated v1::Peer::Service does, with one difference: Evaluate,
// Resolve and SyncIndex take a ReceivedEnvelope, whose deserializer never
// fails the call, so that a body that is not an Envelope reaches the
// handler and is refused INVALID_ARGUMENT "request is not a cbx Envelope"
// and logged (spec/errors.md B1) — gRPC's own deserializer answers
// INTERNAL with no message and never calls the handler. The calls stay
// unary and server-streaming (the request is read before a thread is
// given to it: a stream that never sends its body holds no thread), and
// the bytes parsed are the same (grpc::GenericDeserialize).
#ifndef CBX_NODE_PEER_SERVICE_H_
#define CBX_NODE_PEER_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cbx/v1/peer.grpc.pb.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "node/checkpoints.h"
#include "node/cooperation.h"
#include "node/lookup_responder.h"
#include "node/node_context.h"
#include "node/withdrawal.h"

namespace cbx::node {

// The body of an Evaluate, Resolve or SyncIndex request as received:
// `envelope` is valid only if `parsed`.
struct ReceivedEnvelope {
  v1::Envelope envelope;
  bool parsed = false;
};

// The refusal of a Peer request whose body does not parse as an Envelope.
absl::Status NotAnEnvelope();

class PeerService final : public grpc::Service {
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
  // Peer.Cooperate likewise (spec/cooperation.md §2): a cooperation
  // request or response, admitted as every envelope, handed to the
  // cooperation module (UNIMPLEMENTED while none is set).
  absl::StatusOr<v1::Envelope> CooperateAs(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* request);
  // The cooperation module Peer.Cooperate delegates to; it must outlive
  // the service. Set while the node is wired, before it serves.
  void set_cooperation(Cooperation* cooperation) { cooperation_ = cooperation; }
  // Peer.Withdraw likewise (spec/cooperation.md §2.4): a withdrawal,
  // admitted as every envelope, handed to the withdrawal module
  // (UNIMPLEMENTED while none is set, which must outlive the service).
  absl::StatusOr<v1::Envelope> WithdrawAs(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* request);
  void set_withdrawals(Withdrawals* withdrawals) { withdrawals_ = withdrawals; }

  // The six RPCs of cbx.v1.Peer (spec/lookup.md, spec/index-sync.md,
  // spec/witnessing.md), as gRPC calls them.
  grpc::Status GetDirectory(grpc::ServerContext* context,
                            const v1::GetDirectoryRequest* request,
                            v1::GetDirectoryResponse* response);
  grpc::Status SyncIndex(grpc::ServerContext* context,
                         const ReceivedEnvelope* request,
                         grpc::ServerWriter<v1::IndexPart>* writer);
  grpc::Status Evaluate(grpc::ServerContext* context,
                        const ReceivedEnvelope* request,
                        v1::Envelope* response);
  grpc::Status Resolve(grpc::ServerContext* context,
                       const ReceivedEnvelope* request, v1::Envelope* response);
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response);
  grpc::Status AddCosignature(grpc::ServerContext* context,
                              const v1::AddCosignatureRequest* request,
                              v1::AddCosignatureResponse* response);
  grpc::Status Cooperate(grpc::ServerContext* context,
                         const ReceivedEnvelope* request,
                         v1::Envelope* response);
  grpc::Status Withdraw(grpc::ServerContext* context,
                        const ReceivedEnvelope* request,
                        v1::Envelope* response);

 private:
  // CallerMember for `context` under the current directory; records the
  // certificate of an identified caller as the one it presents now.
  absl::StatusOr<std::string> Identify(const grpc::ServerContext& context);
  // Opens the envelope from the identified `caller` (`envelope` null: the
  // body was not an Envelope); logs a refusal. The stateless checks of an
  // evaluate request run before its quota is charged.
  // An evaluate request's points, decoded by that check, are kept in
  // `*decoded` if given.
  absl::StatusOr<envelope::OpenedEnvelope> Admit(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* envelope,
      v1::Message::KindCase kind, std::string_view rpc,
      v1::Message::KindCase also = v1::Message::KIND_NOT_SET,
      std::optional<crypto::DecodedBatch>* decoded = nullptr);
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
  Cooperation* cooperation_ = nullptr;
  Withdrawals* withdrawals_ = nullptr;
};

}  // namespace cbx::node

// ReceivedEnvelope's deserializer: parses the body as gRPC parses an
// Envelope, and records whether it did instead of failing the call.
namespace grpc {
template <>
class SerializationTraits<cbx::node::ReceivedEnvelope, void> {
 public:
  static grpc::Status Serialize(const cbx::node::ReceivedEnvelope& message,
                                grpc::ByteBuffer* buffer, bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, cbx::v1::Envelope>(
        message.envelope, buffer, own_buffer);
  }
  static grpc::Status Deserialize(grpc::ByteBuffer* buffer,
                                  cbx::node::ReceivedEnvelope* message) {
    message->parsed =
        grpc::GenericDeserialize<grpc::ProtoBufferReader, cbx::v1::Envelope>(
            buffer, &message->envelope)
            .ok();
    return grpc::Status::OK;
  }
};
}  // namespace grpc

#endif  // CBX_NODE_PEER_SERVICE_H_
