#include "node/peer_endpoints.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/log.h"

namespace cbx::node {

std::vector<std::string> MemberEndpoints(const v1::Member& m) {
  std::vector<std::string> out{m.endpoint()};
  out.insert(out.end(), m.standby_endpoints().begin(),
             m.standby_endpoints().end());
  return out;
}

bool IsStandbyRefusal(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable &&
         absl::StartsWith(s.message(), "standby:");
}

std::vector<std::string> PeerEndpointsInUse::Order(
    const std::string& member, std::vector<std::string> endpoints) const {
  const std::string in_use = InUse(member);
  auto it = std::find(endpoints.begin(), endpoints.end(), in_use);
  if (it != endpoints.end()) std::rotate(endpoints.begin(), it, it + 1);
  return endpoints;
}

void PeerEndpointsInUse::Answered(const std::string& self,
                                  const std::string& member,
                                  const std::string& endpoint,
                                  bool first_listed) {
  std::string from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string& current = in_use_[member];
    if (current == endpoint) return;
    from = std::exchange(current, endpoint);
  }
  // The directory's endpoint answering first is the ordinary case; any
  // other change is what an operator watching a pair wants to see.
  if (from.empty() && first_listed) return;
  LogEvent(self, "info", "peer-endpoint-changed",
           {{"member", member}, {"from", from}, {"to", endpoint}});
}

std::string PeerEndpointsInUse::InUse(const std::string& member) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_use_.find(member);
  return it == in_use_.end() ? std::string() : it->second;
}

bool IsAnswer(const absl::Status& s) {
  // Not an answer, but never retried elsewhere either: the call may have
  // run at the endpoint without its answer coming back.
  return s.code() != absl::StatusCode::kUnavailable &&
         s.code() != absl::StatusCode::kDeadlineExceeded &&
         s.code() != absl::StatusCode::kCancelled;
}

EndpointsOutcome CallEndpoints(const std::string& member,
                               const std::vector<std::string>& endpoints,
                               int64_t budget_ms, const EndpointOps& ops) {
  const int64_t deadline = ops.now_ms() + std::max<int64_t>(budget_ms, 0);
  std::vector<std::string> failures;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const int64_t left = deadline - ops.now_ms();
    if (left <= 0) break;
    const auto remaining = static_cast<int64_t>(endpoints.size() - i);
    absl::Status connected = ops.connect(i, left / remaining);
    if (!connected.ok()) {
      failures.push_back(absl::StrCat(endpoints[i], ": ", connected.message()));
      continue;
    }
    absl::Status s = ops.call(i, deadline - ops.now_ms());
    if (IsStandbyRefusal(s)) {
      failures.push_back(absl::StrCat(endpoints[i], ": ", s.message()));
      continue;
    }
    return {s, IsAnswer(s) ? static_cast<int>(i) : -1};
  }
  const std::string why = absl::StrCat(member, ": no endpoint took the call (",
                                       absl::StrJoin(failures, "; "), ")");
  if (ops.now_ms() >= deadline) return {absl::DeadlineExceededError(why), -1};
  return {absl::UnavailableError(why), -1};
}

}  // namespace cbx::node
