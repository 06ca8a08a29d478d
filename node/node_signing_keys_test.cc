// Node signing key rotation (spec/keys.md §4): which configured key signs,
// by time and by directory version; the switch; the refusal when none is
// valid; and checkpoints that keep verifying across the switch.
#include "node/node_signing_keys.h"

#include <memory>
#include <string>
#include <vector>

#include "core/directory/testing/test_federation.h"
#include "core/envelope/envelope.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_keys.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"
#include "node/checkpoints.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

namespace fed = ::cbx::directory::testing;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::TestNode;

constexpr int64_t kDayMs = 86'400'000;
// v2 lists MK/node/1 until 2025-12-31 and MK/node/2 from 2025-12-30.
constexpr int64_t kBeforeOverlapMs = fed::kMkNode2NotBeforeMs - kDayMs / 2;
constexpr int64_t kInOverlapMs = fed::kMkNode2NotBeforeMs + kDayMs / 2;
constexpr int64_t kAfterOverlapMs = fed::kMkNode1NotAfterMs + kDayMs / 2;

std::string Hex(const std::string& label) {
  return HexEncode(fed::TestKeyId(label));
}

class NodeSigningKeysTest : public ::testing::Test {
 protected:
  NodeSigningKeysTest() : node_(FakeGenesis()) {
    node_.clock().SetMs(kBeforeOverlapMs);
    UseKeys({"MK/node/1", "MK/node/2"});
  }

  // The node holds the test keys `labels` (keys.node_signing_key first).
  void UseKeys(const std::vector<std::string>& labels) {
    std::vector<NodeSigningKeys::Key> keys;
    const char* fields[] = {"keys.node_signing_key",
                            "keys.node_signing_key_next"};
    for (size_t i = 0; i < labels.size(); ++i) {
      keys.push_back({fields[i],
                      std::make_shared<crypto::Ed25519Signer>(
                          fed::TestKey(labels[i]), labels[i]),
                      fed::TestKeyId(labels[i])});
    }
    ctx().signing_keys = std::make_unique<NodeSigningKeys>(
        "MK", std::move(keys), ctx().directory.get(), &node_.clock());
  }
  NodeContext& ctx() { return node_.ctx(); }
  void Adopt(const v1::SignedDirectory& version) {
    ASSERT_TRUE(ctx().directory->Update({version}).ok());
  }
  // The key id of the key that seals an envelope now ("" if refused).
  std::string SealingKey() {
    v1::Message msg;
    *msg.mutable_header() = ctx().NewHeader("RS", "");
    auto sealed = ctx().signing_keys->Seal(msg);
    return sealed.ok() ? HexEncode(sealed->key_id()) : "";
  }
  // Runs `f` and returns what it logged.
  template <typename F>
  std::string Logged(F f) {
    ::testing::internal::CaptureStderr();
    f();
    return ::testing::internal::GetCapturedStderr();
  }
  void Append(int n = 1) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(ctx()
                      .audit_trail
                      ->Call(v1::AUDIT_DIRECTION_LOCAL, "", "Office.ListCases",
                             "list_cases", "MK/PPO-Skopje",
                             absl::StatusCode::kOk)
                      .ok());
    }
  }
  // The log key IDs that signed `signed_note`, in order.
  std::vector<uint32_t> LogKeyIds(const std::string& signed_note) {
    std::vector<uint32_t> ids;
    auto n = note::ParseNote(signed_note);
    EXPECT_TRUE(n.ok()) << n.status();
    for (const note::Signature& s : n->signatures) {
      if (s.name == "cbx/MK/audit") ids.push_back(s.key_id);
    }
    return ids;
  }
  uint32_t NoteKeyId(const std::string& label) {
    return note::NoteSigner::Create("cbx/MK/audit", fed::TestKey(label))
        ->key_id();
  }
  // `signed_note` verifies as MK's checkpoint under the current directory.
  absl::Status VerifiesNow(const std::string& signed_note) {
    auto keys = logcheck::KeysOfLog(*ctx().directory->Current(), "MK");
    if (!keys.ok()) return keys.status();
    return logcheck::VerifyCheckpoint(*keys, signed_note).status();
  }

  TestNode node_;
};

