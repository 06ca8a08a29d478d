// An in-memory AuditSink for unit tests of node logic: it records the
// entries appended to it (with sequences 0, 1, 2, ...) and can be told to
// fail its appends, as a log with a full disk (UNAVAILABLE,
// RESOURCE_EXHAUSTED) or a damaged one (DATA_LOSS) would.
//
// Threading: every method takes one mutex.
#ifndef CBX_NODE_TESTING_TEST_AUDIT_SINK_H_
#define CBX_NODE_TESTING_TEST_AUDIT_SINK_H_

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"
#include "node/audit_trail.h"

namespace cbx::node::testing {

class TestAuditSink final : public AuditSink {
 public:
  // Every later append fails with `failure` (OK: appends succeed again);
  // Health() reports it too when it is a DATA_LOSS, as a damaged log's
  // would.
  void FailAppends(absl::Status failure) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = std::move(failure);
  }
  // Appends succeed `n` more times, then fail with `failure`.
  void FailAfter(int n, absl::Status failure) {
    std::lock_guard<std::mutex> lock(mu_);
    succeed_before_failing_ = n;
    failure_ = std::move(failure);
  }

  absl::StatusOr<uint64_t> Append(v1::AuditEntry entry) override {
    std::vector<v1::AuditEntry> one;
    one.push_back(std::move(entry));
    return AppendAll(std::move(one));
  }
  absl::StatusOr<uint64_t> AppendAll(
      std::vector<v1::AuditEntry> entries) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failure_.ok()) {
      if (succeed_before_failing_ == 0) return failure_;
      --succeed_before_failing_;
    }
    const uint64_t first = entries_.size();
    for (v1::AuditEntry& e : entries) {
      e.set_sequence(entries_.size());
      entries_.push_back(std::move(e));
    }
    return first;
  }
  absl::Status Health() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_.code() == absl::StatusCode::kDataLoss ? failure_
                                                          : absl::OkStatus();
  }

  // The entries appended so far, in order.
  std::vector<v1::AuditEntry> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::AuditEntry> entries_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int succeed_before_failing_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cbx::node::testing

#endif  // CBX_NODE_TESTING_TEST_AUDIT_SINK_H_
