// "Witnessed" checkpoints: a checkpoint signed by its log and cosigned
// (cosignature/v1) by at least `threshold` of a policy's witnesses.
//
// In cbx the witnesses of a node's log are its peers, and the threshold is
// the directory policy's witness_threshold (spec/audit-log.md). A log that
// forks or rewrites its history cannot gather these cosignatures, because
// each witness checks consistency with the last checkpoint it cosigned.
#ifndef CBX_CORE_NOTE_WITNESS_H_
#define CBX_CORE_NOTE_WITNESS_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"

namespace cbx::note {

// A witness is identified by its key name (in cbx, "cbx/<CC>/witness": one
// per member). The same name may appear with several keys, e.g. the old and
// the new key during a rotation; it still counts once.
struct WitnessPolicy {
  std::vector<Verifier> witnesses;  // kCosignatureV1 keys
  size_t threshold = 0;             // distinct witness names needed
};

// OK if `policy` can be met: every witness is a kCosignatureV1 key, no two
// entries share a public key (one key must not count under two names), and
// the threshold does not exceed the number of distinct witness names.
// INVALID_ARGUMENT otherwise.
absl::Status ValidateWitnessPolicy(const WitnessPolicy& policy);

// Opens `msg` as a checkpoint of `origin` signed by `log_key` (see
// OpenCheckpoint; any failing cosignature from a policy witness rejects the
// whole note with UNAUTHENTICATED, as the signed-note spec recommends) and
// checks that witnesses of at least policy.threshold distinct names cosigned
// it, else UNAUTHENTICATED. The witness cosignatures, with their timestamps,
// are in the result's other_signatures.
absl::StatusOr<SignedCheckpoint> OpenWitnessedCheckpoint(
    std::string_view msg, std::string_view origin, const Verifier& log_key,
    const WitnessPolicy& policy);

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_WITNESS_H_
