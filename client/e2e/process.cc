#include "client/e2e/process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "gtest/gtest.h"
#include "tests/testing/time_scale.h"

namespace cbx::client::testing {

using Clock = std::chrono::steady_clock;

ProcessRun RunProcess(const std::string& path,
                      const std::vector<std::string>& args,
                      const std::vector<std::string>& extra_env) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) std::abort();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);

  std::vector<std::string> argv_s = {path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // A clean environment: no CBX_* of whoever runs the test leaks in.
  std::vector<std::string> env_s = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  ProcessRun run;
  pid_t pid;
  auto start = Clock::now();
  int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(),
                       envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << path << ": " << std::strerror(rc);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return run;
  }
  std::string partial;
  bool out_open = true, err_open = true;
  auto give_up = start + cbx::testing::Scaled(std::chrono::seconds(60));
  while ((out_open || err_open) && Clock::now() < give_up) {
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, 1000) <= 0) continue;
    char buf[4096];
    if (fds[0].revents != 0) {
      ssize_t n = read(out_pipe[0], buf, sizeof buf);
      if (n <= 0) {
        out_open = false;
        fds[0].fd = -1;
      } else {
        double ms =
            std::chrono::duration<double, std::milli>(Clock::now() - start)
                .count();
        run.out.append(buf, n);
        partial.append(buf, n);
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          run.lines.push_back(partial.substr(0, nl));
          run.line_ms.push_back(ms);
          partial.erase(0, nl + 1);
        }
      }
    }
    if (fds[1].revents != 0) {
      ssize_t n = read(err_pipe[0], buf, sizeof buf);
      if (n <= 0) {
        err_open = false;
      } else {
        run.err.append(buf, n);
      }
    }
  }
  if (out_open || err_open) {
    ADD_FAILURE() << path << " did not finish within 60 s; killing it";
    kill(pid, SIGKILL);
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (std::getenv("CBX_E2E_VERBOSE") != nullptr) {
    std::cerr << "$ " << path;
    for (const std::string& a : args) std::cerr << " '" << a << "'";
    std::cerr << "\n" << run.out << run.err << "(exit " << run.code << ")\n";
  }
  return run;
}

}  // namespace cbx::client::testing
