#include "node/lookup_querier.h"

#include <dirent.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/identifiers/identifiers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/executor.h"
#include "node/hit_stats.h"
#include "node/index_sync.h"
#include "node/storage/storage_test_util.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeBehaviour;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::MakeCase;
using ::cbx::node::testing::TestNode;

constexpr char kEmail[] = "suspect@example.org";
constexpr int64_t kPeerDeadlineMs = 2000;  // the test federation's policy

int ThreadCount() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

class LookupQuerierTest : public ::testing::Test {
 protected:
  void Build(int extra_members, int threads) {
    const v1::SignedDirectory genesis = FakeGenesis(extra_members);
    node_ = std::make_unique<TestNode>(genesis);
    peers_ = std::make_unique<FakePeers>(genesis, "MK", &node_->clock());
    executor_ = std::make_unique<Executor>("test", threads);
    querier_ = std::make_unique<LookupQuerier>(&node_->ctx(), peers_.get(),
                                               executor_.get());
    RegisterCase("MK-2026-1", "MK/PPO-Skopje", /*open=*/true);
  }
  void SetUp() override { Build(0, 4); }
  // Stores a case of `office` directly (no audit entry), as the purpose a
  // query must name (spec/office-api.md §4.5).
  void RegisterCase(const std::string& number, const std::string& office,
                    bool open) {
    StoredCase c = MakeCase(number, open, {});
    c.record.set_office(office);
    Bytes token(16, '\0');
    std::copy_n(number.begin(), std::min<size_t>(16, number.size()),
                token.begin());
    c.record.set_case_token(token);
    ASSERT_TRUE(node_->ctx().storage->AddCase(c).ok());
  }
  void TearDown() override {
    peers_->Release();
    executor_->Shutdown();
  }

  // This node's copy of `member`'s index, as a sync would leave it.
  void HoldIndex(const std::string& member) {
    PeerIndex index;
    index.member = member;
    index.oprf_epoch = 1;
    index.version = peers_->IndexVersion(member);
    index.tags = peers_->IndexTags(member);
    index.synced_at_ms = node_->clock().NowMs();
    node_->ctx().peer_indexes.Put(std::move(index));
  }
  // The querier settles version claims after each index sync, as the node
  // wires it.
  void SettleClaimsAtEachSync() {
    node_->ctx().AddPeerIndexListener(
        [this](const NodeContext::PeerIndexSync& sync) {
          querier_->CheckVersionClaims(*sync.copy, sync.started_ms);
        });
  }
  // One real index sync of `member`, begun after everything so far.
  void SyncIndexLater(const std::string& member) {
    node_->clock().AdvanceMs(1);
    Executor sync_executor("sync", 1);
    IndexSync sync(&node_->ctx(), peers_.get(), &sync_executor);
    ASSERT_TRUE(sync.SyncIndex(member).ok());
    sync_executor.Shutdown();
  }
  void HoldAllIndexes() {
    for (const std::string& code :
         node_->ctx().directory->Current()->ActiveMemberCodes()) {
      if (code != "MK") HoldIndex(code);
    }
  }
  // `member` holds a case for kEmail.
  void GiveCase(const std::string& member) {
    auto input =
        identifiers::NormalizedOprfInput(v1::IDENTIFIER_TYPE_EMAIL, kEmail);
    ASSERT_TRUE(input.ok());
    v1::CaseReference ref;
    ref.set_case_token("token-" + member);
    ref.set_member(member);
    ref.set_competent_office(member + "/PPO");
    peers_->AddCase(member, *input, v1::IDENTIFIER_TYPE_EMAIL, ref);
  }
  // `member` holds a case for each of `emails`.
  void GiveCases(const std::string& member,
                 const std::vector<std::string>& emails) {
    for (const std::string& email : emails) {
      auto input =
          identifiers::NormalizedOprfInput(v1::IDENTIFIER_TYPE_EMAIL, email);
      ASSERT_TRUE(input.ok());
      v1::CaseReference ref;
      ref.set_case_token("token-" + email);
      ref.set_member(member);
      ref.set_competent_office(member + "/PPO");
      peers_->AddCase(member, *input, v1::IDENTIFIER_TYPE_EMAIL, ref);
    }
  }
  // The RECEIVED entries of `rpc` from `member`.
  std::vector<v1::AuditEntry> ReceivedFrom(const std::string& member,
                                           const std::string& rpc) {
    std::vector<v1::AuditEntry> out;
    for (const v1::AuditEntry& e :
         node_->AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, rpc)) {
      if (e.peer() == member) out.push_back(e);
    }
    return out;
  }
  size_t StoredHits() {
    auto hits = node_->ctx().storage->ListHits("");
    EXPECT_TRUE(hits.ok());
    return hits.ok() ? hits->items.size() : 0;
  }

  static v1::QueryRequest Request(std::vector<std::string> peers = {}) {
    v1::QueryRequest request;
    v1::Identifier* id = request.add_identifiers();
    id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
    id->set_value(kEmail);
    request.mutable_purpose()->set_case_number("MK-2026-1");
    request.mutable_purpose()->set_legal_basis("CPC art. 1");
    request.mutable_purpose()->set_offence(static_cast<v1::OffenceCode>(1));
    for (std::string& p : peers) request.add_peers(std::move(p));
    return request;
  }

  // Runs a query; the answers in the order they were emitted, then the
  // summary in `summary`.
  std::vector<v1::PeerAnswer> Query(
      const v1::QueryRequest& request, v1::QuerySummary* summary = nullptr,
      const std::function<void(const v1::PeerAnswer&)>& on_answer = {}) {
    std::vector<v1::PeerAnswer> answers;
    status_ = querier_->Run(request, caller_, [&](const v1::QueryEvent& e) {
      if (e.has_answer()) {
        answers.push_back(e.answer());
        if (on_answer) on_answer(e.answer());
      } else if (summary != nullptr) {
        *summary = e.summary();
      }
      return true;
    });
    return answers;
  }

  static const v1::PeerAnswer& For(const std::vector<v1::PeerAnswer>& all,
                                   const std::string& member) {
    for (const v1::PeerAnswer& a : all) {
      if (a.member() == member) return a;
    }
    static const v1::PeerAnswer kNone;
    ADD_FAILURE() << "no answer from " << member;
    return kNone;
  }

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<FakePeers> peers_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<LookupQuerier> querier_;
  OfficeCaller caller_{"MK", "PPO-Skopje", OfficeRole::kProsecutor};
  absl::Status status_;
};

