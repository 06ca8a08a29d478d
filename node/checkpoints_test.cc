#include "node/checkpoints.h"

#include <string>

#include "core/directory/testing/test_federation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "gtest/gtest.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakeNodeKey;
using ::cbx::node::testing::TestNode;

class CheckpointsTest : public ::testing::Test {
 protected:
  CheckpointsTest() : node_(FakeGenesis()), checkpoints_(&node_.ctx()) {}

  // One audit entry, as any exchange would append.
  void Append(int n = 1) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(node_.ctx()
                      .audit_trail
                      ->Call(v1::AUDIT_DIRECTION_LOCAL, "", "Office.ListCases",
                             "list_cases", "MK/PPO-Skopje",
                             absl::StatusCode::kOk)
                      .ok());
    }
  }
  note::Checkpoint Parse(const std::string& signed_note) {
    auto n = note::ParseNote(signed_note);
    EXPECT_TRUE(n.ok());
    auto cp = note::ParseCheckpoint(n->text);
    EXPECT_TRUE(cp.ok());
    return *cp;
  }
  // `note` with a cosignature of `witness` by the node key of `signer`.
  std::string Cosigned(const std::string& signed_note,
                       const std::string& witness, const std::string& signer) {
    auto n = note::ParseNote(signed_note);
    auto cosigner = note::Cosigner::Create(logcheck::WitnessName(witness),
                                           FakeNodeKey(signer));
    auto sig = cosigner->Cosign(n->text, node_.clock().NowMs() / 1000);
    n->signatures.push_back(*sig);
    return *note::FormatNote(*n);
  }

  TestNode node_;
  Checkpoints checkpoints_;
};

TEST_F(CheckpointsTest, SignsOnlyWhenDueAndGrown) {
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/true).ok());
  EXPECT_EQ(node_.ctx().audit->LatestCheckpoint().status().code(),
            absl::StatusCode::kNotFound);  // an empty log has none
  Append();
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/false).ok());
  EXPECT_EQ(node_.ctx().audit->LatestCheckpoint().status().code(),
            absl::StatusCode::kNotFound);  // not due, too few entries
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/true).ok());
  auto latest = node_.ctx().audit->LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  note::Checkpoint cp = Parse(*latest);
  EXPECT_EQ(cp.origin, "cbx/MK/audit");
  EXPECT_EQ(cp.size, 1u);
  // Many entries force one before it is due.
  node_.ctx().config.checkpoint_every_entries = 3;
  Append(2);
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/false).ok());
  EXPECT_EQ(Parse(*node_.ctx().audit->LatestCheckpoint()).size, 1u);
  Append(1);
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/false).ok());
  EXPECT_EQ(Parse(*node_.ctx().audit->LatestCheckpoint()).size, 4u);
}

TEST_F(CheckpointsTest, AcceptsAWitnessCosignature) {
  Append();
  auto best = checkpoints_.BestCheckpoint();
  ASSERT_TRUE(best.ok()) << best.status();
  auto count =
      checkpoints_.AcceptCosignature("RS", Cosigned(*best, "RS", "RS"));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1u);
}

