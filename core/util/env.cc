#include "core/util/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cbx {
namespace {

// True for the errnos the Env retries instead of reporting.
bool Retryable(int err) { return err == EINTR || err == EAGAIN; }

// Calls `call` (a system call returning -1 on failure) until it succeeds or
// fails with an errno that is not retried.
template <typename Call>
auto Retry(Call call) {
  while (true) {
    auto result = call();
    if (result != -1 || !Retryable(errno)) return result;
  }
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(std::string_view data) override {
    if (fd_ < 0) return Closed();
    while (!data.empty()) {
      ssize_t n = Retry([&] { return ::write(fd_, data.data(), data.size()); });
      if (n < 0) return Errno("cannot write", path_);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fd_ < 0) return Closed();
    if (Retry([&] { return ::fdatasync(fd_); }) != 0) {
      return Errno("cannot sync", path_);
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return Closed();
    // No retry: after close fails with EINTR the descriptor is gone anyway
    // (Linux), and closing it again could close someone else's.
    const int result = ::close(fd_);
    fd_ = -1;
    if (result != 0 && errno != EINTR) return Errno("cannot close", path_);
    return absl::OkStatus();
  }

 private:
  absl::Status Closed() const {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": the file is closed already"));
  }

  const std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path,
                                       size_t max_bytes) override {
    const int fd =
        Retry([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) return Errno("cannot open", path);
    std::string out;
    char buffer[65536];
    while (true) {
      ssize_t n = Retry([&] { return ::read(fd, buffer, sizeof(buffer)); });
      if (n < 0) {
        absl::Status status = Errno("cannot read", path);
        ::close(fd);
        return status;
      }
      if (n == 0) break;
      out.append(buffer, static_cast<size_t>(n));
      if (out.size() > max_bytes) {
        ::close(fd);
        return absl::OutOfRangeError(
            absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
      }
    }
    ::close(fd);
    return out;
  }

  absl::StatusOr<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (Retry([&] { return ::stat(path.c_str(), &st); }) != 0) {
      return Errno("cannot stat", path);
    }
    return FileInfo{static_cast<unsigned>(st.st_mode & 07777),
                    static_cast<uint64_t>(st.st_size), S_ISDIR(st.st_mode)};
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> CreateFile(
      const std::string& path, unsigned mode) override {
    const int fd = Retry([&] {
      return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    static_cast<mode_t>(mode));
    });
    if (fd < 0) return Errno("cannot create", path);
    // The umask may have removed bits; the mode is set at creation so the
    // file is never more open than `mode`, and exactly `mode` from here on.
    if (Retry([&] { return ::fchmod(fd, static_cast<mode_t>(mode)); }) != 0) {
      absl::Status status = Errno("cannot set the mode of", path);
      ::close(fd);
      ::unlink(path.c_str());
      return status;
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override {
    if (Retry([&] { return ::rename(from.c_str(), to.c_str()); }) != 0) {
      return Errno(absl::StrCat("cannot rename ", from, " to"), to);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (Retry([&] { return ::unlink(path.c_str()); }) != 0) {
      return Errno("cannot remove", path);
    }
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    const int fd = Retry([&] {
      return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    });
    if (fd < 0) return Errno("cannot open the folder", dir);
    absl::Status status;
    if (Retry([&] { return ::fsync(fd); }) != 0) {
      status = Errno("cannot sync the folder", dir);
    }
    ::close(fd);
    return status;
  }

  absl::Status CreateDir(const std::string& dir, unsigned mode) override {
    if (Retry([&] {
          return ::mkdir(dir.c_str(), static_cast<mode_t>(mode));
        }) != 0) {
      return Errno("cannot create the folder", dir);
    }
    return absl::OkStatus();
  }
};

// The temporary file for replacing `path`: unique within the process, and
// across processes by the pid; a name left by a crashed process is skipped
// (CreateFile refuses it and the next number is tried).
std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat(path, ".tmp-", ::getpid(), "-", counter.fetch_add(1));
}

// How many names WriteFileAtomic tries before giving up.
constexpr int kTempNameAttempts = 16;

// Writes all of `data` to `file`, syncs and closes it; the first error. The
// file is closed even after a failure, so that the caller can remove it.
absl::Status WriteSyncClose(WritableFile& file, std::string_view data) {
  absl::Status status = file.Append(data);
  if (status.ok()) status = file.Sync();
  absl::Status closed = file.Close();
  if (status.ok()) status = closed;
  return status;
}

}  // namespace

absl::Status ErrnoToStatus(int err, std::string_view what_and_path) {
  std::string message = absl::StrCat(
      absl::string_view(what_and_path.data(), what_and_path.size()), ": ",
      std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EISDIR:
    case ENOTDIR:
    case ELOOP:
      return absl::FailedPreconditionError(message);
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string_view FileOpName(FileOp op) {
  switch (op) {
    case FileOp::kRead:
      return "read";
    case FileOp::kStat:
      return "stat";
    case FileOp::kCreate:
      return "create";
    case FileOp::kWrite:
      return "write";
    case FileOp::kSync:
      return "sync";
    case FileOp::kClose:
      return "close";
    case FileOp::kRename:
      return "rename";
    case FileOp::kRemove:
      return "remove";
    case FileOp::kSyncDir:
      return "sync-dir";
    case FileOp::kCreateDir:
      return "create-dir";
  }
  return "unknown";
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Env* Env::Default() {
  static Env* const env = new PosixEnv();
  return env;
}

absl::Status Env::WriteFileAtomic(const std::string& path,
                                  std::string_view data,
                                  const WriteOptions& options) {
  std::string tmp;
  absl::StatusOr<std::unique_ptr<WritableFile>> file;
  for (int attempt = 0; attempt < kTempNameAttempts; ++attempt) {
    tmp = TempPathFor(path);
    file = CreateFile(tmp, options.mode);
    if (file.status().code() != absl::StatusCode::kAlreadyExists) break;
  }
  if (!file.ok()) return file.status();
  absl::Status status = WriteSyncClose(**file, data);
  if (status.ok()) status = RenameFile(tmp, path);
  if (!status.ok()) {
    RemoveFile(tmp).IgnoreError();  // the error to report is the first one
    return status;
  }
  if (options.sync_dir) return SyncDir(DirName(path));
  return absl::OkStatus();
}

absl::Status Env::WriteNewFile(const std::string& path, std::string_view data,
                               const WriteOptions& options) {
  absl::StatusOr<std::unique_ptr<WritableFile>> file =
      CreateFile(path, options.mode);
  if (!file.ok()) return file.status();
  absl::Status status = WriteSyncClose(**file, data);
  if (status.ok() && options.sync_dir) status = SyncDir(DirName(path));
  if (!status.ok()) RemoveFile(path).IgnoreError();
  return status;
}

absl::Status Env::CreateDirs(const std::string& dir, unsigned mode) {
  if (dir.empty()) {
    return absl::InvalidArgumentError("cannot create a folder without a name");
  }
  // Each prefix ending before a '/', then the whole path.
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string part = dir.substr(0, end);
    absl::StatusOr<FileInfo> info = Stat(part);
    if (info.ok() && !info->is_directory) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the folder ", dir, ": ", part,
                       " exists and is not a directory"));
    }
    if (!info.ok()) {
      if (info.status().code() != absl::StatusCode::kNotFound) {
        return info.status();
      }
      absl::Status made = CreateDir(part, mode);
      // ALREADY_EXISTS: made meanwhile by someone else.
      if (!made.ok() && made.code() != absl::StatusCode::kAlreadyExists) {
        return made;
      }
    }
    if (end == std::string::npos) break;
  }
  return absl::OkStatus();
}

}  // namespace cbx
