// The querier's side of a lookup (spec/lookup.md): blind every identifier
// afresh for each peer, ask the peers in parallel, verify each batched DLEQ
// proof, finalize, test membership in that peer's index copy, and resolve
// the hits. A slow or dead peer never delays the others' answers.
//
// Every exchange is logged as spec/audit-log.md §2 says: each request
// envelope SENT before it leaves, each reply RECEIVED with the outcome of
// the checks on it (the refusal's code when a check fails), a transport
// failure LOCAL "call_failed".
//
// Threading model: Run is called on the office's thread (a gRPC handler)
// and posts one work item per peer to `executor`; each item asks its peer
// with blocking calls bounded by the policy's peer_deadline_ms. Run waits
// on its own thread (never on the pool) and emits each answer as it
// completes. So a query to N peers uses at most the executor's threads,
// never N new ones, and queries share that bound. Thread-safe.
#ifndef CBX_NODE_LOOKUP_QUERIER_H_
#define CBX_NODE_LOOKUP_QUERIER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "core/crypto/voprf.h"
#include "node/executor.h"
#include "node/hit_stats.h"
#include "node/identity.h"
#include "node/node_context.h"
#include "node/peer_transport.h"
#include "node/version_claims.h"

namespace cbx::node {

class LookupQuerier {
 public:
  // Uses `context` for this node's identity and keys, directory, clock,
  // storage (hits, the replay cache of replies), peer index copies and
  // audit trail; the context is the node's shared state, built once by
  // Node, and every other module reads the same one. Asks peers through
  // `transport`, on `executor`'s threads. All three must outlive this.
  LookupQuerier(NodeContext* context, PeerTransport* transport,
                Executor* executor)
      : ctx_(context), transport_(transport), executor_(executor) {}

  // What a standing watch (node/watches.h) asks of a query besides its
  // answers: the hits it stores carry `watch_id`, and `on_outputs` is told
  // each peer's finalized outputs (in the request's identifier order) once
  // their proof verified, with the peer's OPRF epoch. on_outputs runs on
  // the executor's threads, one call per peer, possibly at once: it must be
  // thread-safe.
  struct WatchHooks {
    std::string watch_id;
    std::function<void(const std::string& member, uint32_t epoch,
                       const std::vector<Bytes>& outputs)>
        on_outputs;
  };

  // Validates `request` (INVALID_ARGUMENT naming the field; nothing is sent
  // then), asks the peers, and calls `emit` with one PeerAnswer per peer as
  // each completes, then one QuerySummary. `emit` is called from the calling
  // thread only; if it returns false (the office went away) the remaining
  // answers are still awaited but not emitted. FAILED_PRECONDITION if no
  // peer is active. Must not be called from `executor`'s own work items.
  // With `watch` (not null, outliving the call) the query is a watch's
  // first evaluation: see WatchHooks. Each answer says how old the peer's
  // index copy was (PeerAnswer.index_*), the summary which misses came
  // from copies older than three sync intervals, and each stored Hit
  // carries its context (node/hit_context.h; a watch's: the type only).
  absl::Status Run(const v1::QueryRequest& request, const OfficeCaller& caller,
                   const std::function<bool(const v1::QueryEvent&)>& emit,
                   const WatchHooks* watch = nullptr);

  // A standing watch's new hits: sends Peer.Resolve of `outputs` (finalized
  // under `copy`'s OPRF epoch, whose tags `copy` holds) to `member` with
  // `purpose` on behalf of `office`, logs it as a query's Resolve is logged,
  // stores a Hit with `watch_id` per reference, and returns the answer
  // (input_index pointing into `outputs`; HIT, MISS or PHANTOM as Run's).
  // A transport failure or a refused reply is returned as the error.
  // Blocks for at most the policy's peer deadline. Thread-safe.
  absl::StatusOr<v1::PeerAnswer> ResolveForWatch(
      const std::string& member, std::shared_ptr<const PeerIndex> copy,
      const std::vector<Bytes>& outputs, const v1::Purpose& purpose,
      const std::string& office, const std::string& watch_id);

  // What the queries since this node started saw of `member`: identifiers
  // asked, hits, phantom hits and the hit-rate alarm (node/hit_stats.h;
  // in memory only). For ListPeers.
  HitStats::PeerView PeerStats(const std::string& member) const {
    return stats_.Describe(member);
  }

