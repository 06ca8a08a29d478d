#include "tests/integration/federation.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/crypto/voprf.h"
#include "core/envelope/envelope.h"
#include "core/util/bytes.h"
#include "core/util/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// A base port whose peer, office, admin and console ranges (base + 1,
// + 101, + 201, + 301: make-federation.sh) are all free now, and which no
// other federation of this machine's tests holds: bases are 400 apart, so
// two federations' ranges never overlap, and each is claimed by an flock
// on /tmp/cbx-test-ports/<base>.lock, held through *lock_fd until the
// federation ends (or its process dies). Without the claim, two tests
// starting together could pick the same range before either listened.
int PickBasePort(size_t n, int* lock_fd) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> dist(50, 145);  // 20,000 to 58,000
  std::filesystem::create_directories("/tmp/cbx-test-ports");
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = dist(rng) * 400;
    const std::string lock =
        absl::StrCat("/tmp/cbx-test-ports/", base, ".lock");
    const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      continue;
    }
    bool free = true;
    for (size_t i = 0; i < n && free; ++i) {
      free = PortFree(base + 1 + i) && PortFree(base + 101 + i) &&
             PortFree(base + 201 + i) && PortFree(base + 301 + i);
    }
    if (free) {
      *lock_fd = fd;
      return base;
    }
    close(fd);
  }
  return 0;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// CBX_NODE_BINARY runs the tests against another build's node (e.g. to show
// that a test fails on an older commit).
std::string NodeBinary() {
  const char* other = std::getenv("CBX_NODE_BINARY");
  return other != nullptr && *other != '\0' ? other : CBX_NODE_BIN;
}
std::string AdminBinary() { return CBX_ADMIN_BIN; }
std::string CliBinary() { return CBX_CLI_BIN; }
std::string SourceDir() { return CBX_SOURCE_DIR; }

