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
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/consistency.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/util/bytes.h"

namespace cbx::client::audit {

// The names, the checkpoint and witness rules and the consistency rule are
// core/logcheck's, shared with the node's witness; the auditor adds the
// directory chain, its clock's warnings and the entries.
using logcheck::KeyIdHex;
using logcheck::LogOrigin;
using logcheck::WitnessName;

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

using logcheck::Cosignature;
using logcheck::IgnoredSignature;

// A checkpoint whose log signature and every known cosignature verified
// (logcheck::VerifiedCheckpoint), as the auditor reports it.
struct CheckpointReport : logcheck::VerifiedCheckpoint {
  std::string note;  // the whole note, signatures included, as given
  // Things worth a look that do not fail the check (e.g. a cosignature
  // dated in the future).
  std::vector<std::string> warnings;
  // Set when the member's log has more than one generation
  // (spec/audit-log.md §12): how this log chains to the others, and the
  // range lost between them.
  std::string log_chain;
};

// Verifies `note` as a checkpoint of `member`'s log against `dir`
// (spec/audit-log.md §9.2) by the rules of core/logcheck: the log keys are
// `member`'s node keys, the witness keys every other member's; every line by
// one of them must verify; other lines are reported in `ignored`; witnessed
// when at least policy.witness_threshold distinct members cosigned.
// `now_ms` (the auditor's clock) is used only to warn about cosignatures
// dated more than policy.max_clock_skew_s in the future. Not being
// witnessed is reported, not an error (see RequireWitnessed). A checkpoint
// of an earlier generation of `member`'s log (spec/audit-log.md §12) is
// verified with that generation's origin and `member`'s keys in `dir`;
// log_chain then says where the generations join.
absl::StatusOr<CheckpointReport> VerifyCheckpoint(
    const directory::Directory& dir, std::string_view member,
    std::string_view note, int64_t now_ms);

// The chain line of `member`'s log generation `generation` under `dir`
// ("" if the member's log has a single generation): for the current
// generation, which log it continues and from which witnessed checkpoint;
// for an earlier one, up to which checkpoint it counts and which range is
// lost. For the predecessor generation, adds a warning to `report` (if
// given) when its checkpoint lies beyond the predecessor checkpoint.
std::string DescribeLogChain(const directory::Directory& dir,
                             std::string_view member, uint32_t generation,
                             CheckpointReport* report);

// The generation of `member`'s log whose origin is `origin` (1 for
// "cbx/<CC>/audit", n for "cbx/<CC>/audit/<n>"), or 0 if it is none.
uint32_t GenerationOfOrigin(std::string_view member, std::string_view origin);

// "2 of the 2 needed (RS, AL)"; OK or UNAUTHENTICATED "checkpoint N of
// cbx/CC/audit is not witnessed: ..." (see core/logcheck).
using logcheck::DescribeWitnesses;
using logcheck::RequireWitnessed;

// The consistency rule between the last trusted checkpoint and a newer one
// (spec/audit-log.md §9.3): NeedsConsistencyProof, and CheckConsistency's
// DATA_LOSS "the log was rewritten: checkpoint n is not consistent with the
// trusted checkpoint m (...)" (see core/logcheck/consistency.h).
using logcheck::CheckConsistency;
using logcheck::Consistency;
using logcheck::NeedsConsistencyProof;

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
