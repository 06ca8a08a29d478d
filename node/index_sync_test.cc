#include "node/index_sync.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "core/directory/testing/test_federation.h"
#include "core/identifiers/identifiers.h"
#include "gtest/gtest.h"
#include "node/executor.h"
#include "node/lookup_responder.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

// spec/node-config.md "Background work at federation size": a round left at
// its default is paced with the number of active peers; a value the
// operator set is used as it is.
TEST(BackgroundPacingTest, DefaultsArePacedWithThePeersAndSetValuesAreNot) {
  Config config;
  EXPECT_EQ(IndexSyncIntervalMs(config, 4), 2000);
  EXPECT_EQ(IndexSyncIntervalMs(config, 32), 8000);
  EXPECT_EQ(DirectorySyncIntervalMs(config, 4), 10000);
  EXPECT_EQ(DirectorySyncIntervalMs(config, 10), 10000);
  EXPECT_EQ(DirectorySyncIntervalMs(config, 32), 32000);

  config.index_interval_ms = 2001;
  config.directory_interval_ms = 1000;
  EXPECT_EQ(IndexSyncIntervalMs(config, 32), 2001);
  EXPECT_EQ(DirectorySyncIntervalMs(config, 32), 1000);
}

using ::cbx::node::testing::FakeBehaviour;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::FakeServedIndex;
using ::cbx::node::testing::TestNode;

class IndexSyncTest : public ::testing::Test {
 protected:
  explicit IndexSyncTest(v1::SignedDirectory genesis = FakeGenesis())
      : genesis_(std::move(genesis)),
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

// Issue 11 point 7: a correctly signed manifest naming the wrong member
// was refused as "MK's manifest is for BA epoch 1, expected epoch 1".
TEST_F(IndexSyncTest, AManifestForAnotherMemberOrEpochIsRefusedSayingWhich) {
  FakeServedIndex index;
  index.tags = 3;
  index.manifest_member = "AL";
  peers_.ServeIndex("RS", index);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), "RS's manifest names member AL, not RS");
  index.manifest_member.reset();
  index.manifest_epoch = 9;
  peers_.ServeIndex("RS", index);
  s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(),
            "RS's manifest is for OPRF epoch 9, but this node asked for "
            "epoch 1");
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
  EXPECT_EQ(peers_.Budgets("RS").front(), 30'000);  // an index pull's deadline
}

TEST_F(IndexSyncTest, DirectorySyncAdoptsANewerVersion) {
  std::vector<std::pair<uint64_t, uint64_t>> told;
  node_.ctx().AddDirectoryListener([&told](const directory::Directory& before,
                                           const directory::Directory& after) {
    told.emplace_back(before.version(), after.version());
  });
  peers_.ServeDirectories("RS", {directory::testing::SignedV2()});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(node_.ctx().directory->Current()->version(), 2u);
  // The listeners heard of it once, with the versions before and after.
  EXPECT_EQ(told, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}}));
  auto sent = node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.GetDirectory");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].outcome().elements(), 1u);
  // Nothing newer: nothing changes, and no listener is told.
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(node_.ctx().directory->Current()->version(), 2u);
  EXPECT_EQ(told.size(), 1u);
}

// --- A malicious member: the caps (spec/index-sync.md, "Caps") -------------

constexpr uint32_t kCap = 1000;
constexpr uint32_t kGrowth = 100;
constexpr int64_t kDayMs = 86'400'000;

