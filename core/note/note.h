// Signed notes (c2sp.org/signed-note): a text, a blank line, and one or more
// signature lines.
//
//   <text: lines ending in LF, possibly some empty>
//   <empty line>
//   — <key name> <base64(key ID || signature)>
//   ...
//
// The text is the signed message; it ends with its final newline and does
// not include the blank line, which is the last empty line of the note.
//
// Status codes used throughout core/note (as DESIGN.md §10 maps them):
//   INVALID_ARGUMENT  malformed input (format, characters, sizes, repeated
//                     signatures, origin) or an unusable key set
//   UNAUTHENTICATED   well-formed, but a signature by a known key does not
//                     verify, or the required key(s) did not sign, or fewer
//                     witnesses cosigned than the policy needs. A bad
//                     signature proves nothing against the key's owner
//                     (anyone can write one), so it is not DATA_LOSS.
// Pure functions; safe from any thread.
#ifndef CBX_CORE_NOTE_NOTE_H_
#define CBX_CORE_NOTE_NOTE_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/note/signature.h"
#include "core/note/verifier.h"

namespace cbx::note {

// Limits on what cbx parses. The spec requires accepting at least 16
// signatures (of up to ~5 kB for post-quantum types); these bounds leave
// room for that while keeping the work per note small.
inline constexpr size_t kMaxNoteSize = 256 * 1024;  // bytes, whole note
inline constexpr size_t kMaxSignatures = 100;

struct Note {
  std::string text;
  std::vector<Signature> signatures;

  friend bool operator==(const Note&, const Note&) = default;
};

// A note whose signatures from known keys were all checked.
struct OpenedNote {
  std::string text;
  std::vector<VerifiedSignature> verified;  // in note order
  std::vector<Signature> unverified;        // from keys not in the known set
};

// OK if `text` may be signed as a note text: non-empty, ends in a newline,
// valid UTF-8 without control characters other than newline, and at most
// kMaxNoteSize bytes. INVALID_ARGUMENT otherwise.
absl::Status CheckNoteText(std::string_view text);

// Parses a signed note without verifying it. INVALID_ARGUMENT if:
//   - larger than kMaxNoteSize, not valid UTF-8, or has a control character
//     other than newline;
//   - there is no empty line, or nothing after the last one, or the note
//     does not end in a newline (so no blank line may trail the signatures);
//   - a line after the last empty line is not a valid signature line
//     (ParseSignatureLine);
//   - more than kMaxSignatures signature lines;
//   - two signature lines carry the same (key name, key ID). Go's reference
//     code silently drops such repeats; cbx rejects them so that a repeated
//     cosignature can never be counted twice.
absl::StatusOr<Note> ParseNote(std::string_view msg);

// The encoding of `note`; INVALID_ARGUMENT if ParseNote would not return
// `note` for it (bad text, no signatures, invalid names, repeats, limits).
absl::StatusOr<std::string> FormatNote(const Note& note);

// Parses `msg` and checks it against the `known` keys, as the spec demands:
//   - a signature whose (name, key ID) matches no known key is ignored (kept
//     in `unverified`), even if the name or the ID alone matches one;
//   - a signature from a known key must verify, else UNAUTHENTICATED for
//     the whole note;
//   - UNAUTHENTICATED if no known key signed it.
// INVALID_ARGUMENT for a malformed note, or if two known keys share a
// (name, key ID).
absl::StatusOr<OpenedNote> OpenNote(std::string_view msg,
                                    std::span<const Verifier> known);

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_NOTE_H_
