// Checkpoints and witnessing (spec/audit-log.md): this node signs
// checkpoints of its own audit log, and acts as a witness for every peer's
// log — it fetches the peer's latest checkpoint, checks its signature and
// its consistency with the last checkpoint of that log it cosigned, and
// returns a cosignature. An inconsistent checkpoint is refused, kept as
// evidence once, and raised as an alert in the node's log once; the alert
// stays visible to operators (Office.ListPeers) until the peer's log is
// consistent again with what this node cosigned. Thread-safe.
#ifndef CBX_NODE_WITNESS_H_
#define CBX_NODE_WITNESS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"
#include "node/node_context.h"
#include "node/peer_clients.h"

namespace cbx::node {

// "cbx/<CC>/audit": the origin of a member's log and its key name.
std::string AuditOrigin(const std::string& member);
// "cbx/<CC>/witness": the key name of a member's cosignatures.
std::string WitnessName(const std::string& member);
// Verifiers for every node key `member` has in `dir`, under `name`.
std::vector<note::Verifier> MemberVerifiers(const directory::Directory& dir,
                                            const std::string& member,
                                            const std::string& name,
                                            note::SignatureType type);

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

class Witness {
 public:
  Witness(NodeContext* context, PeerClients* peers)
      : ctx_(context), peers_(peers) {}

  // Signs a checkpoint of this node's log if it grew since the last one and
  // `force` or at least `every_entries` entries were added.
  absl::Status MaybeCheckpoint(bool force);

  // One witnessing round with `member`: returns OK after cosigning (or if
  // there is nothing new), DATA_LOSS for an inconsistent checkpoint.
  absl::Status WitnessPeer(const std::string& member);
  // This node's witnessing state for `member`, from storage.
  absl::StatusOr<WitnessedPeer> Describe(const std::string& member);
  // WitnessPeer for every active peer, one after another.
  void RoundAll();

  // Peer.AddCosignature: verifies the cosignature `witness` appended to one
  // of this node's stored checkpoints and stores it. Returns the number of
  // cosignatures that checkpoint now has.
  absl::StatusOr<uint32_t> AcceptCosignature(const std::string& witness,
                                             const std::string& note);

  // The checkpoint auditors are shown: the newest one with at least the
  // policy's witness_threshold cosignatures, or, while none is, the newest
  // one (signing a first checkpoint if the log has none).
  absl::StatusOr<std::string> BestCheckpoint();

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
      v1::Peer::Stub& stub, const std::string& member, uint64_t since_size);
  // Keeps the evidence of a refused checkpoint and raises the alert, both
  // once per distinct checkpoint; returns `reason`.
  absl::Status Refuse(const std::string& member, const Cosigned& last,
                      const v1::GetCheckpointResponse& served,
                      const note::Checkpoint& refused, absl::Status reason);
  // Closes the alert about `member`, if one is open: its log is consistent
  // again with the checkpoint this node cosigned.
  absl::Status CloseAlert(const std::string& member);

  NodeContext* ctx_;
  PeerClients* peers_;
  std::mutex checkpoint_mu_;
  std::mutex round_mu_;
  // Per peer, the failure last logged as witness-failed (guarded by
  // round_mu_).
  std::map<std::string, std::string> last_failure_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_WITNESS_H_
