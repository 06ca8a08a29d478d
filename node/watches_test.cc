#include "node/watches.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/directory/testing/test_federation.h"
#include "core/identifiers/identifiers.h"
#include "gtest/gtest.h"
#include "node/executor.h"
#include "node/index_sync.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;

constexpr char kEmail[] = "suspect@example.org";
constexpr char kCase[] = "MK-2026-1";
constexpr char kOffice[] = "MK/PPO-Skopje";
constexpr int64_t kDayMs = 86'400'000;

class WatchesTest : public ::testing::Test {
 protected:
  explicit WatchesTest(v1::SignedDirectory genesis = FakeGenesis())
      : genesis_(std::move(genesis)),
        node_(genesis_),
        peers_(genesis_, "MK", &node_.clock()),
        executor_("test", 2),
        sync_(&node_.ctx(), &peers_, &executor_),
        querier_(&node_.ctx(), &peers_, &executor_),
        watches_(&node_.ctx(), &querier_) {
    node_.ctx().AddPeerIndexListener(
        [this](const NodeContext::PeerIndexSync& sync) {
          if (sync.changed) watches_.OnPeerIndex(sync.copy);
        });
  }
  ~WatchesTest() override {
    peers_.Release();
    executor_.Shutdown();
  }
  void SetUp() override {
    AddOwnCase(kCase, kOffice, /*open=*/true);
    Sync("RS");
    Sync("AL");
  }

  void AddOwnCase(const std::string& number, const std::string& office,
                  bool open) {
    StoredCase c;
    c.record.set_case_number(number);
    c.record.set_office(office);
    c.record.set_status(open ? v1::CASE_STATUS_OPEN : v1::CASE_STATUS_CLOSED);
    ASSERT_TRUE(node_.ctx().storage->AddCase(c).ok());
  }
  void Sync(const std::string& member) {
    absl::Status s = sync_.SyncIndex(member);
    ASSERT_TRUE(s.ok()) << s;
  }
  // `member` registers a case for `email`: its index grows by one version.
  void GiveCase(const std::string& member, const std::string& email) {
    auto input =
        identifiers::NormalizedOprfInput(v1::IDENTIFIER_TYPE_EMAIL, email);
    ASSERT_TRUE(input.ok());
    v1::CaseReference ref;
    ref.set_case_token("token-" + email);
    ref.set_member(member);
    ref.set_competent_office(member + "/PPO");
    peers_.AddCase(member, *input, v1::IDENTIFIER_TYPE_EMAIL, ref);
  }
  static v1::Purpose Purpose(const std::string& basis = "CPC art. 1",
                             const std::string& number = kCase) {
    v1::Purpose p;
    p.set_case_number(number);
    p.set_legal_basis(basis);
    p.set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    return p;
  }
  static v1::AddWatchRequest Request(std::vector<std::string> emails = {kEmail},
                                     uint32_t duration_s = 30 * 86400) {
    v1::AddWatchRequest r;
    for (const std::string& e : emails) {
      v1::Identifier* id = r.add_identifiers();
      id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
      id->set_value(e);
    }
    *r.mutable_purpose() = Purpose();
    r.set_duration_s(duration_s);
    return r;
  }
  v1::Watch AddOk(const v1::AddWatchRequest& request = Request()) {
    absl::StatusOr<v1::AddWatchResponse> added = watches_.Add(request, caller_);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? added->watch() : v1::Watch();
  }
  std::vector<v1::Hit> Hits() {
    auto hits = node_.ctx().storage->ListHits("");
    EXPECT_TRUE(hits.ok());
    return hits.ok() ? hits->items : std::vector<v1::Hit>{};
  }
  // The entries of the office call or node event `rpc` of `kind`.
  std::vector<v1::AuditEntry> Local(const std::string& rpc,
                                    const std::string& kind) {
    std::vector<v1::AuditEntry> out;
    for (const v1::AuditEntry& e :
         node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, rpc)) {
      if (e.kind() == kind) out.push_back(e);
    }
    return out;
  }
  // Outputs sent in Peer.Resolve requests to `member`.
  uint32_t ResolvedOutputs(const std::string& member) {
    uint32_t n = 0;
    for (const v1::AuditEntry& e :
         node_.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.Resolve")) {
      if (e.peer() == member) n += e.outcome().elements();
    }
    return n;
  }

  v1::SignedDirectory genesis_;
  TestNode node_;
  FakePeers peers_;
  Executor executor_;
  IndexSync sync_;
  LookupQuerier querier_;
  Watches watches_;
  OfficeCaller caller_{"MK", "PPO-Skopje", OfficeRole::kProsecutor};
};

