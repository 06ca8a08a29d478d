// How the Peer service takes its calls: as gRPC callback methods whose
// work runs on one of the node's executors.
//
// Why not gRPC's sync server: on gRPC 1.51 (Debian 12) it keeps every call
// that no server thread has taken yet in a queue of its own, without
// bound, and it spawns server threads as calls wait. A callback method is
// handed each call as soon as its request has arrived: a call that ended
// before its request (reset or half-closed by the client) is answered at
// once on gRPC's thread, with no handler, log line or audit entry, and
// every other one is queued on the executor, at most
// CallQueue::kMaxQueuedCalls at a time.
//
// This narrows HTTP/2 rapid reset (CVE-2023-44487) but does not stop it:
// gRPC 1.51 reads a connection's frames faster than it retires the reset
// calls, which pile up inside gRPC before any of this code runs (gRPC's
// own fix came in 1.57.1; spec/threats.md §4).
//
// Every request is read as a Received<T>, whose deserializer never fails
// the call: the service sees whether a request came and whether it
// parsed, and answers either with a clear INVALID_ARGUMENT (gRPC's own
// deserializer answers INTERNAL with no message, or UNIMPLEMENTED for a
// callback method).
//
// Threading: CallQueue is thread-safe. Handlers run on the executor, many
// at once; a server-streaming handler's writes each wait until gRPC has
// taken the message, as the sync server's writer does.
#ifndef CBX_NODE_GRPC_CALLS_H_
#define CBX_NODE_GRPC_CALLS_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/util/tsan_handoff.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/message_allocator.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/sync_stream.h"
#include "node/executor.h"

namespace cbx::node {

// A request as received. `present` is false if the call ended before its
// request message (reset or half-closed by the client); otherwise
// `message` is valid only if `parsed`.
template <typename T>
struct Received {
  T message;
  bool present = false;
  bool parsed = false;
};

// Runs a service's calls on an executor, at most kMaxQueuedCalls waiting
// or running at a time. Thread-safe.
class CallQueue {
 public:
  // Enough for every honest peer at once (a peer sends at most its lookup
  // executor's 16 calls at a time; 32 peers: 512), and a bound on what a
  // hostile one can make the node hold once gRPC has handed its calls
  // over (requests of at most 64 KiB: 64 MiB).
  static constexpr int kMaxQueuedCalls = 1024;

  // `executor` null: every call is UNAVAILABLE (a service not served).
  explicit CallQueue(Executor* executor) : executor_(executor) {}
  CallQueue(const CallQueue&) = delete;
  CallQueue& operator=(const CallQueue&) = delete;

  // Runs `work` on the executor, then `done` with its status; or `done`
  // alone: at once with RESOURCE_EXHAUSTED if kMaxQueuedCalls are waiting
  // or running, or UNAVAILABLE without an executor or once it is shut
  // down; on the executor with CANCELLED if `ctx`'s call was cancelled
  // before its turn (the work is not run).
  void Run(grpc::CallbackServerContext* ctx, std::function<grpc::Status()> work,
           std::function<void(const grpc::Status&)> done);

 private:
  Executor* const executor_;
  std::atomic<int> queued_{0};
};

namespace grpc_calls {

// The answer to a call that ended before its request message. Nothing
// was received, so nothing is logged.
grpc::Status NoRequest();

// The answer, before any work, to a call with no request or whose body is
// not a T; nullopt: the call goes to its handler. With `refuse_unparsed`
// false the handler gets a body that did not parse (it refuses and logs
// it itself: a Peer envelope, spec/errors.md B1).
template <typename T>
std::optional<grpc::Status> Early(const Received<T>& request,
                                  bool refuse_unparsed) {
  if (!request.present) return NoRequest();
  if (refuse_unparsed && !request.parsed) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("request is not a ", std::string(T().GetTypeName())));
  }
  return std::nullopt;
}

// What a handler taking `Param` is given for a request received as
// Received<T>: the Received itself if Param is one (the handler checks
// `parsed`), else the message (Early has checked it).
template <typename Param, typename T>
const Param* Arg(const Received<T>* received) {
  if constexpr (std::is_same_v<Param, Received<T>>) {
    return received;
  } else {
    return &received->message;
  }
}

// The Received type a handler taking `Param` is read as.
template <typename Param>
struct WireOf {
  using type = Received<Param>;
  static constexpr bool kRefuseUnparsed = true;
};
template <typename T>
struct WireOf<Received<T>> {
  using type = Received<T>;
  static constexpr bool kRefuseUnparsed = false;
};

// The request and response of a unary call, held as gRPC's default holder
// holds them, except that their release marks the hand-off a
// ThreadSanitizer build cannot see (core/util/tsan_handoff.h): the handler
// fills the response on an executor thread, gRPC destroys both on one of
// its own once the call is done. The handler's side marks the release on
// the response's address.
template <typename Request, typename Response>
class HandedOffMessages final
    : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() {
      this->set_request(&request_);
      this->set_response(&response_);
    }
    void Release() override {
      util::TsanHandoffAcquire(&response_);
      delete this;
    }

   private:
    Request request_;
    Response response_;
  };
};

