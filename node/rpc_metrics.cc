#include "node/rpc_metrics.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/server_context.h"
#include "node/identity.h"
#include "node/metrics.h"
#include "node/tls_front.h"

namespace cbx::node {
namespace {

using grpc::experimental::InterceptionHookPoints;

CounterFamily& ServerCalls() {
  static CounterFamily& f = MetricsRegistry::Default().Counter(
      "cbx_rpc_server_calls_total",
      "Calls this node served, by service (peer, office), method, caller "
      "(member code or office role) and gRPC status code.",
      {"service", "method", "caller", "code"});
  return f;
}

HistogramFamily& ServerLatency() {
  static HistogramFamily& f = MetricsRegistry::Default().Histogram(
      "cbx_rpc_server_call_duration_seconds",
      "Time from the call's arrival to its status, of calls this node served.",
      {"service", "method", "caller"}, RpcLatencyBuckets());
  return f;
}

CounterFamily& Refusals() {
  static CounterFamily& f = MetricsRegistry::Default().Counter(
      "cbx_rpc_server_refusals_total",
      "Calls this node served with a status other than OK, by service and "
      "gRPC status code.",
      {"service", "code"});
  return f;
}

bool IsHealthCheck(const char* method) {
  return method != nullptr &&
         std::string_view(method).rfind("/grpc.health.v1.Health/", 0) == 0;
}

// "/cbx.v1.Peer/Evaluate" -> "Evaluate".
std::string MethodName(const char* full) {
  if (full == nullptr) return "unknown";
  std::string_view s(full);
  size_t slash = s.rfind('/');
  return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info,
                     const std::string* service, const CallerLabeler* caller)
      : info_(info),
        service_(service),
        caller_(caller),
        start_(std::chrono::steady_clock::now()) {}

  ~MetricsInterceptor() override {
    // A call that ended without a status sent (the client went away).
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    std::vector<std::string> uris;
    if (grpc::ServerContextBase* ctx = info_->server_context()) {
      std::shared_ptr<const grpc::AuthContext> auth = ctx->auth_context();
      if (auth != nullptr) {
        for (const auto& v :
             auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
          uris.emplace_back(v.data(), v.size());
        }
      }
      // A connection of a port's TLS front (node/tls_front.h).
      if (uris.empty()) {
        if (auto front = FrontCallerOf(ctx->peer()); front != nullptr) {
          uris = front->uris;
        }
      }
    }
    const std::string caller = (*caller_)(uris);
    const std::string method = MethodName(info_->method());
    const std::string code_name =
        StatusCodeName(static_cast<absl::StatusCode>(code));
    ServerCalls().With({*service_, method, caller, code_name}).Increment();
    ServerLatency().With({*service_, method, caller}).Observe(seconds);
    if (code != grpc::StatusCode::OK) {
      Refusals().With({*service_, code_name}).Increment();
    }
  }

  grpc::experimental::ServerRpcInfo* info_;
  const std::string* service_;
  const CallerLabeler* caller_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(std::string service, CallerLabeler caller)
      : service_(std::move(service)), caller_(std::move(caller)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // gRPC's own health service runs on its callback API, which hands each
    // call between its threads inside the library: an interceptor there
    // puts the node's code in that hand-off, where ThreadSanitizer cannot
    // see gRPC's synchronization (it reported races in one federation run
    // of two). Health checks are not counted; the node's services are.
    if (IsHealthCheck(info->method())) return nullptr;
    return new MetricsInterceptor(info, &service_, &caller_);
  }

 private:
  const std::string service_;
  const CallerLabeler caller_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerMetricsInterceptor(std::string service, CallerLabeler caller) {
  return std::make_unique<MetricsInterceptorFactory>(std::move(service),
                                                     std::move(caller));
}

std::string PeerCallerLabel(
    const std::vector<std::string>& uris,
    const std::function<bool(const std::string&)>& is_member) {
  static constexpr std::string_view kPrefix = "spiffe://cbx/member/";
  for (const std::string& uri : uris) {
    if (uri.rfind(kPrefix, 0) != 0) continue;
    std::string code = uri.substr(kPrefix.size());
    if (is_member(code)) return code;
  }
  return "unknown";
}

std::string OfficeCallerLabel(const std::vector<std::string>& uris) {
  static constexpr std::string_view kPrefix = "spiffe://cbx/office/";
  for (const std::string& uri : uris) {
    if (uri.rfind(kPrefix, 0) != 0) continue;
    // The role only, also of a per-person certificate: never the person
    // (labels come from a closed set).
    absl::StatusOr<OfficeCaller> caller = ParseOfficeUri(uri);
    if (caller.ok()) return std::string(RoleName(caller->role));
  }
  return "unknown";
}

void RecordPeerCall(const std::string& peer, std::string_view method,
                    absl::StatusCode code, double seconds) {
  static CounterFamily& calls = MetricsRegistry::Default().Counter(
      "cbx_peer_calls_total",
      "Calls this node made to a peer's Peer service, by peer, method and "
      "gRPC status code.",
      {"peer", "method", "code"});
  static HistogramFamily& latency = MetricsRegistry::Default().Histogram(
      "cbx_peer_call_duration_seconds",
      "Time of calls this node made to a peer's Peer service, until the "
      "reply (or the stream's end).",
      {"peer", "method"}, RpcLatencyBuckets());
  calls.With({peer, std::string(method), StatusCodeName(code)}).Increment();
  latency.With({peer, std::string(method)}).Observe(seconds);
}

std::string StatusCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kUnknown:
      return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal:
      return "INTERNAL";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace cbx::node
