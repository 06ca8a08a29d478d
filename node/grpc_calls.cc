#include "node/grpc_calls.h"

#include <utility>

namespace cbx::node {

void CallQueue::Run(grpc::CallbackServerContext* ctx,
                    std::function<grpc::Status()> work,
                    std::function<void(const grpc::Status&)> done) {
  if (queued_.fetch_add(1) >= kMaxQueuedCalls) {
    queued_.fetch_sub(1);
    done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("this node has ", kMaxQueuedCalls,
                                   " calls waiting; try again")));
    return;
  }
  // gRPC keeps the call's context, request and response until `done`
  // finishes the call.
  auto item = [this, ctx, work = std::move(work), done] {
    grpc::Status status = ctx->IsCancelled()
                              ? grpc::Status(grpc::StatusCode::CANCELLED,
                                             "the caller cancelled the call")
                              : work();
    queued_.fetch_sub(1);
    done(status);
  };
  if (executor_ == nullptr || !executor_->Post(std::move(item))) {
    queued_.fetch_sub(1);
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the node is stopping"));
  }
}

namespace grpc_calls {

grpc::Status NoRequest() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "the call ended before its request message");
}

grpc::internal::RpcServiceMethod* CallbackMethod(
    const char* name, grpc::internal::RpcMethod::RpcType type,
    grpc::internal::MethodHandler* handler) {
  auto* method = new grpc::internal::RpcServiceMethod(name, type, handler);
  method->SetServerApiType(
      grpc::internal::RpcServiceMethod::ApiType::CALL_BACK);
  return method;
}

}  // namespace grpc_calls
}  // namespace cbx::node
