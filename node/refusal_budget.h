// How many refused Peer calls of one caller the node writes one by one
// (issue 9; spec/audit-log.md §2.1, "Refused calls beyond a budget").
//
// A member holding a valid node certificate can send refused calls as fast
// as its network carries them: bodies that are not envelopes, envelopes
// that do not verify, requests beyond its quota. Each used to cost the
// receiving node a warn line and a durable audit entry (45,220 of each in
// under a minute in one test), so one hostile member could fill another's
// disk and witnessed log. Within each window of kWindowMs the first
// kPerWindow refusals of one caller (its member code; "" for callers the
// identity layer refused, who share one budget) are written one by one;
// the others are counted per (rpc, status code), and once the window has
// ended TakeEnded hands each count over once, for one summary line and one
// audit entry (kind "refused_calls", outcome.calls). An honest node makes
// at most a few calls a second to one peer, nearly all answered, and never
// comes near the budget, so every refusal of an honest call is still
// written one by one and reconciliation (spec/audit-log.md §9) is
// unchanged for it.
//
// PeerService keeps a second budget, of kReadsPerWindow, for the calls it
// answers that change nothing (GetDirectory, GetCheckpoint, a repeated
// AddCosignature), which have no quota either; and two bounds on SyncIndex
// itself, beyond which the call is refused RESOURCE_EXHAUSTED (see below).
//
// In memory only: counts not yet handed over are lost if the node stops.
// Thread-safe.
#ifndef CBX_NODE_REFUSAL_BUDGET_H_
#define CBX_NODE_REFUSAL_BUDGET_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace cbx::node {

class RefusalBudget {
 public:
  static constexpr int64_t kWindowMs = 60'000;
  static constexpr uint32_t kPerWindow = 100;
  // The same bound for calls that are answered and change nothing
  // (GetDirectory, GetCheckpoint), which PeerService keeps apart: a node at
  // the shortest intervals the config allows (100 ms) makes 600 of each a
  // minute to one peer, so 1,200 is never reached by an honest one.
  static constexpr uint32_t kReadsPerWindow = 1'200;

  // SyncIndex's bounds (PeerService): calls per member per minute, the
  // same as the reads' (an honest node makes at most 600 at the shortest
  // interval); and answers holding the whole index per member per hour
  // (an honest node asks for the whole index only without a copy of its
  // own, after an OPRF epoch switch, or when the changes it would need are
  // gone: a few times a year).
  static constexpr uint32_t kIndexSyncsPerWindow = kReadsPerWindow;
  static constexpr uint32_t kFullIndexesPerHour = 30;
  static constexpr int64_t kHourMs = 3'600'000;

  // `per_window` calls of each caller in each window of `window_ms`.
  explicit RefusalBudget(uint32_t per_window = kPerWindow,
                         int64_t window_ms = kWindowMs)
      : per_window_(per_window), window_ms_(window_ms) {}

  // The refusals of one caller, rpc and status code counted in one window
  // beyond the budget.
  struct Summary {
    std::string caller;
    std::string rpc;
    absl::StatusCode code = absl::StatusCode::kOk;
    uint64_t calls = 0;
    int64_t window_start_ms = 0;
  };

  // True if this refusal of `caller`'s at `now_ms` is to be written one by
  // one; false if it was counted for a summary instead.
  bool Admit(const std::string& caller, std::string_view rpc,
             absl::StatusCode code, int64_t now_ms);

  // The counts of every window that had ended by `now_ms`, each handed
  // over once, ordered by caller, then window, rpc and code.
  std::vector<Summary> TakeEnded(int64_t now_ms);

 private:
  struct Window {
    int64_t start_ms = 0;
    uint32_t written = 0;
    std::map<std::pair<std::string, int>, uint64_t> counted;  // (rpc, code)
  };
  // Moves `w`'s counts to ended_.
  void End(const std::string& caller, Window& w);

  const uint32_t per_window_;
  const int64_t window_ms_;
  std::mutex mu_;
  std::map<std::string, Window> windows_;  // by caller; guarded by mu_
  std::vector<Summary> ended_;             // guarded by mu_
};

}  // namespace cbx::node

#endif  // CBX_NODE_REFUSAL_BUDGET_H_