int RunCommand(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::string out;
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

absl::StatusOr<std::unique_ptr<Federation>> Federation::Create(
    FederationOptions options) {
  std::unique_ptr<Federation> f(new Federation());
  f->options_ = std::move(options);
  char tmpl[] = "/tmp/cbx-federation-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  f->dir_ = tmpl;
  int base = PickBasePort(f->options_.countries.size(), &f->port_lock_fd_);
  if (base == 0) return absl::UnavailableError("no free port range");
  std::string out;
  std::string cmd =
      absl::StrCat("bash ", Quote(SourceDir() + "/certs/make-federation.sh"),
                   " ", Quote(f->dir_ + "/fed"), " --countries ",
                   absl::StrJoin(f->options_.countries, ","), " --base-port ",
                   base, " --admin ", Quote(AdminBinary()));
  for (const std::string& person : f->options_.persons) {
    cmd += " --person " + Quote(person);
  }
  if (RunCommand(cmd, &out) != 0) {
    return absl::InternalError("make-federation.sh failed:\n" + out);
  }
  f->dir_ += "/fed";
  f->spec_ = nlohmann::json::parse(Slurp(f->dir_ + "/federation.json"));
  if (f->options_.edit_spec) {
    f->options_.edit_spec(f->spec_);
    std::ofstream(f->dir_ + "/federation.json") << f->spec_.dump(2);
    std::string genesis = f->dir_ + "/genesis.pb";
    std::filesystem::remove(genesis);
    std::string build = absl::StrCat(
        Quote(AdminBinary()), " directory build --spec ",
        Quote(f->dir_ + "/federation.json"), " --out ", Quote(genesis));
    if (RunCommand(build, &out) != 0) {
      return absl::InternalError("directory build failed:\n" + out);
    }
    size_t k = f->spec_["policy"].value("governance_threshold",
                                        f->options_.countries.size() / 2 + 1);
    for (size_t i = 0; i < k; ++i) {
      const std::string& cc = f->options_.countries[i];
      std::string sign =
          absl::StrCat(Quote(AdminBinary()), " directory sign --in ",
                       Quote(genesis), " --member ", cc, " --key ",
                       Quote(f->dir_ + "/" + cc + "/governance.key"), " --out ",
                       Quote(genesis));
      if (RunCommand(sign, &out) != 0) {
        return absl::InternalError("directory sign failed:\n" + out);
      }
    }
  }
  for (const std::string& cc : f->options_.countries) {
    std::string path = f->NodeDir(cc) + "/node.json";
    nlohmann::json config = nlohmann::json::parse(Slurp(path));
    config["sync"]["index_interval_ms"] = f->options_.index_interval_ms;
    config["sync"]["directory_interval_ms"] = 1000;
    config["audit"]["checkpoint_interval_ms"] = 2000;
    config["audit"]["witness_interval_ms"] = 200;
    if (f->options_.edit_config) f->options_.edit_config(cc, config);
    std::ofstream(path) << config.dump(2);
    f->configs_[cc] = config;
  }
  return f;
}

Federation::~Federation() {
  for (auto& [cc, pid] : pids_) {
    if (pid > 0) {
      kill(pid, SIGCONT);
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  if (!dir_.empty() && std::getenv("CBX_KEEP_FEDERATION") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path(), ec);
  }
  if (port_lock_fd_ >= 0) close(port_lock_fd_);  // the range is free again
}

std::string Federation::PeerEndpoint(const std::string& cc) const {
  return configs_.at(cc)["peer_listen"].get<std::string>();
}

std::string Federation::OfficeEndpoint(const std::string& cc) const {
  return configs_.at(cc)["office_listen"].get<std::string>();
}

std::string Federation::LogOf(const std::string& cc) const {
  return NodeDir(cc) + "/node.log";
}

std::string Federation::OfficeCertificate(const std::string& cc,
                                          const std::string& role) const {
  for (const auto& entry :
       std::filesystem::directory_iterator(NodeDir(cc) + "/offices")) {
    std::string name = entry.path().filename().string();
    if (name.size() > role.size() + 5 &&
        name.compare(name.size() - role.size() - 4, role.size() + 4,
                     role + ".crt") == 0) {
      return entry.path().string();
    }
  }
  return "";
}

absl::Status Federation::Start(const std::string& cc) {
  absl::Status spawned = Spawn(cc);
  if (!spawned.ok()) return spawned;
  return WaitReady(cc);
}

absl::Status Federation::Spawn(const std::string& cc) {
  std::string log = LogOf(cc);
  // posix_spawn, not fork: fork runs gRPC's atfork handlers in this (gRPC
  // client) process, which leaves its channels unable to reconnect.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string config = NodeDir(cc) + "/node.json";
  std::string binary = NodeBinary();
  // --allow-root: the tests run as root on CI and this machine.
  char* argv[] = {const_cast<char*>("cbx-node"), const_cast<char*>("--config"),
                  config.data(), const_cast<char*>("--allow-root"), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError("posix_spawn failed");
  pids_[cc] = pid;
  return absl::OkStatus();
}

absl::Status Federation::WaitReady(const std::string& cc) {
  const pid_t pid = pids_[cc];
  if (pid <= 0) return absl::FailedPreconditionError(cc + " is not running");
  const std::string log = LogOf(cc);
  // Ready when the Office port answers an authenticated call.
  auto office = Office(cc, "operator");
  auto deadline =
      std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pids_[cc] = 0;
      return absl::InternalError(cc + "'s node exited at start:\n" +
                                 Slurp(log));
    }
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::milliseconds(500)));
    v1::ListPeersResponse resp;
    grpc::Status s = office->ListPeers(&ctx, v1::ListPeersRequest(), &resp);
    // Any answer from the node itself means it is up (a node whose audit
    // log is damaged answers DATA_LOSS to everything).
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
        s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::OkStatus();
    }
    last_error = s.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(cc + "'s node did not become ready (" +
                                     last_error + "):\n" + Slurp(log));
}

