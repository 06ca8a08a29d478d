// The auditor's commands' file helpers, in their words: whole-file reads
// with a size limit, folders made 0700, and files replaced atomically (a
// crash never leaves a half-written export or trusted checkpoint behind).
// Each is one call to core/util/env.h, whose errno table gives the codes.
#ifndef CBX_CLIENT_AUDIT_FILES_H_
#define CBX_CLIENT_AUDIT_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cbx::client::audit {

// The contents of `path` (Env::ReadFile). NOT_FOUND ("'<path>': no such
// file") if it does not exist; OUT_OF_RANGE ("larger than N bytes") past
// `max_bytes`; the Env's errno table otherwise.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes);

// Creates `dir` and its missing parents with mode 0700 (Env::CreateDirs).
// FAILED_PRECONDITION ("... is not a directory") if a component is a file.
absl::Status MakeDirectories(const std::string& dir);

// Replaces `path` with `data`, with permission bits exactly `mode`
// (Env::WriteFileAtomic). On failure the old file, if any, is unchanged.
absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 unsigned mode = 0644);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_FILES_H_
