// Verifying a signed checkpoint of a member's log and counting its witnesses
// (spec/audit-log.md §8 and §9.2), the one rule shared by the witness
// (node/), the auditor's CLI (client/audit/) and the tests:
//
//   - every signature line by a log key or a witness key of LogKeys MUST
//     verify, else the whole note is rejected (UNAUTHENTICATED);
//   - any other line is ignored (it neither counts nor rejects) and reported
//     with the reason;
//   - a log key MUST have signed it, and the text MUST be a checkpoint of
//     the log's origin;
//   - the witnesses are the DISTINCT members with a valid cosignature: two
//     keys of one member (a key rotation) count once; the checkpoint is
//     witnessed when they reach the directory policy's witness_threshold.
//
// Status codes: INVALID_ARGUMENT for a malformed note or checkpoint or
// another origin; UNAUTHENTICATED for a signature by a known key that does
// not verify, no signature by a log key, or (RequireWitnessed) too few
// witnesses. Pure functions; safe from any thread.
#ifndef CBX_CORE_LOGCHECK_CHECKPOINT_VERIFIER_H_
#define CBX_CORE_LOGCHECK_CHECKPOINT_VERIFIER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/note/signature.h"

namespace cbx::logcheck {

// A valid cosignature on a checkpoint.
struct Cosignature {
  std::string witness;  // the witnessing member's code
  std::string name;     // "cbx/<WC>/witness"
  uint32_t key_id = 0;
  uint64_t timestamp = 0;  // POSIX seconds
};

// A signature line that no key of the directory could check, and why; it
// neither counts nor rejects the note.
struct IgnoredSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string reason;  // e.g. "ZZ is not a member of directory version 3"
};

// A checkpoint whose log signature and every known cosignature verified.
struct VerifiedCheckpoint {
  std::string member;  // the log's member, "CC"
  std::string origin;  // "cbx/CC/audit"
  uint64_t directory_version = 0;
  note::Checkpoint checkpoint;
  std::string text;                       // the signed note text
  uint32_t log_key_id = 0;                // the first log key that signed it
  std::vector<Cosignature> cosignatures;  // in note order
  std::vector<IgnoredSignature> ignored;  // in note order
  size_t witnesses = 0;           // distinct members among `cosignatures`
  size_t threshold = 0;           // the policy's witness_threshold
  size_t eligible_witnesses = 0;  // the other members of the directory
  bool witnessed = false;         // witnesses >= threshold

  // The distinct witnessing members, in the order of their first
  // cosignature.
  std::vector<std::string> WitnessMembers() const;
};

// Verifies the signed note `note` as a checkpoint of keys.member's log by
// the rules above. On success the result says who cosigned and whether that
// is enough; not being witnessed is not an error (see RequireWitnessed).
// Error messages say what failed and, where it helps, what it means ("the
// cosignature by cbx/RS/witness (key ID 0a1b2c3d, a node key of RS) does not
// verify: the checkpoint or the cosignature was altered").
absl::StatusOr<VerifiedCheckpoint> VerifyCheckpoint(const LogKeys& keys,
                                                    std::string_view note);

// "2 of the 2 needed (RS, AL)": who cosigned, against the threshold.
std::string DescribeWitnesses(const VerifiedCheckpoint& checkpoint);

// OK if `checkpoint` is witnessed; else UNAUTHENTICATED "checkpoint N of
// cbx/CC/audit is not witnessed: w witnesses cosigned it (...), directory
// version V requires k (witness_threshold)" followed by every ignored line
// and why.
absl::Status RequireWitnessed(const VerifiedCheckpoint& checkpoint);

// The cosignature lines of `note` by `witness` (a member code): every line
// named WitnessName(witness) with the key ID of one of that member's keys in
// `keys`, each verified over note.text. The note's other lines are not
// looked at, and no log signature is needed (a witness hands back the
// checkpoint text and its own cosignature). UNAUTHENTICATED if a line by a
// key of `witness` does not verify, or "no cosignature by cbx/WC/witness on
// the note" if there is no such line (also when `witness` is no witness of
// this log: the log's own member, or not a member).
absl::StatusOr<std::vector<note::Signature>> VerifyCosignaturesBy(
    const LogKeys& keys, std::string_view witness, const note::Note& note);

}  // namespace cbx::logcheck

#endif  // CBX_CORE_LOGCHECK_CHECKPOINT_VERIFIER_H_