  // Settles `copy.member`'s version claims (node/version_claims.h) against
  // `copy`, which a sync that began at `sync_started_ms` made or confirmed
  // current; each claim it shows false is a phantom hit found late: counted
  // and raised as ALERT-phantom-hit. Index sync's listener
  // (NodeContext::PeerIndexSynced). Thread-safe.
  void CheckVersionClaims(const PeerIndex& copy, int64_t sync_started_ms);
  // Claims of `member` not yet settled (tests, ListPeers).
  size_t PendingVersionClaims(const std::string& member) const {
    return claims_.Pending(member);
  }

 private:
  struct Input {
    v1::IdentifierType type;
    Bytes oprf_input;
    // Hashed to the group once for all peers; each peer's blind is fresh
    // (additive: spec/oprf.md §4).
    crypto::HashedInput hashed;
  };
  // One peer's part of a query, shared by the steps of AskPeer.
  struct PeerLookup {
    std::string member;
    const std::vector<Input>* inputs = nullptr;
    const v1::Purpose* purpose = nullptr;
    // The query's identifiers as the office entered them, for the hits'
    // context (node/hit_context.h); null for a watch's Resolve.
    const google::protobuf::RepeatedPtrField<v1::Identifier>* asked = nullptr;
    std::string office;       // the asking office ("MK/PPO-Skopje")
    std::string person;       // its acting person (AuditEntry.user), if any
    std::string query_id;     // hex, for the office's hits and the event log
    int64_t deadline_ms = 0;  // the query's deadline, on ctx_->clock
    int64_t budget_ms = 0;    // the policy's peer deadline, for messages
    // Set by AskPeer from the directory:
    uint32_t epoch = 0;
    Bytes oprf_public_key;
    // The peer's index copy of that epoch, taken once by AskPeer: the
    // membership test uses this copy even if a sync (an epoch change)
    // replaces it while the query runs, so tags and copy always agree.
    std::shared_ptr<const PeerIndex> copy;
    // When that copy was last confirmed current (PeerIndexSet::Share).
    int64_t copy_confirmed_ms = 0;
    const WatchHooks* watch = nullptr;  // set for a watch's lookups
  };
  // The evaluate exchange: what was sent, and the unopened reply.
  struct Evaluated {
    v1::Message sent;
    v1::Envelope reply;
    std::vector<Bytes> oprf_inputs, blinds, blinded;
    std::vector<Bytes> blinded_points;  // uncompressed, kept for Finalize
    bool uncompressed = false;          // `blinded` went uncompressed
  };

  // The hits of one peer's evaluation: the inputs whose tag is in the
  // index copy, and that copy's version.
  struct Hits {
    std::vector<uint32_t> inputs;
    uint64_t copy_version = 0;
  };

  // The identifiers' OPRF inputs; INVALID_ARGUMENT naming the field, worded
  // for an office of member `self`.
  static absl::StatusOr<std::vector<Input>> Validate(
      const v1::QueryRequest& request, std::string_view self);
  // OK if `purpose` names an open case of `caller`'s office (spec/office-
  // api.md §4.5, Q15-Q16): FAILED_PRECONDITION for a case number this node
  // does not hold, one of another office, or a closed case; a storage
  // failure's own status. Checked before anything is sent to any peer.
  absl::Status CheckPurposeCase(const v1::Purpose& purpose,
                                const OfficeCaller& caller) const;
  // The members to ask: the request's, each once, or every active peer.
  // INVALID_ARGUMENT for more entries than the directory has members, a
  // code that is not two capital letters, this node, a code the directory
  // does not hold or a suspended member.
  absl::StatusOr<std::vector<std::string>> Targets(
      const v1::QueryRequest& request) const;

