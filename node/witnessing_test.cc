#include "node/witnessing.h"

#include <memory>
#include <string>

#include "core/directory/testing/test_federation.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_keys.h"
#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "gtest/gtest.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeBehaviour;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakeLog;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;

class WitnessingTest : public ::testing::Test {
 protected:
  WitnessingTest()
      : genesis_(FakeGenesis()),
        node_(genesis_),
        peers_(genesis_, "MK", &node_.clock()),
        witnessing_(&node_.ctx(), &peers_) {}

  WitnessedPeer Describe(const std::string& member) {
    auto d = witnessing_.Describe(member);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : WitnessedPeer{};
  }
  // The checkpoint `member` serves now, parsed.
  note::Checkpoint Served(const std::string& member) {
    v1::GetCheckpointRequest req;
    auto resp = peers_.GetCheckpoint(member, req, 1000);
    EXPECT_TRUE(resp.ok());
    auto n = note::ParseNote(resp->checkpoint());
    auto cp = note::ParseCheckpoint(n->text);
    EXPECT_TRUE(cp.ok());
    return *cp;
  }
  // The node log lines of one round, with how many are `event`.
  int RoundCounting(const std::string& member, const std::string& event,
                    absl::Status* status) {
    ::testing::internal::CaptureStderr();
    *status = witnessing_.WitnessPeer(member);
    const std::string out = ::testing::internal::GetCapturedStderr();
    int n = 0;
    for (size_t at = out.find(event); at != std::string::npos;
         at = out.find(event, at + 1)) {
      ++n;
    }
    return n;
  }

  v1::SignedDirectory genesis_;
  TestNode node_;
  FakePeers peers_;
  Witnessing witnessing_;
};

TEST_F(WitnessingTest, FirstRoundCosignsAndStores) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  std::vector<std::string> cosigned = peers_.Cosignatures("RS");
  ASSERT_EQ(cosigned.size(), 1u);
  // The cosignature verifies with MK's key under its witness name.
  auto n = note::ParseNote(cosigned[0]);
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(n->signatures.size(), 1u);
  EXPECT_EQ(n->signatures[0].name, logcheck::WitnessName("MK"));
  auto keys = logcheck::KeysOfLog(*node_.ctx().directory->Current(), "RS");
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto by_mk = logcheck::VerifyCosignaturesBy(*keys, "MK", *n);
  ASSERT_TRUE(by_mk.ok()) << by_mk.status();
  EXPECT_EQ(by_mk->size(), 1u);

  WitnessedPeer d = Describe("RS");
  EXPECT_EQ(d.cosigned_size, 5u);
  EXPECT_EQ(d.cosigned_at_ms, node_.clock().NowMs());
  EXPECT_EQ(d.alert, "");
  EXPECT_EQ(
      node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.GetCheckpoint").size(),
      1u);
  EXPECT_EQ(node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.AddCosignature")
                .size(),
            1u);
}

TEST_F(WitnessingTest, ConsistentGrowthIsCosignedAgain) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  // Nothing new: no second cosignature.
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  EXPECT_EQ(peers_.Cosignatures("RS").size(), 1u);
  peers_.AppendToLog("RS", 3);
  node_.clock().AdvanceMs(5000);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  EXPECT_EQ(peers_.Cosignatures("RS").size(), 2u);
  EXPECT_EQ(Describe("RS").cosigned_size, 8u);
  EXPECT_EQ(Describe("RS").cosigned_at_ms, node_.clock().NowMs());
}

TEST_F(WitnessingTest, PeerDownIsItsErrorAndNoAlert) {
  peers_.SetBehaviour("RS", FakeBehaviour::kRefuse,
                      absl::UnavailableError("down"));
  EXPECT_EQ(witnessing_.WitnessPeer("RS").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Describe("RS").alert, "");
  auto sent =
      node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.GetCheckpoint");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kUnavailable));
}

TEST_F(WitnessingTest, RoundAllWitnessesEveryPeer) {
  peers_.AppendToLog("RS", 2);
  peers_.AppendToLog("AL", 3);
  witnessing_.RoundAll();
  EXPECT_EQ(Describe("RS").cosigned_size, 2u);
  EXPECT_EQ(Describe("AL").cosigned_size, 3u);
}

struct ForkCase {
  const char* name;
  FakeLog log;
  int grow;             // entries the peer appends after the first round
  uint64_t shrunk;      // for kShrunk
  const char* message;  // a part of the refusal
};

