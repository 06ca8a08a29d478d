// An active/standby pair of one member's node (spec/active-standby.md) for
// benchmarks and tests: two cbx-node processes spawned from the member's
// config in a Federation, each with its own data_dir, ports and log, and
// the Office calls that tell which one is active. The federation's config
// for the member must already hold the storage, audit_log and leadership
// sections (a PostgreSQL database; node/storage/pg/testing/pg_cluster.h).
//
// Threading: a PairNode belongs to one thread.
#ifndef CBX_TESTS_INTEGRATION_PG_PAIR_HARNESS_H_
#define CBX_TESTS_INTEGRATION_PG_PAIR_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "cbx/v1/office.grpc.pb.h"
#include "grpcpp/support/status.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"

namespace cbx::testing {

// One cbx-node process of the pair.
class PairNode {
 public:
  PairNode() = default;
  PairNode(const PairNode&) = delete;
  PairNode& operator=(const PairNode&) = delete;
  ~PairNode() { Kill(); }

  // Starts the process (--allow-root), its output appended to log().
  absl::Status Spawn();
  void Signal(int signo);
  // SIGCONT then SIGKILL, and reaps it.
  void Kill();
  // The exit status once the process exited within `timeout` (128 + the
  // signal if killed); -1 if it is still running.
  int WaitExit(std::chrono::milliseconds timeout);

  const std::string& name() const { return name_; }
  const std::string& config() const { return config_; }
  const std::string& log() const { return log_; }
  int office_port() const { return office_port_; }
  int peer_port() const { return peer_port_; }
  int admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }

 private:
  friend absl::Status WritePairConfigs(Federation&, const std::string&,
                                       PairNode&, PairNode&);
  std::string name_;
  std::string config_;
  std::string log_;
  int peer_port_ = 0;
  int office_port_ = 0;
  int admin_port_ = 0;
  pid_t pid_ = 0;
};

// b's ports are a's + this (ports of the federation's range its nodes do
// not use).
inline constexpr int kPairStandbyOffset = 50;

// Writes the configs of `a` and `b` (names "a" and "b") from `cc`'s
// node.json in `fed`: the same keys and database, data_dir
// <node dir>/data-<name>; a on `cc`'s own ports (its peer port is the
// directory's endpoint, so the federation must not start `cc` itself), b on
// those + kPairStandbyOffset (the directory's standby endpoint when the
// spec was edited with ListPairStandby).
absl::Status WritePairConfigs(Federation& fed, const std::string& cc,
                              PairNode& a, PairNode& b);

// For FederationOptions::edit_spec: lists b's peer port as `cc`'s standby
// endpoint (spec/directory.md §7.1), so that peers reach whichever node of
// the pair is active.
void ListPairStandby(nlohmann::json& spec, const std::string& cc);

// A stub for `cc`'s prosecutor office at 127.0.0.1:`port`, reconnecting
// quickly (a node of the pair comes and goes).
std::unique_ptr<v1::Office::Stub> PairOfficeAt(Federation& fed,
                                               const std::string& cc, int port);

// Office.AddCase of a new case `number` (one e-mail identifier), waiting
// for the connection until `deadline`; with `wait_for_ready` false it fails
// UNAVAILABLE at once when no node listens (a client moving between the two
// nodes wants that).
grpc::Status PairAddCase(v1::Office::Stub& office, const std::string& number,
                         std::chrono::milliseconds deadline,
                         bool wait_for_ready = true);

// Waits until `office` refuses a call as the pair's standby does
// (UNAVAILABLE, "standby: ..."); false after `timeout`.
bool WaitStandby(v1::Office::Stub& office, std::chrono::milliseconds timeout);

}  // namespace cbx::testing

#endif  // CBX_TESTS_INTEGRATION_PG_PAIR_HARNESS_H_
