// Checkpoints of this node's own audit log (spec/audit-log.md): signing
// them on schedule, accepting the cosignatures witnesses return, and
// choosing the checkpoint auditors are shown. Also the names and keys
// checkpoints and cosignatures are made with, shared by witnessing
// (node/witnessing.h) and the Peer service.
//
// Node key rotation (spec/keys.md §4): a checkpoint is signed by every node
// key valid now (node/node_signing_keys.h), and after a switch the latest
// and the witnessed checkpoint get the new key's signature as well, so
// that what auditors and witnesses are shown verifies under either
// directory version.
//
// Threading model: no thread of its own; called from the background
// executor's checkpoint timer and from gRPC handlers (GetCheckpoint,
// AddCosignature, the auditor's calls). Thread-safe: signing and the
// witnessed-size record are serialized by one mutex.
#ifndef CBX_NODE_CHECKPOINTS_H_
#define CBX_NODE_CHECKPOINTS_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory/directory.h"
#include "core/note/verifier.h"
#include "node/node_context.h"

namespace cbx::node {

class Checkpoints {
 public:
  // Uses `context`'s audit log and trail, signing key, directory (the
  // witness threshold and witnesses' keys), storage (the witnessed size)
  // and config (checkpoint_every_entries). Must outlive this.
  explicit Checkpoints(NodeContext* context) : ctx_(context) {}

  // Signs a checkpoint of this node's log if it grew since the last one and
  // `force` or at least `every_entries` entries were added. OK if nothing
  // was due; the audit log's error (DATA_LOSS for a damaged log) otherwise.
  absl::Status MaybeCheckpoint(bool force);

  // Peer.AddCosignature: verifies the cosignature `witness` appended to one
  // of this node's stored checkpoints and stores it. Returns the number of
  // cosignatures that checkpoint now has. INVALID_ARGUMENT for a note that
  // is not one of this log's checkpoints word for word; UNAUTHENTICATED if
  // no valid cosignature of `witness` is on it. With `changed`, says
  // whether the stored checkpoint gained a line (false for a cosignature it
  // already held).
  absl::StatusOr<uint32_t> AcceptCosignature(const std::string& witness,
                                             const std::string& note,
                                             bool* changed = nullptr);

  // The checkpoint auditors are shown: the newest one with at least the
  // policy's witness_threshold cosignatures, or, while none is, the newest
  // one (signing a first checkpoint if the log has none).
  absl::StatusOr<std::string> BestCheckpoint();

 private:
  // Adds to the stored checkpoint of `size` the signature of each of
  // `signers` it lacks (a key switched to since it was signed). NOT_FOUND if
  // no checkpoint of that size is stored.
  absl::Status AddMissingSignatures(
      uint64_t size,
      const std::vector<std::shared_ptr<const crypto::Signer>>& signers);

  NodeContext* ctx_;
  std::mutex checkpoint_mu_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CHECKPOINTS_H_
