// Runs a program as a child process for the end-to-end test, capturing its
// output and the moment each line of its stdout arrived (to tell streamed
// output from output printed all at the end).
#ifndef CBX_CLIENT_E2E_PROCESS_H_
#define CBX_CLIENT_E2E_PROCESS_H_

#include <string>
#include <vector>

namespace cbx::client::testing {

// One run: exit code (128 + signal if killed), output, and when each stdout
// line arrived (ms after the start).
struct ProcessRun {
  int code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> lines;
  std::vector<double> line_ms;
};

// Runs `path` with `args` in a clean environment (PATH, LANG=C.UTF-8 and
// `extra_env`, each "NAME=value"), so that no CBX_* variable of whoever runs
// the test leaks in. Kills the child and records a test failure if it runs
// for more than 60 s. With CBX_E2E_VERBOSE set in the test's environment,
// echoes each command and its output to stderr.
ProcessRun RunProcess(const std::string& path,
                      const std::vector<std::string>& args,
                      const std::vector<std::string>& extra_env);

}  // namespace cbx::client::testing

#endif  // CBX_CLIENT_E2E_PROCESS_H_
