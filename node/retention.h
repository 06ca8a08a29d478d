// Retention (docs/operations.md "Retention", spec/node-config.md): what the
// node deletes once the config's periods have passed, in a periodic sweep.
//
//   - closed cases' identifiers (values, outputs y, tags), counted from the
//     closing; the case row stays as a tombstone (Storage::PurgeClosedCases);
//   - received case references (hits) and inbox entries, from arrival;
//   - replay-cache rows, once past their expiry (message lifetime + skew,
//     stamped on each row when it was recorded);
//   - the own index's change log, older than index_change_log_days: a peer
//     whose copy is older is sent the full index (spec/index-sync.md);
//   - withdrawal tombstones (spec/cooperation.md §2.4) whose reference is
//     deleted, received_references_days after the withdrawal; and this
//     node's ended withdrawals (acknowledged or given up),
//     closed_case_identifiers_days after the close.
//
// Each batch deletes at most `batch_size` rows in its own short storage
// transaction, so that queries and office writes interleave with a long
// sweep. The counts deleted are kept in node.db (setting
// kRetentionPendingSetting) in the same transaction as each batch; when a
// sweep has deleted anything, ONE audit entry (kind "retention_sweep",
// spec/audit-log.md) records the counts since the previous entry, and the
// kept counts are cleared in the same transaction as that append (log
// before effect). A sweep cut short (a crash, a disk error, the node
// stopping) has lost nothing: what it deleted is in the next sweep's entry.
//
// Times come from the node's Clock. The change log has no timestamps, so
// each sweep records a mark (its time and the index version then) in
// setting kRetentionIndexMarksSetting, and compacts through the newest
// version marked at least index_change_log_days ago.
//
// Threading: Sweep runs one at a time (a mutex; a second caller waits);
// RequestStop and last_sweep_ms are safe from any thread.
#ifndef CBX_NODE_RETENTION_H_
#define CBX_NODE_RETENTION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"
#include "core/util/clock.h"
#include "node/audit_trail.h"
#include "node/config.h"
#include "node/metrics.h"
#include "node/storage/storage.h"

namespace cbx::node {

// node.db settings the sweep keeps: the counts deleted and not yet in an
// audit entry (a serialized cbx.v1.RetentionCounts), and the index marks.
inline constexpr char kRetentionPendingSetting[] = "retention.pending";
inline constexpr char kRetentionIndexMarksSetting[] = "retention.index_marks";

// The categories, as the metrics' `category` label names them.
inline constexpr const char* kRetentionCategories[] = {
    "closed_cases",  "received_references",  "inbox_entries", "replay_entries",
    "index_changes", "withdrawn_references", "withdrawals"};

class Retention {
 public:
  // `storage`, `trail`, `clock` and `metrics` (null: none) must outlive
  // this. `self` names the member in event-log lines. With `metrics`, the
  // counters cbx_retention_deleted_total{category} are created at 0 here.
  Retention(std::string self, Storage* storage, AuditTrail* trail,
            const Clock* clock, const RetentionConfig& config,
            MetricsRegistry* metrics);

  // Runs one sweep to the end (or until RequestStop) and returns what it
  // deleted. If it deleted anything, or an earlier sweep's counts are still
  // kept, one audit entry records them all. On a storage failure it stops
  // and returns the failure (what it deleted before is kept and logged by
  // the next sweep); if the audit append fails, that failure is returned
  // (AuditFailure's mapping is the caller's) and the counts stay kept.
  // DATA_LOSS if the kept counts or marks do not parse.
  absl::StatusOr<v1::RetentionCounts> Sweep();

  // Makes a running and every later Sweep stop after its current batch.
  void RequestStop() { stop_.store(true); }

  // The clock's time when the last sweep finished without error; 0 before.
  int64_t last_sweep_ms() const { return last_sweep_ms_.load(); }

 private:
  // One batch of one category: how many rows it deleted, and whether
  // another batch may find more.
  struct BatchResult {
    int64_t deleted = 0;
    bool more = false;
  };
  using Batch = std::function<absl::StatusOr<BatchResult>(
      const Storage::AfterDelete& then)>;
  // Runs `batch` until it says no more or a stop is asked; keeps the counts
  // (pending_, swept_, the metric) of `category` (kClosedCases, ...).
  absl::Status Drain(int category, const Batch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A Batch over a bounded delete of rows: more while a batch is full.
  Batch Rows(std::function<absl::StatusOr<int64_t>(const Storage::AfterDelete&)>
                 remove) const;
  // Every category's batches, in turn, for a sweep at `now_ms` (the index
  // `version` read before it); stops at the first failure.
  absl::Status DeleteDue(int64_t now_ms, uint64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The version through which the change log may go, after recording this
  // sweep's mark (version read before `now_ms`).
  absl::StatusOr<uint64_t> IndexHorizon(int64_t now_ms, uint64_t version);
  // Appends the entry for pending_ and clears the kept counts, in one
  // storage transaction (log before effect).
  absl::Status LogPending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds `n` to `category`'s count in `counts`.
  static void Add(v1::RetentionCounts& counts, int category, int64_t n);

  const std::string self_;
  Storage* const storage_;
  AuditTrail* const trail_;
  const Clock* const clock_;
  const RetentionConfig config_;
  CounterFamily* deleted_ = nullptr;
  GaugeFamily* last_sweep_gauge_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> last_sweep_ms_{0};

  std::mutex mu_;  // one sweep at a time; guards what follows
  v1::RetentionCounts pending_ ABSL_GUARDED_BY(mu_);  // kept, not yet logged
  v1::RetentionCounts swept_ ABSL_GUARDED_BY(mu_);    // this sweep's
};

}  // namespace cbx::node

#endif  // CBX_NODE_RETENTION_H_
