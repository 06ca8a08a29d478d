#include "node/audit/head_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/merkle/hash.h"

namespace cbx::node::audit {
namespace {

constexpr std::string_view kHeader = "cbx-audit-head/v1";
// A head file is three short lines; anything longer is not one.
constexpr size_t kMaxHeadFileSize = 256;

absl::Status ErrnoStatus(int err, std::string_view what,
                         const std::string& path) {
  std::string message =
      absl::StrCat(absl::string_view(what.data(), what.size()), " ", path, ": ",
                   strerror(err));
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::UnavailableError(message);
}

absl::Status Malformed(const std::string& path, std::string_view why) {
  return absl::DataLossError(
      absl::StrCat("the audit head file ", path, " is malformed (",
                   absl::string_view(why.data(), why.size()), ")"));
}

// Writes all of `data` to `fd`.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string FormatHead(const Head& head) {
  return absl::StrCat(absl::string_view(kHeader.data(), kHeader.size()), "\n",
                      head.size, "\n", Base64Encode(head.root), "\n");
}

absl::StatusOr<std::optional<Head>> ReadHead(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return ErrnoStatus(errno, "cannot open", path);
  }
  std::string text;
  char buf[kMaxHeadFileSize + 1];
  while (text.size() <= kMaxHeadFileSize) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return ErrnoStatus(err, "cannot read", path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (text.size() > kMaxHeadFileSize) return Malformed(path, "too long");

  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // Three lines, each ending in a newline: four parts, the last empty.
  if (lines.size() != 4 || !lines[3].empty()) {
    return Malformed(path, "not three lines");
  }
  if (lines[0] != absl::string_view(kHeader.data(), kHeader.size())) {
    return Malformed(path, "unknown header line");
  }
  Head head;
  if (lines[1].empty() || (lines[1].size() > 1 && lines[1][0] == '0') ||
      lines[1].find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(lines[1], &head.size)) {
    return Malformed(path, "bad size");
  }
  absl::StatusOr<Bytes> root =
      Base64Decode(std::string_view(lines[2].data(), lines[2].size()));
  if (!root.ok() || root->size() != merkle::kHashSize) {
    return Malformed(path, "bad root");
  }
  head.root = *std::move(root);
  return head;
}

absl::Status WriteHead(const std::string& path, const Head& head) {
  const std::string tmp = path + ".tmp";
  const std::string text = FormatHead(head);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "cannot create", tmp);
  if (!WriteAll(fd, text) || fdatasync(fd) != 0) {
    int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return ErrnoStatus(err, "cannot write", tmp);
  }
  if (close(fd) != 0) return ErrnoStatus(errno, "cannot close", tmp);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "cannot rename to", path);
  }
  // The folder is not synced: a head lost to a power cut is an older head,
  // and an older head only trails the database, which Open accepts. What
  // must never happen is a head ahead of the database or a torn one, and
  // the data sync before the rename rules out both. Skipping the folder
  // sync halves the flushes a head costs, off the commit path or not.
  return absl::OkStatus();
}

}  // namespace cbx::node::audit