// Issue 11 point 3: the request is a signed note of the checkpoint's text
// carrying the caller's cosignature line; the log's own signature may come
// with it or not. An identical resend is OK and stores nothing new; a
// different second cosignature by the same witness key is ALREADY_EXISTS.
TEST_F(CheckpointsTest, ACosignatureResendIsIdempotentAndASecondOneRefused) {
  Append();
  auto best = checkpoints_.BestCheckpoint();
  ASSERT_TRUE(best.ok()) << best.status();
  const note::Checkpoint cp = Parse(*best);
  // What a witness sends (node/witnessing.cc): the text, a blank line and
  // its line, without the log's signature.
  auto cosigned = note::ParseNote(Cosigned(*best, "RS", "RS"));
  ASSERT_TRUE(cosigned.ok());
  const std::string line =
      note::FormatSignatureLine(cosigned->signatures.back());
  const std::string bare = cosigned->text + "\n" + line;
  auto count = checkpoints_.AcceptCosignature("RS", bare);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1u);
  // The same line again, alone or with the log's signature: OK, one copy.
  count = checkpoints_.AcceptCosignature("RS", bare);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1u);
  count = checkpoints_.AcceptCosignature("RS", Cosigned(*best, "RS", "RS"));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1u);
  auto stored = node_.ctx().audit->CheckpointAt(cp.size);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(note::ParseNote(*stored)->signatures.size(), 2u);  // log + RS
  // Another cosignature (a later timestamp) by the same witness key.
  node_.clock().AdvanceMs(5'000);
  EXPECT_EQ(checkpoints_.AcceptCosignature("RS", Cosigned(*best, "RS", "RS"))
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(CheckpointsTest, RefusesWhatIsNotAValidCosignature) {
  Append();
  auto best = checkpoints_.BestCheckpoint();
  ASSERT_TRUE(best.ok());
  // Signed by AL's key under RS's witness name.
  EXPECT_EQ(checkpoints_.AcceptCosignature("RS", Cosigned(*best, "RS", "AL"))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  // RS's cosignature handed in by AL.
  EXPECT_EQ(checkpoints_.AcceptCosignature("AL", Cosigned(*best, "RS", "RS"))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  // Not this node's checkpoint text.
  note::Checkpoint other = Parse(*best);
  other.root_hash[0] ^= 1;
  note::Note forged;
  forged.text = *note::FormatCheckpoint(other);
  auto signer =
      note::Cosigner::Create(logcheck::WitnessName("RS"), FakeNodeKey("RS"));
  forged.signatures.push_back(*signer->Cosign(forged.text, 1));
  EXPECT_EQ(checkpoints_.AcceptCosignature("RS", *note::FormatNote(forged))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointsTest, BestCheckpointIsTheNewestWitnessedOne) {
  Append();
  auto first = checkpoints_.BestCheckpoint();  // signs the first one
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Parse(*first).size, 1u);
  // The policy's threshold is 2: RS and AL cosign.
  ASSERT_TRUE(
      checkpoints_.AcceptCosignature("RS", Cosigned(*first, "RS", "RS")).ok());
  auto count =
      checkpoints_.AcceptCosignature("AL", Cosigned(*first, "AL", "AL"));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2u);
  // A newer checkpoint nobody cosigned yet: auditors still see size 1.
  Append(2);
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/true).ok());
  EXPECT_EQ(Parse(*node_.ctx().audit->LatestCheckpoint()).size, 3u);
  auto best = checkpoints_.BestCheckpoint();
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(Parse(*best).size, 1u);
  EXPECT_EQ(note::ParseNote(*best)->signatures.size(), 3u);
}

// A genesis in which RS has a second node key (as during a key rotation).
v1::SignedDirectory GenesisWithTwoRsKeys() {
  v1::Directory d = directory::testing::GenesisDirectory();
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "RS") continue;
    v1::NodeKey second = m.node_keys(0);
    second.set_public_key(
        directory::testing::TestKey("RS/node/2").public_key().bytes());
    *m.add_node_keys() = second;
  }
  return directory::testing::SignAs(
      d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

// spec/audit-log.md §8: witnesses count as distinct members. Two
// cosignatures by two keys of one member are one witness, so they neither
// reach a threshold of 2 nor make the checkpoint the one auditors see.
TEST(CheckpointsWitnessCountTest, TwoKeysOfOneMemberCountOnce) {
  TestNode node(GenesisWithTwoRsKeys());
  Checkpoints checkpoints(&node.ctx());
  ASSERT_TRUE(node.ctx()
                  .audit_trail
                  ->Call(v1::AUDIT_DIRECTION_LOCAL, "", "Office.ListCases",
                         "list_cases", "MK/PPO-Skopje", absl::StatusCode::kOk)
                  .ok());
  auto first = checkpoints.BestCheckpoint();
  ASSERT_TRUE(first.ok()) << first.status();
  auto n = note::ParseNote(*first);
  ASSERT_TRUE(n.ok());
  for (const char* label : {"RS/node/1", "RS/node/2"}) {
    auto cosigner = note::Cosigner::Create(logcheck::WitnessName("RS"),
                                           directory::testing::TestKey(label));
    ASSERT_TRUE(cosigner.ok());
    n->signatures.push_back(*cosigner->Cosign(n->text, 1767225600));
  }
  auto count = checkpoints.AcceptCosignature("RS", *note::FormatNote(*n));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1u);
  // Both lines are kept (they are evidence), but the checkpoint is not
  // witnessed: the stored note has two cosignature lines and one witness.
  auto stored = node.ctx().audit->CheckpointAt(1);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(note::ParseNote(*stored)->signatures.size(), 3u);
  // Once AL cosigns too, two members have: witnessed.
  auto al =
      note::Cosigner::Create(logcheck::WitnessName("AL"), FakeNodeKey("AL"));
  note::Note by_al = *note::ParseNote(*first);
  by_al.signatures.push_back(*al->Cosign(by_al.text, 1767225600));
  count = checkpoints.AcceptCosignature("AL", *note::FormatNote(by_al));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 2u);
}

}  // namespace
}  // namespace cbx::node
