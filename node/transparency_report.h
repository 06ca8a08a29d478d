// The node's side of the transparency report (spec/cooperation.md §7): the
// month's entries found in its audit log by time, the figures computed by
// core/report (the same code the auditor runs), the report signed by the
// node key. Office.GetReport delegates here.
//
// Thread-safe: it holds no state of its own; the audit log, the directory
// and the signing keys it reads are thread-safe.
#ifndef CBX_NODE_TRANSPARENCY_REPORT_H_
#define CBX_NODE_TRANSPARENCY_REPORT_H_

#include <atomic>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "cbx/v1/report.pb.h"
#include "node/node_context.h"

namespace cbx::node {

class TransparencyReport {
 public:
  // `ctx` is borrowed and must outlive this object.
  explicit TransparencyReport(NodeContext* ctx) : ctx_(ctx) {}

  // The signed report of `month` ("YYYY-MM", UTC) over the log as it is
  // now. INVALID_ARGUMENT for a malformed month; FAILED_PRECONDITION for a
  // month that has not started by the node's clock; the log's error
  // (DATA_LOSS for a damaged entry) or the signer's.
  absl::StatusOr<v1::SignedReport> Get(std::string_view month);

  // The first log position in [0, size) whose entry's time is at or after
  // `time_ms`, or `size` if none: a binary search over the entries' times,
  // which the log writes from one clock in sequence order (spec §7.1), so
  // it reads O(log size) entries, not the log. Exposed for tests.
  absl::StatusOr<uint64_t> FirstAtOrAfter(int64_t time_ms, uint64_t size);

  // Entries read by this object so far (for the measurement in the tests).
  uint64_t entries_read() const { return entries_read_; }

 private:
  absl::StatusOr<int64_t> TimeOf(uint64_t index);

  NodeContext* ctx_;
  // Only a counter for tests; a relaxed race is harmless.
  std::atomic<uint64_t> entries_read_{0};
};

}  // namespace cbx::node

#endif  // CBX_NODE_TRANSPARENCY_REPORT_H_
