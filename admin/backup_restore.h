// cbx-admin backup / restore: the node's databases copied out while it
// runs, and node.db put back while it is stopped (docs/operations.md
// "Backup and restore").
//
//   backup   an online, consistent copy of node.db (SQLite's backup API,
//            node/storage/sqlite_backup.h) into a new 0600 file; with
//            --audit-out, a copy of audit.db too, for evidence and an
//            auditor's export, never for restoring (an older copy of the
//            audit log put back forks it);
//   restore  refuses while the node runs, creates the data folder (0700)
//            if it does not exist (restoring onto a new machine), copies
//            the backup into the data folder, verifies the copy (integrity,
//            schema version, member, directory against the pinned genesis),
//            moves the node.db it replaces aside, and renames the copy into
//            place. It never touches audit.db.
//
// Threading: the functions are not meant to run concurrently with each
// other on one data folder (restore takes the node's locks and refuses
// if anything holds them).
#ifndef CBX_ADMIN_BACKUP_RESTORE_H_
#define CBX_ADMIN_BACKUP_RESTORE_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace cbx::admin {

struct BackupArgs {
  std::string config;     // the node's node.json
  std::string out;        // the node.db copy to create (never overwritten)
  std::string audit_out;  // optional: the audit.db copy to create
};

// Copies the data_dir's node.db (and, with audit_out, audit.db) of the
// node `args.config` describes, while the node runs or not, and prints what
// it copied and that the copy holds personal data. ALREADY_EXISTS if an
// output exists; the config's, SQLite's or the file system's error
// otherwise (the partial copy removed).
absl::Status Backup(const BackupArgs& args, std::ostream& out,
                    std::ostream& err);

struct RestoreArgs {
  std::string config;  // the node's node.json
  std::string from;    // a node.db backup (cbx-admin backup --out)
  int64_t now_ms = 0;  // names the replaced node.db kept aside
};

// Restores `args.from` as the data_dir's node.db, as described above, and
// prints what it restored. FAILED_PRECONDITION if the node runs (it holds
// audit.db.lock) or another process has node.db open, if the file's schema
// is newer than this build's or unknown, or it belongs to another member
// or federation; DATA_LOSS if it fails SQLite's integrity check;
// UNAUTHENTICATED or INVALID_ARGUMENT if a directory version it holds does
// not verify. On any failure the data folder is as it was (one restore
// created is removed again).
absl::Status Restore(const RestoreArgs& args, std::ostream& out,
                     std::ostream& err);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_BACKUP_RESTORE_H_
