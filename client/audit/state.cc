#include "client/audit/state.h"

#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/audit_files.h"
#include "core/note/note.h"
#include "nlohmann/json.hpp"

namespace cbx::client::audit {
namespace {

// A checkpoint note is at most 256 KiB (core/note).
constexpr size_t kMaxTrustedFileBytes = 512 * 1024;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace

absl::StatusOr<std::string> DefaultStateDir(
    const std::function<std::optional<std::string>(const char*)>& env) {
  std::optional<std::string> xdg = env("XDG_STATE_HOME");
  if (xdg && !xdg->empty()) return *xdg + "/cbx/audit";
  std::optional<std::string> home = env("HOME");
  if (home && !home->empty()) return *home + "/.local/state/cbx/audit";
  return absl::InvalidArgumentError(
      "no state directory: pass --state DIR (neither XDG_STATE_HOME nor HOME "
      "is set)");
}

std::string TrustedStore::FileStem(std::string_view origin) const {
  std::string stem(origin);
  for (char& c : stem) {
    if (c == '/') c = '_';
  }
  return dir_ + "/" + stem;
}

std::string TrustedStore::PathFor(std::string_view origin) const {
  return FileStem(origin) + ".checkpoint";
}

absl::StatusOr<std::optional<TrustedCheckpoint>> TrustedStore::Load(
    std::string_view origin) const {
  TrustedCheckpoint out;
  out.path = PathFor(origin);
  auto data = ReadWholeFile(out.path, kMaxTrustedFileBytes);
  if (data.status().code() == absl::StatusCode::kNotFound) {
    return std::optional<TrustedCheckpoint>();
  }
  if (!data.ok()) {
    return absl::InvalidArgumentError("the trusted checkpoint " +
                                      Str(data.status().message()));
  }
  const std::string bad = "the trusted checkpoint '" + out.path + "' ";
  auto parsed = note::ParseNote(*data);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        bad + "is not a signed note: " + Str(parsed.status().message()));
  }
  auto checkpoint = note::ParseCheckpoint(parsed->text);
  if (!checkpoint.ok()) {
    return absl::InvalidArgumentError(
        bad + "is not a checkpoint: " + Str(checkpoint.status().message()));
  }
  if (checkpoint->origin != origin) {
    return absl::InvalidArgumentError(bad + "is of '" + checkpoint->origin +
                                      "', not '" + std::string(origin) + "'");
  }
  out.note = *std::move(data);
  out.checkpoint = *std::move(checkpoint);
  return std::optional<TrustedCheckpoint>(std::move(out));
}

absl::Status TrustedStore::Save(std::string_view origin,
                                std::string_view note) const {
  if (absl::Status s = MakeDirectories(dir_); !s.ok()) return s;
  return WriteFileAtomically(PathFor(origin), note, 0600);
}

absl::StatusOr<std::string> TrustedStore::SaveEvidence(
    std::string_view origin, std::string_view reason,
    std::string_view trusted_note, std::string_view new_note,
    const std::vector<Bytes>& consistency_proof, int64_t now_ms) const {
  if (absl::Status s = MakeDirectories(dir_); !s.ok()) return s;
  nlohmann::ordered_json doc;
  doc["origin"] = std::string(origin);
  doc["recorded"] =
      Str(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(now_ms),
                           absl::UTCTimeZone()));
  doc["reason"] = std::string(reason);
  doc["trusted_checkpoint"] = std::string(trusted_note);
  doc["new_checkpoint"] = std::string(new_note);
  nlohmann::ordered_json proof = nlohmann::ordered_json::array();
  for (const Bytes& h : consistency_proof) proof.push_back(HexEncode(h));
  doc["consistency_proof"] = proof;
  const std::string path =
      FileStem(origin) + ".evidence-" + std::to_string(now_ms) + ".json";
  if (absl::Status s = WriteFileAtomically(
          path,
          doc.dump(2, ' ', false,
                   nlohmann::ordered_json::error_handler_t::replace) +
              "\n",
          0600);
      !s.ok()) {
    return s;
  }
  return path;
}

}  // namespace cbx::client::audit
