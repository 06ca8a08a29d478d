#include "node/log_before_effect.h"

#include <string>

#include "core/util/status_macros.h"
#include "node/grpc_status.h"
#include "node/log.h"

namespace cbx::node {

// Why a failed commit gets a voiding entry, appended while the write lock
// is still held, rather than nothing: the entry already says OK, and an
// auditor must be able to tell it had no effect. Holding the lock means no
// other change of this node commits between the two entries, so the void
// entry follows its entry with nothing of the same RPC and office between
// them that changed state. Undoing the append itself is impossible (the
// log is append-only) and unnecessary.
absl::Status ApplyLogged(std::string_view self, Storage& storage,
                         const LoggedChange& c) {
  bool reached_append = false;
  absl::Status status = storage.ReadWriteTransaction(
      [&](StorageTransaction& txn) -> absl::Status {
        RETURN_IF_ERROR(c.change(txn));
        reached_append = true;
        absl::Status logged = c.append();
        return logged.ok() ? logged : AuditFailure(logged);
      },
      [&](const absl::Status& commit_failure) {
        if (absl::IsUnknown(commit_failure)) {
          // The change may have been made (a COMMIT whose answer was lost
          // and could not be resolved): a void entry could be false, so
          // the entry stays as it is, and the operator is told.
          LogEvent(self, "error", "ALERT-commit-outcome-unknown",
                   {{"commit", std::string(commit_failure.message())}});
          return;
        }
        absl::Status voided = c.append_void(commit_failure);
        if (!voided.ok()) {
          LogEvent(self, "error", "ALERT-audit-entry-without-effect",
                   {{"commit", std::string(commit_failure.message())},
                    {"log", std::string(voided.message())}});
        }
      });
  if (status.ok() || reached_append) return status;
  // Refused (or storage failed) before the append: nothing changed, and
  // the refusal is logged as any refusal is.
  absl::Status logged = c.append_refusal(status);
  return logged.ok() ? status : AuditFailure(logged);
}

}  // namespace cbx::node
