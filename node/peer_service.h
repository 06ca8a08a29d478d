// The Peer service: what this node answers to other members' nodes
// (spec/lookup.md, spec/index-sync.md).
//
// Each handler authorizes (the caller's certificate names a member),
// validates (the envelope's seven checks, with the replay cache and quota
// of node/admission.h), delegates to the lookup responder
// (node/lookup_responder.h) or the witness, and maps the absl::Status to
// gRPC once.
//
// Threading: handlers run on gRPC's sync server threads concurrently; the
// service holds no state of its own (the responder and NodeContext are
// thread-safe).
//
// Every request is read as a Received<T> (node/grpc_calls.h): a call that
// ended before its request is answered at once and never reaches a
// handler or the log; a body that does not parse is, for Evaluate,
// Resolve, SyncIndex, Cooperate and Withdraw, refused INVALID_ARGUMENT
// "request is not a cbx Envelope" and logged (spec/errors.md B1), and for
// the others refused INVALID_ARGUMENT "request is not a <message name>".
#ifndef CBX_NODE_PEER_SERVICE_H_
#define CBX_NODE_PEER_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cbx/v1/peer.grpc.pb.h"
#include "node/checkpoints.h"
#include "node/cooperation.h"
#include "node/grpc_calls.h"
#include "node/lookup_responder.h"
#include "node/node_context.h"
#include "node/refusal_budget.h"
#include "node/withdrawal.h"

namespace cbx::node {

using ReceivedEnvelope = Received<v1::Envelope>;

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

  // Peer.GetCheckpoint as the gRPC method answers it, for a caller already
  // identified (as EvaluateAs).
  absl::Status GetCheckpointAs(const absl::StatusOr<std::string>& caller,
                               const v1::GetCheckpointRequest& request,
                               v1::GetCheckpointResponse* response);
  // Peer.AddCosignature likewise. A cosignature the checkpoint already
  // held changes nothing and counts against the caller's budget of such
  // calls (node/refusal_budget.h), not logged one by one past it.
  absl::Status AddCosignatureAs(const absl::StatusOr<std::string>& caller,
                                const v1::AddCosignatureRequest& request,
                                v1::AddCosignatureResponse* response);

  // Peer.SyncIndex as the gRPC method answers it, for a caller already
  // identified: `write` sends each part (false: the stream broke,
  // CANCELLED). Beyond kIndexSyncsPerWindow calls of one member in a
  // minute the call is refused RESOURCE_EXHAUSTED before its envelope is
  // opened; beyond kFullIndexesPerHour answers holding the whole index to
  // one member in an hour, likewise once the answer would be whole.
  absl::Status SyncIndexAs(
      const absl::StatusOr<std::string>& caller, const v1::Envelope* request,
      const std::function<bool(const v1::IndexPart&)>& write);

  // Writes the counts of the calls each caller made beyond its budget in
  // the windows that have ended (node/refusal_budget.h): per caller, rpc
  // and status code one warn line "calls-summarized" and one RECEIVED audit
  // entry of kind "summarized_calls" with outcome.calls (spec/audit-log.md
  // §2.1). The node runs it on a timer. Thread-safe.
  void FlushSummaries();

  // The six RPCs of cbx.v1.Peer (spec/lookup.md, spec/index-sync.md,
  // spec/witnessing.md), as gRPC calls them.
  grpc::Status GetDirectory(grpc::ServerContextBase* context,
                            const v1::GetDirectoryRequest* request,
                            v1::GetDirectoryResponse* response);
  grpc::Status SyncIndex(
      grpc::ServerContextBase* context, const ReceivedEnvelope* request,
      grpc::internal::WriterInterface<v1::IndexPart>* writer);
  grpc::Status Evaluate(grpc::ServerContextBase* context,
                        const ReceivedEnvelope* request,
                        v1::Envelope* response);
  grpc::Status Resolve(grpc::ServerContextBase* context,
                       const ReceivedEnvelope* request, v1::Envelope* response);
  grpc::Status GetCheckpoint(grpc::ServerContextBase* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response);
  grpc::Status AddCosignature(grpc::ServerContextBase* context,
                              const v1::AddCosignatureRequest* request,
                              v1::AddCosignatureResponse* response);
  grpc::Status Cooperate(grpc::ServerContextBase* context,
                         const ReceivedEnvelope* request,
                         v1::Envelope* response);
  grpc::Status Withdraw(grpc::ServerContextBase* context,
                        const ReceivedEnvelope* request,
                        v1::Envelope* response);

 private:
  // CallerMember for `context` under the current directory; records the
  // certificate of an identified caller as the one it presents now.
  absl::StatusOr<std::string> Identify(const grpc::ServerContextBase& context);
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
  // Logs a refusal of `envelope` (a warn line, and durably; null: a body
  // that was not an Envelope) and returns `refusal`, or the log's failure.
  // Beyond the caller's budget (node/refusal_budget.h) the refusal is only
  // counted, for FlushSummaries.
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
  // A refusal beyond the caller's budget (node/refusal_budget.h) is only
  // counted, and so is an answer beyond the caller's budget of answered
  // calls when the call is `read_only` (it changes nothing: GetDirectory,
  // GetCheckpoint, an AddCosignature the checkpoint already held), as it
  // stands once `body` has run.
  grpc::Status Called(
      grpc::ServerContextBase* context, std::string_view rpc,
      std::string_view kind,
      const std::function<absl::Status(const std::string&)>& body,
      AuditCounts* counts = nullptr, const bool& read_only = false);
  // The same for a caller already identified.
  absl::Status CalledAs(
      const absl::StatusOr<std::string>& caller, std::string_view rpc,
      std::string_view kind,
      const std::function<absl::Status(const std::string&)>& body,
      AuditCounts* counts, const bool& read_only);

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
  RefusalBudget budget_;                                 // refused calls
  RefusalBudget reads_{RefusalBudget::kReadsPerWindow};  // answered reads
  // SyncIndex calls per member per minute, and whole-index answers per
  // member per hour (node/refusal_budget.h); beyond either the call is
  // refused RESOURCE_EXHAUSTED (and that refusal goes through budget_).
  RefusalBudget index_syncs_{RefusalBudget::kIndexSyncsPerWindow};
  RefusalBudget whole_indexes_{RefusalBudget::kFullIndexesPerHour,
                               RefusalBudget::kHourMs};
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_SERVICE_H_
