#include "node/grpc_peer_transport.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/channel_arguments.h"
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

// A connect longer than this on a channel whose last attempt failed is
// not waited for: gRPC keeps such a channel in TRANSIENT_FAILURE until it
// is READY, so a dead endpoint gives no earlier sign, and it must not eat
// the budget of the next one. A loopback or LAN connect and handshake take
// milliseconds; one that takes longer completes in the background and the
// endpoint is tried again by the next call.
constexpr int64_t kRetryConnectWaitMs = 500;

// Gets `channel` connected within `budget_ms` (EndpointOps::connect).
absl::Status Connect(grpc::Channel& channel, int64_t budget_ms) {
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  if (state == GRPC_CHANNEL_READY) return absl::OkStatus();
  const bool was_failing = state == GRPC_CHANNEL_TRANSIENT_FAILURE;
  if (was_failing) {
    // A call would fail at once until the channel's backoff (up to 2 s)
    // ends; but this endpoint may be the node that just took over, so try
    // it now.
    grpc::experimental::ChannelResetConnectionBackoff(&channel);
    budget_ms = std::min(budget_ms, kRetryConnectWaitMs);
  }
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::milliseconds(budget_ms);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError("channel shut down");
    }
    if (!channel.WaitForStateChange(state, deadline)) {
      return state == GRPC_CHANNEL_TRANSIENT_FAILURE
                 ? absl::UnavailableError("could not connect")
                 : absl::DeadlineExceededError(
                       absl::StrCat("not connected within ", budget_ms, " ms"));
    }
    const grpc_connectivity_state next = channel.GetState(true);
    // Into TRANSIENT_FAILURE from anything: this attempt failed (refused,
    // or the handshake failed). The state is sticky until READY, so
    // waiting on it would spend the whole budget. The channel may pass
    // through CONNECTING between two looks (IDLE -> TRANSIENT_FAILURE as
    // seen here), so the state before does not matter.
    if (next == GRPC_CHANNEL_TRANSIENT_FAILURE && !was_failing) {
      return absl::UnavailableError("could not connect");
    }
    state = next;
  }
  return absl::OkStatus();
}

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs one call `name` to `member` (`attempt` on a stub, with a budget) on
// the endpoint spec/directory.md §7.1 picks, and counts it once.
absl::Status CallMember(
    PeerClients& clients, const std::string& member, int64_t budget_ms,
    std::string_view name,
    const std::function<absl::Status(v1::Peer::Stub&, int64_t)>& attempt) {
  ASSIGN_OR_RETURN(std::vector<PeerClients::Link> links, clients.Links(member));
  const auto start = std::chrono::steady_clock::now();
  PeerEndpointsInUse& in_use = clients.endpoints_in_use();
  if (links.size() == 1) {
    // One endpoint: nothing to choose; the call as it always was (a
    // channel in TRANSIENT_FAILURE fails it at once).
    absl::Status s = attempt(*links[0].stub, budget_ms);
    if (IsAnswer(s)) {
      in_use.Answered(clients.self(), member, links[0].endpoint, true);
    }
    return Counted(member, name, start, s);
  }
  std::vector<std::string> endpoints;
  for (const PeerClients::Link& link : links) {
    endpoints.push_back(link.endpoint);
  }
  const std::vector<std::string> order =
      in_use.Order(member, std::move(endpoints));
  auto link_of = [&](size_t i) -> PeerClients::Link& {
    return *std::find_if(links.begin(), links.end(),
                         [&](const auto& l) { return l.endpoint == order[i]; });
  };
  EndpointOps ops;
  ops.connect = [&](size_t i, int64_t ms) {
    absl::Status s = Connect(*link_of(i).channel, ms);
    // A handshake refused for revocation says so, as a call's would.
    if (!s.ok() && !clients.RevocationRefusal(member).empty()) {
      return absl::UnavailableError(clients.RevocationRefusal(member));
    }
    return s;
  };
  ops.call = [&](size_t i, int64_t ms) {
    return attempt(*link_of(i).stub, ms);
  };
  ops.now_ms = SteadyNowMs;
  EndpointsOutcome outcome = CallEndpoints(member, order, budget_ms, ops);
  if (outcome.answered >= 0) {
    const std::string& endpoint = order[static_cast<size_t>(outcome.answered)];
    in_use.Answered(clients.self(), member, endpoint,
                    endpoint == links[0].endpoint);
  }
  return Counted(member, name, start, outcome.status);
}

// One unary call `name` to `member` through `method` of its stub.
template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> Unary(PeerClients& clients, const std::string& member,
                               const Request& request, int64_t budget_ms,
                               std::string_view name, Method method) {
  Response response;
  RETURN_IF_ERROR(CallMember(
      clients, member, budget_ms, name, [&](v1::Peer::Stub& stub, int64_t ms) {
        grpc::ClientContext context;
        SetBudget(context, ms);
        response.Clear();
        grpc::Status s = (stub.*method)(&context, request, &response);
        return s.ok() ? absl::OkStatus() : CallStatus(clients, member, s);
      }));
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
  return CallMember(
      *clients_, member, budget_ms, "SyncIndex",
      [&](v1::Peer::Stub& stub, int64_t ms) {
        grpc::ClientContext context;
        SetBudget(context, ms);
        auto reader = stub.SyncIndex(&context, request);
        v1::IndexPart part;
        while (reader->Read(&part)) {
          if (!on_part(std::move(part))) {
            // The receiver refused the stream: stop the server's sending
            // (and the buffering of whatever it still sends) now.
            context.TryCancel();
            (void)reader->Finish();
            return absl::CancelledError("index stream stopped by the receiver");
          }
          part.Clear();
        }
        grpc::Status s = reader->Finish();
        return s.ok() ? absl::OkStatus() : CallStatus(*clients_, member, s);
      });
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
