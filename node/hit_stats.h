// What the querier has seen of each peer since this node started: the
// identifiers it asked the peer about, the hits the peer's index copy gave
// (tags found), and the phantom hits (a hit the peer's signed Resolve
// answer did not stand behind, spec/lookup.md §4). From these, the per-peer
// hit-rate alarm: a peer's index that hits far more often than the others'
// may hold tags computed for identifiers no case holds — an index poisoned
// to unmask queries (spec/threats.md).
//
// The alarm: a peer with at least kMinAsked identifiers asked whose hit
// rate exceeds max(kMedianFactor × the median rate of the other peers that
// were asked anything, kMinAlarmRate) is flagged; the flag clears when its
// rate is back under that bound.
//
// The counts are kept in memory only: they start again from zero when the
// node restarts (the audit log holds every exchange they are counted from).
//
// Threading: thread-safe (one mutex; every method is short).
#ifndef CBX_NODE_HIT_STATS_H_
#define CBX_NODE_HIT_STATS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"

namespace cbx::node {

class HitStats {
 public:
  static constexpr uint64_t kMinAsked = 50;
  static constexpr double kMedianFactor = 10.0;
  static constexpr double kMinAlarmRate = 0.05;

  // What is known of one peer.
  struct PeerView {
    uint64_t asked = 0;
    uint64_t hits = 0;
    uint64_t phantoms = 0;
    // Empty unless the hit-rate alarm is raised: the rate, the median of
    // the others, and since when.
    std::string alert;
  };

  // Counts `asked` identifiers sent to `member` and `hits` of them found in
  // its index copy, at `now_ms`, and re-evaluates that peer's alarm.
  // Returns the alert text if the alarm starts with this call (for the
  // caller's one ALERT-peer-hit-rate line); nullopt otherwise (no alarm, or
  // one already raised).
  std::optional<std::string> RecordAsked(const std::string& member,
                                         uint64_t asked, uint64_t hits,
                                         int64_t now_ms);
  // Counts one phantom answer from `member`; returns the new count.
  uint64_t RecordPhantom(const std::string& member);

  // The counts and alarm of `member` (zeros and no alarm if never asked).
  PeerView Describe(const std::string& member) const;

 private:
  struct Counts {
    uint64_t asked = 0;
    uint64_t hits = 0;
    uint64_t phantoms = 0;
    int64_t alert_since_ms = 0;  // 0: no alarm
    std::string alert;
  };
  // The median hit rate of the peers other than `member` asked anything.
  double MedianOfOthers(const std::string& member) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  std::map<std::string, Counts> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_HIT_STATS_H_
