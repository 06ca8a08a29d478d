// The node's OPRF keys across a rotation (spec/oprf.md §2): the current key
// and its epoch — the key the stored outputs y are under, and the one that
// answers requests naming that epoch —, the next key while its outputs are
// staged (node/oprf_rotation.h), and the previous key during the grace
// window after a switch.
//
// Threading: thread-safe. Readers take a short lock; WithCurrent holds the
// current key for its callback (a CaseBook change evaluates and commits
// inside it), and Switch waits for those callbacks to finish and holds new
// ones off while it commits, so that no identifier is ever stored with an
// output of a key that is no longer current.
#ifndef CBX_NODE_OPRF_KEYS_H_
#define CBX_NODE_OPRF_KEYS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/crypto/voprf.h"

namespace cbx::node {

class OprfKeys {
 public:
  using Key = std::shared_ptr<const crypto::OprfServerKey>;

  // `current` (not null) is the key of `epoch`.
  OprfKeys(Key current, uint32_t epoch);

  // Runs `f` with the current key and its epoch and returns its status; no
  // Switch happens while `f` runs. `f` must not call WithCurrent or Switch.
  absl::Status WithCurrent(
      const std::function<absl::Status(const crypto::OprfServerKey& key,
                                       uint32_t epoch)>& f) const;

  Key current() const;
  uint32_t epoch() const;

  // The key that answers a peer's request naming `epoch`, given this
  // member's epoch in the current directory and the time:
  //   - the current epoch: the current key;
  //   - the previous epoch before the grace window ends: the previous key
  //     (previous = true);
  //   - the directory's epoch when it is ahead of the current one (the
  //     switch has not happened yet): UNAVAILABLE "OPRF key rotation in
  //     progress" (retry);
  //   - any other: FAILED_PRECONDITION (refresh the directory).
  struct ForRequest {
    Key key;
    bool previous = false;
  };
  absl::StatusOr<ForRequest> ForEpoch(uint32_t epoch, uint32_t directory_epoch,
                                      int64_t now_ms) const;

  // The next key (null: none), whose outputs are being staged.
  Key next() const;
  void SetNext(Key next);

  // The switch: waits for every WithCurrent callback, runs `commit` (the
  // storage transaction that makes the staged outputs current) holding them
  // off, and if it succeeds makes the next key current under `new_epoch`
  // and the old current key the previous one until `grace_end_ms`.
  // FAILED_PRECONDITION (nothing run) if there is no next key; `commit`'s
  // error otherwise, with nothing changed.
  absl::Status Switch(uint32_t new_epoch, int64_t grace_end_ms,
                      const std::function<absl::Status()>& commit);

  // The previous key and its epoch until `grace_end_ms` (restored at start).
  void SetPrevious(Key previous, uint32_t epoch, int64_t grace_end_ms);
  std::optional<uint32_t> previous_epoch() const;
  Key previous() const;
  int64_t grace_end_ms() const;
  // Drops the previous key. Its scalar is cleared from memory
  // (BN_clear_free) when the last holder — a request being answered —
  // releases it.
  void RetirePrevious();

 private:
  // Held shared by WithCurrent, exclusively by Switch. Standard locks, not
  // absl::Mutex, so that ThreadSanitizer sees them (README "Sanitizers").
  mutable std::shared_mutex switch_mu_;
  mutable std::mutex mu_ ABSL_ACQUIRED_AFTER(switch_mu_);
  Key current_ ABSL_GUARDED_BY(mu_);
  uint32_t epoch_ ABSL_GUARDED_BY(mu_);
  Key next_ ABSL_GUARDED_BY(mu_);
  Key previous_ ABSL_GUARDED_BY(mu_);
  uint32_t previous_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t grace_end_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cbx::node

#endif  // CBX_NODE_OPRF_KEYS_H_