class WitnessingForkTest : public WitnessingTest,
                           public ::testing::WithParamInterface<ForkCase> {};

TEST_P(WitnessingForkTest, ForkIsRefusedKeptOnceAndAlertedOnce) {
  const ForkCase& c = GetParam();
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  peers_.AppendToLog("RS", c.grow);
  peers_.SetLog("RS", c.log, c.shrunk);
  const note::Checkpoint refused = Served("RS");

  absl::Status s;
  EXPECT_EQ(RoundCounting("RS", "ALERT-inconsistent-checkpoint", &s), 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(c.message), std::string::npos) << s;
  // Refused: nothing cosigned, the cosigned checkpoint stays.
  EXPECT_EQ(peers_.Cosignatures("RS").size(), 1u);
  EXPECT_EQ(Describe("RS").cosigned_size, 5u);
  // The evidence, under the refused checkpoint's size and root.
  const std::string key = "witness-evidence/RS/" +
                          std::to_string(refused.size) + "/" +
                          HexEncode(refused.root_hash);
  auto evidence = node_.ctx().storage->GetSetting(key);
  ASSERT_TRUE(evidence.ok());
  ASSERT_TRUE(evidence->has_value()) << key;
  EXPECT_NE((*evidence)->find("\"trusted_checkpoint\""), std::string::npos);
  const std::string alert = Describe("RS").alert;
  EXPECT_NE(alert.find("since 2026-01-01T00:00:00.000Z"), std::string::npos)
      << alert;
  EXPECT_NE(alert.find("(1 checkpoint refused, the latest of size " +
                       std::to_string(refused.size) + ")"),
            std::string::npos)
      << alert;

  // The same checkpoint again: refused again, but neither kept nor alerted
  // a second time.
  node_.clock().AdvanceMs(5000);
  EXPECT_EQ(RoundCounting("RS", "ALERT-inconsistent-checkpoint", &s), 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Describe("RS").alert, alert);
  EXPECT_EQ(**node_.ctx().storage->GetSetting(key), **evidence);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, WitnessingForkTest,
    ::testing::Values(
        ForkCase{"SameSizeOtherRoot", FakeLog::kForkRoot, 0, 0,
                 "RS's log has two different roots at size 5"},
        ForkCase{"ProofFails", FakeLog::kBadProof, 3, 0,
                 "RS's checkpoint 8 is not consistent with the one of size 5"},
        ForkCase{"Shrunk", FakeLog::kShrunk, 0, 3,
                 "RS's log shrank from 5 to 3"}),
    [](const ::testing::TestParamInfo<ForkCase>& info) {
      return info.param.name;
    });

TEST_F(WitnessingTest, AlertClosesWhenTheLogIsConsistentAgain) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  peers_.SetLog("RS", FakeLog::kForkRoot);
  EXPECT_EQ(witnessing_.WitnessPeer("RS").code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(Describe("RS").alert, "");
  peers_.SetLog("RS", FakeLog::kHonest);
  EXPECT_TRUE(witnessing_.WitnessPeer("RS").ok());
  EXPECT_EQ(Describe("RS").alert, "");
}

