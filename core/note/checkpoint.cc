#include "core/note/checkpoint.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/note/note.h"
#include "core/note/text_rules.h"
#include "core/util/status_macros.h"

namespace cbx::note {
namespace {

constexpr size_t kRootHashSize = 32;

absl::Status CheckLine(std::string_view line, const char* what) {
  if (line.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", what, " is empty"));
  }
  if (line.find('\n') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", what, " has a newline"));
  }
  return CheckNoteCharacters(line, absl::StrCat("checkpoint ", what));
}

absl::StatusOr<uint64_t> ParseSize(std::string_view digits) {
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) {
    return absl::InvalidArgumentError(
        "checkpoint size is empty or has a leading zero");
  }
  uint64_t size = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError("checkpoint size is not decimal");
    }
    const uint64_t digit = c - '0';
    if (size > (kMax - digit) / 10) {
      return absl::InvalidArgumentError("checkpoint size exceeds 64 bits");
    }
    size = size * 10 + digit;
  }
  return size;
}

}  // namespace

absl::StatusOr<std::string> FormatCheckpoint(const Checkpoint& checkpoint) {
  RETURN_IF_ERROR(CheckLine(checkpoint.origin, "origin"));
  if (checkpoint.root_hash.size() != kRootHashSize) {
    return absl::InvalidArgumentError("checkpoint root hash is not 32 bytes");
  }
  std::string text =
      absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                   Base64Encode(checkpoint.root_hash), "\n");
  for (const std::string& line : checkpoint.extensions) {
    RETURN_IF_ERROR(CheckLine(line, "extension line"));
    absl::StrAppend(&text, line, "\n");
  }
  return text;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view text) {
  RETURN_IF_ERROR(CheckNoteCharacters(text, "checkpoint"));
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError(
        "checkpoint text does not end with a newline");
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    const size_t eol = text.find('\n', start);
    lines.push_back(text.substr(start, eol - start));
    start = eol + 1;
  }
  if (lines.size() < 3) {
    return absl::InvalidArgumentError("checkpoint has fewer than three lines");
  }
  for (std::string_view line : lines) {
    if (line.empty()) {
      return absl::InvalidArgumentError("checkpoint has an empty line");
    }
  }
  Checkpoint checkpoint;
  checkpoint.origin = std::string(lines[0]);
  ASSIGN_OR_RETURN(checkpoint.size, ParseSize(lines[1]));
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != kRootHashSize) {
    return absl::InvalidArgumentError(
        "checkpoint root hash is not canonical base64 of 32 bytes");
  }
  checkpoint.root_hash = *std::move(root);
  for (size_t i = 3; i < lines.size(); ++i) {
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

absl::StatusOr<SignedCheckpoint> OpenCheckpoint(
    std::string_view msg, std::string_view origin, const Verifier& log_key,
    std::span<const Verifier> others) {
  if (log_key.type() != SignatureType::kEd25519) {
    return absl::InvalidArgumentError(
        "a log key must be an Ed25519 note key (type 0x01)");
  }
  std::vector<Verifier> known = {log_key};
  known.insert(known.end(), others.begin(), others.end());
  ASSIGN_OR_RETURN(OpenedNote note, OpenNote(msg, known));

  SignedCheckpoint out;
  bool log_signed = false;
  for (VerifiedSignature& sig : note.verified) {
    if (sig.name == log_key.name() && sig.key_id == log_key.key_id()) {
      out.log_signature = std::move(sig);
      log_signed = true;
    } else {
      out.other_signatures.push_back(std::move(sig));
    }
  }
  if (!log_signed) {
    return absl::UnauthenticatedError(absl::StrCat(
        "checkpoint is not signed by the log key ", log_key.name()));
  }
  ASSIGN_OR_RETURN(out.checkpoint, ParseCheckpoint(note.text));
  if (out.checkpoint.origin != origin) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint is for origin \"", out.checkpoint.origin,
                     "\", not \"", std::string(origin), "\""));
  }
  out.text = std::move(note.text);
  return out;
}

}  // namespace cbx::note
