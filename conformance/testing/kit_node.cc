#include "conformance/testing/kit_node.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "conformance/kit.h"
#include "nlohmann/json.hpp"
#include "tests/testing/time_scale.h"

extern char** environ;

namespace cbx::conformance {
namespace {

namespace fs = std::filesystem;

// A loopback port free now (the kernel's pick).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KitNode>> KitNode::Start(
    const std::string& kit_dir, const std::string& node_binary) {
  std::unique_ptr<KitNode> node(new KitNode());
  char tmpl[] = "/tmp/cbx-kit-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  node->dir_ = tmpl;
  std::error_code ec;
  fs::copy(kit_dir, node->kit_dir(), fs::copy_options::recursive, ec);
  if (ec) return absl::InternalError("cannot copy " + kit_dir);
  const std::string qt = node->kit_dir() + "/QT";
  for (const char* key : {"node.key", "node-signing.key", "oprf.key"}) {
    fs::permissions(qt + "/" + key,
                    fs::perms::owner_read | fs::perms::owner_write, ec);
  }
  node->peer_ = absl::StrCat("127.0.0.1:", FreePort());
  node->office_ = absl::StrCat("127.0.0.1:", FreePort());
  nlohmann::json config = {
      {"member", "QT"},
      {"data_dir", "data"},
      {"peer_listen", node->peer_},
      {"office_listen", node->office_},
      {"admin_listen", absl::StrCat("127.0.0.1:", FreePort())},
      {"tls",
       {{"certificate", "node.crt"},
        {"private_key", "node.key"},
        {"office_ca", "ca.crt"}}},
      {"keys",
       {{"node_signing_key", "node-signing.key"}, {"oprf_key", "oprf.key"}}},
      {"directory", {{"genesis", "../genesis.pb"}}},
      // The kit's other members run no node: pull and witness rarely.
      {"sync",
       {{"index_interval_ms", 600000}, {"directory_interval_ms", 600000}}},
      {"audit",
       {{"checkpoint_interval_ms", 1000}, {"witness_interval_ms", 600000}}},
  };
  std::ofstream(qt + "/node.json") << config.dump(2);

  // posix_spawn, not fork: this process is a gRPC client.
  const std::string log = node->LogPath();
  const std::string conf = qt + "/node.json";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // --allow-root: the tests run as root on CI and this machine.
  char* argv[] = {const_cast<char*>("cbx-node"), const_cast<char*>("--config"),
                  const_cast<char*>(conf.c_str()),
                  const_cast<char*>("--allow-root"), nullptr};
  int rc = posix_spawn(&node->pid_, node_binary.c_str(), &actions, nullptr,
                       argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError("posix_spawn failed");

  // Ready when the Peer port answers QA.
  KitTarget target{node->peer_, node->office_};
  auto kit = Kit::Load(node->kit_dir(), target);
  if (!kit.ok()) return kit.status();
  auto channel = (*kit)->Channel("QA", /*office=*/false);
  if (!channel.ok()) return channel.status();
  auto stub = v1::Peer::NewStub(*channel);
  auto deadline = std::chrono::steady_clock::now() +
                  cbx::testing::Scaled(std::chrono::seconds(20));
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(node->pid_, &status, WNOHANG) == node->pid_) {
      node->pid_ = 0;
      return absl::InternalError("the node exited at start:\n" + Slurp(log));
    }
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(500));
    v1::GetDirectoryResponse resp;
    if (stub->GetDirectory(&ctx, {}, &resp).ok()) return node;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError("the node did not become ready:\n" +
                                     Slurp(log));
}

KitNode::~KitNode() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  if (std::getenv("CBX_KEEP_FEDERATION") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string RunConformance(const std::string& runner,
                           const std::string& peer_address,
                           const std::string& office_address,
                           const std::string& kit_dir,
                           const std::string& cases_dir, int* exit_code) {
  std::string cmd = absl::StrCat(
      "'", runner, "' --target ", peer_address, " --office ", office_address,
      " --as QA --keys '", kit_dir, "' --cases '", cases_dir, "' 2>&1");
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  if (pipe == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace cbx::conformance
