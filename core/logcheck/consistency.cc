#include "core/logcheck/consistency.h"

#include "core/merkle/hash.h"
#include "core/merkle/verify.h"

namespace cbx::logcheck {

bool NeedsConsistencyProof(const note::Checkpoint& trusted,
                           const note::Checkpoint& latest) {
  return trusted.size > 0 && trusted.size < latest.size;
}

ConsistencyVerdict CompareCheckpoints(const note::Checkpoint& trusted,
                                      const note::Checkpoint& latest,
                                      const std::vector<Bytes>& proof) {
  if (trusted.origin != latest.origin) return {Comparison::kOtherLog, ""};
  if (latest.size < trusted.size) return {Comparison::kShrank, ""};
  if (trusted.size == 0) {
    return {trusted.root_hash == merkle::EmptyRoot() ? Comparison::kFromEmpty
                                                     : Comparison::kForked,
            ""};
  }
  if (latest.size == trusted.size) {
    return {latest.root_hash == trusted.root_hash ? Comparison::kSame
                                                  : Comparison::kForked,
            ""};
  }
  absl::Status s = merkle::VerifyConsistency(
      trusted.size, latest.size, proof, trusted.root_hash, latest.root_hash);
  if (s.ok()) return {Comparison::kExtended, ""};
  return {s.code() == absl::StatusCode::kDataLoss ? Comparison::kProofFails
                                                  : Comparison::kMalformedProof,
          std::string(s.message())};
}

absl::StatusOr<Consistency> CheckConsistency(const note::Checkpoint& trusted,
                                             const note::Checkpoint& latest,
                                             const std::vector<Bytes>& proof) {
  const ConsistencyVerdict verdict = CompareCheckpoints(trusted, latest, proof);
  const std::string rewritten =
      "the log was rewritten: checkpoint " + std::to_string(latest.size) +
      " is not consistent with the trusted checkpoint " +
      std::to_string(trusted.size);
  switch (verdict.comparison) {
    case Comparison::kFromEmpty:
      return Consistency::kFromEmpty;
    case Comparison::kSame:
      return Consistency::kSame;
    case Comparison::kExtended:
      return Consistency::kExtended;
    case Comparison::kShrank:
      return absl::DataLossError(rewritten + " (the log shrank)");
    case Comparison::kForked:
      if (trusted.size == 0) {
        return absl::DataLossError(
            rewritten +
            " (the trusted checkpoint of size 0 does not have the "
            "empty tree's root)");
      }
      return absl::DataLossError(rewritten +
                                 " (same size, different root hash)");
    case Comparison::kProofFails:
      return absl::DataLossError(rewritten + " (" + verdict.proof_error + ")");
    case Comparison::kMalformedProof:
      return absl::InvalidArgumentError(
          "the consistency proof from size " + std::to_string(trusted.size) +
          " to " + std::to_string(latest.size) +
          " is malformed: " + verdict.proof_error);
    case Comparison::kOtherLog:
      break;
  }
  return absl::InvalidArgumentError("the trusted checkpoint is of '" +
                                    trusted.origin + "', the new one of '" +
                                    latest.origin + "'");
}

}  // namespace cbx::logcheck
