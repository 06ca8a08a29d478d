#include "node/storage/memory_withdrawals.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace cbx::node {
namespace {

absl::Status CheckKey(const Bytes& token, const std::string& member) {
  if (token.empty() || member.empty()) {
    return absl::InvalidArgumentError(
        "a withdrawal needs a case token and a member");
  }
  return absl::OkStatus();
}

absl::Status NotQueued(const std::string& member) {
  return absl::NotFoundError(
      absl::StrCat("no withdrawal to ", member, " is queued"));
}

}  // namespace

absl::Status MemoryWithdrawals::Queue(const QueuedWithdrawal& w) {
  if (absl::Status s = CheckKey(w.case_token, w.member); !s.ok()) return s;
  if (!queued_.emplace(std::pair(w.case_token, w.member), w).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("a withdrawal to ", w.member, " is already queued"));
  }
  return absl::OkStatus();
}

absl::Status MemoryWithdrawals::Update(const QueuedWithdrawal& w) {
  auto it = queued_.find(std::pair(w.case_token, w.member));
  if (it == queued_.end()) return NotQueued(w.member);
  it->second = w;
  return absl::OkStatus();
}

absl::StatusOr<QueuedWithdrawal> MemoryWithdrawals::Get(
    const Bytes& token, const std::string& member) const {
  auto it = queued_.find(std::pair(token, member));
  if (it == queued_.end()) return NotQueued(member);
  return it->second;
}

std::vector<QueuedWithdrawal> MemoryWithdrawals::Due(int64_t now_ms,
                                                     size_t limit) const {
  std::vector<QueuedWithdrawal> out;
  for (const auto& [key, w] : queued_) {
    if (w.next_attempt_ms > 0 && (now_ms < 0 || w.next_attempt_ms <= now_ms)) {
      out.push_back(w);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.next_attempt_ms, a.member) <
           std::tie(b.next_attempt_ms, b.member);
  });
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

std::vector<QueuedWithdrawal> MemoryWithdrawals::List() const {
  std::vector<QueuedWithdrawal> out;
  for (const auto& [key, w] : queued_) out.push_back(w);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.queued_at_ms, a.case_token, a.member) <
           std::tie(b.queued_at_ms, b.case_token, b.member);
  });
  return out;
}

absl::StatusOr<WithdrawnReference> MemoryWithdrawals::GetReference(
    const std::string& member, const Bytes& token) const {
  auto it = references_.find(std::pair(member, token));
  if (it == references_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no reference of ", member, " was withdrawn"));
  }
  return it->second;
}

absl::Status MemoryWithdrawals::PutReference(const WithdrawnReference& w) {
  if (absl::Status s = CheckKey(w.case_token, w.member); !s.ok()) return s;
  references_[std::pair(w.member, w.case_token)] = w;
  return absl::OkStatus();
}

std::vector<WithdrawnReference> MemoryWithdrawals::ReferencesDue(
    int64_t now_ms, size_t limit) const {
  std::vector<WithdrawnReference> out;
  for (const auto& [key, w] : references_) {
    if (w.deleted_at_ms == 0 && w.kept_until_ms > 0 &&
        w.kept_until_ms <= now_ms) {
      out.push_back(w);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.kept_until_ms, a.member) <
           std::tie(b.kept_until_ms, b.member);
  });
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

namespace {

// Erases from `rows` the at most `limit` entries `due` picks, the smallest
// time(row) first (ties in key order, as the SQLite backend's ORDER BY).
template <typename Map, typename Due, typename TimeOf>
int64_t EraseOldestOf(Map& rows, size_t limit, Due due, TimeOf time) {
  std::vector<typename Map::iterator> picked;
  for (auto it = rows.begin(); it != rows.end(); ++it) {
    if (due(it->second)) picked.push_back(it);
  }
  std::stable_sort(picked.begin(), picked.end(), [&](auto a, auto b) {
    return time(a->second) < time(b->second);
  });
  if (picked.size() > limit) picked.resize(limit);
  for (auto it : picked) rows.erase(it);
  return static_cast<int64_t>(picked.size());
}

}  // namespace

int64_t MemoryWithdrawals::DeleteReferencesBefore(int64_t before_ms,
                                                  size_t limit) {
  return EraseOldestOf(
      references_, limit,
      [&](const WithdrawnReference& w) {
        return w.deleted_at_ms != 0 && w.withdrawn_at_ms < before_ms;
      },
      [](const WithdrawnReference& w) { return w.withdrawn_at_ms; });
}

int64_t MemoryWithdrawals::DeleteEndedBefore(int64_t before_ms, size_t limit) {
  return EraseOldestOf(
      queued_, limit,
      [&](const QueuedWithdrawal& w) {
        return w.next_attempt_ms == 0 && w.queued_at_ms < before_ms;
      },
      [](const QueuedWithdrawal& w) { return w.queued_at_ms; });
}

int64_t WithdrawHitsIn(std::vector<v1::Hit>& hits, const std::string& member,
                       const Bytes& case_token, int64_t withdrawn_at_ms,
                       v1::WithdrawalReason reason, bool delete_reference) {
  int64_t matched = 0;
  for (v1::Hit& hit : hits) {
    if (hit.member() != member || hit.reference().case_token() != case_token) {
      continue;
    }
    ++matched;
    if (hit.withdrawn_at_ms() == 0) {
      hit.set_withdrawn_at_ms(withdrawn_at_ms);
      hit.set_withdrawal_reason(reason);
    }
    if (delete_reference) {
      v1::CaseReference kept;
      kept.set_case_token(case_token);
      *hit.mutable_reference() = std::move(kept);
    }
  }
  return matched;
}

std::vector<std::string> MembersNotifiedOfIn(
    const std::vector<v1::Notification>& notifications,
    const std::string& case_number) {
  std::set<std::string> members;
  for (const v1::Notification& n : notifications) {
    if (n.case_number() == case_number) members.insert(n.from_member());
  }
  return {members.begin(), members.end()};
}

}  // namespace cbx::node
