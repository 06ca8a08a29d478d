// IoHealth: which of the node's files are failing to be written, for the
// operator (spec/storage-faults.md). The SQLite layer (sqlite_db.h) reports
// a failed write, fsync or truncate of node.db or audit.db and the next
// successful commit; the audit log reports its head file. The node logs
// ALERT-storage-failing when a file starts failing and storage-recovered
// when it writes again (once per fault period, through the listener), and
// shows Alert() in ListPeers (node_alert).
//
// One per process (Get()): a disk fault is a fact about the machine, and
// the SQLite layer has no other way to reach the node. Thread-safe.
#ifndef CBX_NODE_STORAGE_IO_HEALTH_H_
#define CBX_NODE_STORAGE_IO_HEALTH_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"

namespace cbx::node {

class IoHealth {
 public:
  // Called on each transition: `failing` true when `file` starts failing
  // (with the failure's message), false when it has recovered (with the
  // message of the failure it recovered from). Runs with no lock held.
  using Listener = std::function<void(const std::string& file, bool failing,
                                      const std::string& message)>;

  // The process's IoHealth. Never null; never destroyed.
  static IoHealth& Get();

  // `file` failed to be written with `status`. Tells the listener if the
  // file was healthy; otherwise only the latest message is kept.
  void Failed(const std::string& file, const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A write to `file` succeeded. Tells the listener if it was failing.
  void Succeeded(const std::string& file) ABSL_LOCKS_EXCLUDED(mu_);

  // "" while every file writes; otherwise "storage failing: <file>: <the
  // latest message>", the files in name order, joined by "; ".
  std::string Alert() const ABSL_LOCKS_EXCLUDED(mu_);
  // True while `file` is failing.
  bool IsFailing(const std::string& file) const ABSL_LOCKS_EXCLUDED(mu_);

  // Replaces the listener (null: none). Returns the previous one.
  Listener SetListener(Listener listener) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> failing_ ABSL_GUARDED_BY(mu_);
  Listener listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_IO_HEALTH_H_
