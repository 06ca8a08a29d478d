// The federation policy's caps on a member (spec/directory.md §2,
// spec/threats.md), with the defaults that apply when a directory leaves a
// cap at 0 (directories written before the caps existed). Every reader of a
// cap goes through these, so the default is decided in one place.
#ifndef CBX_CORE_DIRECTORY_POLICY_H_
#define CBX_CORE_DIRECTORY_POLICY_H_

#include <cstdint>

#include "cbx/v1/directory.pb.h"

namespace cbx::directory {

inline constexpr uint32_t kDefaultMaxIndexTags = 1u << 20;          // 1,048,576
inline constexpr uint32_t kDefaultMaxIndexGrowthPerDay = 1u << 16;  // 65,536
inline constexpr uint32_t kDefaultResolvesPerPeerPerDay = 10'000;

// Largest index (tags) a member may publish.
inline uint32_t MaxIndexTags(const v1::Policy& p) {
  return p.max_index_tags() != 0 ? p.max_index_tags() : kDefaultMaxIndexTags;
}
// Largest growth of a member's index in one UTC day, in tags.
inline uint32_t MaxIndexGrowthPerDay(const v1::Policy& p) {
  return p.max_index_growth_per_day() != 0 ? p.max_index_growth_per_day()
                                           : kDefaultMaxIndexGrowthPerDay;
}
// Resolve outputs one member may send another per UTC day.
inline uint32_t ResolvesPerPeerPerDay(const v1::Policy& p) {
  return p.resolves_per_peer_per_day() != 0 ? p.resolves_per_peer_per_day()
                                            : kDefaultResolvesPerPeerPerDay;
}

}  // namespace cbx::directory

#endif  // CBX_CORE_DIRECTORY_POLICY_H_