TEST_F(LookupQuerierTest, AsksEveryActivePeerAndSummarizes) {
  HoldAllIndexes();
  v1::QuerySummary summary;
  std::vector<v1::PeerAnswer> answers = Query(Request(), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(For(answers, "RS").outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_EQ(For(answers, "AL").outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_EQ(summary.miss_members_size(), 2);
  EXPECT_EQ(summary.failed_members_size(), 0);
  // One SENT and one RECEIVED (OK, one element, no hit) per peer.
  auto sent = node_->AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.Evaluate");
  auto received =
      node_->AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate");
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_EQ(received.size(), 2u);
  for (const v1::AuditEntry& e : received) {
    EXPECT_EQ(e.outcome().status_code(), 0);
    EXPECT_EQ(e.outcome().elements(), 1u);
    EXPECT_EQ(e.outcome().hits(), 0u);
  }
  for (const v1::AuditEntry& e : sent) EXPECT_EQ(e.office(), "MK/PPO-Skopje");
  EXPECT_EQ(peers_->Budgets("RS").front(), kPeerDeadlineMs);
}

TEST_F(LookupQuerierTest, HitIsResolvedAndStored) {
  GiveCase("RS");
  HoldAllIndexes();
  v1::QuerySummary summary;
  std::vector<v1::PeerAnswer> answers = Query(Request(), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  const v1::PeerAnswer& rs = For(answers, "RS");
  ASSERT_EQ(rs.outcome(), v1::PEER_OUTCOME_HIT) << rs.error();
  ASSERT_EQ(rs.references_size(), 1);
  EXPECT_EQ(rs.references(0).case_token(), "token-RS");
  ASSERT_EQ(rs.references(0).matched_size(), 1);
  EXPECT_EQ(rs.references(0).matched(0).input_index(), 0u);
  EXPECT_EQ(For(answers, "AL").outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_EQ(summary.hit_members_size(), 1);

  auto hits = node_->ctx().storage->ListHits("MK-2026-1");
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->items.size(), 1u);
  EXPECT_EQ(hits->items[0].member(), "RS");
  EXPECT_EQ(hits->items[0].query_id(), summary.query_id());
  EXPECT_EQ(hits->items[0].reference().case_token(), "token-RS");

  auto evaluated =
      node_->AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate");
  bool rs_hit = false;
  for (const v1::AuditEntry& e : evaluated) {
    if (e.peer() == "RS") rs_hit = e.outcome().hits() == 1;
  }
  EXPECT_TRUE(rs_hit);
  auto sent = node_->AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.Resolve");
  auto received =
      node_->AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Resolve");
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].outcome().status_code(), 0);
  EXPECT_EQ(received[0].outcome().references(), 1u);
  EXPECT_EQ(received[0].in_reply_to(), sent[0].message_id());
}

// spec/oprf.md §1: the first request to a peer goes compressed; once its
// verified answer says it takes the uncompressed form, the next ones go
// uncompressed (hits resolve as before). A peer that takes only the
// compressed form (an older node) is never sent the other, and one that
// goes back to such a version after taking it fails one request and is
// asked compressed from the next.
TEST_F(LookupQuerierTest, ElementsGoUncompressedOnlyToAPeerThatTakesThem) {
  GiveCase("RS");
  HoldAllIndexes();
  peers_->SetCompressedOnly("AL", true);
  std::vector<v1::PeerAnswer> answers = Query(Request());
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(For(answers, "RS").outcome(), v1::PEER_OUTCOME_HIT);
  EXPECT_EQ(For(answers, "AL").outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_EQ(peers_->LastElementSize("RS"), crypto::kP256ElementSize);
  EXPECT_EQ(peers_->LastElementSize("AL"), crypto::kP256ElementSize);

  answers = Query(Request());
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(For(answers, "RS").outcome(), v1::PEER_OUTCOME_HIT)
      << For(answers, "RS").error();
  EXPECT_EQ(For(answers, "AL").outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_EQ(peers_->LastElementSize("RS"),
            crypto::kP256UncompressedElementSize);
  EXPECT_EQ(peers_->LastElementSize("AL"), crypto::kP256ElementSize);

  peers_->SetCompressedOnly("RS", true);
  answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_ERROR);
  EXPECT_EQ(answers[0].status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_HIT) << answers[0].error();
  EXPECT_EQ(peers_->LastElementSize("RS"), crypto::kP256ElementSize);

  // Upgraded again; then an answer that fails its checks (here the wrong
  // count) is followed by a compressed request too.
  peers_->SetCompressedOnly("RS", false);
  Query(Request({"RS"}));
  Query(Request({"RS"}));
  EXPECT_EQ(peers_->LastElementSize("RS"),
            crypto::kP256UncompressedElementSize);
  peers_->SetBehaviour("RS", FakeBehaviour::kWrongCount);
  answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_ERROR);
  peers_->SetBehaviour("RS", FakeBehaviour::kAnswer);
  answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_HIT) << answers[0].error();
  EXPECT_EQ(peers_->LastElementSize("RS"), crypto::kP256ElementSize);
}

// A hit keeps its context (spec/office-api.md §4.6): the value as the
// office asked it, its normal form, both observed windows and whether they
// overlap; a hit whose windows are disjoint says so.
TEST_F(LookupQuerierTest, AHitCarriesTheAskedValueAndBothWindows) {
  auto input =
      identifiers::NormalizedOprfInput(v1::IDENTIFIER_TYPE_EMAIL, kEmail);
  ASSERT_TRUE(input.ok());
  v1::CaseReference ref;
  ref.set_case_token("token-RS");
  ref.set_member("RS");
  ref.set_competent_office("RS/PPO");
  v1::MatchedIdentifier* window = ref.add_matched();
  window->set_observed_from_ms(5000);
  window->set_observed_to_ms(6000);
  peers_->AddCase("RS", *input, v1::IDENTIFIER_TYPE_EMAIL, ref);
  HoldAllIndexes();
  v1::QueryRequest request = Request();
  v1::Identifier* first = request.mutable_identifiers(0);
  first->set_value("  Suspect@Example.ORG ");
  first->set_observed_from_ms(1000);
  first->set_observed_to_ms(2000);
  v1::QuerySummary summary;
  Query(request, &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  auto hits = node_->ctx().storage->ListHits("MK-2026-1");
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->items.size(), 1u);
  const v1::Hit& hit = hits->items[0];
  ASSERT_EQ(hit.matches_size(), 1);
  const v1::HitMatch& m = hit.matches(0);
  EXPECT_EQ(m.type(), v1::IDENTIFIER_TYPE_EMAIL);
  EXPECT_EQ(m.value(), "  Suspect@Example.ORG ");
  EXPECT_EQ(m.normalized(), kEmail);
  EXPECT_EQ(m.input_index(), 0u);
  EXPECT_EQ(m.querier_from_ms(), 1000);
  EXPECT_EQ(m.querier_to_ms(), 2000);
  EXPECT_EQ(m.peer_from_ms(), 5000);
  EXPECT_EQ(m.peer_to_ms(), 6000);
  EXPECT_EQ(m.windows_overlap(), v1::WINDOWS_OVERLAP_DISJOINT);
  EXPECT_EQ(hit.windows_overlap(), v1::WINDOWS_OVERLAP_DISJOINT);
}

// Each answer says how old the copy of the peer's index behind it was;
// a miss from a copy older than three sync intervals is named in the
// summary (spec/office-api.md §4.5).
TEST_F(LookupQuerierTest, AnAnswerSaysHowOldTheIndexCopyWas) {
  const int64_t synced_ms = node_->clock().NowMs();
  HoldAllIndexes();  // both copies built now
  // The test node's interval (sync.index_interval_ms) times three.
  const int64_t stale_ms =
      3 * IndexSyncIntervalMs(node_->ctx().config, /*active_peers=*/2);
  node_->clock().AdvanceMs(stale_ms);
  // RS's copy is confirmed current a little later; AL's is not.
  node_->ctx().peer_indexes.Touch("RS", synced_ms + 1000);
  v1::QuerySummary summary;
  std::vector<v1::PeerAnswer> answers = Query(Request(), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  const v1::PeerAnswer& rs = For(answers, "RS");
  const v1::PeerAnswer& al = For(answers, "AL");
  EXPECT_EQ(rs.outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_EQ(rs.index_version(), peers_->IndexVersion("RS"));
  EXPECT_EQ(rs.index_synced_at_ms(), synced_ms + 1000);
  EXPECT_EQ(rs.index_age_ms(), stale_ms - 1000);
  EXPECT_EQ(al.index_synced_at_ms(), synced_ms);
  EXPECT_EQ(al.index_age_ms(), stale_ms);
  EXPECT_EQ(summary.stale_index_after_ms(), stale_ms);
  // Exactly at the limit is not older than it.
  EXPECT_EQ(summary.stale_index_members_size(), 0);

  node_->clock().AdvanceMs(1);
  answers = Query(Request(), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(For(answers, "AL").index_age_ms(), stale_ms + 1);
  ASSERT_EQ(summary.stale_index_members_size(), 1);
  EXPECT_EQ(summary.stale_index_members(0), "AL");
}

// Without a copy nothing is asked, and the answer says no age.
TEST_F(LookupQuerierTest, AnAnswerWithoutACopyHasNoIndexAge) {
  std::vector<v1::PeerAnswer> answers = Query(Request());
  ASSERT_TRUE(status_.ok()) << status_;
  for (const v1::PeerAnswer& a : answers) {
    EXPECT_EQ(a.outcome(), v1::PEER_OUTCOME_ERROR);
    EXPECT_EQ(a.index_version(), 0u);
    EXPECT_EQ(a.index_synced_at_ms(), 0);
    EXPECT_EQ(a.index_age_ms(), 0);
  }
}

// A sync may replace a peer's copy while a query to it runs (an OPRF
// epoch change: the old-epoch copy dropped, the new one pulled). The query
// tests its outputs against the copy of the epoch it evaluated, taken when
// it started, never against a copy of another epoch: that would be a
// silent miss.
TEST_F(LookupQuerierTest, ACopyReplacedDuringTheQueryIsNotUsed) {
  GiveCase("RS");
  HoldAllIndexes();
  peers_->OnEvaluate([this](const std::string& member) {
    if (member != "RS") return;
    PeerIndex next;
    next.member = "RS";
    next.oprf_epoch = 2;
    next.version = 1;
    node_->ctx().peer_indexes.Put(std::move(next));
  });
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}), nullptr);
  ASSERT_TRUE(status_.ok()) << status_;
  const v1::PeerAnswer& rs = For(answers, "RS");
  EXPECT_EQ(rs.outcome(), v1::PEER_OUTCOME_HIT) << rs.DebugString();
  // The next query sees the epoch-2 copy against the directory's epoch 1:
  // pending, not a miss.
  peers_->OnEvaluate(nullptr);
  answers = Query(Request({"RS"}), nullptr);
  EXPECT_EQ(For(answers, "RS").outcome(), v1::PEER_OUTCOME_ERROR);
  EXPECT_THAT(For(answers, "RS").error(), ::testing::HasSubstr("pending"));
}

TEST_F(LookupQuerierTest, NoIndexCopyIsFailedPreconditionAndSendsNothing) {
  HoldIndex("AL");
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_ERROR);
  EXPECT_EQ(answers[0].status_code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(answers[0].error().find("index sync pending"), std::string::npos);
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
  EXPECT_TRUE(node_->AuditEntries().empty());
}

TEST_F(LookupQuerierTest, InvalidRequestSendsNothing) {
  v1::QueryRequest request = Request();
  request.clear_identifiers();
  Query(request);
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  request = Request({"MK"});
  Query(request);
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(node_->AuditEntries().empty());
}

TEST_F(LookupQuerierTest, SlowPeerDoesNotDelayTheOthers) {
  HoldAllIndexes();
  peers_->SetBehaviour("RS", FakeBehaviour::kHang);
  std::vector<std::string> order;
  std::vector<v1::PeerAnswer> answers =
      Query(Request(), nullptr, [&](const v1::PeerAnswer& a) {
        order.push_back(a.member());
        // AL's answer arrives while RS still hangs; only then is RS's
        // call let go (as its budget would run out).
        if (a.member() == "AL") peers_->Release();
      });
  ASSERT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(order, (std::vector<std::string>{"AL", "RS"}));
  const v1::PeerAnswer& rs = For(answers, "RS");
  EXPECT_EQ(rs.outcome(), v1::PEER_OUTCOME_ERROR);
  EXPECT_EQ(rs.status_code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(rs.error(), "RS did not answer within 2000 ms");
  EXPECT_LE(peers_->Budgets("RS").front(), kPeerDeadlineMs);
  // The unanswered request is logged LOCAL call_failed.
  auto failed = node_->AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Peer.Evaluate");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].kind(), "call_failed");
  EXPECT_EQ(failed[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(LookupQuerierTest, LateAnswerWithinBudgetCountsAndBeyondItFails) {
  HoldAllIndexes();
  peers_->SetBehaviour("RS", FakeBehaviour::kDelay, absl::OkStatus(), 150);
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_MISS);
  EXPECT_GE(answers[0].latency_ms(), 150);

  peers_->SetBehaviour("RS", FakeBehaviour::kDelay, absl::OkStatus(), 5000);
  const int64_t before = node_->clock().NowMs();
  answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status_code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  // It gave up at the budget, not at the peer's 5 s.
  EXPECT_EQ(node_->clock().NowMs() - before, kPeerDeadlineMs);
}

TEST_F(LookupQuerierTest, RefusalIsReportedAndLogged) {
  HoldAllIndexes();
  peers_->SetBehaviour("RS", FakeBehaviour::kRefuse,
                       absl::ResourceExhaustedError("quota used"));
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(answers[0].error(), "RS refused: quota used");
  auto failed = node_->AuditEntries(v1::AUDIT_DIRECTION_LOCAL, "Peer.Evaluate");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
}

struct GarbageCase {
  FakeBehaviour behaviour;
  absl::StatusCode code;
  const char* message;  // a part of the answer's error
};

class LookupQuerierGarbageTest
    : public LookupQuerierTest,
      public ::testing::WithParamInterface<GarbageCase> {};

TEST_P(LookupQuerierGarbageTest, GarbageIsAnErrorAndLoggedReceived) {
  const GarbageCase& c = GetParam();
  HoldAllIndexes();
  peers_->SetBehaviour("RS", c.behaviour);
  std::vector<v1::PeerAnswer> answers = Query(Request());
  ASSERT_TRUE(status_.ok()) << status_;
  const v1::PeerAnswer& rs = For(answers, "RS");
  EXPECT_EQ(rs.outcome(), v1::PEER_OUTCOME_ERROR);
  EXPECT_EQ(rs.status_code(), static_cast<int>(c.code)) << rs.error();
  EXPECT_NE(rs.error().find(c.message), std::string::npos) << rs.error();
  EXPECT_EQ(For(answers, "AL").outcome(), v1::PEER_OUTCOME_MISS);
  // The reply is logged as received, with the refusal's code.
  int logged = 0;
  for (const v1::AuditEntry& e :
       node_->AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate")) {
    if (e.peer() != "RS") continue;
    ++logged;
    EXPECT_EQ(e.outcome().status_code(), static_cast<int>(c.code));
  }
  EXPECT_EQ(logged, 1);
  EXPECT_EQ(peers_->Calls("RS", "Resolve"), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, LookupQuerierGarbageTest,
    ::testing::Values(GarbageCase{FakeBehaviour::kWrongCount,
                                  absl::StatusCode::kInvalidArgument,
                                  "RS answered 0 elements for 1"},
                      GarbageCase{FakeBehaviour::kBadProof,
                                  absl::StatusCode::kUnauthenticated,
                                  "answer from RS failed verification"},
                      GarbageCase{FakeBehaviour::kUnopenable,
                                  absl::StatusCode::kUnauthenticated,
                                  "answer from RS refused"},
                      GarbageCase{FakeBehaviour::kWrongMember,
                                  absl::StatusCode::kUnauthenticated,
                                  "answer from RS refused"}));

// Audit completeness against a hostile peer: each of these replies is
// logged RECEIVED with its refusal's code too.
INSTANTIATE_TEST_SUITE_P(
    HostileKinds, LookupQuerierGarbageTest,
    ::testing::Values(
        GarbageCase{FakeBehaviour::kTooMany, absl::StatusCode::kInvalidArgument,
                    "RS answered 2 elements for 1"},
        GarbageCase{FakeBehaviour::kGarbage, absl::StatusCode::kInvalidArgument,
                    "answer from RS refused"},
        GarbageCase{FakeBehaviour::kNotAReply,
                    absl::StatusCode::kUnauthenticated, "answer from RS"}));

// Threat: an office names the same peer 40,000 times (issue 9). Each peer
// is asked once; more names than the directory has members are refused
// before anything is sent.
TEST_F(LookupQuerierTest, APeerNamedManyTimesIsRefusedOrAskedOnce) {
  HoldAllIndexes();
  Query(Request(std::vector<std::string>(40'000, "RS")));
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status_.message(),
            "peers: at most 3 (the directory's members), not 40000");
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
  EXPECT_TRUE(node_->AuditEntries().empty());

  v1::QuerySummary summary;
  std::vector<v1::PeerAnswer> answers =
      Query(Request({"RS", "RS", "RS"}), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(summary.miss_members_size(), 1);
  // Asked once: one batch of RS's quota, one exchange in the log.
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 1);
  EXPECT_EQ(
      node_->AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.Evaluate").size(),
      1u);
}

TEST_F(LookupQuerierTest, APeerCodeIsCheckedBeforeItIsLookedUp) {
  HoldAllIndexes();
  Query(Request({"RS", "rs\nALERT"}));
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status_.message(),
            "peers[1]: a member code is two capital letters");
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
}

// The purpose names the asking office's own open case; another office's
// case, an unknown number or a closed case is refused before anything is
// sent, and nothing reaches any peer.
TEST_F(LookupQuerierTest, PurposeOfAnotherOfficesCaseIsRefusedBeforeSending) {
  HoldAllIndexes();
  GiveCase("RS");
  RegisterCase("MK-2026-7", "MK/PPO-Bitola", /*open=*/true);
  v1::QueryRequest request = Request();
  request.mutable_purpose()->set_case_number("MK-2026-7");
  std::vector<v1::PeerAnswer> answers = Query(request);
  EXPECT_EQ(status_.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status_.message(),
            "purpose.case_number: MK-2026-7 is not a case of your office "
            "MK/PPO-Skopje; add the case first and query under its number");
  EXPECT_TRUE(answers.empty());
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
  EXPECT_EQ(StoredHits(), 0u);
  EXPECT_TRUE(node_->AuditEntries().empty());
}

TEST_F(LookupQuerierTest, PurposeOfAnUnknownCaseIsRefusedInTheSameWords) {
  HoldAllIndexes();
  v1::QueryRequest request = Request();
  request.mutable_purpose()->set_case_number("MK-2026-404");
  EXPECT_TRUE(Query(request).empty());
  EXPECT_EQ(status_.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status_.message(),
            "purpose.case_number: MK-2026-404 is not a case of your office "
            "MK/PPO-Skopje; add the case first and query under its number");
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
  EXPECT_TRUE(node_->AuditEntries().empty());
}

TEST_F(LookupQuerierTest, PurposeOfAClosedCaseIsRefused) {
  HoldAllIndexes();
  RegisterCase("MK-2026-2", "MK/PPO-Skopje", /*open=*/false);
  v1::QueryRequest request = Request();
  request.mutable_purpose()->set_case_number("MK-2026-2");
  EXPECT_TRUE(Query(request).empty());
  EXPECT_EQ(status_.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status_.message(),
            "purpose.case_number: case MK-2026-2 is closed; query under one "
            "of your open cases");
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
  EXPECT_TRUE(node_->AuditEntries().empty());
}

TEST_F(LookupQuerierTest, OverlongOrControlPurposeIsRefusedNamingTheField) {
  HoldAllIndexes();
  v1::QueryRequest request = Request();
  request.mutable_purpose()->set_case_number(std::string(65, 'A'));
  Query(request);
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status_.message(), "purpose.case_number: at most 64 bytes, not 65");
  request = Request();
  request.mutable_purpose()->set_legal_basis(std::string(257, 'x'));
  Query(request);
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status_.message(),
            "purpose.legal_basis: at most 256 bytes, not 257");
  request = Request();
  request.mutable_purpose()->set_legal_basis("CPC\nALERT-forged line");
  Query(request);
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status_.message(),
            "purpose.legal_basis: control character U+000A is not allowed");
  EXPECT_EQ(peers_->Calls("RS", "Evaluate"), 0);
  EXPECT_TRUE(node_->AuditEntries().empty());
}

// Threat: a member's index holds a tag its Resolve will not stand behind
// (issue 9, phantom hits): the office is told PHANTOM, not MISS.
TEST_F(LookupQuerierTest, AHitTheAnswerDoesNotStandBehindIsAPhantom) {
  GiveCase("RS");
  HoldAllIndexes();
  peers_->SetResolveBehaviour("RS", FakeBehaviour::kPhantom);
  v1::QuerySummary summary;
  std::vector<v1::PeerAnswer> answers = Query(Request(), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  const v1::PeerAnswer& rs = For(answers, "RS");
  EXPECT_EQ(rs.outcome(), v1::PEER_OUTCOME_PHANTOM);
  EXPECT_EQ(rs.status_code(), 0);
  EXPECT_EQ(rs.error(),
            "phantom hit: RS's index at version 1 holds identifiers[0], but "
            "its signed answer at index version 1 names no case for it (RS "
            "may be probing queries; its signed answer is kept as evidence)");
  EXPECT_EQ(summary.failed_members_size(), 1);
  EXPECT_EQ(StoredHits(), 0u);
  // The reply is logged RECEIVED as usual: it is the evidence.
  auto received = ReceivedFrom("RS", "Peer.Resolve");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].outcome().status_code(), 0);
  EXPECT_EQ(received[0].outcome().references(), 0u);
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 1u);
  EXPECT_EQ(querier_->PeerStats("AL").phantoms, 0u);
}

TEST_F(LookupQuerierTest, AnAnswerAtAnOlderIndexVersionIsAPhantom) {
  GiveCase("RS");
  HoldAllIndexes();
  peers_->SetResolveBehaviour("RS", FakeBehaviour::kPhantomOlder);
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_PHANTOM);
  EXPECT_NE(answers[0].error().find("at index version 0"), std::string::npos)
      << answers[0].error();
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 1u);
}

