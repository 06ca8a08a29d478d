// The audit log's spec vectors (spec/vectors/audit.json): seven entries of
// a plausible exchange appended to a real AuditLog under a fake clock, their
// leaf bytes and hashes, every root, some proofs, and a checkpoint signed
// with the RFC 8032 §7.1 TEST 1 key. Deterministic: the same JSON on every
// run. Test-only.
#ifndef CBX_NODE_AUDIT_TESTING_AUDIT_VECTORS_H_
#define CBX_NODE_AUDIT_TESTING_AUDIT_VECTORS_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cbx::node::audit::testing {

// Builds the vectors, using `scratch_dir` (an empty folder) for the log.
absl::StatusOr<nlohmann::json> BuildAuditVectors(
    const std::string& scratch_dir);

}  // namespace cbx::node::audit::testing

#endif  // CBX_NODE_AUDIT_TESTING_AUDIT_VECTORS_H_
