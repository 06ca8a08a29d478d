// Reading and writing the operator's files: secret key files (created once,
// mode 0600, never overwritten) and directory files (replaced atomically).
//
// Free functions without shared state; safe to call from several threads on
// different paths.
#ifndef CBX_ADMIN_FILE_IO_H_
#define CBX_ADMIN_FILE_IO_H_

#include <string>

#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"

namespace cbx::admin {

// The whole content of `path`. NOT_FOUND if it does not exist, another error
// naming the path if it cannot be read.
absl::StatusOr<std::string> ReadFileContents(const std::string& path);

// Creates `path` with mode 0600 and writes `contents`, flushed to disk.
// ALREADY_EXISTS if the path exists: a secret is never overwritten.
absl::Status WriteNewSecretFile(const std::string& path,
                                const std::string& contents);

// Replaces `path` with `contents` (mode 0644) through a temporary file in the
// same folder and a rename, so a reader sees the old or the new file, never a
// half-written one.
absl::Status ReplaceFile(const std::string& path, const std::string& contents);

// The permission bits of `path` (st_mode & 07777), or an error.
absl::StatusOr<unsigned> FileMode(const std::string& path);

// Parses the bytes of a directory file; `name` (the path) prefixes errors.
// INVALID_ARGUMENT if they are not a SignedDirectory holding a Directory.
absl::StatusOr<v1::SignedDirectory> ParseSignedDirectory(
    const std::string& bytes, const std::string& name);

// Reads and parses a binary v1::SignedDirectory. INVALID_ARGUMENT naming the
// path if the bytes are not one.
absl::StatusOr<v1::SignedDirectory> ReadSignedDirectory(
    const std::string& path);

// Serializes `signed_directory` and replaces `path` with it.
absl::Status WriteSignedDirectory(const std::string& path,
                                  const v1::SignedDirectory& signed_directory);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_FILE_IO_H_
