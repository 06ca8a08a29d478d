// Checkpoints and witnessing (spec/audit-log.md): this node signs
// checkpoints of its own audit log, and acts as a witness for every peer's
// log — it fetches the peer's latest checkpoint, checks its signature and
// its consistency with the last checkpoint of that log it cosigned, and
// returns a cosignature. An inconsistent checkpoint is refused, kept as
// evidence, and raised as an alert in the node's log. Thread-safe.
#ifndef CBX_NODE_WITNESS_H_
#define CBX_NODE_WITNESS_H_

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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
  NodeContext* ctx_;
  PeerClients* peers_;
  std::mutex checkpoint_mu_;
  std::mutex round_mu_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_WITNESS_H_