TEST_F(NodeSigningKeysTest, TheKeyListedValidNowSigns) {
  // The genesis lists only MK/node/1: the next key, not listed yet, never
  // signs, whatever the time.
  EXPECT_EQ(SealingKey(), Hex("MK/node/1"));
  node_.clock().SetMs(kAfterOverlapMs);
  EXPECT_EQ(SealingKey(), Hex("MK/node/1"));
  // v2 publishes MK/node/2 from 2025-12-30 and ends MK/node/1 on 12-31.
  node_.clock().SetMs(kBeforeOverlapMs);
  Adopt(fed::SignedV2());
  EXPECT_EQ(SealingKey(), Hex("MK/node/1"));
  auto all = ctx().signing_keys->AllValid();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 1u);
  // In the overlap both may sign: the newest seals envelopes, both sign
  // checkpoints (newest first).
  node_.clock().SetMs(kInOverlapMs);
  EXPECT_EQ(SealingKey(), Hex("MK/node/2"));
  all = ctx().signing_keys->AllValid();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0]->location(), "MK/node/2");
  EXPECT_EQ((*all)[1]->location(), "MK/node/1");
  node_.clock().SetMs(kAfterOverlapMs);
  EXPECT_EQ(SealingKey(), Hex("MK/node/2"));
  EXPECT_EQ(ctx().signing_keys->AllValid()->size(), 1u);
}

TEST_F(NodeSigningKeysTest, AnEnvelopeSealedAcrossTheSwitchOpensAtAPeer) {
  Adopt(fed::SignedV2());
  auto peer_view = directory::Directory::FromGenesis(FakeGenesis());
  ASSERT_TRUE(peer_view.ok());
  auto v2 = (*peer_view)->Adopt(fed::SignedV2());
  ASSERT_TRUE(v2.ok());
  for (int64_t at : {kBeforeOverlapMs, kInOverlapMs, kAfterOverlapMs}) {
    node_.clock().SetMs(at);
    v1::Message msg;
    *msg.mutable_header() = ctx().NewHeader("RS", "");
    msg.mutable_index_request()->set_oprf_epoch(1);
    auto sealed = ctx().signing_keys->Seal(msg);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    // What RS checks (spec/envelope.md check 2): the key MK lists with this
    // id, valid when the message was issued.
    auto key =
        (*v2)->NodeKeyAt("MK", sealed->key_id(), msg.header().issued_at_ms());
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_TRUE(key->Verify(envelope::EnvelopeSigningInput(sealed->body()),
                            sealed->signature()));
  }
}

