#include "node/grpc_calls.h"

namespace cbx::node::grpc_calls {

grpc::Status NoRequest() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "the call ended before its request message");
}

}  // namespace cbx::node::grpc_calls
