#include "node/index_sync.h"

#include <memory>
#include <string>

#include "core/directory/testing/test_federation.h"
#include "core/identifiers/identifiers.h"
#include "gtest/gtest.h"
#include "node/executor.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeBehaviour;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;

class IndexSyncTest : public ::testing::Test {
 protected:
  IndexSyncTest()
      : genesis_(FakeGenesis()),
        node_(genesis_),
        peers_(genesis_, "MK", &node_.clock()),
        executor_("test", 1),
        sync_(&node_.ctx(), &peers_, &executor_) {}
  ~IndexSyncTest() override { executor_.Shutdown(); }

  void GiveCase(const std::string& member, const std::string& email) {
    auto input =
        identifiers::NormalizedOprfInput(v1::IDENTIFIER_TYPE_EMAIL, email);
    ASSERT_TRUE(input.ok());
    v1::CaseReference ref;
    ref.set_case_token(email);
    peers_.AddCase(member, *input, v1::IDENTIFIER_TYPE_EMAIL, ref);
  }
  PeerIndexSet::Info Held(const std::string& member) {
    return node_.ctx().peer_indexes.Describe(member);
  }
  std::vector<v1::AuditEntry> Received() {
    return node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.SyncIndex");
  }

  v1::SignedDirectory genesis_;
  TestNode node_;
  FakePeers peers_;
  Executor executor_;
  IndexSync sync_;
};

TEST_F(IndexSyncTest, FullCopyMatchesTheManifestAndIsStored) {
  GiveCase("RS", "a@example.org");
  GiveCase("RS", "b@example.org");
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  PeerIndexSet::Info held = Held("RS");
  EXPECT_TRUE(held.held);
  EXPECT_EQ(held.version, 2u);
  EXPECT_EQ(held.count, 2u);
  EXPECT_EQ(held.oprf_epoch, 1u);
  EXPECT_EQ(node_.ctx().peer_indexes.Get("RS").tags, peers_.IndexTags("RS"));
  auto stored = node_.ctx().storage->LoadAllPeerIndexes();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].version, 2u);
  // SENT request, RECEIVED manifest with the outcome (OK).
  EXPECT_EQ(
      node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.SyncIndex").size(),
      1u);
  ASSERT_EQ(Received().size(), 1u);
  EXPECT_EQ(Received()[0].outcome().status_code(), 0);
  EXPECT_EQ(Received()[0].kind(), "index_manifest");
}

TEST_F(IndexSyncTest, DeltaFromTheHeldVersion) {
  GiveCase("RS", "a@example.org");
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  ASSERT_EQ(Held("RS").version, 1u);
  GiveCase("RS", "b@example.org");
  GiveCase("RS", "c@example.org");
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").version, 3u);
  EXPECT_EQ(Held("RS").count, 3u);
  EXPECT_EQ(node_.ctx().peer_indexes.Get("RS").tags, peers_.IndexTags("RS"));
  // Unchanged since: confirmed, still the same copy.
  node_.clock().AdvanceMs(1000);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").version, 3u);
  EXPECT_EQ(Held("RS").synced_at_ms, node_.clock().NowMs());
}

TEST_F(IndexSyncTest, ManifestDigestMismatchLeavesTheCopyUnchanged) {
  GiveCase("RS", "a@example.org");
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  GiveCase("RS", "b@example.org");
  peers_.SetBehaviour("RS", FakeBehaviour::kBadDigest);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("does not match its signed manifest"),
            std::string::npos)
      << s;
  EXPECT_EQ(Held("RS").version, 1u);
  EXPECT_EQ(Held("RS").count, 1u);
  auto received = Received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kDataLoss));
}

TEST_F(IndexSyncTest, UnopenableManifestIsRefused) {
  GiveCase("RS", "a@example.org");
  peers_.SetBehaviour("RS", FakeBehaviour::kWrongMember);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_FALSE(Held("RS").held);
}

TEST_F(IndexSyncTest, PeerDownSetsLastErrorAndRecovers) {
  GiveCase("RS", "a@example.org");
  peers_.SetBehaviour("RS", FakeBehaviour::kRefuse,
                      absl::UnavailableError("connection refused"));
  sync_.SyncAll(/*directory=*/false);
  sync_.Drain();
  EXPECT_EQ(sync_.LastError("RS"), "UNAVAILABLE: connection refused");
  EXPECT_EQ(sync_.LastError("AL"), "");
  EXPECT_FALSE(Held("RS").held);
  EXPECT_TRUE(Held("AL").held);
  auto failed = node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Peer.SyncIndex");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].kind(), "call_failed");
  EXPECT_EQ(failed[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kUnavailable));

  peers_.SetBehaviour("RS", FakeBehaviour::kAnswer);
  sync_.SyncAll(/*directory=*/false);
  sync_.Drain();
  EXPECT_EQ(sync_.LastError("RS"), "");
  EXPECT_TRUE(Held("RS").held);
}

TEST_F(IndexSyncTest, SlowPeerDeadlineIsItsOwn) {
  peers_.SetBehaviour("RS", FakeBehaviour::kDelay, absl::OkStatus(), 60'000);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(peers_.Budgets("RS").front(), 10'000);
}

TEST_F(IndexSyncTest, DirectorySyncAdoptsANewerVersion) {
  peers_.ServeDirectories("RS", {directory::testing::SignedV2()});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(node_.ctx().directory->Current()->version(), 2u);
  auto sent = node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.GetDirectory");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].outcome().elements(), 1u);
  // Nothing newer: nothing changes.
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(node_.ctx().directory->Current()->version(), 2u);
}

}  // namespace
}  // namespace cbx::node
