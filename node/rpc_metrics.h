// The RPC metrics (node/metrics.h) at the node's two faces, so that no
// domain module counts anything itself:
//   - calls this node serves, counted by a gRPC server interceptor on each
//     port: cbx_rpc_server_calls_total{service,method,caller,code},
//     cbx_rpc_server_call_duration_seconds{service,method,caller} and
//     cbx_rpc_server_refusals_total{service,code} (every status but OK);
//   - calls this node makes to peers, counted by GrpcPeerTransport:
//     cbx_peer_calls_total{peer,method,code} and
//     cbx_peer_call_duration_seconds{peer,method}.
// Latencies are measured on std::chrono::steady_clock: a measurement, not
// a decision, so not on the node's injected clock.
//
// The `caller` label is a member code on the Peer port (from the URI SAN of
// the certificate gRPC verified, kept only if it names a member of the
// current directory, "unknown" otherwise, so a certificate cannot make up
// label values), and the office role (prosecutor, auditor, operator) on the
// Office port. Thread-safe.
#ifndef CBX_NODE_RPC_METRICS_H_
#define CBX_NODE_RPC_METRICS_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/support/server_interceptor.h"

namespace cbx::node {

// What the interceptor of one port labels a call's caller with, given the
// URI SANs of its client certificate.
using CallerLabeler =
    std::function<std::string(const std::vector<std::string>& uris)>;

// A server interceptor factory for one port; `service` is the label value
// ("peer", "office"). Every call is counted but gRPC's own health checks
// (grpc.health.v1.Health, on gRPC's callback API).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerMetricsInterceptor(std::string service, CallerLabeler caller);

// The caller labels of the two ports: a member code of the directory that
// `is_member` accepts, or "unknown"; an office role, or "unknown".
std::string PeerCallerLabel(
    const std::vector<std::string>& uris,
    const std::function<bool(const std::string&)>& is_member);
std::string OfficeCallerLabel(const std::vector<std::string>& uris);

// Records one call this node made to `peer` (`method`: "Evaluate", ...).
void RecordPeerCall(const std::string& peer, std::string_view method,
                    absl::StatusCode code, double seconds);

// The gRPC name of `code` ("OK", "DEADLINE_EXCEEDED", ...).
std::string StatusCodeName(absl::StatusCode code);

}  // namespace cbx::node

#endif  // CBX_NODE_RPC_METRICS_H_
