// What an operator and an auditor do to a running Federation
// (tests/integration/federation.h) while it serves: certificates and CRLs
// made with the openssl CLI (certs/README.md), directory versions made with
// `cbx-admin directory propose / cosign / combine` and installed with
// `cbx-node --install-directory` (docs/governance.md), calls with explicit
// certificate files and trust roots (for a member whose CA changed), and
// the checkpoints a member's auditor is shown.
//
// Not thread-safe: call from the test's own thread, except the free
// functions that only open channels (OfficeChannelWith, PeerChannelWith),
// which any thread may call.
#ifndef CBX_TESTS_INTEGRATION_FEDERATION_OPS_H_
#define CBX_TESTS_INTEGRATION_FEDERATION_OPS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/message.pb.h"
#include "grpcpp/channel.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"

namespace cbx::testing {

// Polls `done` every 100 ms until it holds or `timeout` (scaled by
// CBX_TEST_TIME_SCALE) passes; returns its last value.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout);

// A Telegram username identifier.
v1::Identifier Telegram(const std::string& value);

// Adds an open case with one Telegram username at `cc` (its prosecutor
// office, the harness's default certificate).
absl::Status AddTelegramCase(Federation& fed, const std::string& cc,
                             const std::string& number,
                             const std::string& telegram);
// The same, as the office `office` is a channel of (`cc` names it in a
// refusal).
absl::Status AddTelegramCaseAs(v1::Office::Stub& office, const std::string& cc,
                               const std::string& number,
                               const std::string& telegram);

// The `key` field of `cc`'s node.json (e.g. "office_listen"), "" if absent.
std::string NodeConfigField(const Federation& fed, const std::string& cc,
                            const std::string& key);

// The response to GET /metrics from `cc`'s admin endpoint (status line,
// headers and body; "" if it cannot be reached within 10 s).
std::string AdminMetrics(const Federation& fed, const std::string& cc);

// The value of the unlabelled sample `name` in a Prometheus exposition
// (AdminMetrics), or -1 if it has none.
double MetricValue(const std::string& exposition, const std::string& name);

// A channel to `cc`'s Office port presenting `cert_file`/`key_file` and
// trusting `roots_pem`.
std::shared_ptr<grpc::Channel> OfficeChannelWith(const Federation& fed,
                                                 const std::string& cc,
                                                 const std::string& cert_file,
                                                 const std::string& key_file,
                                                 const std::string& roots_pem);
// A fresh connection to `target`'s Peer port presenting the files given and
// trusting `roots_pem`.
std::shared_ptr<grpc::Channel> PeerChannelWith(const Federation& fed,
                                               const std::string& target,
                                               const std::string& cert_file,
                                               const std::string& key_file,
                                               const std::string& roots_pem);

// Certificates and CRLs as a member's CA operator makes them, with the
// openssl CLI; everything under `fed.dir()`.
class OperatorPki {
 public:
  explicit OperatorPki(const Federation& fed);

  // A new national CA (ca.crt, ca.key) in `ca_dir`, which is created.
  absl::Status MakeCa(const std::string& ca_dir, const std::string& subject);
  // A node certificate for member `cc` from the CA in `ca_dir`, written to
  // `out`.crt and `out`.key; returns its serial (hex, as openssl prints it).
  absl::StatusOr<std::string> IssueNodeCertificate(const std::string& cc,
                                                   const std::string& ca_dir,
                                                   const std::string& out);
  // Revokes `cert_files` in the CA of `ca_dir` (its `openssl ca` database
  // is kept beside the test's other files) and writes the CA's new CRL to
  // `crl_out`.
  absl::Status Revoke(const std::string& ca_dir,
                      const std::vector<std::string>& cert_files,
                      const std::string& crl_out);

  // The certificate's serial in upper-case hex, "" if unreadable.
  static std::string Serial(const std::string& cert_file);
  // Its SHA-256 fingerprint (as `cbx-admin directory show` prints it).
  static std::string Fingerprint(const std::string& cert_file);

 private:
  absl::StatusOr<std::string> Openssl(const std::string& env,
                                      const std::string& args);
  const Federation& fed_;
  std::string config_;
};

// Directory versions after the genesis, each proposed from the previous
// one and a change list (docs/governance.md §1), cosigned by `signers`'
// governance keys in their own files and combined (§2, §3).
class DirectoryUpdates {
 public:
  DirectoryUpdates(const Federation& fed, std::vector<std::string> signers);

  // Makes the next version from `changes` (the "changes" array of a change
  // file); returns the path of the combined, signed version.
  absl::StatusOr<std::string> Next(const nlohmann::json& changes);
  // Installs version file `file` into `cc`'s node.db (the node may run).
  absl::Status Install(const std::string& cc, const std::string& file) const;
  // The version files made so far, version 2 first.
  const std::vector<std::string>& versions() const { return versions_; }
  uint64_t current_version() const { return versions_.size() + 1; }

 private:
  const Federation& fed_;
  std::vector<std::string> signers_;
  std::vector<std::string> versions_;
};

// A checkpoint note of `member`'s log, taken apart.
struct CheckpointView {
  std::string note;
  uint64_t size = 0;
  std::set<uint32_t> log_key_ids;   // signatures named cbx/<member>/audit
  std::set<std::string> witnesses;  // members whose cbx/<CC>/witness signed
};
absl::StatusOr<CheckpointView> ViewCheckpoint(const std::string& note,
                                              const std::string& member);

}  // namespace cbx::testing

#endif  // CBX_TESTS_INTEGRATION_FEDERATION_OPS_H_
