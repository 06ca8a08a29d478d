// The auditor's local state: for each log (origin), the last checkpoint the
// auditor verified and now trusts, as its whole signed note, in one file:
//
//   <dir>/cbx_<CC>_audit.checkpoint
//
// and, when a node shows a checkpoint that is not consistent with it, an
// evidence file next to it (spec/audit-log.md §6: a mismatch is evidence
// and must be kept):
//
//   <dir>/cbx_<CC>_audit.evidence-<unix ms>.json
//   {"origin", "recorded", "reason", "trusted_checkpoint", "new_checkpoint",
//    "consistency_proof": [hex, ...]}
//
// The directory is --state, else $XDG_STATE_HOME/cbx/audit, else
// $HOME/.local/state/cbx/audit; it is created with mode 0700. Files are
// replaced atomically. Not safe against two auditors updating the same
// directory at the same moment (the last one wins, both verified).
#ifndef CBX_CLIENT_AUDIT_STATE_H_
#define CBX_CLIENT_AUDIT_STATE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/note/checkpoint.h"
#include "core/util/bytes.h"

namespace cbx::client::audit {

// $XDG_STATE_HOME/cbx/audit, else $HOME/.local/state/cbx/audit (empty
// values count as unset). INVALID_ARGUMENT if neither variable is set.
absl::StatusOr<std::string> DefaultStateDir(
    const std::function<std::optional<std::string>(const char*)>& env);

struct TrustedCheckpoint {
  std::string path;
  std::string note;  // the whole note as stored
  note::Checkpoint checkpoint;
};

class TrustedStore {
 public:
  explicit TrustedStore(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  // The file of `origin` ("cbx/MK/audit" -> "<dir>/cbx_MK_audit.checkpoint").
  std::string PathFor(std::string_view origin) const;

  // The trusted checkpoint of `origin`; nullopt if there is none yet.
  // INVALID_ARGUMENT if the file cannot be read or does not hold a signed
  // checkpoint note of `origin` (its signatures were checked when it was
  // stored and are not checked again: the keys may have rotated since).
  absl::StatusOr<std::optional<TrustedCheckpoint>> Load(
      std::string_view origin) const;

  // Stores `note` (already verified) as the trusted checkpoint of `origin`.
  absl::Status Save(std::string_view origin, std::string_view note) const;

  // Writes an evidence file for `origin` and returns its path.
  absl::StatusOr<std::string> SaveEvidence(
      std::string_view origin, std::string_view reason,
      std::string_view trusted_note, std::string_view new_note,
      const std::vector<Bytes>& consistency_proof, int64_t now_ms) const;

 private:
  std::string FileStem(std::string_view origin) const;

  std::string dir_;
};

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_STATE_H_
