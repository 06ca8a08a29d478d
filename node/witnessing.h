// Witnessing peers' audit logs (spec/audit-log.md): this node fetches each
// peer's latest checkpoint, checks its signature and its consistency with
// the last checkpoint of that log it cosigned, and returns a cosignature.
// An inconsistent checkpoint is refused (DATA_LOSS), kept as evidence once,
// and raised as an alert in the node's log once; the alert stays visible to
// operators (Describe, shown by Office.ListPeers) until the peer's log is
// consistent again with what this node cosigned.
//
// Threading model: no thread of its own; RoundAll runs on the background
// executor's witness timer (peers one after another, each call bounded by
// its budget), Describe on gRPC handlers. Thread-safe: rounds are
// serialized by a mutex, everything else is in storage.
#ifndef CBX_NODE_WITNESSING_H_
#define CBX_NODE_WITNESSING_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/peer.pb.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"
#include "node/checkpoints.h"
#include "node/node_context.h"
#include "node/peer_transport.h"

namespace cbx::node {

// What this node's witnessing of one peer's log shows its operators.
struct WitnessedPeer {
  // The last checkpoint of the peer's log this node cosigned: its tree size,
  // and when this node cosigned it (Unix ms). 0 for none; the time is also 0
  // for a checkpoint cosigned before nodes recorded the time.
  uint64_t cosigned_size = 0;
  int64_t cosigned_at_ms = 0;
  // Empty unless this node refuses the peer's checkpoints as inconsistent
  // with that one: then why, and since when.
  std::string alert;
};

// The witness's whole rule for a checkpoint `now` of `member`'s log, served
// with `proof` from size `asked`, against `cosigned`, the last checkpoint of
// that log this node cosigned (null for none). True: cosign it; false: it
// is the cosigned checkpoint again (nothing new, nothing wrong); DATA_LOSS
// naming the fault: the log shrank, forked at the same size, or the proof
// does not show `now` extends `cosigned`; UNAVAILABLE: the peer signed a
// newer checkpoint between the two fetches, ask again next round.
absl::StatusOr<bool> CheckAgainstCosigned(const std::string& member,
                                          const note::Checkpoint* cosigned,
                                          const note::Checkpoint& now,
                                          uint64_t asked,
                                          const std::vector<Bytes>& proof);

class Witnessing {
 public:
  // Uses `context` for this node's identity and signing key (cosignatures),
  // directory (peers' keys), clock, storage (what was cosigned, alerts,
  // evidence) and audit trail; asks peers through `transport`. Both must
  // outlive this.
  Witnessing(NodeContext* context, PeerTransport* transport)
      : ctx_(context), transport_(transport) {}

  // One witnessing round with `member`: returns OK after cosigning (or if
  // there is nothing new), DATA_LOSS for an inconsistent checkpoint, the
  // transport's error (UNAVAILABLE, DEADLINE_EXCEEDED, ...) otherwise.
  absl::Status WitnessPeer(const std::string& member);
  // This node's witnessing state for `member`, from storage.
  absl::StatusOr<WitnessedPeer> Describe(const std::string& member);
  // WitnessPeer for every active peer, one after another.
  void RoundAll();

 private:
  // The last checkpoint of a peer's log this node cosigned.
  struct Cosigned {
    // The signed note: the peer's signature and this node's cosignature.
    // Only the checkpoint text for one stored by an older node.
    std::string note;
    note::Checkpoint checkpoint;
    int64_t at_ms = 0;  // 0 if unknown
  };
  // An open alert about a peer's log (see Refuse).
  struct Alert {
    int64_t since_ms = 0;  // the first refusal
    std::string reason;    // of the first refusal
    uint64_t refused = 0;  // distinct checkpoints refused since
    uint64_t latest_size = 0;
  };

  absl::StatusOr<std::optional<Cosigned>> LoadCosigned(
      const std::string& member);
  absl::StatusOr<std::optional<Alert>> LoadAlert(const std::string& member);
  // Peer.GetCheckpoint from `since_size`, logged as SENT.
  absl::StatusOr<v1::GetCheckpointResponse> FetchCheckpoint(
      const std::string& member, uint64_t since_size);
  // Cosigns the verified checkpoint `text`, hands the cosignature to
  // `member` and stores the note as the last one cosigned.
  absl::Status Cosign(const std::string& member, const std::string& text,
                      const std::string& served_note);
  // Keeps the evidence of a refused checkpoint and raises the alert, both
  // once per distinct checkpoint; returns `reason`.
  absl::Status Refuse(const std::string& member, const Cosigned& last,
                      const v1::GetCheckpointResponse& served,
                      const note::Checkpoint& refused, absl::Status reason);
  // The directory `dir` names generation keys.generation of `member`'s log
  // while `last` is of an older one: keeps `last` as that generation's,
  // forgets it as the log's latest (the next round starts from empty),
  // closes an open alert, and logs one witness-log-recovered event (level
  // warn if `last` lies beyond the predecessor: entries it saw are lost).
  absl::Status FollowNewGeneration(const std::string& member,
                                   const logcheck::LogKeys& keys,
                                   const directory::Directory& dir,
                                   const Cosigned& last);
  // Closes the alert about `member`, if one is open: its log is consistent
  // again with the checkpoint this node cosigned.
  absl::Status CloseAlert(const std::string& member);

  NodeContext* ctx_;
  PeerTransport* transport_;
  std::mutex round_mu_;
  // Per peer, the failure last logged as witness-failed.
  std::map<std::string, std::string> last_failure_ ABSL_GUARDED_BY(round_mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_WITNESSING_H_
