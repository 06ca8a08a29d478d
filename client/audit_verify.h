// The auditor's checks on what a node shows of its audit log
// (spec/audit-log.md §9): the directory chain from a pinned genesis, a
// checkpoint's log signature and witness cosignatures, consistency with the
// last checkpoint the auditor trusted, and inclusion of an entry.
//
// Pure functions over data already fetched (no gRPC, no files), so that the
// `cbx audit` commands, offline export checks and tests share them. Every
// error message says what failed and, where it helps, what that means.
//
// Status codes (spec/audit-log.md §10):
//   INVALID_ARGUMENT  malformed input: a note, checkpoint, proof or leaf of
//                     the wrong form; a member or origin that does not fit;
//                     a directory chain that is not from the pinned genesis
//   UNAUTHENTICATED   a signature by a known key that does not verify, no
//                     signature by the log's node key, too few witnesses
//   DATA_LOSS         a well-formed proof that does not reach a signed root:
//                     evidence that the log (or the data) was altered
//   FAILED_PRECONDITION  a directory version out of order (gap or going back)
#ifndef CBX_CLIENT_AUDIT_VERIFY_H_
#define CBX_CLIENT_AUDIT_VERIFY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"
#include "cbx/v1/directory.pb.h"
#include "core/directory/directory.h"
#include "core/note/checkpoint.h"
#include "core/util/bytes.h"

namespace cbx::client::audit {

// "cbx/<CC>/audit": the origin and log key name of `member`'s log.
std::string LogOrigin(std::string_view member);
// "cbx/<CC>/witness": the cosigner key name of `member` as a witness.
std::string WitnessName(std::string_view member);

// "0a1b2c3d": a note key ID as verifier keys write it.
std::string KeyIdHex(uint32_t key_id);

// Parses the bytes of a pinned genesis file (a binary SignedDirectory) and
// verifies it as a genesis (version 1, signed by a threshold of its own
// members). INVALID_ARGUMENT or UNAUTHENTICATED saying what is wrong.
absl::StatusOr<v1::SignedDirectory> ParseGenesis(std::string_view bytes);

// A directory chain verified from the pinned genesis.
struct VerifiedDirectory {
  std::shared_ptr<const directory::Directory> latest;
  // The versions as given, each verified (genesis first if it was given).
  std::vector<v1::SignedDirectory> versions;
};

// Verifies `versions` (ascending, as a node's AuditDirectory or an export
// gives them) from `genesis`: a version 1 must carry exactly the pinned
// genesis's directory bytes; every later version must be adopted, in order,
// by the previous one (core/directory Adopt: k-of-n governance signatures of
// the previous version, no gap, never back). An empty list gives the genesis
// alone. Errors name the version and the rule broken.
absl::StatusOr<VerifiedDirectory> VerifyDirectoryChain(
    const v1::SignedDirectory& genesis,
    const std::vector<v1::SignedDirectory>& versions);

// A valid cosignature on a checkpoint.
struct Cosignature {
  std::string witness;  // the witnessing member's code
  std::string name;     // "cbx/<WC>/witness"
  uint32_t key_id = 0;
  uint64_t timestamp = 0;  // POSIX seconds
};

// A signature line that no key of the directory could check, and why; the
// spec says to ignore it (it neither counts nor rejects the note).
struct IgnoredSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string reason;
};

// A checkpoint whose log signature and every known cosignature verified.
struct CheckpointReport {
  std::string member;
  std::string origin;
  uint64_t directory_version = 0;
  note::Checkpoint checkpoint;
  std::string text;  // the signed note text
  std::string note;  // the whole note, signatures included, as given
  uint32_t log_key_id = 0;
  std::vector<Cosignature> cosignatures;  // in note order
  std::vector<IgnoredSignature> ignored;  // in note order
  size_t witnesses = 0;           // distinct members among `cosignatures`
  size_t threshold = 0;           // the directory policy's witness_threshold
  size_t eligible_witnesses = 0;  // the other members of the directory
  bool witnessed = false;         // witnesses >= threshold
  // Things worth a look that do not fail the check (e.g. a cosignature
  // dated in the future).
  std::vector<std::string> warnings;
};

