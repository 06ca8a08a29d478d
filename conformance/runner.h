// Runs the conformance kit's cases (spec/conformance/cases/*.json) against a
// node: builds each request from the case's recipe and the kit's keys, sends
// it over mTLS, and checks the status code and the named response
// properties (spec/conformance/README.md lists the vocabulary).
//
// Not thread-safe: one Runner runs its cases in order on the caller's
// thread; later cases may use what earlier ones saw (the checkpoint a
// GetCheckpoint case fetched, the request an AddCosignature case sent).
#ifndef CBX_CONFORMANCE_RUNNER_H_
#define CBX_CONFORMANCE_RUNNER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "conformance/kit.h"
#include "core/note/checkpoint.h"
#include "nlohmann/json.hpp"

namespace cbx::conformance {

struct CaseResult {
  std::string id;
  bool passed = false;
  std::string why;  // empty when passed
};

// Reads every *.json file of `dir` in name order and returns their cases in
// file order. INVALID_ARGUMENT naming the file for one that does not parse,
// a case without "id" or "rpc", or an id used twice.
absl::StatusOr<std::vector<nlohmann::json>> LoadCases(const std::string& dir);

class Runner {
 public:
  explicit Runner(const Kit* kit) : kit_(kit) {}

  // Runs one case (a JSON object of a case file). Never fails as a whole: a
  // case that cannot even be built is a FAIL with the reason.
  CaseResult Run(const nlohmann::json& c);

  // Internal state shared by the cases, in the order they run.
  struct Seen {
    std::optional<note::Checkpoint> checkpoint;  // from Peer.GetCheckpoint
    std::string checkpoint_text;                 // its note text
    std::string last_cosignature;                // last AddCosignature sent
    std::optional<note::Checkpoint> audited;     // from Office.AuditCheckpoint
  };

 private:
  const Kit* kit_;
  Seen seen_;
};

}  // namespace cbx::conformance

#endif  // CBX_CONFORMANCE_RUNNER_H_
