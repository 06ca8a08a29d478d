// Consistency between a checkpoint one trusts (the auditor's last trusted
// one, the witness's last cosigned one) and a newer one of the same log
// (spec/audit-log.md §8 and §9.3):
//
//   trusted size 0              nothing to check (its root must be the
//                               empty tree's)
//   same size, same root        consistent, nothing new
//   same size, another root     DATA_LOSS: a fork
//   smaller                     DATA_LOSS: the log shrank
//   larger                      the RFC 9162 consistency proof must verify:
//                               DATA_LOSS if it does not reach the roots,
//                               INVALID_ARGUMENT if it is malformed (it
//                               proves nothing either way)
//
// Pure functions; safe from any thread.
#ifndef CBX_CORE_LOGCHECK_CONSISTENCY_H_
#define CBX_CORE_LOGCHECK_CONSISTENCY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/note/checkpoint.h"
#include "core/util/bytes.h"

namespace cbx::logcheck {

// Whether moving trust from `trusted` to `latest` needs a consistency proof:
// 0 < trusted.size < latest.size.
bool NeedsConsistencyProof(const note::Checkpoint& trusted,
                           const note::Checkpoint& latest);

// What CompareCheckpoints found.
enum class Comparison {
  // Consistent:
  kFromEmpty,  // the trusted tree was empty: nothing to check
  kSame,       // same size, same root
  kExtended,   // a larger tree, proven to extend the trusted one
  // Evidence of a rewritten log (DATA_LOSS):
  kShrank,      // the latest tree is smaller
  kForked,      // same size and another root (also: a trusted tree of size
                // 0 whose root is not the empty tree's)
  kProofFails,  // a well-formed proof that does not reach the roots
  // Proves nothing (INVALID_ARGUMENT):
  kMalformedProof,
  kOtherLog,  // the two checkpoints have different origins
};

struct ConsistencyVerdict {
  Comparison comparison = Comparison::kSame;
  // For kProofFails and kMalformedProof: core/merkle's reason.
  std::string proof_error;

  bool consistent() const {
    return comparison == Comparison::kFromEmpty ||
           comparison == Comparison::kSame ||
           comparison == Comparison::kExtended;
  }
};

// The rule above, without messages: for callers that word the verdict
// themselves (the witness names the peer; the auditor names its trusted
// checkpoint). `proof` is only looked at when NeedsConsistencyProof.
ConsistencyVerdict CompareCheckpoints(const note::Checkpoint& trusted,
                                      const note::Checkpoint& latest,
                                      const std::vector<Bytes>& proof);

// The consistent outcomes of CompareCheckpoints.
enum class Consistency {
  kFromEmpty,
  kSame,
  kExtended,
};

// CompareCheckpoints as a status, in the auditor's words: DATA_LOSS "the log
// was rewritten: checkpoint n is not consistent with the trusted checkpoint
// m" and the reason ("(the log shrank)", "(same size, different root
// hash)", or core/merkle's); INVALID_ARGUMENT "the consistency proof from
// size m to n is malformed: ..." or for checkpoints of two origins.
absl::StatusOr<Consistency> CheckConsistency(const note::Checkpoint& trusted,
                                             const note::Checkpoint& latest,
                                             const std::vector<Bytes>& proof);

}  // namespace cbx::logcheck

#endif  // CBX_CORE_LOGCHECK_CONSISTENCY_H_