TEST_F(LookupQuerierTest, ACaseClosedSinceTheCopyIsAMissNotAPhantom) {
  GiveCase("RS");
  HoldAllIndexes();          // the copy still holds the tag (version 1)
  peers_->CloseCases("RS");  // RS's index is at version 2 without it
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_MISS) << answers[0].error();
  EXPECT_TRUE(answers[0].error().empty());
  EXPECT_EQ(peers_->Calls("RS", "Resolve"), 1);
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 0u);
}

// Threat: a hit answered with no case at an index version newer than the
// copy — a phantom dressed as a case closed since. Shown as the peer claims,
// then the peer's next signed manifest, at the version it really serves,
// shows the claim false: a phantom found late.
TEST_F(LookupQuerierTest, APhantomClaimingANewerVersionIsFoundByTheNextSync) {
  SettleClaimsAtEachSync();
  GiveCase("RS");
  HoldAllIndexes();
  peers_->SetResolveBehaviour("RS", FakeBehaviour::kPhantomNewer);
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_MISS) << answers[0].error();
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 0u);
  EXPECT_EQ(querier_->PendingVersionClaims("RS"), 1u);

  SyncIndexLater("RS");
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 1u);
  EXPECT_EQ(querier_->PendingVersionClaims("RS"), 0u);
}

