// LOG BEFORE EFFECT (spec/audit-log.md §2.10) in one place: a state change
// and the audit entry that records it are made in one storage transaction,
// the append last, so that the change is visible to nobody (queries,
// peers' index sync, the inbox) before its entry is durable, and an append
// that fails leaves nothing changed. Used by the cases module (office
// writes) and the lookup responder (Resolve's inbox notifications).
//
// Threading: ApplyLogged is thread-safe; it holds the storage's write lock
// while the change and the append run (see Storage::ReadWriteTransaction).
#ifndef CBX_NODE_LOG_BEFORE_EFFECT_H_
#define CBX_NODE_LOG_BEFORE_EFFECT_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "node/storage/storage.h"

namespace cbx::node {

struct LoggedChange {
  // The storage writes (and the reads they need). A non-OK status is a
  // refusal (or a storage failure): nothing is written.
  std::function<absl::Status(StorageTransaction&)> change;
  // Appends the entry recording the change as done; returns the log's
  // status (not yet mapped by AuditFailure).
  std::function<absl::Status()> append;
  // Appends the entry recording that `change` refused with `refusal`;
  // returns the log's status.
  std::function<absl::Status(const absl::Status& refusal)> append_refusal;
  // Appends the entry voiding `append`'s after the commit failed with
  // `commit_failure` (kind "not_applied"); returns the log's status.
  std::function<absl::Status(const absl::Status& commit_failure)> append_void;
};

// Runs `c` and returns:
//   - OK: the change committed after its entry was durable;
//   - the refusal `change` returned, once append_refusal logged it (or
//     AuditFailure of the log's error if it could not);
//   - AuditFailure of `append`'s error: nothing changed;
//   - the commit's failure: nothing changed, and append_void's entry voids
//     the one `append` made (if that append fails too, an
//     ALERT-audit-entry-without-effect line goes to the event log as
//     member `self`);
//   - UNKNOWN from the commit (PostgreSQL lost COMMIT's answer and could
//     not tell its outcome, pg_connection.h): the change may or may not
//     have been made, so nothing voids the entry; an
//     ALERT-commit-outcome-unknown line goes to the event log, and the
//     caller gets UNKNOWN.
absl::Status ApplyLogged(std::string_view self, Storage& storage,
                         const LoggedChange& c);

}  // namespace cbx::node

#endif  // CBX_NODE_LOG_BEFORE_EFFECT_H_
