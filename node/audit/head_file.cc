#include "node/audit/head_file.h"

#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/merkle/hash.h"
#include "core/util/status_macros.h"

namespace cbx::node::audit {
namespace {

constexpr std::string_view kHeader = "cbx-audit-head/v1";
// A head file is three short lines; anything longer is not one.
constexpr size_t kMaxHeadFileSize = 256;

absl::Status Malformed(const std::string& path, std::string_view why) {
  return absl::DataLossError(
      absl::StrCat("the audit head file ", path, " is malformed (",
                   absl::string_view(why.data(), why.size()), ")"));
}

}  // namespace

std::string FormatHead(const Head& head) {
  return absl::StrCat(absl::string_view(kHeader.data(), kHeader.size()), "\n",
                      head.size, "\n", Base64Encode(head.root), "\n");
}

absl::StatusOr<std::optional<Head>> ReadHead(const std::string& path,
                                             Env* env) {
  absl::StatusOr<std::string> text = env->ReadFile(path, kMaxHeadFileSize);
  if (absl::IsNotFound(text.status())) return std::nullopt;
  if (absl::IsOutOfRange(text.status())) return Malformed(path, "too long");
  if (!text.ok()) return text.status();

  std::vector<absl::string_view> lines = absl::StrSplit(*text, '\n');
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

absl::Status WriteHead(const std::string& path, const Head& head, Env* env) {
  // 0600: only the node has any business with its audit files.
  RETURN_IF_ERROR(env->WriteFileAtomic(path, FormatHead(head),
                                       {.mode = 0600, .sync_dir = false}));
  // The folder is not synced: a head lost to a power cut is an older head,
  // and an older head only trails the database, which Open accepts. What
  // must never happen is a head ahead of the database or a torn one, and
  // the data sync before the rename rules out both. Skipping the folder
  // sync halves the flushes a head costs, off the commit path or not.
  return absl::OkStatus();
}

}  // namespace cbx::node::audit