TEST_F(WatchesTest, AddKeepsEachPeersOutputsAndNeverTheValue) {
  const v1::Watch watch = AddOk();
  EXPECT_EQ(watch.watch_id().size(), 16u);
  EXPECT_EQ(watch.office(), kOffice);
  EXPECT_EQ(watch.peers_size(), 2);
  ASSERT_EQ(watch.identifier_types_size(), 1);
  EXPECT_EQ(watch.identifier_types(0), v1::IDENTIFIER_TYPE_EMAIL);
  EXPECT_EQ(watch.expires_at_ms(),
            node_.clock().NowMs() + int64_t{30} * kDayMs);
  auto stored = node_.ctx().storage->GetWatch(watch.watch_id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->outputs.size(), 2u);  // one identifier, two peers
  for (const WatchOutput& o : stored->outputs) {
    EXPECT_EQ(o.y.size(), 32u);
    EXPECT_EQ(o.tag, identifiers::TagOf(o.y));
    EXPECT_EQ(o.oprf_epoch, 1u);
    EXPECT_EQ(o.resolved_version, 0u);
  }
  EXPECT_NE(stored->outputs[0].y, stored->outputs[1].y);  // per peer's key
  EXPECT_EQ(stored->record.SerializeAsString().find("suspect"),
            std::string::npos);
  // One evaluation per peer (their Evaluate quota), one audit entry with
  // counts only.
  EXPECT_EQ(peers_.Calls("RS", "Evaluate"), 1);
  EXPECT_EQ(peers_.Calls("AL", "Evaluate"), 1);
  auto created = Local("Office.AddWatch", "watch_created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].outcome().status_code(), 0);
  EXPECT_EQ(created[0].outcome().elements(), 1u);
  EXPECT_EQ(created[0].SerializeAsString().find("suspect"), std::string::npos);
}

TEST_F(WatchesTest, NewIndexVersionWithTheIdentifierIsAWatchHit) {
  const v1::Watch watch = AddOk();
  ASSERT_TRUE(Hits().empty());
  GiveCase("RS", kEmail);
  Sync("RS");
  std::vector<v1::Hit> hits = Hits();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].watch_id(), watch.watch_id());
  EXPECT_EQ(hits[0].member(), "RS");
  EXPECT_EQ(hits[0].case_number(), kCase);
  EXPECT_EQ(hits[0].reference().case_token(), std::string("token-") + kEmail);
  // Tested locally: no new evaluation, one resolve.
  EXPECT_EQ(peers_.Calls("RS", "Evaluate"), 1);
  EXPECT_EQ(peers_.Calls("RS", "Resolve"), 1);
  EXPECT_EQ(node_.ctx().storage->GetWatch(watch.watch_id())->record.hits(), 1u);
  auto logged = Local("Node.WatchHit", "watch_hit");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].outcome().references(), 1u);
  EXPECT_EQ(logged[0].office(), kOffice);

  // The next version does not find it again.
  GiveCase("RS", "other@example.org");
  Sync("RS");
  EXPECT_EQ(Hits().size(), 1u);
  EXPECT_EQ(peers_.Calls("RS", "Resolve"), 1);
}

TEST_F(WatchesTest, AHitOfTheFirstEvaluationIsNotResolvedAgain) {
  GiveCase("RS", kEmail);
  Sync("RS");
  const v1::Watch watch = AddOk();
  EXPECT_EQ(watch.hits(), 1u);
  ASSERT_EQ(Hits().size(), 1u);
  EXPECT_EQ(Hits()[0].watch_id(), watch.watch_id());
  GiveCase("RS", "other@example.org");
  Sync("RS");
  EXPECT_EQ(peers_.Calls("RS", "Resolve"), 1);
}

