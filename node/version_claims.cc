#include "node/version_claims.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cbx::node {
namespace {

bool Holds(const PeerIndex& copy, Tag tag) {
  return std::binary_search(copy.tags.begin(), copy.tags.end(), tag);
}

// Why `copy` shows `claim` false, or "" if it does not (yet).
std::string Contradiction(const VersionClaims::Claim& claim,
                          const PeerIndex& copy, int64_t sync_started_ms) {
  if (copy.version == claim.claimed_version) {
    size_t held = 0;
    for (Tag tag : claim.tags) held += Holds(copy, tag) ? 1 : 0;
    if (held == 0) return "";
    return absl::StrCat(claim.member, "'s signed index at version ",
                        copy.version, " holds ", held, " of the ",
                        claim.tags.size(),
                        " tags its signed Resolve reply at that same version "
                        "names no case for");
  }
  if (copy.version < claim.claimed_version &&
      sync_started_ms > claim.received_at_ms) {
    return absl::StrCat(
        claim.member, "'s Resolve reply claimed index version ",
        claim.claimed_version, ", but the manifest it signed afterwards is of ",
        "version ", copy.version,
        "; versions never go back (unless its node.db was put back from an "
        "older backup)");
  }
  return "";
}

}  // namespace

void VersionClaims::Add(Claim claim) {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<Claim>& claims = pending_[claim.member];
  if (claims.size() >= kMaxPerPeer) claims.pop_front();
  claims.push_back(std::move(claim));
}

std::vector<VersionClaims::Broken> VersionClaims::Check(const PeerIndex& copy,
                                                        int64_t sync_started_ms,
                                                        int64_t now_ms) {
  std::vector<Broken> broken;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(copy.member);
  if (it == pending_.end()) return broken;
  std::deque<Claim> kept;
  for (Claim& claim : it->second) {
    if (now_ms - claim.received_at_ms > kMaxAgeMs ||
        claim.oprf_epoch != copy.oprf_epoch) {
      continue;  // expired, or not comparable: dropped unsettled
    }
    std::string why = Contradiction(claim, copy, sync_started_ms);
    if (!why.empty()) {
      broken.push_back({std::move(claim), copy.version, std::move(why)});
    } else if (copy.version < claim.claimed_version) {
      kept.push_back(std::move(claim));  // the peer's sync has not caught up
    }
    // Otherwise the copy reached the claimed version without contradiction,
    // or moved past it: settled.
  }
  if (kept.empty()) {
    pending_.erase(it);
  } else {
    it->second = std::move(kept);
  }
  return broken;
}

size_t VersionClaims::Pending(const std::string& member) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(member);
  return it == pending_.end() ? 0 : it->second.size();
}

}  // namespace cbx::node