// Node key rotation (spec/keys.md §4): RS moves from RS/node/1 to
// RS/node/2, and this witness (MK) from MK/node/1 to MK/node/2, while the
// directory goes from the genesis (old keys only) through v2 (both) to v4
// (new keys only).
TEST_F(WitnessingTest, WitnessesAPeerAcrossItsNodeKeySwitch) {
  namespace fed = ::cbx::directory::testing;
  std::vector<NodeSigningKeys::Key> keys;
  for (const char* label : {"MK/node/1", "MK/node/2"}) {
    keys.push_back(
        {"keys.node_signing_key",
         std::make_shared<crypto::Ed25519Signer>(fed::TestKey(label)),
         fed::TestKeyId(label)});
  }
  node_.ctx().signing_keys = std::make_unique<NodeSigningKeys>(
      "MK", std::move(keys), node_.ctx().directory.get(), &node_.clock());
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  // v2 lists RS/node/2 and MK/node/2; RS signs with its new key.
  ASSERT_TRUE(node_.ctx().directory->Update({fed::SignedV2()}).ok());
  peers_.SetNodeKey("RS", fed::TestKey("RS/node/2"));
  peers_.AppendToLog("RS", 3);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  EXPECT_EQ(Describe("RS").cosigned_size, 8u);
  // MK's cosignature is by MK/node/2 (MK/node/1 ended on 2025-12-31) and
  // verifies for RS under v2.
  std::vector<std::string> cosigned = peers_.Cosignatures("RS");
  ASSERT_EQ(cosigned.size(), 2u);
  auto n = note::ParseNote(cosigned[1]);
  ASSERT_TRUE(n.ok()) << n.status();
  auto v2_keys = logcheck::KeysOfLog(*node_.ctx().directory->Current(), "RS");
  ASSERT_TRUE(v2_keys.ok());
  auto by_mk = logcheck::VerifyCosignaturesBy(*v2_keys, "MK", *n);
  ASSERT_TRUE(by_mk.ok()) << by_mk.status();
  EXPECT_EQ(by_mk->size(), 1u);
  // v4 drops the old keys: RS's next checkpoint is cosigned, consistent
  // with the one cosigned under its old key...
  ASSERT_TRUE(
      node_.ctx()
          .directory
          ->Update({fed::SignedV3(), testing::FakeV4WithoutOldNodeKeys()})
          .ok());
  peers_.AppendToLog("RS", 2);
  node_.clock().AdvanceMs(5000);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  EXPECT_EQ(Describe("RS").cosigned_size, 10u);
  // ...and a checkpoint signed with the dropped key is not.
  peers_.SetNodeKey("RS", fed::TestKey("RS/node/1"));
  peers_.AppendToLog("RS", 1);
  EXPECT_EQ(witnessing_.WitnessPeer("RS").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Describe("RS").cosigned_size, 10u);
}

// The rule itself, without a peer.
class CheckAgainstCosignedTest : public ::testing::Test {
 protected:
  CheckAgainstCosignedTest() {
    for (int i = 0; i < 8; ++i) tree_.AppendLeaf("entry " + std::to_string(i));
  }
  note::Checkpoint At(uint64_t size) {
    note::Checkpoint cp;
    cp.origin = "cbx/RS/audit";
    cp.size = size;
    cp.root_hash = *merkle::RootHash(tree_, size);
    return cp;
  }
  std::vector<Bytes> Proof(uint64_t from, uint64_t to) {
    return *merkle::ConsistencyProof(tree_, from, to);
  }
  merkle::InMemoryTree tree_;
};

TEST_F(CheckAgainstCosignedTest, Rules) {
  const note::Checkpoint five = At(5), eight = At(8);
  EXPECT_TRUE(*CheckAgainstCosigned("RS", nullptr, five, 0, {}));
  EXPECT_FALSE(*CheckAgainstCosigned("RS", &five, five, 5, {}));
  EXPECT_TRUE(*CheckAgainstCosigned("RS", &five, eight, 5, Proof(5, 8)));
  EXPECT_EQ(CheckAgainstCosigned("RS", &eight, five, 0, {}).status().code(),
            absl::StatusCode::kDataLoss);
  note::Checkpoint forked = five;
  forked.root_hash[0] ^= 1;
  EXPECT_EQ(CheckAgainstCosigned("RS", &five, forked, 5, {}).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      CheckAgainstCosigned("RS", &five, eight, 5, Proof(4, 8)).status().code(),
      absl::StatusCode::kDataLoss);
  // Asked from another size: the proof is for that one; retry.
  EXPECT_EQ(CheckAgainstCosigned("RS", &five, eight, 0, {}).status().code(),
            absl::StatusCode::kUnavailable);
}

