// The project's own node as the kit's member QT, for the conformance tests:
// a copy of spec/conformance/federation in a temporary folder (key files
// made 0600), a node.json on free loopback ports, one cbx-node process.
//
// Not thread-safe: drive it from the test's thread.
#ifndef CBX_CONFORMANCE_TESTING_KIT_NODE_H_
#define CBX_CONFORMANCE_TESTING_KIT_NODE_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cbx::conformance {

class KitNode {
 public:
  // Copies the kit federation from `kit_dir`, starts `node_binary` as QT
  // and waits until its Peer port answers QA (20 s, scaled). The node's log
  // is in LogPath().
  static absl::StatusOr<std::unique_ptr<KitNode>> Start(
      const std::string& kit_dir, const std::string& node_binary);
  ~KitNode();  // SIGTERM, wait; removes the folder.

  const std::string& peer_address() const { return peer_; }
  const std::string& office_address() const { return office_; }
  // The copied kit federation (keys, certificates, genesis).
  std::string kit_dir() const { return dir_ + "/kit"; }
  std::string LogPath() const { return dir_ + "/kit/QT/node.log"; }

 private:
  KitNode() = default;
  std::string dir_, peer_, office_;
  pid_t pid_ = 0;
};

// Runs `runner` against the addresses with the kit in `kit_dir` and the
// cases in `cases_dir`; returns its whole output (and its exit code in
// *exit_code).
std::string RunConformance(const std::string& runner,
                           const std::string& peer_address,
                           const std::string& office_address,
                           const std::string& kit_dir,
                           const std::string& cases_dir, int* exit_code);

}  // namespace cbx::conformance

#endif  // CBX_CONFORMANCE_TESTING_KIT_NODE_H_
