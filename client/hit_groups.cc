#include "client/hit_groups.h"

#include <algorithm>
#include <map>
#include <utility>

namespace cbx::client {
namespace {

template <typename T>
void AddOnce(std::vector<T>& list, const T& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) {
    list.push_back(item);
  }
}

// Two matches are the same identifier seen the same way: the value (in
// normal form when known), the type and both windows.
bool SameMatch(const v1::HitMatch& a, const v1::HitMatch& b) {
  const std::string& av = a.normalized().empty() ? a.value() : a.normalized();
  const std::string& bv = b.normalized().empty() ? b.value() : b.normalized();
  return a.type() == b.type() && av == bv &&
         a.querier_from_ms() == b.querier_from_ms() &&
         a.querier_to_ms() == b.querier_to_ms() &&
         a.peer_from_ms() == b.peer_from_ms() &&
         a.peer_to_ms() == b.peer_to_ms() &&
         (!av.empty() || a.input_index() == b.input_index());
}

bool SameMatched(const v1::MatchedIdentifier& a,
                 const v1::MatchedIdentifier& b) {
  return a.type() == b.type() && a.input_index() == b.input_index() &&
         a.observed_from_ms() == b.observed_from_ms() &&
         a.observed_to_ms() == b.observed_to_ms();
}

}  // namespace

std::vector<HitGroup> GroupHits(const v1::ListHitsResponse& response) {
  std::vector<HitGroup> groups;
  std::map<std::pair<std::string, std::string>, size_t> by_key;
  for (const v1::Hit& hit : response.hits()) {
    const auto key = std::make_pair(hit.member(), hit.reference().case_token());
    auto [it, added] = by_key.emplace(key, groups.size());
    if (added) {
      HitGroup g;
      g.member = hit.member();
      g.case_token = hit.reference().case_token();
      g.reference = hit.reference();
      g.latest_received_ms = hit.received_at_ms();
      groups.push_back(std::move(g));
    }
    HitGroup& g = groups[it->second];
    if (hit.received_at_ms() > g.latest_received_ms) {
      g.latest_received_ms = hit.received_at_ms();
      g.reference = hit.reference();
    }
    AddOnce(g.case_numbers, hit.case_number());
    if (hit.watch_id().empty()) {
      AddOnce(g.query_ids, hit.query_id());
    } else {
      AddOnce(g.watch_ids, hit.watch_id());
    }
    g.disjoint |= hit.windows_overlap() == v1::WINDOWS_OVERLAP_DISJOINT;
    g.withdrawn_at_ms = std::max(g.withdrawn_at_ms, hit.withdrawn_at_ms());
    if (hit.matches().empty()) {
      for (const v1::MatchedIdentifier& mi : hit.reference().matched()) {
        const bool seen = std::any_of(
            g.legacy_matched.begin(), g.legacy_matched.end(),
            [&](const v1::MatchedIdentifier& o) { return SameMatched(o, mi); });
        if (!seen) g.legacy_matched.push_back(mi);
      }
    }
    for (const v1::HitMatch& m : hit.matches()) {
      const bool seen =
          std::any_of(g.matches.begin(), g.matches.end(),
                      [&](const v1::HitMatch& o) { return SameMatch(o, m); });
      if (!seen) g.matches.push_back(m);
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const HitGroup& a, const HitGroup& b) {
                     return a.latest_received_ms > b.latest_received_ms;
                   });
  return groups;
}

}  // namespace cbx::client
