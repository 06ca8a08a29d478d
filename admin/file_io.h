// Reading and writing the operator's files: secret key files (created once,
// mode 0600, never overwritten) and directory files (replaced atomically).
// The file I/O itself is core/util/env.h's; these add the policies.
//
// Free functions without shared state; safe to call from several threads on
// different paths.
#ifndef CBX_ADMIN_FILE_IO_H_
#define CBX_ADMIN_FILE_IO_H_

#include <string>

#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/util/env.h"

namespace cbx::admin {

// Creates `path` with mode 0600 and writes `contents`, synced to disk with
// its folder (Env::WriteNewFile). ALREADY_EXISTS if the path exists: a
// secret is never overwritten. Other errors: the Env's errno table.
absl::Status WriteNewSecretFile(const std::string& path,
                                const std::string& contents,
                                Env* env = Env::Default());

// Parses the bytes of a directory file; `name` (the path) prefixes errors.
// INVALID_ARGUMENT if they are not a SignedDirectory holding a Directory.
absl::StatusOr<v1::SignedDirectory> ParseSignedDirectory(
    const std::string& bytes, const std::string& name);

// Reads and parses a binary v1::SignedDirectory. INVALID_ARGUMENT naming the
// path if the bytes are not one; the Env's errors if it cannot be read.
absl::StatusOr<v1::SignedDirectory> ReadSignedDirectory(
    const std::string& path, Env* env = Env::Default());

// Serializes `signed_directory` and replaces `path` with it (mode 0644)
// through Env::WriteFileAtomic: a reader sees the old or the new file, never
// a half-written one.
absl::Status WriteSignedDirectory(const std::string& path,
                                  const v1::SignedDirectory& signed_directory,
                                  Env* env = Env::Default());

}  // namespace cbx::admin

#endif  // CBX_ADMIN_FILE_IO_H_