// Disaster recovery (spec/audit-log.md §12, witnessing.md "A new generation
// of a member's log").
class WitnessingGenerationTest : public WitnessingTest {
 protected:
  // RS's checkpoint served now, cosigned by MK and AL: a witnessed
  // predecessor.
  std::string WitnessedRsCheckpoint() {
    v1::GetCheckpointRequest req;
    auto resp = peers_.GetCheckpoint("RS", req, 1000);
    EXPECT_TRUE(resp.ok());
    auto n = note::ParseNote(resp->checkpoint());
    EXPECT_TRUE(n.ok());
    for (const char* w : {"MK", "AL"}) {
      auto cosigner = note::Cosigner::Create(logcheck::WitnessName(w),
                                             testing::FakeNodeKey(w));
      EXPECT_TRUE(cosigner.ok());
      auto sig = cosigner->Cosign(n->text, node_.clock().NowMs() / 1000);
      EXPECT_TRUE(sig.ok());
      n->signatures.push_back(*sig);
    }
    return *note::FormatNote(*n);
  }
  // The node adopts version 2, which names generation 2 of RS's log after
  // `predecessor`.
  void AnnounceRsGeneration2(const std::string& predecessor) {
    v1::Directory d;
    ASSERT_TRUE(d.ParseFromString(genesis_.directory()));
    d.set_version(2);
    auto n = note::ParseNote(predecessor);
    auto cp = note::ParseCheckpoint(n->text);
    ASSERT_TRUE(cp.ok());
    for (v1::Member& m : *d.mutable_members()) {
      if (m.code() != "RS") continue;
      v1::AuditLogGeneration* g = m.mutable_audit_log();
      g->set_generation(2);
      g->set_predecessor_origin(cp->origin);
      g->set_predecessor_size(cp->size);
      g->set_predecessor_root_hash(cp->root_hash);
      g->set_predecessor_checkpoint(predecessor);
    }
    v1::SignedDirectory v2 = directory::testing::SignAs(
        d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
    ASSERT_TRUE(node_.ctx().directory->Update({v2}).ok());
    ASSERT_EQ(node_.ctx().directory->Current()->version(), 2u);
  }
};

TEST_F(WitnessingGenerationTest, ANewGenerationIsFollowedWithoutAnAlert) {
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  AnnounceRsGeneration2(WitnessedRsCheckpoint());
  peers_.StartLogGeneration("RS", 2);
  peers_.AppendToLog("RS", 2);
  node_.clock().AdvanceMs(5000);

  absl::Status s;
  ::testing::internal::CaptureStderr();
  s = witnessing_.WitnessPeer("RS");
  const std::string out = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out.find("ALERT-"), std::string::npos) << out;
  EXPECT_NE(out.find("witness-log-recovered"), std::string::npos) << out;
  EXPECT_NE(out.find("cbx/RS/audit/2"), std::string::npos) << out;
  EXPECT_EQ(Describe("RS").cosigned_size, 2u);
  EXPECT_EQ(Describe("RS").alert, "");
  EXPECT_EQ(Served("RS").origin, "cbx/RS/audit/2");
  // The old log's last cosigned note is kept.
  auto kept =
      node_.ctx().storage->GetSetting("witness-generation/RS/cbx/RS/audit");
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept->has_value());
  EXPECT_NE((*kept)->find("cbx/RS/audit\n5\n"), std::string::npos);

  // The new log grows: cosigned as usual, no second recovery event.
  peers_.AppendToLog("RS", 3);
  node_.clock().AdvanceMs(5000);
  EXPECT_EQ(RoundCounting("RS", "witness-log-recovered", &s), 0);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Describe("RS").cosigned_size, 5u);
}

TEST_F(WitnessingGenerationTest, OldOriginCheckpointsAreRefusedAfterIt) {
  // An old copy grown again (or the old log) under the old origin, after
  // governance announced generation 2: never cosigned, and no alert storm.
  peers_.AppendToLog("RS", 5);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());
  AnnounceRsGeneration2(WitnessedRsCheckpoint());
  peers_.AppendToLog("RS", 4);
  node_.clock().AdvanceMs(5000);
  absl::Status s;
  EXPECT_EQ(RoundCounting("RS", "ALERT-inconsistent-checkpoint", &s), 0);
  // Its signature is under the old key name, which the directory no
  // longer names for RS: no log key signed it.
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_EQ(peers_.Cosignatures("RS").size(), 1u);  // the first round's
}

TEST_F(WitnessingGenerationTest, APredecessorBeforeWhatWasCosignedIsSaid) {
  peers_.AppendToLog("RS", 5);
  const std::string at5 = WitnessedRsCheckpoint();
  peers_.AppendToLog("RS", 3);
  ASSERT_TRUE(witnessing_.WitnessPeer("RS").ok());  // cosigned 8
  AnnounceRsGeneration2(at5);                       // declares 5..7 lost
  peers_.StartLogGeneration("RS", 2);
  peers_.AppendToLog("RS", 1);
  node_.clock().AdvanceMs(5000);
  absl::Status s;
  ::testing::internal::CaptureStderr();
  s = witnessing_.WitnessPeer("RS");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(s.ok()) << s;  // the new log is followed
  EXPECT_EQ(out.find("ALERT-"), std::string::npos) << out;
  EXPECT_NE(out.find("cosigned_beyond_predecessor=yes"), std::string::npos)
      << out;
  EXPECT_EQ(Describe("RS").cosigned_size, 1u);
}

}  // namespace
}  // namespace cbx::node