// A server-streaming call's reactor: the handler runs on the executor and
// writes through this WriterInterface; each Write returns once gRPC has
// taken the message (false if the call is over).
template <typename Part>
class PartWriter final : public grpc::ServerWriteReactor<Part>,
                         public grpc::internal::WriterInterface<Part> {
 public:
  bool Write(const Part& part, grpc::WriteOptions options) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = true;
    this->StartWrite(&part, options);
    written_.wait(lock, [this] { return !writing_; });
    return write_ok_;
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    write_ok_ = ok;
    written_.notify_one();
  }
  // After the handler's last use of the writer (its Finish, on the
  // executor): gRPC then calls OnDone, and destroys the request, on one of
  // its own threads.
  void Finished(const grpc::Status& status) {
    util::TsanHandoffRelease(this);
    this->Finish(status);
  }
  void OnDone() override {
    util::TsanHandoffAcquire(this);
    delete this;
  }

 private:
  std::mutex mu_;
  std::condition_variable written_;
  bool writing_ = false;
  bool write_ok_ = false;
};

// The callback handler of a unary method answered by `service`'s
// `handler` on `calls`.
template <typename Service, typename Param, typename Response>
grpc::internal::MethodHandler* UnaryHandler(
    Service* service, CallQueue* calls,
    grpc::Status (Service::*handler)(grpc::ServerContextBase*, const Param*,
                                     Response*)) {
  using Wire = typename WireOf<Param>::type;
  static HandedOffMessages<Wire, Response> messages;
  auto* method = new grpc::internal::CallbackUnaryHandler<Wire, Response>(
      [service, calls, handler](grpc::CallbackServerContext* ctx,
                                const Wire* request, Response* response) {
        grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
        if (std::optional<grpc::Status> early =
                Early(*request, WireOf<Param>::kRefuseUnparsed)) {
          reactor->Finish(*early);
          return reactor;
        }
        calls->Run(
            ctx,
            [=] {
              grpc::Status status =
                  (service->*handler)(ctx, Arg<Param>(request), response);
              util::TsanHandoffRelease(response);
              return status;
            },
            [reactor](const grpc::Status& status) { reactor->Finish(status); });
        return reactor;
      });
  method->SetMessageAllocator(&messages);
  return method;
}

// The callback handler of a server-streaming method likewise.
template <typename Service, typename Param, typename Part>
grpc::internal::MethodHandler* ServerStreamingHandler(
    Service* service, CallQueue* calls,
    grpc::Status (Service::*handler)(grpc::ServerContextBase*, const Param*,
                                     grpc::internal::WriterInterface<Part>*)) {
  using Wire = typename WireOf<Param>::type;
  return new grpc::internal::CallbackServerStreamingHandler<Wire, Part>(
      [service, calls, handler](
          grpc::CallbackServerContext* ctx,
          const Wire* request) -> grpc::ServerWriteReactor<Part>* {
        auto* writer = new PartWriter<Part>();
        if (std::optional<grpc::Status> early =
                Early(*request, WireOf<Param>::kRefuseUnparsed)) {
          writer->Finish(*early);
          return writer;
        }
        calls->Run(
            ctx,
            [=] {
              return (service->*handler)(ctx, Arg<Param>(request), writer);
            },
            [writer](const grpc::Status& status) { writer->Finished(status); });
        return writer;
      });
}

// A method named `name` (e.g. "/cbx.v1.Peer/Evaluate") served by the
// callback handler `handler`.
grpc::internal::RpcServiceMethod* CallbackMethod(
    const char* name, grpc::internal::RpcMethod::RpcType type,
    grpc::internal::MethodHandler* handler);

}  // namespace grpc_calls
}  // namespace cbx::node

// Received<T>'s deserializer: parses the body as gRPC parses a T, and
// records whether there was one and whether it parsed, instead of failing
// the call.
namespace grpc {
template <typename T>
class SerializationTraits<cbx::node::Received<T>, void> {
 public:
  static grpc::Status Serialize(const cbx::node::Received<T>& message,
                                grpc::ByteBuffer* buffer, bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, T>(
        message.message, buffer, own_buffer);
  }
  static grpc::Status Deserialize(grpc::ByteBuffer* buffer,
                                  cbx::node::Received<T>* message) {
    message->present = buffer->Valid();
    message->parsed = message->present &&
                      grpc::GenericDeserialize<grpc::ProtoBufferReader, T>(
                          buffer, &message->message)
                          .ok();
    return grpc::Status::OK;
  }
};
}  // namespace grpc

#endif  // CBX_NODE_GRPC_CALLS_H_
