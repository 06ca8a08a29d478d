// Transparency log checkpoints (c2sp.org/tlog-checkpoint): a signed note
// whose text is
//
//   <origin>\n
//   <tree size, decimal, no leading zeros>\n
//   <base64 of the 32-byte RFC 6962 root hash>\n
//   [<extension line>\n ...]
//
// cbx logs use the origin "cbx/<CC>/audit" and sign with the node's Ed25519
// key under a key name equal to the origin (spec/audit-log.md).
#ifndef CBX_CORE_NOTE_CHECKPOINT_H_
#define CBX_CORE_NOTE_CHECKPOINT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/note/signature.h"
#include "core/note/verifier.h"
#include "core/util/bytes.h"

namespace cbx::note {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Bytes root_hash;                      // 32 bytes
  std::vector<std::string> extensions;  // opaque, non-empty lines

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The note text of `checkpoint`. INVALID_ARGUMENT if the origin or an
// extension line is empty or not a valid single line (UTF-8, no control
// characters), or the root hash is not 32 bytes.
absl::StatusOr<std::string> FormatCheckpoint(const Checkpoint& checkpoint);

// Parses a checkpoint note text (the signed part, ending in a newline).
// INVALID_ARGUMENT unless it is at least three lines, all non-empty, with
// characters valid in a note; a size of decimal digits without leading zeros
// (except "0") that fits in 64 bits; and a root hash in canonical padded
// base64 of exactly 32 bytes.
absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view text);

// A checkpoint verified against its log's key.
struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string text;                 // the signed note text
  VerifiedSignature log_signature;  // by the log key
  // Verified signatures by the `others` keys given to OpenCheckpoint (e.g.
  // witness cosignatures), in note order.
  std::vector<VerifiedSignature> other_signatures;
};

// Opens the signed note `msg` as a checkpoint of the log `origin`:
//   - the note is well-formed and every signature from `log_key` or from
//     `others` verifies (INVALID_ARGUMENT / UNAUTHENTICATED as for OpenNote);
//   - `log_key` (type kEd25519, else INVALID_ARGUMENT) signed it, else
//     UNAUTHENTICATED;
//   - the text is a valid checkpoint (INVALID_ARGUMENT) whose origin line is
//     exactly `origin` (INVALID_ARGUMENT: a checkpoint of another log).
// Signatures by other keys are ignored.
absl::StatusOr<SignedCheckpoint> OpenCheckpoint(
    std::string_view msg, std::string_view origin, const Verifier& log_key,
    std::span<const Verifier> others = {});

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_CHECKPOINT_H_
