// Lookup as the responder (spec/lookup.md, spec/index-sync.md): what this
// node answers to another member's admitted envelope — an evaluation of
// blinded elements, a resolution of finalized outputs into case references,
// and its own tag index (whole, or the changes since a version).
//
// Every method takes an envelope that has passed the seven envelope checks
// (PeerService admits it, node/admission.h), and logs the exchange before
// it returns: the request's RECEIVED entry with the outcome and, when it
// answers, the reply's SENT entry, in one append (spec/audit-log.md §2.5,
// log before answer). If that append fails the method returns AuditFailure
// (UNAVAILABLE, or DATA_LOSS for a damaged log) instead of the answer.
// Resolve's inbox notifications follow log before effect (§2.10): they are
// stored in the storage transaction that appends the exchange, so an
// office never sees a notification of an exchange the log does not hold.
//
// Threading: thread-safe. Evaluate and SyncIndex run concurrently; Resolve
// runs its storage work and append inside the storage's write transaction.
// The own-index snapshot is computed once per index version, under a
// mutex.
#ifndef CBX_NODE_LOOKUP_RESPONDER_H_
#define CBX_NODE_LOOKUP_RESPONDER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/peer.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/directory/directory_state.h"
#include "core/envelope/envelope.h"
#include "core/util/clock.h"
#include "node/audit_trail.h"
#include "node/node_signing_keys.h"
#include "node/oprf_keys.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Largest batch one EvaluateRequest or ResolveRequest may carry.
inline constexpr int kMaxBatch = 1024;
// Tags per IndexChunk of a SyncIndex stream (512 KiB of tags).
inline constexpr size_t kTagsPerChunk = 65536;

// The row of the quotas table (Storage::ChargeQuota) that counts the
// Resolve outputs `sender` sent this node per UTC day; the evaluation quota
// is the row named by the bare member code, which never holds a '/'.
inline std::string ResolveQuotaAccount(const std::string& sender) {
  return sender + "/resolve";
}

// The stateless checks of an evaluate request (spec/lookup.md §3) after
// its epoch (LookupResponder::CheckEpoch), in order: it holds 1 to
// kMaxBatch elements; and, with `decode_points`, each is a compressed P-256
// point (INVALID_ARGUMENT naming the element). They come before the quota
// charge: PeerService runs them (with the purpose's and the epoch's) as the
// quota gate's precheck.
absl::Status CheckEvaluateRequest(const v1::EvaluateRequest& req,
                                  bool decode_points);
// The same checks with the points decoded, kept for
// LookupResponder::Evaluate so that they are not decoded twice.
absl::StatusOr<crypto::DecodedBatch> DecodeEvaluateRequest(
    const v1::EvaluateRequest& req);

// The own index at one version.
struct OwnIndexSnapshot {
  uint64_t version = 0;
  std::vector<Tag> tags;  // ascending
  Bytes digest;           // IndexDigest(tags)
};

// What SyncIndex answers: the signed manifest, then chunks of tags.
struct IndexAnswer {
  v1::IndexPart manifest;  // the first part: the sealed IndexManifest
  bool full = true;
  std::shared_ptr<const OwnIndexSnapshot> snapshot;
  std::vector<Tag> added;    // a delta's added tags (full: unused)
  std::vector<Tag> removed;  // a delta's removed tags

  // The tags sent: the whole snapshot, or the delta's additions.
  const std::vector<Tag>& TagsToSend() const {
    return full ? snapshot->tags : added;
  }
  // Calls `write` with each chunk part after the manifest, in order (at
  // least one if anything is removed); false if `write` returned false.
  bool WriteChunks(
      const std::function<bool(const v1::IndexPart&)>& write) const;
};

class LookupResponder {
 public:
  // Everything the responder reads; each pointee must outlive it.
  struct Deps {
    std::string self;  // this member's code
    const directory::DirectoryState* directory = nullptr;
    // The key for every request (no rotation), when `oprf_keys` is null.
    const crypto::OprfServerKey* oprf_key = nullptr;
    // The node's keys across a rotation (spec/oprf.md §2); when given, it
    // decides which key answers which epoch (OprfKeys::ForEpoch).
    const OprfKeys* oprf_keys = nullptr;
    const NodeSigningKeys* signing_keys = nullptr;
    Storage* storage = nullptr;
    AuditTrail* trail = nullptr;
    const Clock* clock = nullptr;
  };
  explicit LookupResponder(Deps deps) : d_(std::move(deps)) {}

  // Peer.Evaluate: BlindEvaluate of the request's batch with one DLEQ
  // proof, sealed as the reply. The key is the request's epoch's
  // (KeyFor): FAILED_PRECONDITION for an OPRF epoch that is not this
  // member's current one nor the previous one within the grace window,
  // UNAVAILABLE for the directory's new epoch before the switch to it;
  // INVALID_ARGUMENT for an empty batch,
  // one over kMaxBatch, or an element that is not a point.
  // `decoded`, if given, is the request's batch as the quota gate's
  // precheck decoded it (DecodeEvaluateRequest); used if it holds the
  // request's elements.
  absl::StatusOr<v1::Envelope> Evaluate(
      const envelope::OpenedEnvelope& opened,
      const crypto::DecodedBatch* decoded = nullptr);

