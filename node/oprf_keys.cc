#include "node/oprf_keys.h"

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cbx::node {

OprfKeys::OprfKeys(Key current, uint32_t epoch)
    : current_(std::move(current)), epoch_(epoch) {}

absl::Status OprfKeys::WithCurrent(
    const std::function<absl::Status(const crypto::OprfServerKey& key,
                                     uint32_t epoch)>& f) const {
  std::shared_lock hold(switch_mu_);
  Key key;
  uint32_t epoch;
  {
    std::lock_guard lock(mu_);
    key = current_;
    epoch = epoch_;
  }
  return f(*key, epoch);
}

OprfKeys::Key OprfKeys::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

uint32_t OprfKeys::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

absl::StatusOr<OprfKeys::ForRequest> OprfKeys::ForEpoch(
    uint32_t epoch, uint32_t directory_epoch, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  if (epoch == epoch_) return ForRequest{current_, false};
  if (previous_ != nullptr && epoch == previous_epoch_ &&
      now_ms < grace_end_ms_) {
    return ForRequest{previous_, true};
  }
  if (epoch == directory_epoch && directory_epoch > epoch_) {
    return absl::UnavailableError(absl::StrCat(
        "OPRF key rotation in progress: epoch ", epoch,
        " is not served yet (epoch ", epoch_, " is); retry shortly"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("OPRF epoch ", epoch, " is not this member's current epoch ",
                   epoch_, "; refresh the directory"));
}

OprfKeys::Key OprfKeys::next() const {
  std::lock_guard lock(mu_);
  return next_;
}

void OprfKeys::SetNext(Key next) {
  std::lock_guard lock(mu_);
  next_ = std::move(next);
}

absl::Status OprfKeys::Switch(uint32_t new_epoch, int64_t grace_end_ms,
                              const std::function<absl::Status()>& commit) {
  std::unique_lock hold(switch_mu_);
  if (next() == nullptr) {
    return absl::FailedPreconditionError("no next OPRF key to switch to");
  }
  if (absl::Status s = commit(); !s.ok()) return s;
  std::lock_guard lock(mu_);
  previous_ = std::move(current_);
  previous_epoch_ = epoch_;
  grace_end_ms_ = grace_end_ms;
  current_ = std::move(next_);
  epoch_ = new_epoch;
  return absl::OkStatus();
}

void OprfKeys::SetPrevious(Key previous, uint32_t epoch, int64_t grace_end_ms) {
  std::lock_guard lock(mu_);
  previous_ = std::move(previous);
  previous_epoch_ = epoch;
  grace_end_ms_ = grace_end_ms;
}

std::optional<uint32_t> OprfKeys::previous_epoch() const {
  std::lock_guard lock(mu_);
  if (previous_ == nullptr) return std::nullopt;
  return previous_epoch_;
}

OprfKeys::Key OprfKeys::previous() const {
  std::lock_guard lock(mu_);
  return previous_;
}

int64_t OprfKeys::grace_end_ms() const {
  std::lock_guard lock(mu_);
  return grace_end_ms_;
}

void OprfKeys::RetirePrevious() {
  Key dropped;
  {
    std::lock_guard lock(mu_);
    dropped = std::move(previous_);
  }
  // `dropped` goes here, outside the lock.
}

}  // namespace cbx::node
