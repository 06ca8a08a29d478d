// In-process fake members of a test federation, behind the PeerTransport
// interface: they answer with real crypto (their node keys sign real
// envelopes and checkpoints, their OPRF keys evaluate with real DLEQ
// proofs), and each can be scripted to misbehave: answer garbage, answer
// late, never answer, or refuse. For the domain modules' unit tests; never
// for production.
//
// Threading: thread-safe; calls to several members may run at once (the
// fake counts how many are in flight, so tests can check a bound).
#ifndef CBX_NODE_TESTING_FAKE_PEER_H_
#define CBX_NODE_TESTING_FAKE_PEER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cbx/v1/directory.pb.h"
#include "cbx/v1/message.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/merkle/in_memory_tree.h"
#include "core/util/clock.h"
#include "node/peer_transport.h"
#include "node/storage/storage.h"

namespace cbx::node::testing {

// The test federation (core/directory/testing/test_federation.h: MK, RS,
// AL with their node and OPRF keys), signed as a genesis, optionally with
// `extra_members` more active members ("BA", "BB", ...) whose keys are
// derived from their codes, for fan-out tests with many peers.
v1::SignedDirectory FakeGenesis(int extra_members = 0);
// Version 4 after the test federation's v2 and v3 (SignedV2, SignedV3):
// v3 with the node keys v2 retired or replaced dropped (MK/node/1,
// RS/node/1), signed with v3's governance keys. The end of a node key
// rotation.
v1::SignedDirectory FakeV4WithoutOldNodeKeys();
// The node signing key and OPRF key of `code` in FakeGenesis.
crypto::Ed25519PrivateKey FakeNodeKey(const std::string& code);
crypto::OprfServerKey FakeOprfKey(const std::string& code);

// How a fake member answers.
enum class FakeBehaviour {
  kAnswer,       // correctly
  kWrongCount,   // Evaluate: one evaluated element too few
  kBadProof,     // Evaluate: a DLEQ proof that does not verify
  kUnopenable,   // Evaluate/Resolve: an envelope whose signature is broken
  kWrongMember,  // Evaluate/Resolve: a reply sealed by another member
  kBadDigest,    // SyncIndex: a manifest whose digest is not the chunks'
  kDelay,        // after `delay_ms` on the fake clock (advanced by the
                 // call); DEADLINE_EXCEEDED if that exceeds the budget
  kHang,         // never, until Release(): then DEADLINE_EXCEEDED
  kRefuse,       // fails with `refusal`
  kGarbage,      // Evaluate/Resolve: a signed reply whose body is no Message
  kNotAReply,    // Evaluate/Resolve: a reply whose in_reply_to is not the
                 // request's message id
  kTooMany,      // Evaluate: one evaluated element too many
  // Resolve only (SetResolveBehaviour): a malicious member's answers.
  kPhantom,        // no reference, at the index version it serves
  kPhantomOlder,   // no reference, at an index version older than served
  kPhantomNewer,   // no reference, at an index version newer than served
                   // (a phantom dressed as a case closed since)
  kForeignMember,  // its references name another member
  kForeignOffice,  // its references name an office of another country
  kBadInputIndex,  // a matched input_index past the request's outputs
};

// What a fake member serves from its audit log at GetCheckpoint.
enum class FakeLog {
  kHonest,    // its real log, with a real consistency proof
  kForkRoot,  // a checkpoint of the same size with a different root
  kBadProof,  // its real checkpoint with a consistency proof that fails
  kShrunk,    // a checkpoint of `shrunk_size` entries (a smaller log)
};

// An index a malicious member serves at SyncIndex instead of the one its
// cases make: `tags` distinct generated tags (ascending) as a full copy at
// `version`, its manifest signed with `claimed_count` tags (default: the
// true count) and the true digest, in chunks of `tags_per_chunk` added
// tags, the first chunk followed by `trailing_bytes` stray bytes. The
// manifest names `manifest_member` and `manifest_epoch` if given (the
// serving member and the requested epoch otherwise).
struct FakeServedIndex {
  uint64_t tags = 0;
  uint64_t version = 1;
  std::optional<uint64_t> claimed_count;
  size_t tags_per_chunk = 65536;
  size_t trailing_bytes = 0;
  std::optional<std::string> manifest_member;
  std::optional<uint32_t> manifest_epoch;
};

class FakePeers final : public PeerTransport {
 public:
  // Members of `genesis` answer as fakes; `self` is the node asking. The
  // clock makes the replies' headers and moves for kDelay.
  FakePeers(const v1::SignedDirectory& genesis, std::string self,
            FakeClock* clock);
  ~FakePeers() override;