absl::Status Federation::StartAll() {
  for (const std::string& cc : options_.countries) {
    absl::Status s = Start(cc);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

pid_t Federation::Pid(const std::string& cc) const {
  auto it = pids_.find(cc);
  return it == pids_.end() ? 0 : it->second;
}

void Federation::Stop(const std::string& cc) {
  pid_t pid = pids_[cc];
  if (pid <= 0) return;
  kill(pid, SIGCONT);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  pids_[cc] = 0;
}

void Federation::Kill(const std::string& cc) {
  pid_t pid = pids_[cc];
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pids_[cc] = 0;
}

void Federation::Pause(const std::string& cc) {
  if (pids_[cc] > 0) kill(pids_[cc], SIGSTOP);
}

void Federation::Resume(const std::string& cc) {
  if (pids_[cc] > 0) kill(pids_[cc], SIGCONT);
}

absl::Status Federation::WaitForIndex(
    const std::string& querier, const std::map<std::string, uint64_t>& counts,
    int64_t synced_after_ms, int64_t timeout_ms) {
  auto office = Office(querier, "operator");
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(ScaledMs(timeout_ms));
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext ctx;
    v1::ListPeersResponse resp;
    if (office->ListPeers(&ctx, v1::ListPeersRequest(), &resp).ok()) {
      size_t good = 0;
      last.clear();
      for (const v1::PeerStatus& p : resp.peers()) {
        auto it = counts.find(p.member());
        if (it == counts.end()) continue;
        if (p.index_count() == it->second &&
            p.last_sync_ms() > synced_after_ms) {
          ++good;
        }
        absl::StrAppend(&last, p.member(), "=", p.index_count(), " ");
      }
      if (good == counts.size()) return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::DeadlineExceededError(querier + "'s index copies: " + last);
}

std::unique_ptr<v1::Office::Stub> Federation::Office(const std::string& cc,
                                                     const std::string& role) {
  return v1::Office::NewStub(OfficeChannel(cc, role));
}

std::shared_ptr<grpc::Channel> Federation::OfficeChannel(
    const std::string& cc, const std::string& role) {
  std::string cert = OfficeCertificate(cc, role);
  std::string key = cert.substr(0, cert.size() - 4) + ".key";
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Slurp(NodeDir(cc) + "/ca.crt");
  options.pem_cert_chain = Slurp(cert);
  options.pem_private_key = Slurp(key);
  grpc::ChannelArguments args;
  // Nodes start while the harness polls them: reconnect quickly. gRPC
  // takes its minimum connect timeout (TCP, TLS handshake and HTTP/2
  // SETTINGS) from MIN_RECONNECT_BACKOFF: at 100 ms a sanitized node on a
  // loaded machine never finished a handshake in time ("connection attempt
  // timed out before receiving SETTINGS frame"), so that one is a scaled
  // second; a refused connection is still retried within 100-500 ms.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(ScaledMs(1000)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(
      "localhost:" +
          OfficeEndpoint(cc).substr(OfficeEndpoint(cc).rfind(':') + 1),
      grpc::SslCredentials(options), args);
}

std::unique_ptr<v1::Peer::Stub> Federation::PeerWithFiles(
    const std::string& target, const std::string& cert_file,
    const std::string& key_file) {
  return v1::Peer::NewStub(PeerChannel(target, cert_file, key_file));
}

std::shared_ptr<grpc::Channel> Federation::PeerChannel(
    const std::string& target, const std::string& cert_file,
    const std::string& key_file) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Slurp(NodeDir(target) + "/ca.crt");
  if (!cert_file.empty()) {
    options.pem_cert_chain = Slurp(cert_file);
    options.pem_private_key = Slurp(key_file);
  }
  grpc::ChannelArguments args;
  // A fresh connection per stub: tests compare certificates.
  args.SetInt("cbx.test.unique", std::rand());
  std::string port =
      PeerEndpoint(target).substr(PeerEndpoint(target).rfind(':') + 1);
  return grpc::CreateCustomChannel("localhost:" + port,
                                   grpc::SslCredentials(options), args);
}

std::unique_ptr<v1::Peer::Stub> Federation::PeerAs(const std::string& target,
                                                   const std::string& as) {
  return PeerWithFiles(target, NodeDir(as) + "/node.crt",
                       NodeDir(as) + "/node.key");
}

crypto::Ed25519PrivateKey Federation::SigningKey(const std::string& cc) const {
  std::string hex(
      absl::StripAsciiWhitespace(Slurp(NodeDir(cc) + "/node-signing.key")));
  auto key = crypto::Ed25519PrivateKey::FromSeed(*HexDecode(hex));
  return *std::move(key);
}

v1::Envelope SealAs(const Federation& fed, const std::string& from,
                    const std::string& to,
                    const std::function<void(v1::Message&)>& fill,
                    int64_t issued_offset_ms, int64_t lifetime_ms) {
  FakeClock clock(SystemClock::Get().NowMs() + issued_offset_ms);
  v1::Message msg;
  *msg.mutable_header() = envelope::MakeHeader(from, {to}, clock, lifetime_ms);
  fill(msg);
  return envelope::Seal(msg, fed.SigningKey(from));
}

void FillEvaluate(v1::Message& msg, int elements) {
  v1::EvaluateRequest* req = msg.mutable_evaluate_request();
  req->set_oprf_epoch(1);
  for (int i = 0; i < elements; ++i) {
    auto blinded = crypto::OprfBlind("cbx test input " + std::to_string(i));
    req->add_blinded_elements(blinded->blinded_element);
  }
  req->mutable_purpose()->set_case_number("TEST-1");
  req->mutable_purpose()->set_legal_basis("test");
  req->mutable_purpose()->set_offence(v1::OFFENCE_CODE_CYBER_STALKING);
}

void Federation::DumpLogs() const {
  for (const std::string& cc : options_.countries) {
    std::cerr << "----- " << cc << " node log -----\n"
              << Slurp(LogOf(cc)) << "\n";
  }
}

}  // namespace cbx::testing