  // Peer.Resolve: the references of the open cases that hold one of the
  // request's finalized outputs y, each with the matched identifiers'
  // types, windows and input indexes, and the own index version they were
  // found at (index_version, read in the same transaction); and, for each
  // such case, a notification in this node's inbox naming the asking
  // member, office and purpose (stored only with the exchange's entry: log
  // before effect). The request's outputs are charged to the sender's
  // daily Resolve quota (policy resolves_per_peer_per_day) in that same
  // transaction. INVALID_ARGUMENT for an empty batch, one over kMaxBatch,
  // an output that is not 32 bytes (an 8-byte index tag lands here) or an
  // output that repeats an earlier one ("outputs[j] repeats outputs[i]");
  // the epoch as Evaluate's (the previous epoch's outputs, within the grace
  // window, resolve through Storage::TranslatePreviousOutputs);
  // RESOURCE_EXHAUSTED past the
  // quota (nothing charged, stored or notified). Each refusal is logged.
  // Refused requests charge nothing.
  absl::StatusOr<v1::Envelope> Resolve(const envelope::OpenedEnvelope& opened);

  // Peer.SyncIndex: the manifest of the own index (member, epoch, version,
  // count, digest) and, when the caller holds this epoch's index at a
  // version whose changes are still kept, the delta since it (the last
  // change of each tag wins); otherwise the whole index. The index is
  // always the served (current) epoch's: UNAVAILABLE for the directory's
  // new epoch before the switch, FAILED_PRECONDITION for the previous
  // epoch after it (its tags are never served again). An answer that would
  // hold the whole index is first put to `may_send_whole` (when set):
  // false refuses the call RESOURCE_EXHAUSTED, logged as any refusal.
  absl::StatusOr<IndexAnswer> SyncIndex(
      const envelope::OpenedEnvelope& opened,
      const std::function<bool()>& may_send_whole = nullptr);

  // The own index at its current version, computed once per version.
  absl::StatusOr<std::shared_ptr<const OwnIndexSnapshot>> Snapshot();

  // This member's OPRF epoch in the current directory (0 if not a member).
  uint32_t OprfEpoch() const;
  // The epoch this node serves: the current key's (OprfKeys::epoch), or the
  // directory's without `oprf_keys`.
  uint32_t ServedEpoch() const;
  // Whether a request naming `epoch` may be evaluated now (KeyFor's
  // answer, without the key): the first stateless check of Evaluate and
  // Resolve, run before the quota charge.
  absl::Status CheckEpoch(uint32_t epoch) const {
    return KeyFor(epoch).status();
  }

 private:
  // Logs the exchange (the request with `status`'s code and `counts`, and
  // `reply` if given) and returns `status`, or AuditFailure.
  absl::Status Answer(std::string_view rpc,
                      const envelope::OpenedEnvelope& opened,
                      const absl::Status& status, const AuditCounts& counts,
                      const v1::Envelope* reply);
  // Charges `outputs` to `sender`'s Resolve quota for today (UTC) in
  // `txn`; RESOURCE_EXHAUSTED (nothing charged) past the policy's limit.
  absl::Status ChargeResolve(StorageTransaction& txn, const std::string& sender,
                             uint32_t outputs) const;
  // Checks a ResolveRequest's batch and epoch; `*previous` tells whether it
  // names the previous epoch (grace window).
  absl::Status CheckResolve(const v1::ResolveRequest& req,
                            bool* previous) const;
  // Runs `f` with the served epoch held: no OPRF key switch happens while
  // it runs (OprfKeys::WithCurrent), so what `f` reads of the stored
  // outputs and the epoch agree.
  absl::Status HoldingEpoch(const std::function<absl::Status()>& f) const;
  // Resolve, holding the epoch.
  absl::StatusOr<v1::Envelope> ResolveHeld(
      const envelope::OpenedEnvelope& opened);
  // The key that answers a request naming `epoch` (OprfKeys::ForEpoch).
  absl::StatusOr<OprfKeys::ForRequest> KeyFor(uint32_t epoch) const;
  // Seals `reply` as the answer to `request`.
  absl::StatusOr<v1::Envelope> Reply(const v1::Message& request,
                                     v1::Message reply) const;
  // Whether an index of `requested` may be sent while `served` is the
  // served epoch: UNAVAILABLE while a switch is under way,
  // FAILED_PRECONDITION for an epoch rotated away.
  absl::Status CheckIndexEpoch(uint32_t requested, uint32_t served) const;
  // Fills `out` with the net changes since `since` up to the snapshot's
  // version, or leaves it whole when they are no longer kept.
  absl::Status FillIndexDelta(uint64_t since, IndexAnswer* out) const;
  // The signed manifest of `out` for `request`, naming `epoch`.
  absl::StatusOr<v1::Envelope> IndexManifestFor(const v1::Message& request,
                                                uint32_t epoch,
                                                const IndexAnswer& out) const;

  const Deps d_;
  std::mutex snapshot_mu_;
  std::shared_ptr<const OwnIndexSnapshot> snapshot_
      ABSL_GUARDED_BY(snapshot_mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_LOOKUP_RESPONDER_H_
