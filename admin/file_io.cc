#include "admin/file_io.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cbx::admin {

absl::Status WriteNewSecretFile(const std::string& path,
                                const std::string& contents, Env* env) {
  // O_EXCL makes "does not exist yet" and "create" one step; the mode is set
  // at creation so the secret is never readable by others, not even briefly.
  absl::Status status = env->WriteNewFile(path, contents, {.mode = 0600});
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(
        absl::StrCat(path,
                     ": already exists; refusing to overwrite a key "
                     "file (move it away first if you mean to "
                     "replace it)"));
  }
  return status;
}

absl::StatusOr<v1::SignedDirectory> ParseSignedDirectory(
    const std::string& bytes, const std::string& name) {
  v1::SignedDirectory out;
  if (bytes.empty() || !out.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": not a serialized cbx.v1.SignedDirectory"));
  }
  v1::Directory inner;
  if (!inner.ParseFromString(out.directory())) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": the signed bytes are not a serialized cbx.v1.Directory"));
  }
  return out;
}

absl::StatusOr<v1::SignedDirectory> ReadSignedDirectory(const std::string& path,
                                                        Env* env) {
  absl::StatusOr<std::string> bytes = env->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return ParseSignedDirectory(*bytes, path);
}

absl::Status WriteSignedDirectory(const std::string& path,
                                  const v1::SignedDirectory& signed_directory,
                                  Env* env) {
  std::string bytes;
  if (!signed_directory.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the signed directory");
  }
  return env->WriteFileAtomic(path, bytes, {.mode = 0644});
}

}  // namespace cbx::admin
