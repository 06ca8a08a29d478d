#include "core/util/key_file.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

std::string Octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0%o", mode);
  return buf;
}

}  // namespace

absl::StatusOr<Bytes> ParseKeyFile(std::string_view contents) {
  std::string_view hex = contents;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  if (hex.size() != 2 * kKeyFileSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", 2 * kKeyFileSecretBytes,
        " hex digits and a newline, found ", contents.size(), " bytes"));
  }
  for (char c : hex) {
    if (!IsHexDigit(c)) {
      return absl::InvalidArgumentError("expected hex digits only (0-9, a-f)");
    }
  }
  return HexDecode(hex);
}

absl::StatusOr<KeyFile> ReadKeyFile(Env* env, const std::string& path,
                                    std::string_view what,
                                    KeyFileAccess access) {
  ASSIGN_OR_RETURN(FileInfo info, env->Stat(path));
  if (access == KeyFileAccess::kOwnerOnly && (info.mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has mode ", Octal(info.mode), ": ", std::string(what),
        " file must not be readable by group or others; run: chmod 600 ",
        path));
  }
  absl::StatusOr<std::string> contents = env->ReadFile(path, kKeyFileMaxBytes);
  if (contents.status().code() == absl::StatusCode::kOutOfRange) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not ", std::string(what), " file: expected ",
        2 * kKeyFileSecretBytes, " hex digits and a newline, found more than ",
        kKeyFileMaxBytes, " bytes"));
  }
  RETURN_IF_ERROR(contents.status());
  absl::StatusOr<Bytes> secret = ParseKeyFile(*contents);
  if (!secret.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not ", std::string(what),
                     " file: ", secret.status().message()));
  }
  return KeyFile{*std::move(secret), info.mode};
}

}  // namespace cbx