// The test federation with small caps, signed as a genesis.
v1::SignedDirectory CappedGenesis() {
  v1::Directory d = directory::testing::GenesisDirectory();
  d.mutable_policy()->set_max_index_tags(kCap);
  d.mutable_policy()->set_max_index_growth_per_day(kGrowth);
  return directory::testing::SignAs(
      d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

int Occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

class IndexCapsTest : public IndexSyncTest {
 protected:
  IndexCapsTest() : IndexSyncTest(CappedGenesis()) {}

  // RS serves `tags` generated tags at `version` (honest manifest).
  void Serve(uint64_t tags, uint64_t version) {
    FakeServedIndex index;
    index.tags = tags;
    index.version = version;
    peers_.ServeIndex("RS", index);
  }
  std::vector<IndexEvidence> Evidence() {
    auto evidence = node_.ctx().storage->ListIndexEvidence("RS");
    EXPECT_TRUE(evidence.ok()) << evidence.status();
    return evidence.ok() ? *evidence : std::vector<IndexEvidence>{};
  }
};

TEST_F(IndexCapsTest, PoisonedIndexOverTheCapIsRefusedBeforeAnyChunk) {
  // Ten times the cap, honestly signed: every query would "hit".
  Serve(10 * kCap, 1);
  ::testing::internal::CaptureStderr();
  absl::Status s = sync_.SyncIndex("RS");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("over the policy's cap of 1000"),
            std::string::npos)
      << s;
  // Stopped at the manifest: no chunk was taken.
  EXPECT_EQ(peers_.IndexPartsDelivered("RS"), 1);
  EXPECT_TRUE(peers_.IndexStreamStopped("RS"));
  EXPECT_FALSE(Held("RS").held);
  // RECEIVED with the refusal, the alert, the evidence, the peer's state.
  ASSERT_EQ(Received().size(), 1u);
  EXPECT_EQ(Received()[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Occurrences(log, "ALERT-index-over-cap"), 1) << log;
  EXPECT_NE(log.find("count=10000"), std::string::npos) << log;
  std::vector<IndexEvidence> evidence = Evidence();
  ASSERT_EQ(evidence.size(), 1u);
  EXPECT_EQ(evidence[0].version, 1u);
  EXPECT_EQ(evidence[0].count, 10 * kCap);
  EXPECT_EQ(evidence[0].status_code,
            static_cast<int32_t>(absl::StatusCode::kFailedPrecondition));
  v1::Envelope kept;
  ASSERT_TRUE(kept.ParseFromString(evidence[0].manifest));
  EXPECT_EQ(envelope::EnvelopeSha256(kept), Received()[0].envelope_sha256());
  EXPECT_NE(sync_.IndexAlert("RS").find("over the policy's cap"),
            std::string::npos)
      << sync_.IndexAlert("RS");
  EXPECT_EQ(sync_.IndexAlert("AL"), "");
}

TEST_F(IndexCapsTest, NoCopyHeldIsBoundedByTheAbsoluteCapOnly) {
  Serve(kCap, 1);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").count, kCap);
  EXPECT_EQ(sync_.IndexAlert("RS"), "");
}

TEST_F(IndexCapsTest, ManifestThatLiesLowIsStoppedWhenItsCountIsCrossed) {
  FakeServedIndex index;
  index.tags = 10 * kCap;
  index.claimed_count = 50;
  index.tags_per_chunk = 100;
  peers_.ServeIndex("RS", index);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("more than the 50 tags its manifest"),
            std::string::npos)
      << s;
  // The manifest and the first chunk (100 > 50), of 101 parts.
  EXPECT_EQ(peers_.IndexPartsDelivered("RS"), 2);
  EXPECT_TRUE(peers_.IndexStreamStopped("RS"));
  EXPECT_FALSE(Held("RS").held);
  EXPECT_EQ(Evidence().size(), 1u);
  EXPECT_NE(sync_.IndexAlert("RS"), "");
}

TEST_F(IndexCapsTest, MemoryIsBoundedByTheCap) {
  // A manifest at the cap and a stream of ten times as many tags: the
  // puller takes at most the cap's tags and stops at the chunk past it.
  FakeServedIndex index;
  index.tags = 10 * kCap;
  index.claimed_count = kCap;
  index.tags_per_chunk = 100;
  peers_.ServeIndex("RS", index);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  // Manifest + 10 chunks of 100 (the cap) + the one that crosses it.
  EXPECT_EQ(peers_.IndexPartsDelivered("RS"), 1 + kCap / 100 + 1);
  EXPECT_TRUE(peers_.IndexStreamStopped("RS"));
  EXPECT_FALSE(Held("RS").held);
}

TEST_F(IndexCapsTest, DailyGrowthIsCappedAndAllowedAgainTheNextDay) {
  // Start of a UTC day, so that the test's steps stay within it.
  node_.clock().SetMs((node_.clock().NowMs() / kDayMs + 1) * kDayMs);
  Serve(50, 1);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());  // the day's baseline: 50
  Serve(50 + kGrowth + 1, 2);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("101 more than the 50 held when the UTC day"),
            std::string::npos)
      << s;
  EXPECT_EQ(peers_.IndexPartsDelivered("RS"), 1);
  EXPECT_EQ(Held("RS").version, 1u);
  // Up to the day's allowance, in one step or several.
  Serve(50 + kGrowth / 2, 3);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  Serve(50 + kGrowth, 4);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").count, 50 + kGrowth);
  EXPECT_EQ(sync_.IndexAlert("RS"), "");
  // One more the same day is over: the baseline is still 50.
  node_.clock().AdvanceMs(kDayMs - 1000);
  Serve(50 + kGrowth + 1, 5);
  EXPECT_EQ(sync_.SyncIndex("RS").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(sync_.IndexAlert("RS"), "");
  // The next UTC day: the baseline is the copy held, 150.
  node_.clock().AdvanceMs(1000);
  Serve(50 + 2 * kGrowth, 6);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").count, 50 + 2 * kGrowth);
  EXPECT_EQ(sync_.IndexAlert("RS"), "");
  // A shrink is no growth.
  Serve(10, 7);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").count, 10u);
}

