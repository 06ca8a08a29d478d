// MemoryStorage's bounded deletes for the retention sweep (storage.h,
// "Retention"). Each checks, then fails whole if a test armed
// FailNextCommit, then changes the state and writes `then`'s settings.
#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/memory_storage.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

absl::Status CheckLimit(size_t limit) {
  if (limit == 0) return absl::InvalidArgumentError("a batch limit of 0");
  return absl::OkStatus();
}

// Erases from `rows` (in insertion order) the at most `limit` oldest by
// `time` whose time is < before; of equal times the one added first goes
// first, as the SQLite backend's (time, id) order.
template <typename Row, typename TimeOf>
int64_t EraseOldest(std::vector<Row>& rows, int64_t before, size_t limit,
                    TimeOf time) {
  std::vector<size_t> due;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (time(rows[i]) < before) due.push_back(i);
  }
  std::stable_sort(due.begin(), due.end(), [&](size_t a, size_t b) {
    return time(rows[a]) < time(rows[b]);
  });
  if (due.size() > limit) due.resize(limit);
  std::vector<bool> erase(rows.size(), false);
  for (size_t i : due) erase[i] = true;
  std::vector<Row> kept;
  kept.reserve(rows.size() - due.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!erase[i]) kept.push_back(std::move(rows[i]));
  }
  rows = std::move(kept);
  return static_cast<int64_t>(due.size());
}

}  // namespace

absl::StatusOr<int64_t> MemoryStorage::DeleteHitsBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  const int64_t n = EraseOldest(hits_, before_ms, limit, [](const v1::Hit& h) {
    return h.received_at_ms();
  });
  for (const auto& [key, value] : then(n)) settings_[key] = value;
  return n;
}

absl::StatusOr<int64_t> MemoryStorage::DeleteNotificationsBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  const int64_t n =
      EraseOldest(notifications_, before_ms, limit,
                  [](const v1::Notification& x) { return x.at_ms(); });
  for (const auto& [key, value] : then(n)) settings_[key] = value;
  return n;
}

absl::StatusOr<int64_t> MemoryStorage::DeleteWithdrawnReferencesBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  const int64_t n = withdrawals_.DeleteReferencesBefore(before_ms, limit);
  for (const auto& [key, value] : then(n)) settings_[key] = value;
  return n;
}

absl::StatusOr<int64_t> MemoryStorage::DeleteEndedWithdrawalsBefore(
    int64_t before_ms, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  const int64_t n = withdrawals_.DeleteEndedBefore(before_ms, limit);
  for (const auto& [key, value] : then(n)) settings_[key] = value;
  return n;
}

absl::StatusOr<int64_t> MemoryStorage::DeleteExpiredMessageIds(
    int64_t now_ms, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  std::vector<std::pair<int64_t, std::pair<std::string, Bytes>>> due;
  for (const auto& [key, expires] : replay_) {
    if (expires < now_ms) due.emplace_back(expires, key);
  }
  std::sort(due.begin(), due.end());
  if (due.size() > limit) due.resize(limit);
  for (const auto& [unused, key] : due) replay_.erase(key);
  const int64_t n = static_cast<int64_t>(due.size());
  for (const auto& [key, value] : then(n)) settings_[key] = value;
  return n;
}

absl::StatusOr<Storage::PurgeProgress> MemoryStorage::PurgeClosedCases(
    int64_t closed_before_ms, const PageRequest& page,
    const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(page.limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  PurgeProgress progress;
  size_t seen = 0;
  auto it =
      page.after.empty() ? cases_.begin() : cases_.upper_bound(page.after);
  for (; it != cases_.end() && seen < page.limit; ++it) {
    StoredCase& c = it->second;
    if (IsOpen(c.record)) continue;
    ++seen;
    progress.next = it->first;
    if (c.record.updated_at_ms() >= closed_before_ms) continue;
    if (c.identifiers.empty() && c.record.identifiers().empty()) continue;
    c.identifiers.clear();
    c.record.clear_identifiers();
    ++progress.purged;
  }
  // Ran off the end: every closed case was looked at.
  if (it == cases_.end()) progress.next.clear();
  for (const auto& [key, value] : then(progress.purged)) settings_[key] = value;
  return progress;
}

absl::StatusOr<int64_t> MemoryStorage::CompactIndexChangesBounded(
    uint64_t through, size_t limit, const AfterDelete& then) {
  RETURN_IF_ERROR(CheckLimit(limit));
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(std::exchange(next_commit_, absl::OkStatus()));
  const uint64_t target = std::min(through, version_);
  int64_t n = 0;
  if (target > compacted_through_) {
    const uint64_t point =
        std::min<uint64_t>(target, compacted_through_ + limit);
    n = static_cast<int64_t>(std::erase_if(
        changes_, [&](const IndexChange& c) { return c.version <= point; }));
    compacted_through_ = point;
  }
  for (const auto& [key, value] : then(n)) settings_[key] = value;
  return n;
}

}  // namespace cbx::node
