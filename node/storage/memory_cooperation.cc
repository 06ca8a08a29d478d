// MemoryStorage's cooperation records (storage.h, "Cooperation requests"):
// a vector in insertion order, searched linearly (unit tests hold few).
#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "node/storage/memory_storage.h"
#include "node/storage/page.h"

namespace cbx::node {

absl::StatusOr<StoredCase> MemoryStorage::GetCaseByTokenLocked(
    const Bytes& token) {
  for (const auto& [number, c] : cases_) {
    if (!token.empty() && c.record.case_token() == token) return c;
  }
  return absl::NotFoundError("no case has that token");
}

absl::Status MemoryStorage::PutCooperationLocked(
    const v1::CooperationRecord& r) {
  if (r.id().empty() ||
      r.direction() == v1::COOPERATION_DIRECTION_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "a cooperation record needs an id and a direction");
  }
  for (CooperationRow& row : cooperations_) {
    if (row.record.id() == r.id()) {
      // Its place in the listing is the first insertion's.
      const int64_t at = row.record.requested_at_ms();
      row.record = r;
      row.record.set_requested_at_ms(at);
      return absl::OkStatus();
    }
  }
  cooperations_.push_back({r, false});
  return absl::OkStatus();
}

absl::StatusOr<v1::CooperationRecord> MemoryStorage::GetCooperationLocked(
    const std::string& id) {
  for (const CooperationRow& row : cooperations_) {
    if (row.record.id() == id) return row.record;
  }
  return absl::NotFoundError(absl::StrCat("no cooperation request ", id));
}

absl::StatusOr<StoredCase> MemoryStorage::GetCaseByToken(const Bytes& token) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetCaseByTokenLocked(token);
}

absl::Status MemoryStorage::PutCooperation(const v1::CooperationRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  return PutCooperationLocked(r);
}

absl::StatusOr<v1::CooperationRecord> MemoryStorage::GetCooperation(
    const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetCooperationLocked(id);
}

absl::StatusOr<Page<v1::CooperationRecord>> MemoryStorage::ListCooperations(
    const CooperationFilter& filter, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimeIdCursor> after;
  if (!page.after.empty()) {
    absl::StatusOr<TimeIdCursor> parsed = ParseTimeIdCursor(page.after);
    if (!parsed.ok()) return parsed.status();
    after = *parsed;
  }
  std::vector<std::pair<TimeIdCursor, const v1::CooperationRecord*>> keyed;
  for (size_t i = 0; i < cooperations_.size(); ++i) {
    const CooperationRow& row = cooperations_[i];
    if (!filter.office.empty() && row.record.office() != filter.office) {
      continue;
    }
    if (filter.overdue_at_ms > 0 &&
        !CooperationOverdueAt(row.record, filter.overdue_at_ms)) {
      continue;
    }
    if (filter.unannounced_only && row.announced) continue;
    TimeIdCursor key{row.record.requested_at_ms(), static_cast<int64_t>(i) + 1};
    if (after.has_value() &&
        std::pair(key.time, key.id) >= std::pair(after->time, after->id)) {
      continue;
    }
    keyed.emplace_back(key, &row.record);
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.time, a.first.id) >
           std::pair(b.first.time, b.first.id);
  });
  Page<v1::CooperationRecord> out;
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (page.limit != 0 && out.items.size() == page.limit) {
      out.next = FormatTimeIdCursor(keyed[i - 1].first);
      break;
    }
    out.items.push_back(*keyed[i].second);
  }
  return out;
}

absl::Status MemoryStorage::MarkCooperationAnnounced(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (CooperationRow& row : cooperations_) {
    if (row.record.id() == id) {
      row.announced = true;
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("no cooperation request ", id));
}

}  // namespace cbx::node