TEST_F(IndexCapsTest, PullerAwayForDaysMayCatchUpThatManyDaysOfGrowth) {
  node_.clock().SetMs((node_.clock().NowMs() / kDayMs + 1) * kDayMs);
  Serve(50, 1);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  // Three days without a sync (this node was down): an honest member grew
  // by up to three days' allowance meanwhile.
  node_.clock().AdvanceMs(3 * kDayMs);
  Serve(50 + 3 * kGrowth + 1, 2);
  EXPECT_EQ(sync_.SyncIndex("RS").code(),
            absl::StatusCode::kFailedPrecondition);
  Serve(50 + 3 * kGrowth, 3);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").count, 50 + 3 * kGrowth);
  // Back to one day's allowance once the copy is current again.
  Serve(50 + 3 * kGrowth + 1, 4);
  EXPECT_EQ(sync_.SyncIndex("RS").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(IndexCapsTest, TheBaselineSurvivesARestart) {
  node_.clock().SetMs((node_.clock().NowMs() / kDayMs + 1) * kDayMs);
  Serve(50, 1);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  Serve(50 + kGrowth, 2);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  auto stored = node_.ctx().storage->LoadPeerIndex("RS");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->baseline_day, node_.clock().NowMs() / kDayMs);
  EXPECT_EQ(stored->baseline_count, 50u);

  // The same node after a restart, later the same day: its copies and
  // their baselines come from storage, so the allowance is not renewed.
  TestNode restarted(genesis_);
  restarted.clock().SetMs(node_.clock().NowMs() + 3'600'000);
  ASSERT_TRUE(restarted.ctx().storage->SavePeerIndex(*stored).ok());
  FakePeers peers(genesis_, "MK", &restarted.clock());
  Executor executor("restarted", 1);
  IndexSync sync(&restarted.ctx(), &peers, &executor);
  ASSERT_TRUE(sync.LoadStoredIndexes().ok());
  FakeServedIndex grown;
  grown.tags = 50 + kGrowth + 1;
  grown.version = 3;
  peers.ServeIndex("RS", grown);
  EXPECT_EQ(sync.SyncIndex("RS").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(restarted.ctx().peer_indexes.Describe("RS").version, 2u);
  executor.Shutdown();
}

TEST_F(IndexCapsTest, LastGoodCopyIsKeptAndStillAnswersQueries) {
  GiveCase("RS", "a@example.org");
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  const std::vector<Tag> good = peers_.IndexTags("RS");
  ASSERT_EQ(good.size(), 1u);
  Serve(2 * kCap, 9);
  EXPECT_EQ(sync_.SyncIndex("RS").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Held("RS").version, 1u);
  EXPECT_EQ(node_.ctx().peer_indexes.Get("RS").tags, good);
  EXPECT_TRUE(node_.ctx().peer_indexes.Contains("RS", good[0]));
  EXPECT_FALSE(
      node_.ctx().peer_indexes.Contains("RS", FakePeers::ServedTags(1)[0]));
  EXPECT_EQ(node_.ctx().storage->LoadPeerIndex("RS")->version, 1u);
}

TEST_F(IndexCapsTest, AlertOncePerOffendingManifestUntilAnIndexIsAccepted) {
  Serve(2 * kCap, 1);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sync_.SyncIndex("RS").code(),
              absl::StatusCode::kFailedPrecondition);
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Occurrences(log, "ALERT-index-over-cap"), 1) << log;
  EXPECT_EQ(Evidence().size(), 1u);
  ASSERT_EQ(Received().size(), 3u);  // each refusal is in the audit log
  const std::string first_alert = sync_.IndexAlert("RS");
  EXPECT_EQ(first_alert.rfind("since 20", 0), 0u) << first_alert;

  // Another offending manifest: another alert and its evidence; the alert
  // keeps its start.
  node_.clock().AdvanceMs(60'000);
  Serve(3 * kCap, 2);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(sync_.SyncIndex("RS").code(),
            absl::StatusCode::kFailedPrecondition);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Occurrences(log, "ALERT-index-over-cap"), 1) << log;
  EXPECT_EQ(Evidence().size(), 2u);
  EXPECT_EQ(sync_.IndexAlert("RS").substr(0, 30), first_alert.substr(0, 30));
  EXPECT_NE(sync_.IndexAlert("RS").find("3000 tags"), std::string::npos);

  // The alert stands across a restart (from the evidence)...
  IndexSync restarted(&node_.ctx(), &peers_, &executor_);
  ASSERT_TRUE(restarted.LoadStoredIndexes().ok());
  EXPECT_NE(restarted.IndexAlert("RS").find("3000 tags"), std::string::npos)
      << restarted.IndexAlert("RS");
  // ...and ends when an index within the caps is accepted.
  peers_.ServeIndex("RS", std::nullopt);
  GiveCase("RS", "a@example.org");
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(sync_.IndexAlert("RS"), "");
}