  // Scripting (before or between calls).
  void SetBehaviour(const std::string& member, FakeBehaviour behaviour,
                    absl::Status refusal = absl::UnavailableError("down"),
                    int64_t delay_ms = 0);
  // How `member` answers Peer.Resolve from now on, whatever SetBehaviour
  // says of its other RPCs (kAnswer: as SetBehaviour says).
  void SetResolveBehaviour(const std::string& member, FakeBehaviour behaviour);
  // `member` answers Peer.Evaluate as a node from before spec/oprf.md §1
  // let elements be uncompressed: it refuses them (INVALID_ARGUMENT, L3)
  // and never sets uncompressed_accepted. Default: both forms taken.
  void SetCompressedOnly(const std::string& member, bool compressed_only);
  // The size of the blinded elements of `member`'s last Peer.Evaluate
  // (33 or 65; 0 before the first).
  size_t LastElementSize(const std::string& member);
  // Opens the gate of every kHang call, now and later.
  void Release();
  // Runs `hook` at the start of each Peer.Evaluate this transport answers
  // (for races: a sync replacing an index copy while a query runs).
  void OnEvaluate(std::function<void(const std::string& member)> hook);

  // `member` holds a case with `reference`, matched by the identifier whose
  // OPRF input is `oprf_input` (identifiers::NormalizedOprfInput); its
  // index grows by that tag and its version by one. The observed window of
  // `reference.matched(0)`, if any, is the one its answers give.
  void AddCase(const std::string& member, const std::string& oprf_input,
               v1::IdentifierType type, const v1::CaseReference& reference);
  // `member` closes every case it holds: its index loses their tags and its
  // version grows by one.
  void CloseCases(const std::string& member);
  // The tags and version of `member`'s index.
  std::vector<Tag> IndexTags(const std::string& member);
  uint64_t IndexVersion(const std::string& member);
  // From now on `member` serves `index` at SyncIndex (std::nullopt: its
  // cases' index again).
  void ServeIndex(const std::string& member,
                  std::optional<FakeServedIndex> index);
  // The tags FakeServedIndex{tags = n} serves.
  static std::vector<Tag> ServedTags(uint64_t n);
  // Of `member`'s last SyncIndex: the parts the receiver was handed, and
  // whether the receiver stopped the stream (its callback returned false).
  int IndexPartsDelivered(const std::string& member);
  bool IndexStreamStopped(const std::string& member);

  // `member` signs with `key` from now on (a node key rotation).
  void SetNodeKey(const std::string& member, crypto::Ed25519PrivateKey key);

  // Appends `count` entries to `member`'s audit log.
  void AppendToLog(const std::string& member, int count);
  void SetLog(const std::string& member, FakeLog log, uint64_t shrunk_size = 0);
  // `member` lost its log and starts generation `generation` of it
  // (spec/audit-log.md §12): an empty log whose checkpoints carry origin
  // logcheck::LogOrigin(member, generation).
  void StartLogGeneration(const std::string& member, uint32_t generation);
  // The cosigned notes `member` was handed by AddCosignature.
  std::vector<std::string> Cosignatures(const std::string& member);

