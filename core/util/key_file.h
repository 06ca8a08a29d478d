// Key files (spec/keys.md §3): a 32-byte secret stored as 64 hex digits and
// one line feed. The one reader of them for the node and cbx-admin: strict
// about the content (upper- or lower-case digits, with or without the one
// trailing LF, nothing else) and, for the node, about the permissions (no
// access for group or others).
//
// Stateless functions; thread-safe.
#ifndef CBX_CORE_UTIL_KEY_FILE_H_
#define CBX_CORE_UTIL_KEY_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"
#include "core/util/env.h"

namespace cbx {

// The secret's size, and the longest file (64 digits and a LF).
inline constexpr size_t kKeyFileSecretBytes = 32;
inline constexpr size_t kKeyFileMaxBytes = 2 * kKeyFileSecretBytes + 1;

// Parses a key file's contents: 64 hex digits of either case, then an
// optional line feed, nothing else. INVALID_ARGUMENT saying what is wrong
// otherwise ("expected 64 hex digits and a newline, found N bytes",
// "expected hex digits only (0-9, a-f)"); never echoes the content, which
// may be a secret.
absl::StatusOr<Bytes> ParseKeyFile(std::string_view contents);

// Who may read a key file besides its owner.
enum class KeyFileAccess {
  // Nobody: FAILED_PRECONDITION if any group or other permission bit is set.
  // What the node requires (spec/keys.md §3).
  kOwnerOnly,
  // Any mode is read; the caller sees the mode and may warn. For cbx-admin,
  // whose governance key may sit on removable media (FAT) that cannot carry
  // mode 0600.
  kAnyMode,
};

struct KeyFile {
  Bytes secret;       // kKeyFileSecretBytes
  unsigned mode = 0;  // the file's permission bits
};

// Reads the key file `path` through `env`. `what` names the key, with its
// article, in messages ("a node signing key", "an OPRF key"). Errors name
// the file:
//   - the Env's error (NOT_FOUND, PERMISSION_DENIED, ...) if it cannot be
//     stat'ed or read;
//   - FAILED_PRECONDITION "<path> has mode 0644: <what> file must not be
//     readable by group or others; run: chmod 600 <path>" under kOwnerOnly;
//   - INVALID_ARGUMENT "<path>: not <what> file: <ParseKeyFile's reason>"
//     for any content but 64 hex digits and an optional LF.
// Whether the secret is a valid key of its kind (an OPRF scalar in [1, n-1])
// is the caller's check.
absl::StatusOr<KeyFile> ReadKeyFile(Env* env, const std::string& path,
                                    std::string_view what,
                                    KeyFileAccess access);

}  // namespace cbx

#endif  // CBX_CORE_UTIL_KEY_FILE_H_
