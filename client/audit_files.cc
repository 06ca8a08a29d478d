#include "client/audit_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace cbx::client::audit {
namespace {

std::string Errno(int e) { return std::strerror(e); }

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) {
      return absl::NotFoundError("'" + path + "': no such file");
    }
    return absl::InvalidArgumentError("'" + path +
                                      "': cannot read the file: " + Errno(e));
  }
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return absl::InvalidArgumentError("'" + path +
                                        "': cannot read the file: " + Errno(e));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return absl::InvalidArgumentError("'" + path + "': larger than " +
                                        std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return data;
}

absl::Status MakeDirectories(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("empty directory name");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    std::string part = dir.substr(0, pos);
    if (part.empty()) continue;
    struct stat st;
    if (::stat(part.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::InvalidArgumentError("'" + part +
                                          "' exists and is not a directory");
      }
      continue;
    }
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InvalidArgumentError("cannot create the directory '" + part +
                                        "': " + Errno(errno));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 unsigned mode) {
  const std::string dir = DirOf(path);
  std::random_device rd;
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) {
    return absl::InvalidArgumentError("cannot write '" + path +
                                      "': " + Errno(errno));
  }
  auto fail = [&](int e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return absl::InvalidArgumentError("cannot write '" + path +
                                      "': " + Errno(e));
  };
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno);
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return absl::InvalidArgumentError("cannot write '" + path +
                                      "': " + Errno(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return absl::InvalidArgumentError("cannot write '" + path +
                                      "': " + Errno(e));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace cbx::client::audit
