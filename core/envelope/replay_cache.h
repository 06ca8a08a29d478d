// The receiver's replay cache (check 6 of spec/envelope.md) and quota gate
// (the quota half of check 7): interfaces the node implements over its
// storage, and an in-memory replay cache for tests and tools.
#ifndef CBX_CORE_ENVELOPE_REPLAY_CACHE_H_
#define CBX_CORE_ENVELOPE_REPLAY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "cbx/v1/message.pb.h"
#include "core/util/bytes.h"

namespace cbx::envelope {

class QuotaGate;

// The outcome of check 6 and, if it passed, check 7b.
struct ReplayAndQuota {
  // Check 6: OK if the pair was new and is now recorded; ALREADY_EXISTS if
  // it was recorded before; other codes for storage failures.
  absl::Status replay;
  // Check 7b, only if `replay` is OK: OK if charged (or no quota);
  // RESOURCE_EXHAUSTED with nothing charged; other codes for storage
  // failures.
  absl::Status quota;
};

// Records (sender, message_id) pairs until their expires_at. The node's
// implementation is durable (it survives restart); implementations must be
// thread-safe, and CheckAndRecord must be atomic: of two concurrent calls
// with the same pair, exactly one succeeds.
class ReplayCache {
 public:
  virtual ~ReplayCache() = default;
  // ALREADY_EXISTS if (sender, message_id) is already recorded; otherwise
  // records it (durably before returning, in the node) and returns OK. Other
  // codes (UNAVAILABLE, INTERNAL) for storage failures; then nothing is
  // recorded.
  virtual absl::Status CheckAndRecord(const std::string& sender,
                                      const Bytes& message_id,
                                      int64_t expires_at_ms) = 0;

  // Checks 6 and 7b as Open runs them: CheckAndRecord and then, if the pair
  // was new, `quota->Charge(sender, message)` (no charge if `quota` is
  // null). This default does exactly that. A cache that keeps the quota in
  // the same durable store may override it to make the record and the
  // charge durable in one write instead of two; the outcomes must be the
  // same, except that a storage failure of that one write is reported as
  // check 6's (nothing recorded, nothing charged).
  virtual ReplayAndQuota CheckRecordAndCharge(const std::string& sender,
                                              const Bytes& message_id,
                                              int64_t expires_at_ms,
                                              const v1::Message& message,
                                              QuotaGate* quota);
};

// A replay cache in memory, for tests and tools. Thread-safe (one mutex).
class InMemoryReplayCache final : public ReplayCache {
 public:
  absl::Status CheckAndRecord(const std::string& sender,
                              const Bytes& message_id,
                              int64_t expires_at_ms) override;
  // Forgets the pairs whose expires_at_ms <= now_ms (no envelope carrying them
  // can pass check 5 any more); returns how many were forgotten.
  size_t Sweep(int64_t now_ms);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, Bytes>, int64_t> seen_ ABSL_GUARDED_BY(mu_);
};

// Check 7's quota half; the node implements it over its storage (for
// example: blinded elements of evaluate_request per sender per UTC day
// against policy.evaluations_per_peer_per_day). Must be thread-safe.
class QuotaGate {
 public:
  virtual ~QuotaGate() = default;
  // RESOURCE_EXHAUSTED if `message` from `sender` exceeds its quota, with
  // nothing charged; otherwise charges it and returns OK.
  virtual absl::Status Charge(const std::string& sender,
                              const v1::Message& message) = 0;
};

}  // namespace cbx::envelope

#endif  // CBX_CORE_ENVELOPE_REPLAY_CACHE_H_
