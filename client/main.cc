// cbx: the command-line tool with which an office works with its node.
#include <cstdlib>
#include <iostream>

#include "client/cli.h"
#include "grpc/support/log.h"

namespace {

// gRPC logs connection trouble (failed handshakes, refused connections) on
// stderr in its own format; the CLI already reports the failed call in one
// line with a hint, so the library's lines are noise to an office user.
// GRPC_VERBOSITY=... brings them back for debugging.
void DiscardGrpcLog(gpr_log_func_args*) {}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_function(DiscardGrpcLog);
  }
  return cbx::client::RunCli(argc, argv, std::cout, std::cerr,
                             cbx::client::ProcessEnvironment());
}