TEST_F(NodeSigningKeysTest, TheSwitchIsLoggedOnce) {
  Adopt(fed::SignedV2());
  std::string first = Logged([&] { ctx().signing_keys->Refresh(); });
  EXPECT_NE(first.find("node-key key_id=" + Hex("MK/node/1")),
            std::string::npos)
      << first;
  node_.clock().SetMs(kInOverlapMs);
  std::string switched = Logged([&] {
    ctx().signing_keys->Refresh();
    ctx().signing_keys->Refresh();
    SealingKey();
  });
  EXPECT_NE(switched.find("node-key-switched from=" + Hex("MK/node/1") +
                          " to=" + Hex("MK/node/2")),
            std::string::npos)
      << switched;
  size_t count = 0;
  for (size_t at = switched.find("node-key-switched"); at != std::string::npos;
       at = switched.find("node-key-switched", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
}

TEST_F(NodeSigningKeysTest, AdoptingTheVersionSwitchesThroughTheListener) {
  node_.clock().SetMs(kInOverlapMs);
  ctx().AddDirectoryListener(
      [this](const directory::Directory&, const directory::Directory&) {
        ctx().signing_keys->Refresh();
      });
  ctx().signing_keys->Refresh();  // MK/node/1: the genesis lists no other
  auto before = ctx().directory->Current();
  std::string logged = Logged([&] {
    Adopt(fed::SignedV2());
    ctx().DirectoryAdopted(*before, *ctx().directory->Current());
  });
  EXPECT_NE(logged.find("node-key-switched"), std::string::npos) << logged;
  EXPECT_NE(logged.find("directory_version=2"), std::string::npos) << logged;
}

TEST_F(NodeSigningKeysTest, NoValidKeyRefusesToSignAndAlertsOnce) {
  // Only MK/node/1 is configured; v2 ends it on 2025-12-31.
  UseKeys({"MK/node/1"});
  Adopt(fed::SignedV2());
  node_.clock().SetMs(kAfterOverlapMs);
  Append();
  absl::Status sealed, checkpoint;
  std::string logged = Logged([&] {
    v1::Message msg;
    *msg.mutable_header() = ctx().NewHeader("RS", "");
    sealed = ctx().signing_keys->Seal(msg).status();
    Checkpoints checkpoints(&ctx());
    checkpoint = checkpoints.MaybeCheckpoint(/*force=*/true);
  });
  EXPECT_EQ(sealed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(sealed.message().find("keys.node_signing_key (key id " +
                                  Hex("MK/node/1") + ") expired at"),
            std::string::npos)
      << sealed;
  EXPECT_EQ(checkpoint.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ctx().audit->LatestCheckpoint().status().code(),
            absl::StatusCode::kNotFound);
  size_t alerts = 0;
  for (size_t at = logged.find("ALERT-node-key-invalid");
       at != std::string::npos;
       at = logged.find("ALERT-node-key-invalid", at + 1)) {
    ++alerts;
  }
  EXPECT_EQ(alerts, 1u) << logged;
  // A key not listed at all signs nothing either.
  UseKeys({"MK/node/3"});
  EXPECT_EQ(ctx().signing_keys->Current().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ctx().signing_keys->AnyListedIn(*ctx().directory->Current()));
}

TEST_F(NodeSigningKeysTest, CheckpointsVerifyAcrossTheSwitch) {
  Checkpoints checkpoints(&ctx());
  Adopt(fed::SignedV2());
  // Before the overlap: MK/node/1 alone.
  Append();
  ASSERT_TRUE(checkpoints.MaybeCheckpoint(/*force=*/true).ok());
  std::string first = *ctx().audit->LatestCheckpoint();
  EXPECT_EQ(LogKeyIds(first), std::vector<uint32_t>{NoteKeyId("MK/node/1")});
  // The switch: the latest checkpoint gets the new key's signature too.
  node_.clock().SetMs(kInOverlapMs);
  ASSERT_TRUE(checkpoints.MaybeCheckpoint(/*force=*/false).ok());
  EXPECT_EQ(
      LogKeyIds(*ctx().audit->LatestCheckpoint()),
      (std::vector<uint32_t>{NoteKeyId("MK/node/1"), NoteKeyId("MK/node/2")}));
  // In the overlap both keys sign, the newest first.
  Append();
  ASSERT_TRUE(checkpoints.MaybeCheckpoint(/*force=*/true).ok());
  EXPECT_EQ(
      LogKeyIds(*ctx().audit->LatestCheckpoint()),
      (std::vector<uint32_t>{NoteKeyId("MK/node/2"), NoteKeyId("MK/node/1")}));
  // After it, the new key alone.
  node_.clock().SetMs(kAfterOverlapMs);
  Append();
  ASSERT_TRUE(checkpoints.MaybeCheckpoint(/*force=*/true).ok());
  const std::string last = *ctx().audit->LatestCheckpoint();
  EXPECT_EQ(LogKeyIds(last), std::vector<uint32_t>{NoteKeyId("MK/node/2")});
  // Under v2 every one verifies; once v4 drops MK/node/1, the checkpoint
  // signed before the switch verifies no more, and what auditors are shown
  // still does.
  EXPECT_TRUE(VerifiesNow(first).ok());
  EXPECT_TRUE(VerifiesNow(last).ok());
  Adopt(fed::SignedV3());
  Adopt(testing::FakeV4WithoutOldNodeKeys());
  EXPECT_EQ(VerifiesNow(first).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(VerifiesNow(*ctx().audit->CheckpointAt(1)).ok());
  EXPECT_TRUE(VerifiesNow(last).ok());
  auto shown = checkpoints.BestCheckpoint();
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_TRUE(VerifiesNow(*shown).ok());
}

}  // namespace
}  // namespace cbx::node
