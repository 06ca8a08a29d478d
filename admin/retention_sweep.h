// cbx-admin retention sweep: the node's retention sweep (node/retention.h)
// run by hand while the node is stopped (docs/operations.md "Retention"),
// e.g. before taking a backup off the machine, after a long downtime, or
// after shortening a period in the config.
//
//   sweep            refuses while the node runs (it holds the audit log's
//                    writer lock), checks node.db and the audit log as the
//                    node does at start (this member's node.db, its log
//                    beside it, not an old copy), then runs the sweep the
//                    node runs on its timer, with the config's periods and
//                    batch size, and appends its counts to the audit log as
//                    the node does: one retention_sweep entry (with counts
//                    an interrupted earlier sweep kept) if anything was
//                    deleted, none otherwise.
//   sweep --dry-run  the same sweep on a private copy of node.db (SQLite's
//                    backup API, 0600, in data_dir, removed afterwards)
//                    with an audit trail that appends nothing: prints what
//                    the sweep would delete and log, and changes nothing.
//                    It reads one consistent snapshot, so it may run while
//                    the node runs. node.db in PostgreSQL cannot be copied
//                    this way: refused.
//
// Threading: not meant to run concurrently with itself on one data folder.
#ifndef CBX_ADMIN_RETENTION_SWEEP_H_
#define CBX_ADMIN_RETENTION_SWEEP_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "core/util/clock.h"

namespace cbx::admin {

struct RetentionSweepArgs {
  std::string config;  // the node's node.json
  bool dry_run = false;
  const Clock* clock = nullptr;  // the sweep's time; null: the system clock
};

// Runs the sweep as described above and prints, per category, what it
// deleted (or would delete) and the audit entry it appended (or would
// append). FAILED_PRECONDITION if the node runs (not for --dry-run), if
// there is no node.db, if node.db or the log is not this member's or not
// where node.db expects it, or for --dry-run with node.db in PostgreSQL;
// the config's, the storage's or the log's error otherwise (DATA_LOSS for
// a damaged log, to which nothing is appended). Nothing is changed on any
// refusal; a sweep that fails half-way keeps what it deleted counted in
// node.db, as the node's does, for the next sweep's entry.
absl::Status RetentionSweep(const RetentionSweepArgs& args, std::ostream& out);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_RETENTION_SWEEP_H_
