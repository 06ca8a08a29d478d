// Small file helpers for the auditor's commands: whole-file reads with a size
// limit, and replacing a file atomically (write a temporary file in the same
// directory, fsync, rename, fsync the directory), so that a crash never
// leaves a half-written export or trusted checkpoint behind.
#ifndef CBX_CLIENT_AUDIT_FILES_H_
#define CBX_CLIENT_AUDIT_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cbx::client::audit {

// The contents of `path`. NOT_FOUND if it does not exist; INVALID_ARGUMENT
// if it is larger than `max_bytes` or cannot be read (with strerror).
absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes);

// Creates `dir` and its missing parents with mode 0700. INVALID_ARGUMENT
// (with strerror) if that fails or a component is not a directory.
absl::Status MakeDirectories(const std::string& dir);

// Writes `data` to `path` atomically with mode `mode` (before umask).
// INVALID_ARGUMENT with strerror on failure; the old file, if any, is then
// unchanged.
absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 unsigned mode = 0644);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_FILES_H_