// Verifies `note` as a checkpoint of `member`'s log against `dir`
// (spec/audit-log.md §9 A):
//   - the log keys are `member`'s node keys, named cbx/<CC>/audit, type 0x01;
//     the witness keys are every other member's node keys, named
//     cbx/<WC>/witness, type 0x04;
//   - the note parses strictly; every line by one of those keys verifies;
//     other lines are reported in `ignored`;
//   - a node key of `member` signed it; the text is a checkpoint with origin
//     cbx/<CC>/audit;
//   - witnessed when cosignatures of at least policy.witness_threshold
//     distinct members verified.
// `now_ms` (the auditor's clock) is used only to warn about cosignatures
// dated more than policy.max_clock_skew_s in the future. Not being
// witnessed is reported, not an error (see RequireWitnessed).
absl::StatusOr<CheckpointReport> VerifyCheckpoint(
    const directory::Directory& dir, std::string_view member,
    std::string_view note, int64_t now_ms);

// "2 of the 2 needed (RS, AL)": who cosigned, against the threshold.
std::string DescribeWitnesses(const CheckpointReport& report);

// OK if the checkpoint is witnessed; else UNAUTHENTICATED "checkpoint N of
// cbx/CC/audit is not witnessed: ..." naming who cosigned, how many the
// directory requires, and any ignored signature lines.
absl::Status RequireWitnessed(const CheckpointReport& report);

// Whether moving the auditor's trust from `trusted` to `latest` needs a
// consistency proof from the node: 0 < trusted.size < latest.size.
bool NeedsConsistencyProof(const note::Checkpoint& trusted,
                           const note::Checkpoint& latest);

enum class Consistency {
  kFromEmpty,  // the trusted tree was empty: nothing to check
  kSame,       // same size, same root
  kExtended,   // a larger tree, proven to extend the trusted one
};

// Checks that `latest` (size n, root r2) extends `trusted` (size m, root
// r1) with `proof` (spec/audit-log.md §9 B). DATA_LOSS "the log was
// rewritten: checkpoint n is not consistent with the trusted checkpoint m"
// and the reason (the log shrank; same size with another root; the proof
// does not reach the roots). INVALID_ARGUMENT for a malformed proof, which
// proves nothing either way. Both checkpoints' origins must match.
absl::StatusOr<Consistency> CheckConsistency(const note::Checkpoint& trusted,
                                             const note::Checkpoint& latest,
                                             const std::vector<Bytes>& proof);

// Verifies that `leaf` is entry `index` of the tree of `size` leaves with
// root `root` (inclusion proof `proof`, spec/audit-log.md §9 C), then that it
// parses as an AuditEntry whose sequence is `index`. Messages start with
// "entry <index>: ". DATA_LOSS if the proof does not lead to the root (the
// leaf or the proof was altered); INVALID_ARGUMENT for a malformed proof or
// an entry that does not parse or carries another sequence number.
absl::StatusOr<v1::AuditEntry> VerifyEntry(uint64_t index,
                                           std::string_view leaf,
                                           const std::vector<Bytes>& proof,
                                           uint64_t size,
                                           std::string_view root);

// Like VerifyEntry against the tree of `size` leaves, whose root is not
// signed itself: the root that the inclusion proof implies must be proven
// consistent (`consistency_proof`, from `size` to checkpoint.size) with the
// signed `checkpoint`. size == checkpoint.size needs no consistency proof.
// INVALID_ARGUMENT if size > checkpoint.size.
absl::StatusOr<v1::AuditEntry> VerifyEntryAtSize(
    uint64_t index, std::string_view leaf,
    const std::vector<Bytes>& inclusion_proof, uint64_t size,
    const std::vector<Bytes>& consistency_proof,
    const note::Checkpoint& checkpoint);

// Parses leaf bytes as an AuditEntry (no proof). INVALID_ARGUMENT if they
// do not parse.
absl::StatusOr<v1::AuditEntry> ParseEntry(std::string_view leaf);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_VERIFY_H_
