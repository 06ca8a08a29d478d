#include "node/grpc_peer_transport.h"

#include <chrono>

#include "core/util/status_macros.h"
#include "grpcpp/client_context.h"
#include "node/node_context.h"
#include "node/rpc_metrics.h"

namespace cbx::node {
namespace {

// The one place the node turns a budget into a wall-clock deadline: gRPC
// takes deadlines only as time points. (With a fake clock in tests the
// budget stays what the fake clock made it.)
void SetBudget(grpc::ClientContext& context, int64_t budget_ms) {
  context.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(budget_ms < 0 ? 0 : budget_ms));
}

// A failed call's status; a call that could not connect because `member`'s
// certificate is revoked says so (still UNAVAILABLE, spec/errors.md).
absl::Status CallStatus(const PeerClients& clients, const std::string& member,
                        const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::string refusal = clients.RevocationRefusal(member);
    if (!refusal.empty()) return absl::UnavailableError(refusal);
  }
  return FromGrpc(s);
}

// Records the call `name` to `member` that started at `start` and ended
// with `status` (node/rpc_metrics.h); returns `status`.
absl::Status Counted(const std::string& member, std::string_view name,
                     std::chrono::steady_clock::time_point start,
                     absl::Status status) {
  RecordPeerCall(
      member, name, status.code(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return status;
}

// One unary call `name` to `member` through `method` of its stub.
template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> Unary(PeerClients& clients, const std::string& member,
                               const Request& request, int64_t budget_ms,
                               std::string_view name, Method method) {
  ASSIGN_OR_RETURN(std::shared_ptr<v1::Peer::Stub> stub, clients.Stub(member));
  grpc::ClientContext context;
  SetBudget(context, budget_ms);
  Response response;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status s = ((*stub).*method)(&context, request, &response);
  RETURN_IF_ERROR(
      Counted(member, name, start,
              s.ok() ? absl::OkStatus() : CallStatus(clients, member, s)));
  return response;
}

}  // namespace

absl::StatusOr<v1::Envelope> GrpcPeerTransport::Evaluate(
    const std::string& member, const v1::Envelope& request, int64_t budget_ms) {
  return Unary<v1::Envelope, v1::Envelope>(*clients_, member, request,
                                           budget_ms, "Evaluate",
                                           &v1::Peer::Stub::Evaluate);
}

absl::StatusOr<v1::Envelope> GrpcPeerTransport::Resolve(
    const std::string& member, const v1::Envelope& request, int64_t budget_ms) {
  return Unary<v1::Envelope, v1::Envelope>(*clients_, member, request,
                                           budget_ms, "Resolve",
                                           &v1::Peer::Stub::Resolve);
}

absl::StatusOr<v1::Envelope> GrpcPeerTransport::Cooperate(
    const std::string& member, const v1::Envelope& request, int64_t budget_ms) {
  return Unary<v1::Envelope, v1::Envelope>(*clients_, member, request,
                                           budget_ms, "Cooperate",
                                           &v1::Peer::Stub::Cooperate);
}

absl::StatusOr<v1::Envelope> GrpcPeerTransport::Withdraw(
    const std::string& member, const v1::Envelope& request, int64_t budget_ms) {
  return Unary<v1::Envelope, v1::Envelope>(*clients_, member, request,
                                           budget_ms, "Withdraw",
                                           &v1::Peer::Stub::Withdraw);
}

absl::Status GrpcPeerTransport::SyncIndex(
    const std::string& member, const v1::Envelope& request, int64_t budget_ms,
    const std::function<bool(v1::IndexPart&&)>& on_part) {
  ASSIGN_OR_RETURN(std::shared_ptr<v1::Peer::Stub> stub,
                   clients_->Stub(member));
  grpc::ClientContext context;
  SetBudget(context, budget_ms);
  const auto start = std::chrono::steady_clock::now();
  auto reader = stub->SyncIndex(&context, request);
  v1::IndexPart part;
  while (reader->Read(&part)) {
    if (!on_part(std::move(part))) {
      // The receiver refused the stream: stop the server's sending (and the
      // buffering of whatever it still sends) now.
      context.TryCancel();
      (void)reader->Finish();
      return Counted(
          member, "SyncIndex", start,
          absl::CancelledError("index stream stopped by the receiver"));
    }
    part.Clear();
  }
  grpc::Status s = reader->Finish();
  return Counted(member, "SyncIndex", start,
                 s.ok() ? absl::OkStatus() : CallStatus(*clients_, member, s));
}

absl::StatusOr<v1::GetDirectoryResponse> GrpcPeerTransport::GetDirectory(
    const std::string& member, const v1::GetDirectoryRequest& request,
    int64_t budget_ms) {
  return Unary<v1::GetDirectoryRequest, v1::GetDirectoryResponse>(
      *clients_, member, request, budget_ms, "GetDirectory",
      &v1::Peer::Stub::GetDirectory);
}

absl::StatusOr<v1::GetCheckpointResponse> GrpcPeerTransport::GetCheckpoint(
    const std::string& member, const v1::GetCheckpointRequest& request,
    int64_t budget_ms) {
  return Unary<v1::GetCheckpointRequest, v1::GetCheckpointResponse>(
      *clients_, member, request, budget_ms, "GetCheckpoint",
      &v1::Peer::Stub::GetCheckpoint);
}

absl::StatusOr<v1::AddCosignatureResponse> GrpcPeerTransport::AddCosignature(
    const std::string& member, const v1::AddCosignatureRequest& request,
    int64_t budget_ms) {
  return Unary<v1::AddCosignatureRequest, v1::AddCosignatureResponse>(
      *clients_, member, request, budget_ms, "AddCosignature",
      &v1::Peer::Stub::AddCosignature);
}

}  // namespace cbx::node