TEST_F(IndexSyncTest, OversizedChunkIsRefused) {
  // Within the default cap, but one chunk of 65,537 tags.
  FakeServedIndex index;
  index.tags = kTagsPerChunk + 1;
  index.tags_per_chunk = kTagsPerChunk + 1;
  peers_.ServeIndex("RS", index);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("a chunk holds at most 65536"), std::string::npos)
      << s;
  EXPECT_EQ(peers_.IndexPartsDelivered("RS"), 2);
  EXPECT_FALSE(Held("RS").held);
  auto evidence = node_.ctx().storage->ListIndexEvidence("RS");
  ASSERT_TRUE(evidence.ok());
  EXPECT_EQ(evidence->size(), 1u);
  // The same index in chunks of the protocol's size is accepted.
  index.tags_per_chunk = kTagsPerChunk;
  peers_.ServeIndex("RS", index);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  EXPECT_EQ(Held("RS").count, kTagsPerChunk + 1);
  EXPECT_EQ(peers_.IndexPartsDelivered("RS"), 3);
}

TEST_F(IndexSyncTest, ChunkOfStrayBytesIsRefused) {
  FakeServedIndex index;
  index.tags = 10;
  index.trailing_bytes = 3;
  peers_.ServeIndex("RS", index);
  absl::Status s = sync_.SyncIndex("RS");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("not a multiple of 8"), std::string::npos) << s;
  EXPECT_TRUE(peers_.IndexStreamStopped("RS"));
  EXPECT_FALSE(Held("RS").held);
}

// --- A peer rotates its OPRF key (spec/index-sync.md, "Epoch change") ------

namespace epoch_change {

// CappedGenesis with RS's OPRF key moved to epoch 2, as version 2.
v1::SignedDirectory RsEpoch2() {
  v1::Directory d = directory::testing::GenesisDirectory();
  d.mutable_policy()->set_max_index_tags(kCap);
  d.mutable_policy()->set_max_index_growth_per_day(kGrowth);
  d.set_version(2);
  d.set_issued_at_ms(d.issued_at_ms() + 1000);
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "RS") continue;
    m.mutable_oprf_key()->set_public_key(
        directory::testing::TestOprfPublicKey("RS", 2));
    m.mutable_oprf_key()->set_epoch(2);
  }
  return directory::testing::SignAs(
      d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

}  // namespace epoch_change

TEST_F(IndexCapsTest, PeerEpochChangeDropsTheCopyAndPullsAgainAtOnce) {
  Serve(50, 7);
  ASSERT_TRUE(sync_.SyncIndex("RS").ok());
  ASSERT_EQ(Held("RS").count, 50u);
  const int pulls = peers_.Calls("RS", "SyncIndex");
  // RS has not switched yet when this node adopts its new epoch.
  peers_.SetBehaviour("RS", FakeBehaviour::kRefuse,
                      absl::UnavailableError("OPRF key rotation in progress"));
  auto before = node_.ctx().directory->Current();
  ASSERT_TRUE(node_.ctx().directory->Update({epoch_change::RsEpoch2()}).ok());
  sync_.OnDirectory(*before, *node_.ctx().directory->Current());
  // Dropped at once, in memory and on disk: a query to RS now says
  // "index sync pending" (the held epoch is not RS's), never a miss.
  PeerIndexSet::Info held = Held("RS");
  EXPECT_EQ(held.count, 0u);
  EXPECT_EQ(held.version, 0u);
  EXPECT_NE(held.oprf_epoch, 2u);
  auto stored = node_.ctx().storage->LoadPeerIndex("RS");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->tags.empty());
  // Pulled again without waiting for the interval.
  sync_.Drain();
  EXPECT_EQ(peers_.Calls("RS", "SyncIndex"), pulls + 1);
  EXPECT_EQ(Held("RS").count, 0u);

  // The next day RS serves its new epoch's index, a little bigger: judged
  // against the baseline of the dropped copy (50), not as 140 tags of
  // growth over nothing.
  node_.clock().AdvanceMs(kDayMs);
  peers_.SetBehaviour("RS", FakeBehaviour::kAnswer);
  Serve(140, 1);
  absl::Status pulled = sync_.SyncIndex("RS");
  ASSERT_TRUE(pulled.ok()) << pulled;
  held = Held("RS");
  EXPECT_EQ(held.oprf_epoch, 2u);
  EXPECT_EQ(held.count, 140u);
  EXPECT_EQ(held.version, 1u);
}

}  // namespace
}  // namespace cbx::node
