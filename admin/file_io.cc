#include "admin/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cbx::admin {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path,
                        int err) {
  std::string message =
      absl::StrCat(path, ": ", what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EEXIST) return absl::AlreadyExistsError(message);
  if (err == EACCES || err == EPERM) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InternalError(message);
}

// Writes all of `contents` to `fd`, then fsyncs it.
absl::Status WriteAllAndSync(int fd, const std::string& path,
                             const std::string& contents) {
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return ErrnoError("cannot sync", path, errno);
  return absl::OkStatus();
}

std::string FolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::string> ReadFileContents(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  std::string out;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::Status WriteNewSecretFile(const std::string& path,
                                const std::string& contents) {
  // O_EXCL makes "does not exist yet" and "create" one step; the mode is set
  // at creation so the secret is never readable by others, not even briefly.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(path,
                       ": already exists; refusing to overwrite a key "
                       "file (move it away first if you mean to "
                       "replace it)"));
    }
    return ErrnoError("cannot create", path, errno);
  }
  // The umask may have removed bits but never adds any; make it exactly 0600.
  ::fchmod(fd, 0600);
  absl::Status status = WriteAllAndSync(fd, path, contents);
  ::close(fd);
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

absl::Status ReplaceFile(const std::string& path, const std::string& contents) {
  std::string tmp = FolderOf(path) + "/.cbx-admin-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return ErrnoError("cannot create a temporary file for", path, errno);
  ::fchmod(fd, 0644);
  absl::Status status = WriteAllAndSync(fd, path, contents);
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot replace", path, errno);
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

absl::StatusOr<unsigned> FileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoError("cannot stat", path, errno);
  }
  return static_cast<unsigned>(st.st_mode & 07777);
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

absl::StatusOr<v1::SignedDirectory> ReadSignedDirectory(
    const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileContents(path);
  if (!bytes.ok()) return bytes.status();
  return ParseSignedDirectory(*bytes, path);
}

absl::Status WriteSignedDirectory(const std::string& path,
                                  const v1::SignedDirectory& signed_directory) {
  std::string bytes;
  if (!signed_directory.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the signed directory");
  }
  return ReplaceFile(path, bytes);
}

}  // namespace cbx::admin