TEST_F(WatchesTest, DurationOverThePolicyMaximumIsOutOfRange) {
  auto added = watches_.Add(Request({kEmail}, 90 * 86400 + 1), caller_);
  EXPECT_EQ(added.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(watches_.Add(Request({kEmail}, 0), caller_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(peers_.Calls("RS", "Evaluate"), 0);
  auto refused = Local("Office.AddWatch", "watch_created");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kOutOfRange));
}

TEST_F(WatchesTest, PurposeMustBeAnOpenCaseOfTheCallersOffice) {
  AddOwnCase("MK-2026-closed", kOffice, /*open=*/false);
  AddOwnCase("MK-2026-other", "MK/PPO-Bitola", /*open=*/true);
  for (const std::string number :
       {"MK-2026-none", "MK-2026-closed", "MK-2026-other"}) {
    v1::AddWatchRequest request = Request();
    request.mutable_purpose()->set_case_number(number);
    EXPECT_EQ(watches_.Add(request, caller_).status().code(),
              absl::StatusCode::kFailedPrecondition)
        << number;
  }
  EXPECT_EQ(peers_.Calls("RS", "Evaluate"), 0);
  EXPECT_TRUE(node_.ctx().storage->ListWatches("")->empty());
}

TEST_F(WatchesTest, UnknownWatchIsNotFoundAndAnotherOfficesIsDenied) {
  const v1::Watch watch = AddOk();
  const OfficeCaller other{"MK", "PPO-Bitola", OfficeRole::kProsecutor};
  EXPECT_EQ(watches_.Remove("0123456789abcdef", caller_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(watches_.Remove(watch.watch_id(), other).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::RenewWatchRequest renew;
  renew.set_watch_id(watch.watch_id());
  *renew.mutable_purpose() = Purpose("CPC art. 2");
  renew.set_duration_s(86400);
  EXPECT_EQ(watches_.Renew(renew, other).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Another office neither lists nor finds it.
  EXPECT_TRUE(watches_.List(other)->empty());
  ASSERT_EQ(watches_.List(caller_)->size(), 1u);
  EXPECT_TRUE(node_.ctx().storage->GetWatch(watch.watch_id()).ok());
}

TEST_F(WatchesTest, RenewNeedsANewPurposeAndMovesTheExpiry) {
  const v1::Watch watch = AddOk();
  v1::RenewWatchRequest renew;
  renew.set_watch_id(watch.watch_id());
  *renew.mutable_purpose() = Purpose();
  renew.set_duration_s(86400);
  EXPECT_EQ(watches_.Renew(renew, caller_).status().code(),
            absl::StatusCode::kInvalidArgument);
  renew.set_duration_s(91 * 86400);
  *renew.mutable_purpose() = Purpose("CPC art. 2");
  EXPECT_EQ(watches_.Renew(renew, caller_).status().code(),
            absl::StatusCode::kOutOfRange);
  node_.clock().AdvanceMs(10 * kDayMs);
  renew.set_duration_s(60 * 86400);
  absl::StatusOr<v1::Watch> renewed = watches_.Renew(renew, caller_);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->expires_at_ms(), node_.clock().NowMs() + 60 * kDayMs);
  EXPECT_EQ(renewed->renewed_at_ms(), node_.clock().NowMs());
  EXPECT_EQ(renewed->purpose().legal_basis(), "CPC art. 2");
  EXPECT_EQ(Local("Office.RenewWatch", "watch_renewed").size(), 3u);
}

TEST_F(WatchesTest, RemoveDeletesTheWatchAndItsOutputs) {
  const v1::Watch watch = AddOk();
  ASSERT_TRUE(watches_.Remove(watch.watch_id(), caller_).ok());
  EXPECT_EQ(node_.ctx().storage->GetWatch(watch.watch_id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(node_.ctx().storage->WatchOutputsOf("RS")->empty());
  EXPECT_EQ(Local("Office.RemoveWatch", "watch_removed").size(), 1u);
}

TEST_F(WatchesTest, ExpiredWatchIsDeletedWithItsOutputsAndNeverHits) {
  const v1::Watch watch = AddOk(Request({kEmail}, 3600));
  node_.clock().AdvanceMs(3600 * 1000);
  absl::StatusOr<int64_t> expired = watches_.ExpireDue();
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_EQ(*expired, 1);
  EXPECT_EQ(node_.ctx().storage->GetWatch(watch.watch_id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(node_.ctx().storage->WatchOutputsOf("RS")->empty());
  EXPECT_TRUE(node_.ctx().storage->WatchOutputsOf("AL")->empty());
  EXPECT_EQ(Local("Node.WatchExpiry", "watch_expired").size(), 1u);
  GiveCase("RS", kEmail);
  Sync("RS");
  EXPECT_TRUE(Hits().empty());
  EXPECT_EQ(peers_.Calls("RS", "Resolve"), 0);
}

TEST_F(WatchesTest, ExpiryPassedBeforeTheTimerStillNeverHits) {
  AddOk(Request({kEmail}, 3600));
  node_.clock().AdvanceMs(3600 * 1000);
  GiveCase("RS", kEmail);
  Sync("RS");  // the timer has not run: the listener expires it first
  EXPECT_TRUE(Hits().empty());
  EXPECT_TRUE(node_.ctx().storage->ListWatches("")->empty());
}

TEST_F(WatchesTest, PeerWithANewOprfEpochMarksTheWatchNeedsRefresh) {
  const v1::Watch watch = AddOk();
  PeerIndex rotated = node_.ctx().peer_indexes.Get("RS");
  rotated.oprf_epoch = 2;
  rotated.version += 1;
  watches_.OnPeerIndex(std::make_shared<const PeerIndex>(rotated));
  auto stored = node_.ctx().storage->GetWatch(watch.watch_id());
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->record.needs_refresh_size(), 1);
  EXPECT_EQ(stored->record.needs_refresh(0), "RS");
  ASSERT_EQ(stored->record.peers_size(), 1);
  EXPECT_EQ(stored->record.peers(0), "AL");
  EXPECT_TRUE(node_.ctx().storage->WatchOutputsOf("RS")->empty());
  EXPECT_EQ(node_.ctx().storage->WatchOutputsOf("AL")->size(), 1u);
  EXPECT_EQ(peers_.Calls("RS", "Evaluate"), 1);  // none sent again
  EXPECT_EQ(Local("Node.WatchRefresh", "watch_needs_refresh").size(), 1u);
}

// --- Attack: watches cannot bypass the Resolve quota ------------------------

constexpr uint32_t kResolveQuota = 100;

v1::SignedDirectory LowResolveQuotaGenesis() {
  v1::Directory d = directory::testing::GenesisDirectory();
  d.mutable_policy()->set_resolves_per_peer_per_day(kResolveQuota);
  return directory::testing::SignAs(
      d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

class WatchQuotaTest : public WatchesTest {
 protected:
  WatchQuotaTest() : WatchesTest(LowResolveQuotaGenesis()) {}
};

// A peer whose index suddenly holds 1,000 watched identifiers' tags (ten
// times the policy's daily Resolve quota) gets at most the quota of
// resolves a day from the watches; the rest wait for the next day.
TEST_F(WatchQuotaTest, IndexGrowingByManyMatchingTagsYieldsAtMostTheQuota) {
  std::vector<std::string> emails;
  for (int i = 0; i < 1000; ++i) {
    emails.push_back(absl::StrCat("watched", i, "@example.org"));
  }
  AddOk(Request(emails));
  for (const std::string& e : emails) GiveCase("RS", e);
  Sync("RS");
  EXPECT_EQ(ResolvedOutputs("RS"), kResolveQuota);
  EXPECT_EQ(Hits().size(), kResolveQuota);
  // Another version the same day: nothing more.
  GiveCase("RS", "unwatched@example.org");
  Sync("RS");
  EXPECT_EQ(ResolvedOutputs("RS"), kResolveQuota);
  // The next day, the next quota's worth.
  node_.clock().AdvanceMs(kDayMs);
  GiveCase("RS", "unwatched2@example.org");
  Sync("RS");
  EXPECT_EQ(ResolvedOutputs("RS"), 2 * kResolveQuota);
  EXPECT_EQ(Hits().size(), 2 * kResolveQuota);
}

}  // namespace
}  // namespace cbx::node

namespace cbx::node {
namespace {

// spec/cooperation.md §5: every entry of a per-person caller's watch calls
// carries its staff identifier, also the query's envelopes and replies.
TEST_F(WatchesTest, EveryEntryOfAPersonsCallsCarriesThePerson) {
  caller_.person = "p-0042";
  const size_t before = node_.AuditEntries().size();
  const v1::Watch watch = AddOk();
  ASSERT_TRUE(watches_.List(caller_).ok());
  ASSERT_TRUE(watches_.Remove(watch.watch_id(), caller_).ok());
  // A refusal too: the watch is gone.
  EXPECT_EQ(watches_.Remove(watch.watch_id(), caller_).status().code(),
            absl::StatusCode::kNotFound);
  std::vector<v1::AuditEntry> entries = node_.AuditEntries();
  ASSERT_GT(entries.size(), before + 4);
  size_t sent = 0, received = 0;
  for (size_t i = before; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].user(), "p-0042")
        << entries[i].rpc() << " " << entries[i].kind();
    sent += entries[i].direction() == v1::AUDIT_DIRECTION_SENT;
    received += entries[i].direction() == v1::AUDIT_DIRECTION_RECEIVED;
  }
  EXPECT_GT(sent, 0u);      // the evaluations asked of RS and AL
  EXPECT_GT(received, 0u);  // and their replies
}

}  // namespace
}  // namespace cbx::node