  // Directory versions `member` serves at GetDirectory.
  void ServeDirectories(const std::string& member,
                        std::vector<v1::SignedDirectory> versions);

  // Answers Peer.Cooperate from now on (the fakes do not cooperate
  // themselves): tests route it to another in-process node's handler.
  // Without one, Cooperate is UNIMPLEMENTED.
  using CooperateHandler = std::function<absl::StatusOr<v1::Envelope>(
      const std::string& member, const v1::Envelope& request)>;
  void OnCooperate(CooperateHandler handler);
  // Answers Peer.Withdraw likewise (UNIMPLEMENTED without one).
  void OnWithdraw(CooperateHandler handler);

  // Calls made to `member` of Peer.<rpc> ("Evaluate", "Resolve", ...).
  int Calls(const std::string& member, const std::string& rpc);
  // The most calls that were in flight at once, over all members.
  int PeakInFlight();
  // Blocks until `n` calls are in flight at once.
  void WaitForInFlight(int n);
  // The budgets `member` was given, in call order.
  std::vector<int64_t> Budgets(const std::string& member);

  // PeerTransport.
  absl::StatusOr<v1::Envelope> Evaluate(const std::string& member,
                                        const v1::Envelope& request,
                                        int64_t budget_ms) override;
  absl::StatusOr<v1::Envelope> Resolve(const std::string& member,
                                       const v1::Envelope& request,
                                       int64_t budget_ms) override;
  absl::Status SyncIndex(
      const std::string& member, const v1::Envelope& request, int64_t budget_ms,
      const std::function<bool(v1::IndexPart&&)>& on_part) override;
  absl::StatusOr<v1::GetDirectoryResponse> GetDirectory(
      const std::string& member, const v1::GetDirectoryRequest& request,
      int64_t budget_ms) override;
  absl::StatusOr<v1::Envelope> Cooperate(const std::string& member,
                                         const v1::Envelope& request,
                                         int64_t budget_ms) override;
  absl::StatusOr<v1::Envelope> Withdraw(const std::string& member,
                                        const v1::Envelope& request,
                                        int64_t budget_ms) override;
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(
      const std::string& member, const v1::GetCheckpointRequest& request,
      int64_t budget_ms) override;
  absl::StatusOr<v1::AddCosignatureResponse> AddCosignature(
      const std::string& member, const v1::AddCosignatureRequest& request,
      int64_t budget_ms) override;

 private:
  struct Member;
  struct Case {
    Bytes y;
    v1::IdentifierType type;
    v1::CaseReference reference;
  };

  Member* Find(const std::string& code);
  // Counts the call, applies the timing part of the script (kDelay, kHang,
  // kRefuse): OK if the member then answers.
  absl::Status Enter(Member& m, const std::string& rpc, int64_t budget_ms);
  void Leave();
  // `reply` with a header from `m` in reply to `request`, sealed by `m`'s
  // node key (or, scripted, broken or by another member).
  v1::Envelope Answer(Member& m, const v1::Message& request, v1::Message reply,
                      bool resolve = false);
  // Applies a Resolve-only fault to an honest `resp` of `m`.
  void Corrupt(const Member& m, FakeBehaviour behaviour,
               v1::ResolveResponse& resp);
  absl::StatusOr<v1::Message> OpenRequest(const v1::Envelope& request);
  absl::StatusOr<std::string> SignedCheckpoint(Member& m, uint64_t size,
                                               bool fork_root);

  const std::string self_;
  FakeClock* clock_;
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
  int in_flight_ = 0;
  int peak_in_flight_ = 0;
  std::function<void(const std::string&)> on_evaluate_;  // guarded by mu_
  CooperateHandler on_cooperate_;                        // guarded by mu_
  CooperateHandler on_withdraw_;                         // guarded by mu_
  std::map<std::string, std::unique_ptr<Member>> members_;
};

}  // namespace cbx::node::testing

#endif  // CBX_NODE_TESTING_FAKE_PEER_H_
