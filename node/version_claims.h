// The claims a peer's Resolve replies make about its own index, checked
// against its later signed manifests (spec/threats.md §2.2).
//
// A hit whose signed Resolve reply names no case, at an index version newer
// than the querier's copy, is taken as withdrawn since the copy — the case
// was closed or amended — and shown as a miss. The reply's version is the
// peer's claim; a member probing queries could claim a newer version to make
// a phantom look like a closed case. Each such reply is kept here as a claim
// (the peer, the claimed version, the tags it names no case for) and settled
// by the peer's next index syncs:
//
//   - a copy of exactly the claimed version that still holds one of the
//     tags: the signed manifest of that version and the signed reply at the
//     same version contradict each other — broken;
//   - a copy of an older version, from a sync that began after the reply
//     arrived: the peer signed a manifest after its reply at a lower version
//     than the reply claimed, and versions never go back — broken;
//   - a copy of the claimed version or later without those tags: kept its
//     word — settled;
//   - a later version that holds a tag again: the case may have been closed
//     and a new one opened with the same identifier — undecidable, settled;
//   - a copy of another OPRF epoch: the tags are not comparable — settled.
//
// A broken claim is a phantom hit found late: the caller counts it and
// raises ALERT-phantom-hit with both pieces of evidence. Claims are kept in
// memory only (like HitStats), at most kMaxPerPeer per peer (the oldest
// dropped first) and for at most kMaxAgeMs.
//
// Threading: thread-safe (one mutex; every method is short).
#ifndef CBX_NODE_VERSION_CLAIMS_H_
#define CBX_NODE_VERSION_CLAIMS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "core/util/bytes.h"
#include "node/storage/storage.h"

namespace cbx::node {

class VersionClaims {
 public:
  static constexpr size_t kMaxPerPeer = 1024;
  static constexpr int64_t kMaxAgeMs = 24 * 3600 * 1000;

  struct Claim {
    std::string member;
    uint32_t oprf_epoch = 0;
    uint64_t copy_version = 0;     // the querier's copy the hits came from
    uint64_t claimed_version = 0;  // the reply's index_version
    std::vector<Tag> tags;         // the hits the reply named no case for
    int64_t received_at_ms = 0;    // when the reply arrived
    std::string query_id;
    Bytes reply_sha256;
  };
  struct Broken {
    Claim claim;
    uint64_t manifest_version = 0;  // the copy that contradicts it
    std::string why;
  };

  void Add(Claim claim);
  // Settles `copy.member`'s claims against `copy`, which a sync that began
  // at `sync_started_ms` (same clock as the claims) made or confirmed
  // current, and returns those it shows false. Claims older than kMaxAgeMs
  // at `now_ms` are dropped unsettled.
  std::vector<Broken> Check(const PeerIndex& copy, int64_t sync_started_ms,
                            int64_t now_ms);
  // Claims of `member` not yet settled.
  size_t Pending(const std::string& member) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Claim>> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_VERSION_CLAIMS_H_
