// A federation of real cbx-node processes on loopback, for integration tests
// and benchmarks: certs/make-federation.sh makes the PKI, keys and genesis;
// each node runs as its own process with its log in its folder.
//
// Not thread-safe: drive one Federation from one test thread.
#ifndef CBX_TESTS_INTEGRATION_FEDERATION_H_
#define CBX_TESTS_INTEGRATION_FEDERATION_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "cbx/v1/office.grpc.pb.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "core/crypto/ed25519.h"
#include "grpcpp/channel.h"
#include "nlohmann/json.hpp"

namespace cbx::testing {

struct FederationOptions {
  std::vector<std::string> countries = {"MK", "RS", "BA", "HR", "ME"};
  // Applied to federation.json before the genesis is built and signed
  // (e.g. to lower a quota or suspend a member).
  std::function<void(nlohmann::json&)> edit_spec;
  int64_t index_interval_ms = 300;
  // Applied to each node's node.json after the harness's own settings.
  std::function<void(const std::string& cc, nlohmann::json&)> edit_config;
  // Staff identifiers for per-person prosecutor certificates
  // (make-federation.sh --person): each office of each member gets
  // offices/<office>-prosecutor-person-<id>.crt for every one.
  std::vector<std::string> persons;
};

class Federation {
 public:
  // Makes the federation's files in a fresh temporary folder.
  static absl::StatusOr<std::unique_ptr<Federation>> Create(
      FederationOptions options);
  ~Federation();  // Kills every node still running; removes the folder.

  // Starts `cc`'s node and waits until its Office port answers.
  absl::Status Start(const std::string& cc);
  absl::Status StartAll();
  // Starts `cc`'s node without waiting; WaitReady waits until its Office
  // port answers (any answer from the node itself).
  absl::Status Spawn(const std::string& cc);
  absl::Status WaitReady(const std::string& cc);
  // SIGTERM and wait (drain and stop).
  void Stop(const std::string& cc);
  void Kill(const std::string& cc);    // SIGKILL
  void Pause(const std::string& cc);   // SIGSTOP: accepts, never answers
  void Resume(const std::string& cc);  // SIGCONT
  // The process id of `cc`'s running node; 0 if it is not running.
  pid_t Pid(const std::string& cc) const;

  // Waits until `querier`'s copy of each of `peers`' index holds exactly the
  // count given and was synced after `synced_after_ms` (Unix ms).
  // DEADLINE_EXCEEDED after `timeout_ms`.
  absl::Status WaitForIndex(const std::string& querier,
                            const std::map<std::string, uint64_t>& counts,
                            int64_t synced_after_ms = 0,
                            int64_t timeout_ms = 20000);

  // An Office stub for `cc`'s node with the certificate of its office in
  // `role` (prosecutor, auditor, operator).
  std::unique_ptr<v1::Office::Stub> Office(
      const std::string& cc, const std::string& role = "prosecutor");
  // A Peer stub to `target`'s node presenting the TLS certificate and key
  // files given (defaults: `as`'s node certificate).
  std::unique_ptr<v1::Peer::Stub> PeerAs(const std::string& target,
                                         const std::string& as);
  std::shared_ptr<grpc::Channel> OfficeChannel(const std::string& cc,
                                               const std::string& role);
  std::shared_ptr<grpc::Channel> PeerChannel(const std::string& target,
                                             const std::string& cert_file,
                                             const std::string& key_file);
  std::unique_ptr<v1::Peer::Stub> PeerWithFiles(const std::string& target,
                                                const std::string& cert_file,
                                                const std::string& key_file);

  // `cc`'s node signing key, read from its key file.
  crypto::Ed25519PrivateKey SigningKey(const std::string& cc) const;

  const std::string& dir() const { return dir_; }
  std::string NodeDir(const std::string& cc) const { return dir_ + "/" + cc; }
  std::string LogOf(const std::string& cc) const;
  std::string OfficeCertificate(const std::string& cc,
                                const std::string& role) const;
  // Prints every node's log to stderr (call when a test failed).
  void DumpLogs() const;
  const nlohmann::json& spec() const { return spec_; }

 private:
  Federation() = default;
  std::string PeerEndpoint(const std::string& cc) const;
  std::string OfficeEndpoint(const std::string& cc) const;

  FederationOptions options_;
  std::string dir_;
  // The flock that claims this federation's port range (federation.cc).
  int port_lock_fd_ = -1;
  nlohmann::json spec_;
  std::map<std::string, nlohmann::json> configs_;
  std::map<std::string, pid_t> pids_;
};

// An envelope from `from` to `to` signed with `from`'s node key, issued
// `issued_offset_ms` from now; `fill` sets the message body.
v1::Envelope SealAs(const Federation& fed, const std::string& from,
                    const std::string& to,
                    const std::function<void(v1::Message&)>& fill,
                    int64_t issued_offset_ms = 0, int64_t lifetime_ms = 60'000);
// An EvaluateRequest for OPRF epoch 1 with `elements` freshly blinded inputs.
void FillEvaluate(v1::Message& msg, int elements = 1);

// Paths of the project's binaries, from the build.
std::string NodeBinary();
std::string AdminBinary();
std::string CliBinary();
std::string SourceDir();

// The whole file, or "" if it cannot be read.
std::string Slurp(const std::string& path);

// Runs a shell command; returns its exit code, with stdout+stderr in *output.
int RunCommand(const std::string& command, std::string* output);

}  // namespace cbx::testing

#endif  // CBX_TESTS_INTEGRATION_FEDERATION_H_
