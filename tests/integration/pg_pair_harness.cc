#include "tests/integration/pg_pair_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace cbx::testing {

using Clock = std::chrono::steady_clock;

absl::Status PairNode::Spawn() {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string binary = NodeBinary();
  char* argv[] = {const_cast<char*>("cbx-node"), const_cast<char*>("--config"),
                  config_.data(), const_cast<char*>("--allow-root"), nullptr};
  const int failed =
      posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) {
    pid_ = 0;
    return absl::InternalError(absl::StrCat("cannot start ", binary));
  }
  return absl::OkStatus();
}

void PairNode::Signal(int signo) {
  if (pid_ > 0) kill(pid_, signo);
}

void PairNode::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = 0;
}

int PairNode::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (pid_ > 0 && Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

absl::Status WritePairConfigs(Federation& fed, const std::string& cc,
                              PairNode& a, PairNode& b) {
  const std::string dir = fed.NodeDir(cc);
  const nlohmann::json config =
      nlohmann::json::parse(Slurp(dir + "/node.json"), nullptr, false);
  if (config.is_discarded() || !config.contains("leadership")) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, "/node.json has no leadership section"));
  }
  const std::string peer = config["peer_listen"];
  const int base = std::stoi(peer.substr(peer.rfind(':') + 1)) - 1;
  auto write = [&](PairNode& n, const std::string& name, int offset) {
    nlohmann::json c = config;
    c["leadership"]["name"] = name;
    n.peer_port_ = base + 1 + offset;
    n.office_port_ = base + 101 + offset;
    n.admin_port_ = base + 201 + offset;
    c["peer_listen"] = absl::StrCat("127.0.0.1:", n.peer_port_);
    c["office_listen"] = absl::StrCat("127.0.0.1:", n.office_port_);
    c["admin_listen"] = absl::StrCat("127.0.0.1:", n.admin_port_);
    c["data_dir"] = dir + "/data-" + name;
    if (c.contains("console_listen")) {
      c["console_listen"] = absl::StrCat("127.0.0.1:", base + 301 + offset);
    }
    n.name_ = name;
    n.config_ = dir + "/node-" + name + ".json";
    n.log_ = dir + "/node-" + name + ".log";
    std::ofstream(n.config_) << c.dump(2);
  };
  write(a, "a", 0);
  write(b, "b", kPairStandbyOffset);
  return absl::OkStatus();
}

void ListPairStandby(nlohmann::json& spec, const std::string& cc) {
  for (nlohmann::json& m : spec["members"]) {
    if (m["code"] != cc) continue;
    const std::string endpoint = m["endpoint"];
    const size_t colon = endpoint.rfind(':');
    m["standby_endpoints"] = {absl::StrCat(
        endpoint.substr(0, colon + 1),
        std::stoi(endpoint.substr(colon + 1)) + kPairStandbyOffset)};
  }
}

std::unique_ptr<v1::Office::Stub> PairOfficeAt(Federation& fed,
                                               const std::string& cc,
                                               int port) {
  const std::string cert = fed.OfficeCertificate(cc, "prosecutor");
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Slurp(fed.NodeDir(cc) + "/ca.crt");
  options.pem_cert_chain = Slurp(cert);
  options.pem_private_key = Slurp(cert.substr(0, cert.size() - 4) + ".key");
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return v1::Office::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("localhost:", port), grpc::SslCredentials(options), args));
}

grpc::Status PairAddCase(v1::Office::Stub& office, const std::string& number,
                         std::chrono::milliseconds deadline,
                         bool wait_for_ready) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  v1::Identifier* id = c->add_identifiers();
  id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id->set_value(number + "@example.org");
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  // Waits for the connection: a call that gives up first also drops the
  // TLS handshake under way, and on a loaded machine calls that each give
  // up early may never get one through.
  ctx.set_wait_for_ready(wait_for_ready);
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  v1::Case out;
  return office.AddCase(&ctx, req, &out);
}

bool WaitStandby(v1::Office::Stub& office, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);  // as in PairAddCase
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(2000));
    v1::ListPeersResponse resp;
    const grpc::Status s =
        office.ListPeers(&ctx, v1::ListPeersRequest(), &resp);
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
        absl::StartsWith(s.error_message(), "standby:")) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace cbx::testing