  // One peer's answer; never fails (a failure is an ERROR answer). Once a
  // copy of the peer's index is taken, the answer says how old it was
  // (PeerAnswer.index_*).
  v1::PeerAnswer AskPeer(PeerLookup lookup);
  // Steps 1-4 for a lookup whose copy AskPeer took; `start_ms` for the
  // latency.
  v1::PeerAnswer LookUp(const PeerLookup& lookup, int64_t start_ms);
  // 1. Blinds each input afresh and sends Peer.Evaluate: the elements
  // uncompressed to a peer whose last verified answer said it takes them
  // (EvaluateResponse.uncompressed_accepted), else compressed
  // (spec/oprf.md §1). A failed call or answer sends the next request
  // compressed, so a peer that went back to an older version is asked in
  // the form it takes.
  absl::StatusOr<Evaluated> BlindAndEvaluate(const PeerLookup& lookup);
  bool TakesUncompressed(const std::string& member) const;
  void NoteUncompressed(const std::string& member, bool accepted);
  // 2. Opens the reply, checks its size, verifies the batched proof against
  // the directory's key and finalizes: the OPRF outputs. A refused reply is
  // logged RECEIVED with the refusal's code.
  absl::StatusOr<std::vector<Bytes>> VerifyAndFinalize(
      const PeerLookup& lookup, const Evaluated& evaluated);
  // 3. The inputs whose tag is in the peer's index copy; logs the reply
  // RECEIVED (OK) with the hit count.
  // Counts them in the peer's hit statistics (ALERT-peer-hit-rate when its
  // alarm starts).
  absl::StatusOr<Hits> Membership(const PeerLookup& lookup,
                                  const Evaluated& evaluated,
                                  const std::vector<Bytes>& outputs);
  // 4. Sends Peer.Resolve with the hits' outputs, logs the reply, stores a
  // Hit per reference, adds the references to `answer` and sets its
  // outcome: HIT, MISS (every hit without a reference was withdrawn since
  // the copy's version), or PHANTOM (a hit the answer does not stand
  // behind at the copy's version or an older one; or a reference that
  // names another member, an office of another country or no requested
  // output: the whole reply is then refused, logged RECEIVED
  // INVALID_ARGUMENT, and nothing stored).
  absl::Status ResolveAndStore(const PeerLookup& lookup,
                               const std::vector<Bytes>& outputs,
                               const Hits& hits, v1::PeerAnswer& answer);
  // The hits `unanswered` (indexes into the office's identifiers) that
  // `resp` names no case for: withdrawn since the copy (a miss, logged
  // "hit-withdrawn") if the reply's index version is newer than the
  // copy's, else a phantom (Phantom).
  // A withdrawal is kept as the peer's claim (node/version_claims.h).
  void Unanswered(const PeerLookup& lookup, const Hits& hits,
                  const v1::ResolveResponse& resp, const Bytes& reply_sha256,
                  const std::vector<Bytes>& outputs,
                  const std::vector<uint32_t>& unanswered,
                  v1::PeerAnswer& answer);
  // Makes `answer` a PHANTOM with `why`, counts it and raises
  // ALERT-phantom-hit with the evidence: the copy's version, the reply's
  // version and the signed reply's SHA-256.
  void Phantom(const PeerLookup& lookup, const Hits& hits,
               const v1::ResolveResponse& resp, const Bytes& reply_sha256,
               absl::StatusCode code, const std::string& why,
               v1::PeerAnswer& answer);

  // Seals `msg`, logs it as sent, and sends it with what is left of the
  // query's budget; a transport failure is logged (LOCAL, "call_failed")
  // and returned as the status this peer's answer reports.
  absl::StatusOr<v1::Envelope> Send(const PeerLookup& lookup,
                                    std::string_view rpc,
                                    const v1::Message& msg, uint32_t elements);
  // Logs `reply` RECEIVED with `outcome`'s code; returns `outcome`, or the
  // audit failure if the entry could not be written.
  absl::Status LogReceived(const PeerLookup& lookup, std::string_view rpc,
                           const v1::Envelope& reply,
                           const absl::Status& outcome, AuditCounts counts);

  NodeContext* ctx_;
  PeerTransport* transport_;
  Executor* executor_;
  HitStats stats_;
  VersionClaims claims_;
  // The peers to send the uncompressed form (BlindAndEvaluate); in memory
  // only, so the first request to each peer after a start is compressed.
  mutable std::mutex forms_mu_;
  std::set<std::string> uncompressed_peers_;  // guarded by forms_mu_
};

}  // namespace cbx::node

#endif  // CBX_NODE_LOOKUP_QUERIER_H_
