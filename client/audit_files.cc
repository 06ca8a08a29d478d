#include "client/audit_files.h"

#include "core/util/env.h"

namespace cbx::client::audit {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes) {
  absl::StatusOr<std::string> data = Env::Default()->ReadFile(path, max_bytes);
  // The auditor's wording for the common mistake; other errors as the Env's.
  if (absl::IsNotFound(data.status())) {
    return absl::NotFoundError("'" + path + "': no such file");
  }
  return data;
}

absl::Status MakeDirectories(const std::string& dir) {
  return Env::Default()->CreateDirs(dir, 0700);
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 unsigned mode) {
  return Env::Default()->WriteFileAtomic(path, data, {.mode = mode});
}

}  // namespace cbx::client::audit
