#include "core/envelope/replay_cache.h"

#include "absl/strings/str_cat.h"

namespace cbx::envelope {

ReplayAndQuota ReplayCache::CheckRecordAndCharge(const std::string& sender,
                                                 const Bytes& message_id,
                                                 int64_t expires_at_ms,
                                                 const v1::Message& message,
                                                 QuotaGate* quota) {
  ReplayAndQuota out;
  out.replay = CheckAndRecord(sender, message_id, expires_at_ms);
  if (out.replay.ok() && quota != nullptr) {
    out.quota = quota->Charge(sender, message);
  }
  return out;
}

absl::Status InMemoryReplayCache::CheckAndRecord(const std::string& sender,
                                                 const Bytes& message_id,
                                                 int64_t expires_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] =
      seen_.try_emplace(std::make_pair(sender, message_id), expires_at_ms);
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("message id ", HexEncode(message_id), " from ", sender,
                     " was already received"));
  }
  return absl::OkStatus();
}

size_t InMemoryReplayCache::Sweep(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t removed = 0;
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (it->second <= now_ms) {
      it = seen_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

size_t InMemoryReplayCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

}  // namespace cbx::envelope