// The honest side of the same rule: a case really closed since the copy is
// settled by the next manifest, which no longer holds its tag.
TEST_F(LookupQuerierTest, ACaseClosedSinceIsSettledByTheNextSync) {
  SettleClaimsAtEachSync();
  GiveCase("RS");
  HoldAllIndexes();
  peers_->CloseCases("RS");
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_MISS) << answers[0].error();
  EXPECT_EQ(querier_->PendingVersionClaims("RS"), 1u);

  SyncIndexLater("RS");
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 0u);
  EXPECT_EQ(querier_->PendingVersionClaims("RS"), 0u);
}

struct ForeignCase {
  FakeBehaviour behaviour;
  const char* message;  // a part of the answer's error
};

class LookupQuerierForeignReferenceTest
    : public LookupQuerierTest,
      public ::testing::WithParamInterface<ForeignCase> {};

// Threat: a reference for another member, another country's office, or
// identifiers never asked: refused, logged with the refusal, not stored.
TEST_P(LookupQuerierForeignReferenceTest, IsRefusedAndAPhantom) {
  GiveCase("RS");
  HoldAllIndexes();
  peers_->SetResolveBehaviour("RS", GetParam().behaviour);
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_PHANTOM);
  EXPECT_EQ(answers[0].status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(answers[0].error().find(GetParam().message), std::string::npos)
      << answers[0].error();
  EXPECT_EQ(answers[0].references_size(), 0);
  EXPECT_EQ(StoredHits(), 0u);
  auto received = ReceivedFrom("RS", "Peer.Resolve");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(querier_->PeerStats("RS").phantoms, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, LookupQuerierForeignReferenceTest,
    ::testing::Values(
        ForeignCase{FakeBehaviour::kForeignMember,
                    "references[0] names another member"},
        ForeignCase{FakeBehaviour::kForeignOffice,
                    "references[0].competent_office is not an office of RS"},
        ForeignCase{FakeBehaviour::kBadInputIndex,
                    "references[0].matched[0].input_index is past the "
                    "request's 1 outputs"}));

// Threat: a poisoned index hits far more often than the federation's
// others: the per-peer hit-rate alarm.
TEST_F(LookupQuerierTest, APeerThatHitsFarMoreOftenRaisesTheHitRateAlarm) {
  std::vector<std::string> emails;
  for (int i = 0; i < 50; ++i) {
    emails.push_back(absl::StrCat("person", i, "@example.org"));
  }
  GiveCases("RS", {emails[0], emails[1], emails[2]});
  HoldAllIndexes();
  v1::QueryRequest request = Request();
  request.clear_identifiers();
  for (const std::string& email : emails) {
    v1::Identifier* id = request.add_identifiers();
    id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
    id->set_value(email);
  }
  std::vector<v1::PeerAnswer> answers = Query(request);
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(For(answers, "RS").outcome(), v1::PEER_OUTCOME_HIT);
  // RS: 3 of 50 (6%), AL: 0 of 50; the bound is max(10 x 0%, 5%).
  HitStats::PeerView rs = querier_->PeerStats("RS");
  EXPECT_EQ(rs.asked, 50u);
  EXPECT_EQ(rs.hits, 3u);
  EXPECT_NE(rs.alert.find("hit rate 6.0% (3 hits in 50 identifiers asked)"),
            std::string::npos)
      << rs.alert;
  EXPECT_TRUE(querier_->PeerStats("AL").alert.empty());
}

// Audit completeness: every garbage Resolve reply is logged RECEIVED with
// the refusal's code, and the office sees an ERROR.
class LookupQuerierResolveGarbageTest
    : public LookupQuerierTest,
      public ::testing::WithParamInterface<GarbageCase> {};

TEST_P(LookupQuerierResolveGarbageTest, IsLoggedReceivedWithItsCode) {
  const GarbageCase& c = GetParam();
  GiveCase("RS");
  HoldAllIndexes();
  peers_->SetResolveBehaviour("RS", c.behaviour);
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_ERROR);
  EXPECT_EQ(answers[0].status_code(), static_cast<int>(c.code))
      << answers[0].error();
  EXPECT_NE(answers[0].error().find(c.message), std::string::npos)
      << answers[0].error();
  auto received = ReceivedFrom("RS", "Peer.Resolve");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].outcome().status_code(), static_cast<int>(c.code));
  EXPECT_EQ(StoredHits(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, LookupQuerierResolveGarbageTest,
    ::testing::Values(GarbageCase{FakeBehaviour::kUnopenable,
                                  absl::StatusCode::kUnauthenticated,
                                  "answer from RS refused"},
                      GarbageCase{FakeBehaviour::kWrongMember,
                                  absl::StatusCode::kUnauthenticated,
                                  "answer from RS refused"},
                      GarbageCase{FakeBehaviour::kGarbage,
                                  absl::StatusCode::kInvalidArgument,
                                  "answer from RS refused"},
                      GarbageCase{FakeBehaviour::kNotAReply,
                                  absl::StatusCode::kUnauthenticated,
                                  "answer from RS"}));

TEST_F(LookupQuerierTest, ThirtyTwoPeersOnFourThreads) {
  executor_->Shutdown();
  Build(/*extra_members=*/30, /*threads=*/4);
  HoldAllIndexes();
  const int threads_before = ThreadCount();
  v1::QuerySummary summary;
  std::vector<v1::PeerAnswer> answers = Query(Request(), &summary);
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(answers.size(), 32u);
  EXPECT_EQ(summary.miss_members_size(), 32);
  EXPECT_LE(peers_->PeakInFlight(), 4);
  EXPECT_GE(peers_->PeakInFlight(), 1);
  EXPECT_EQ(ThreadCount(), threads_before);
}

TEST_F(LookupQuerierTest, MorePeersThanThreadsWithAllHangingDoesNotDeadlock) {
  executor_->Shutdown();
  Build(/*extra_members=*/6, /*threads=*/2);
  HoldAllIndexes();
  for (const std::string& code :
       node_->ctx().directory->Current()->ActiveMemberCodes()) {
    if (code != "MK") peers_->SetBehaviour(code, FakeBehaviour::kHang);
  }
  // Eight peers, two workers, nobody answers: both workers are held, six
  // asks wait in the queue. Once the budget runs out (the release), every
  // ask ends; the query's own thread never took a worker.
  std::thread releaser([&] {
    peers_->WaitForInFlight(2);
    peers_->Release();
  });
  std::vector<v1::PeerAnswer> answers = Query(Request());
  releaser.join();
  ASSERT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(answers.size(), 8u);
  for (const v1::PeerAnswer& a : answers) {
    EXPECT_EQ(a.status_code(),
              static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  }
  EXPECT_EQ(peers_->PeakInFlight(), 2);
}

// Why the node has separate executors: syncs stuck on a dead peer hold the
// sync executor's threads, never the lookup executor's.
TEST_F(LookupQuerierTest, SyncsStuckOnADeadPeerDoNotDelayAQuery) {
  HoldAllIndexes();
  Executor sync_executor("sync", 1);
  IndexSync sync(&node_->ctx(), peers_.get(), &sync_executor);
  peers_->SetBehaviour("AL", FakeBehaviour::kHang);
  absl::Status al_sync;
  // AL's sync holds the sync executor's only thread; RS's waits behind it.
  sync_executor.Post([&] { al_sync = sync.SyncIndex("AL"); });
  peers_->WaitForInFlight(1);
  sync.SyncAll(/*directory=*/false);
  std::vector<v1::PeerAnswer> answers = Query(Request({"RS"}));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].outcome(), v1::PEER_OUTCOME_MISS) << answers[0].error();
  EXPECT_EQ(peers_->Calls("AL", "SyncIndex"), 1);
  peers_->Release();
  sync.Drain();
  sync_executor.Shutdown();
  EXPECT_EQ(al_sync.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(LookupQuerierTest, AfterShutdownPeersAreUnavailable) {
  HoldAllIndexes();
  executor_->Shutdown();
  std::vector<v1::PeerAnswer> answers = Query(Request());
  ASSERT_EQ(answers.size(), 2u);
  for (const v1::PeerAnswer& a : answers) {
    EXPECT_EQ(a.status_code(),
              static_cast<int>(absl::StatusCode::kUnavailable));
  }
  EXPECT_TRUE(node_->AuditEntries().empty());
}

}  // namespace
}  // namespace cbx::node

namespace cbx::node {
namespace {

// spec/cooperation.md §5: a per-person query's entries all carry the
// person — the evaluations and resolves sent on its behalf (also in their
// headers) and the peers' replies, whose headers do not name it.
TEST_F(LookupQuerierTest, EveryEntryOfAPersonsQueryCarriesThePerson) {
  GiveCase("RS");
  HoldAllIndexes();
  caller_.person = "p-0042";
  std::vector<v1::PeerAnswer> answers = Query(Request(), nullptr);
  ASSERT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(For(answers, "RS").outcome(), v1::PEER_OUTCOME_HIT);
  std::vector<v1::AuditEntry> entries = node_->AuditEntries();
  size_t resolves = 0;
  ASSERT_GE(entries.size(), 6u);  // 2 evaluations, 1 resolve, each answered
  for (const v1::AuditEntry& e : entries) {
    EXPECT_EQ(e.user(), "p-0042") << e.rpc() << " " << e.direction();
    resolves += e.rpc() == "Peer.Resolve";
  }
  EXPECT_EQ(resolves, 2u);
}

}  // namespace
}  // namespace cbx::node
