// The `cbx` command line: parses the arguments (CLI11), converts them to an
// Office request, connects to the node and runs the command.
//
// Order of work, so that a mistake costs nothing: every argument is checked
// and converted first (exit 2 and nothing sent if any is wrong), then the
// connection options and files (exit 2), then the one call (exit 0 or 1).
#ifndef CBX_CLIENT_CLI_H_
#define CBX_CLIENT_CLI_H_

#include <ostream>

#include "client/connection.h"

namespace cbx::client {

// Runs `cbx` with `argv`, writing results to `out` and messages to `err`;
// returns the exit code (commands.h). Environment variables come from `env`.
int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err, const EnvLookup& env);

}  // namespace cbx::client

#endif  // CBX_CLIENT_CLI_H_
