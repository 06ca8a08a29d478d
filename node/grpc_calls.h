// How the Peer service reads its requests and registers its methods.
//
// Every request is read as a Received<T>, whose deserializer fails the
// call only if there is no request message at all: the call ended before
// it (reset or half-closed by the client). gRPC then answers with that
// status and never calls the handler, so such a call costs no handler,
// log line or audit entry. This is what HTTP/2 rapid reset
// (CVE-2023-44487) produces by the thousand; each such call used to be
// refused "not an Envelope", logged and appended to the audit log.
// A body that does not parse reaches the method: for a handler that takes
// the Received itself (the Envelope RPCs, which refuse and log it,
// spec/errors.md B1); for any other it is answered INVALID_ARGUMENT
// "request is not a <message name>" before the handler (gRPC's own
// deserializer answers INTERNAL with no message).
//
// The methods stay gRPC sync methods: Debian's gRPC 1.51 is not built for
// ThreadSanitizer, and a callback method's completions run gRPC's header
// code on threads whose hand-offs TSan cannot see (tried: hundreds of
// reports in one federation test). Threading: the handlers run on gRPC's
// sync server threads, as before.
#ifndef CBX_NODE_GRPC_CALLS_H_
#define CBX_NODE_GRPC_CALLS_H_

#include <optional>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/method_handler.h"
#include "grpcpp/support/sync_stream.h"

namespace cbx::node {

// A request as received: `message` is valid only if `parsed`. (A call
// without a request message never reaches a handler.)
template <typename T>
struct Received {
  T message;
  bool parsed = false;
};

namespace grpc_calls {

// The answer to a call that ended before its request message. Nothing
// was received, so nothing is logged.
grpc::Status NoRequest();

// What a handler taking `Param` is given for a request received as
// Received<T>: the Received itself if Param is one (the handler checks
// `parsed`), else the message.
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
};
template <typename T>
struct WireOf<Received<T>> {
  using type = Received<T>;
};

// INVALID_ARGUMENT "request is not a <T's full name>" if `request` did not
// parse and the handler takes the message (one taking the Received refuses
// it itself); nullopt otherwise.
template <typename Param, typename T>
std::optional<grpc::Status> Unparsed(const Received<T>& request) {
  if (std::is_same_v<Param, Received<T>> || request.parsed) {
    return std::nullopt;
  }
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      absl::StrCat("request is not a ", std::string(T().GetTypeName())));
}

// The method `name` of `service`, unary, answered by `handler`.
template <typename Service, typename Param, typename Response>
grpc::internal::RpcServiceMethod* UnaryMethod(
    const char* name, Service* service,
    grpc::Status (Service::*handler)(grpc::ServerContextBase*, const Param*,
                                     Response*)) {
  using Wire = typename WireOf<Param>::type;
  return new grpc::internal::RpcServiceMethod(
      name, grpc::internal::RpcMethod::NORMAL_RPC,
      new grpc::internal::RpcMethodHandler<Service, Wire, Response, Wire,
                                           google::protobuf::MessageLite>(
          [handler](Service* s, grpc::ServerContext* ctx, const Wire* request,
                    Response* response) {
            if (auto refused = Unparsed<Param>(*request)) return *refused;
            return (s->*handler)(ctx, Arg<Param>(request), response);
          },
          service));
}

// The method `name` of `service`, server-streaming, answered by
// `handler`.
template <typename Service, typename Param, typename Part>
grpc::internal::RpcServiceMethod* ServerStreamingMethod(
    const char* name, Service* service,
    grpc::Status (Service::*handler)(grpc::ServerContextBase*, const Param*,
                                     grpc::internal::WriterInterface<Part>*)) {
  using Wire = typename WireOf<Param>::type;
  return new grpc::internal::RpcServiceMethod(
      name, grpc::internal::RpcMethod::SERVER_STREAMING,
      new grpc::internal::ServerStreamingHandler<Service, Wire, Part>(
          [handler](Service* s, grpc::ServerContext* ctx, const Wire* request,
                    grpc::ServerWriter<Part>* writer) {
            if (auto refused = Unparsed<Param>(*request)) return *refused;
            return (s->*handler)(ctx, Arg<Param>(request), writer);
          },
          service));
}

}  // namespace grpc_calls
}  // namespace cbx::node

// Received<T>'s deserializer: no message at all fails the call with
// grpc_calls::NoRequest(); otherwise it parses the body as gRPC parses a
// T and records whether it did, instead of failing the call.
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
    if (!buffer->Valid()) return cbx::node::grpc_calls::NoRequest();
    message->parsed = grpc::GenericDeserialize<grpc::ProtoBufferReader, T>(
                          buffer, &message->message)
                          .ok();
    return grpc::Status::OK;
  }
};
}  // namespace grpc

#endif  // CBX_NODE_GRPC_CALLS_H_
