// Withdrawal of case references (node/withdrawal.h), in process: RS (the
// origin, whose office closes its case) and MK (which resolved it and holds
// the hits) are two TestNodes (MemoryStorage, FakeClocks, real audit logs),
// each with a PeerService; RS's FakePeers routes Peer.Withdraw to MK's
// PeerService as RS (the envelope checks included).
#include "node/withdrawal.h"

#include <memory>
#include <string>
#include <vector>

#include "core/directory/policy.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/checkpoints.h"
#include "node/cooperation.h"
#include "node/peer_service.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

namespace fed = ::cbx::directory::testing;
using ::cbx::node::testing::FakeBehaviour;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;

constexpr char kMkOffice[] = "MK/PPO-Skopje";
constexpr char kRsOffice[] = "RS/VJT-Beograd";
const Bytes kToken(16, 't');
const Bytes kAlToken(16, 'a');

// A genesis whose policy keeps withdrawn references for `retention_s`.
v1::SignedDirectory GenesisKeeping(uint32_t retention_s) {
  v1::Directory d = fed::GenesisDirectory();
  d.mutable_policy()->set_withdrawn_reference_retention_s(retention_s);
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

struct Member {
  Member(const std::string& code, const v1::SignedDirectory& genesis)
      : node(genesis, code),
        checkpoints(&node.ctx()),
        service(&node.ctx(), &checkpoints),
        peers(genesis, code, &node.clock()),
        withdrawals(&node.ctx(), &peers),
        cooperation(&node.ctx(), &peers) {
    service.set_withdrawals(&withdrawals);
    service.set_cooperation(&cooperation);
  }
  Storage& storage() { return *node.ctx().storage; }
  std::vector<v1::AuditEntry> Entries(v1::AuditDirection d) {
    return node.AuditEntries(d, kWithdrawRpc);
  }
  std::vector<v1::Hit> Hits() {
    absl::StatusOr<Page<v1::Hit>> hits = storage().ListHits("");
    EXPECT_TRUE(hits.ok()) << hits.status();
    return hits.ok() ? hits->items : std::vector<v1::Hit>{};
  }
  std::vector<QueuedWithdrawal> Queue() {
    absl::StatusOr<std::vector<QueuedWithdrawal>> q =
        storage().ListWithdrawals();
    EXPECT_TRUE(q.ok()) << q.status();
    return q.ok() ? *q : std::vector<QueuedWithdrawal>{};
  }

  TestNode node;
  Checkpoints checkpoints;
  PeerService service;
  FakePeers peers;
  Withdrawals withdrawals;
  Cooperation cooperation;
};

StoredCase Case(const std::string& number, const std::string& office,
                const Bytes& token) {
  StoredCase c;
  c.record.set_case_number(number);
  c.record.set_case_token(token);
  c.record.set_office(office);
  c.record.set_status(v1::CASE_STATUS_OPEN);
  StoredIdentifier id;
  id.type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
  id.normalized_value = "cbx_test_account";
  id.y = Bytes(32, static_cast<char>(number.size()));
  id.tag = 7 + number.size();
  c.identifiers.push_back(id);
  return c;
}

v1::Hit HitOf(const std::string& member, const Bytes& token,
              const std::string& watch_id = "") {
  v1::Hit hit;
  hit.set_member(member);
  hit.set_case_number("MK-1");
  hit.set_query_id("q1");
  hit.set_watch_id(watch_id);
  hit.mutable_reference()->set_case_token(token);
  hit.mutable_reference()->set_member(member);
  hit.mutable_reference()->set_competent_office(member + "/Office");
  hit.mutable_reference()->add_matched()->set_type(
      v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  return hit;
}

class WithdrawalTest : public ::testing::Test {
 protected:
  explicit WithdrawalTest(uint32_t retention_s = 0)
      : genesis_(retention_s == 0 ? FakeGenesis()
                                  : GenesisKeeping(retention_s)),
        rs_("RS", genesis_),
        mk_("MK", genesis_) {
    rs_.peers.OnWithdraw(
        [this](const std::string& member,
               const v1::Envelope& e) -> absl::StatusOr<v1::Envelope> {
          EXPECT_EQ(member, "MK");
          return mk_.service.WithdrawAs(std::string("RS"), &e);
        });
    // RS holds case RS-1 and gave its reference to MK (twice: a query and
    // a watch; one withdrawal); MK holds MK-1, the two hits on RS-1's
    // token, and a hit on AL's case.
    EXPECT_TRUE(rs_.storage().AddCase(Case("RS-1", kRsOffice, kToken)).ok());
    for (int i = 0; i < 2; ++i) {
      v1::Notification note;
      note.set_at_ms(rs_.node.clock().NowMs());
      note.set_from_member("MK");
      note.set_case_number("RS-1");
      EXPECT_TRUE(rs_.storage().AddNotification(note).ok());
    }
    EXPECT_TRUE(
        mk_.storage().AddCase(Case("MK-1", kMkOffice, Bytes(16, 'm'))).ok());
    EXPECT_TRUE(mk_.storage().AddHit(HitOf("RS", kToken)).ok());
    EXPECT_TRUE(mk_.storage().AddHit(HitOf("RS", kToken, "w1")).ok());
    EXPECT_TRUE(mk_.storage().AddHit(HitOf("AL", kAlToken)).ok());
  }

  // RS's office closes RS-1 through the case book with the close hook.
  absl::StatusOr<v1::Case> Close() {
    CaseBook book("RS", &rs_.storage(), rs_.node.ctx().oprf_key.get(),
                  rs_.node.ctx().audit_trail.get(), &rs_.node.clock());
    book.set_close_hook([this](StorageTransaction& txn, const v1::Case& c) {
      return rs_.withdrawals
          .QueueForClosedCase(txn, c, v1::WITHDRAWAL_REASON_CLOSED)
          .status();
    });
    return book.Close(kRsOffice, "RS-1");
  }

  // A withdrawal `from`'s node key signs (an attacker's own node when it
  // is not the origin), sent straight to MK's Peer service.
  absl::StatusOr<v1::DeletionReceipt> RawWithdrawal(
      TestNode& from, const Bytes& token,
      v1::WithdrawalReason reason = v1::WITHDRAWAL_REASON_CLOSED) {
    v1::Message m;
    const std::string sender = from.ctx().self();
    *m.mutable_header() = from.ctx().NewHeader("MK", sender + "/Office");
    m.mutable_withdrawal()->set_case_token(token);
    m.mutable_withdrawal()->set_reason(reason);
    absl::StatusOr<v1::Envelope> sealed = from.ctx().signing_keys->Seal(m);
    if (!sealed.ok()) return sealed.status();
    absl::StatusOr<v1::Envelope> reply =
        mk_.service.WithdrawAs(sender, &*sealed);
    if (!reply.ok()) return reply.status();
    v1::Message opened;
    EXPECT_TRUE(opened.ParseFromString(reply->body()));
    EXPECT_EQ(opened.header().in_reply_to(), m.header().message_id());
    return opened.deletion_receipt();
  }

  void Advance(int64_t ms) {
    rs_.node.clock().AdvanceMs(ms);
    mk_.node.clock().AdvanceMs(ms);
  }

  v1::SignedDirectory genesis_;
  Member rs_;
  Member mk_;
};

TEST_F(WithdrawalTest, CloseQueuesOneWithdrawalPerMemberThatResolved) {
  ASSERT_TRUE(Close().ok());
  std::vector<QueuedWithdrawal> queue = rs_.Queue();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].member, "MK");
  EXPECT_EQ(queue[0].case_token, kToken);
  EXPECT_EQ(queue[0].office, kRsOffice);
  EXPECT_EQ(queue[0].reason, v1::WITHDRAWAL_REASON_CLOSED);
  EXPECT_EQ(queue[0].next_attempt_ms, rs_.node.clock().NowMs());
  EXPECT_EQ(*rs_.withdrawals.CountPending(), 1);
}

TEST_F(WithdrawalTest, ReceiptMarksHitsWithdrawnAndDeletesTheReference) {
  ASSERT_TRUE(Close().ok());
  const int64_t closed_at = rs_.node.clock().NowMs();
  absl::StatusOr<int> sent = rs_.withdrawals.SendDue();
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 1);

  // Both hits on the token (the query's and the watch's) are withdrawn,
  // their reference reduced to its token; AL's hit is untouched.
  int withdrawn = 0;
  for (const v1::Hit& hit : mk_.Hits()) {
    if (hit.member() == "AL") {
      EXPECT_EQ(hit.withdrawn_at_ms(), 0);
      EXPECT_EQ(hit.reference().competent_office(), "AL/Office");
      continue;
    }
    ++withdrawn;
    EXPECT_EQ(hit.withdrawn_at_ms(), closed_at);
    EXPECT_EQ(hit.withdrawal_reason(), v1::WITHDRAWAL_REASON_CLOSED);
    EXPECT_EQ(hit.reference().case_token(), kToken);
    EXPECT_TRUE(hit.reference().competent_office().empty());
    EXPECT_EQ(hit.reference().matched_size(), 0);
  }
  EXPECT_EQ(withdrawn, 2);

  // RS keeps the receipt; nothing is pending.
  std::vector<QueuedWithdrawal> queue = rs_.Queue();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].next_attempt_ms, 0);
  EXPECT_EQ(queue[0].attempts, 1u);
  v1::Envelope receipt_envelope;
  ASSERT_TRUE(receipt_envelope.ParseFromString(queue[0].receipt));
  v1::Message receipt;
  ASSERT_TRUE(receipt.ParseFromString(receipt_envelope.body()));
  EXPECT_EQ(receipt.deletion_receipt().case_token(), kToken);
  EXPECT_EQ(receipt.deletion_receipt().deleted_at_ms(), closed_at);
  EXPECT_EQ(receipt.deletion_receipt().kept_until_ms(), 0);
  EXPECT_EQ(*rs_.withdrawals.CountPending(), 0);

  // Both sides logged both messages, with the withdrawal code.
  std::vector<v1::AuditEntry> rs_sent = rs_.Entries(v1::AUDIT_DIRECTION_SENT);
  std::vector<v1::AuditEntry> rs_received =
      rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED);
  ASSERT_EQ(rs_sent.size(), 1u);
  EXPECT_EQ(rs_sent[0].kind(), "withdrawal");
  EXPECT_EQ(rs_sent[0].outcome().withdrawal_code(), 100u);
  ASSERT_EQ(rs_received.size(), 1u);
  EXPECT_EQ(rs_received[0].kind(), "deletion_receipt");
  EXPECT_EQ(rs_received[0].outcome().withdrawal_code(), 101u);
  std::vector<v1::AuditEntry> mk_received =
      mk_.Entries(v1::AUDIT_DIRECTION_RECEIVED);
  std::vector<v1::AuditEntry> mk_sent = mk_.Entries(v1::AUDIT_DIRECTION_SENT);
  ASSERT_EQ(mk_received.size(), 1u);
  EXPECT_EQ(mk_received[0].kind(), "withdrawal");
  EXPECT_EQ(mk_received[0].outcome().status_code(), 0);
  ASSERT_EQ(mk_sent.size(), 1u);
  EXPECT_EQ(mk_sent[0].kind(), "deletion_receipt");
  EXPECT_EQ(mk_sent[0].outcome().withdrawal_code(), 101u);
}

TEST_F(WithdrawalTest, RepeatedWithdrawalGetsTheSameReceiptAndNoSecondEffect) {
  absl::StatusOr<v1::DeletionReceipt> first = RawWithdrawal(rs_.node, kToken);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->refusal(), v1::DELETION_REFUSAL_UNSPECIFIED);
  const std::vector<v1::Hit> after_first = mk_.Hits();
  Advance(60'000);
  absl::StatusOr<v1::DeletionReceipt> second = RawWithdrawal(rs_.node, kToken);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->SerializeAsString(), first->SerializeAsString());
  const std::vector<v1::Hit> after_second = mk_.Hits();
  ASSERT_EQ(after_second.size(), after_first.size());
  for (size_t i = 0; i < after_first.size(); ++i) {
    EXPECT_EQ(after_second[i].SerializeAsString(),
              after_first[i].SerializeAsString());
  }
}

// The attack: a member withdrawing a token another member gave is refused
// as an unknown token and changes nothing (spec/cooperation.md §2.4).
TEST_F(WithdrawalTest, AnotherMembersTokenIsRefusedAndChangesNothing) {
  TestNode al(genesis_, "AL");
  const std::vector<v1::Hit> before = mk_.Hits();
  // AL withdraws RS's token; RS withdraws AL's.
  absl::StatusOr<v1::DeletionReceipt> by_al = RawWithdrawal(al, kToken);
  ASSERT_TRUE(by_al.ok()) << by_al.status();
  EXPECT_EQ(by_al->refusal(), v1::DELETION_REFUSAL_UNKNOWN_CASE_TOKEN);
  EXPECT_EQ(by_al->deleted_at_ms(), 0);
  absl::StatusOr<v1::DeletionReceipt> by_rs = RawWithdrawal(rs_.node, kAlToken);
  ASSERT_TRUE(by_rs.ok()) << by_rs.status();
  EXPECT_EQ(by_rs->refusal(), v1::DELETION_REFUSAL_UNKNOWN_CASE_TOKEN);

  const std::vector<v1::Hit> after = mk_.Hits();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
  absl::Status none;
  ASSERT_TRUE(mk_.storage()
                  .ReadWriteTransaction([&](StorageTransaction& txn) {
                    none = txn.GetWithdrawnReference("AL", kToken).status();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound);
  // Logged RECEIVED as NOT_FOUND, with the refused receipt SENT.
  std::vector<v1::AuditEntry> received =
      mk_.Entries(v1::AUDIT_DIRECTION_RECEIVED);
  ASSERT_EQ(received.size(), 2u);
  for (const v1::AuditEntry& e : received) {
    EXPECT_EQ(e.outcome().status_code(),
              static_cast<int>(absl::StatusCode::kNotFound));
  }
  EXPECT_EQ(
      mk_.Entries(v1::AUDIT_DIRECTION_SENT)[0].outcome().withdrawal_code(),
      103u);
}

TEST_F(WithdrawalTest, MalformedWithdrawalIsInvalidArgumentWithoutReceipt) {
  absl::StatusOr<v1::DeletionReceipt> short_token =
      RawWithdrawal(rs_.node, Bytes(15, 't'));
  EXPECT_EQ(short_token.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<v1::DeletionReceipt> no_reason =
      RawWithdrawal(rs_.node, kToken, v1::WITHDRAWAL_REASON_UNSPECIFIED);
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument);
  for (const v1::Hit& hit : mk_.Hits()) EXPECT_EQ(hit.withdrawn_at_ms(), 0);
  std::vector<v1::AuditEntry> received =
      mk_.Entries(v1::AUDIT_DIRECTION_RECEIVED);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(mk_.Entries(v1::AUDIT_DIRECTION_SENT).empty());
}

TEST_F(WithdrawalTest, OtherKindsAreRefusedByPeerWithdraw) {
  v1::Message m;
  *m.mutable_header() = rs_.node.ctx().NewHeader("MK", kRsOffice);
  m.mutable_deletion_receipt()->set_case_token(kToken);
  absl::StatusOr<v1::Envelope> sealed = rs_.node.ctx().signing_keys->Seal(m);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(mk_.service.WithdrawAs(std::string("RS"), &*sealed).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(WithdrawalTest, UnreachableMemberIsRetriedWithBackoffUntilReceipt) {
  ASSERT_TRUE(Close().ok());
  rs_.peers.SetBehaviour("MK", FakeBehaviour::kRefuse);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  std::vector<QueuedWithdrawal> queue = rs_.Queue();
  EXPECT_EQ(queue[0].attempts, 1u);
  EXPECT_EQ(queue[0].next_attempt_ms, rs_.node.clock().NowMs() + 1000);
  EXPECT_NE(queue[0].last_error.find("UNAVAILABLE"), std::string::npos);
  // Not due yet: no call.
  Advance(999);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  EXPECT_EQ(rs_.peers.Calls("MK", "Withdraw"), 1);
  // Second attempt, then the wait doubles.
  Advance(1);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  EXPECT_EQ(rs_.peers.Calls("MK", "Withdraw"), 2);
  EXPECT_EQ(rs_.Queue()[0].next_attempt_ms, rs_.node.clock().NowMs() + 2000);
  EXPECT_EQ(*rs_.withdrawals.CountPending(), 1);
  // Back up: the next attempt gets the receipt.
  rs_.peers.SetBehaviour("MK", FakeBehaviour::kAnswer);
  Advance(2000);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 1);
  EXPECT_EQ(rs_.Queue()[0].attempts, 3u);
  EXPECT_TRUE(rs_.Queue()[0].last_error.empty());
  EXPECT_EQ(*rs_.withdrawals.CountPending(), 0);
  for (const v1::Hit& hit : mk_.Hits()) {
    if (hit.member() == "RS") {
      EXPECT_NE(hit.withdrawn_at_ms(), 0);
    }
  }
  // Each failed call is a LOCAL call_failed entry at RS.
  int failed = 0;
  for (const v1::AuditEntry& e : rs_.Entries(v1::AUDIT_DIRECTION_LOCAL)) {
    if (e.kind() == "call_failed") ++failed;
  }
  EXPECT_EQ(failed, 2);
}

TEST_F(WithdrawalTest, GivesUpWithAnAlertAfterTheRetryWindow) {
  ASSERT_TRUE(Close().ok());
  rs_.peers.SetBehaviour("MK", FakeBehaviour::kRefuse);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  Advance(int64_t{directory::kDefaultWithdrawalRetryS} * 1000);
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("ALERT-withdrawal-undelivered"), std::string::npos) << log;
  EXPECT_EQ(rs_.peers.Calls("MK", "Withdraw"), 1);
  std::vector<QueuedWithdrawal> queue = rs_.Queue();
  EXPECT_TRUE(queue[0].given_up);
  EXPECT_EQ(queue[0].next_attempt_ms, 0);
  EXPECT_EQ(*rs_.withdrawals.CountPending(), 0);
  bool logged = false;
  for (const v1::AuditEntry& e : rs_.Entries(v1::AUDIT_DIRECTION_LOCAL)) {
    logged |= e.kind() == "withdrawal_undelivered";
  }
  EXPECT_TRUE(logged);
}

// Office.ListWithdrawals' body: each withdrawal of the office's closed
// cases with its state per peer, pending (next attempt, give-up time, the
// last error), then delivered with the receipt's time and outcome.
TEST_F(WithdrawalTest, ListShowsPendingThenDeliveredToTheClosingOffice) {
  ASSERT_TRUE(Close().ok());
  const int64_t closed_at = rs_.node.clock().NowMs();
  absl::StatusOr<v1::ListWithdrawalsResponse> listed =
      rs_.withdrawals.List(kRsOffice, false);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->withdrawals_size(), 1);
  {
    const v1::WithdrawalRecord& r = listed->withdrawals(0);
    EXPECT_EQ(r.state(), v1::WITHDRAWAL_STATE_PENDING);
    EXPECT_EQ(r.case_number(), "RS-1");
    EXPECT_EQ(r.office(), kRsOffice);
    EXPECT_EQ(r.member(), "MK");
    EXPECT_EQ(r.case_token(), kToken);
    EXPECT_EQ(r.reason(), v1::WITHDRAWAL_REASON_CLOSED);
    EXPECT_EQ(r.queued_at_ms(), closed_at);
    EXPECT_EQ(r.attempts(), 0u);
    EXPECT_EQ(r.next_attempt_ms(), closed_at);
    EXPECT_EQ(r.give_up_at_ms(),
              closed_at + int64_t{directory::kDefaultWithdrawalRetryS} * 1000);
    EXPECT_FALSE(r.has_receipt());
  }
  // Another office of the node sees none of them.
  EXPECT_EQ(rs_.withdrawals.List("RS/VJT-NoviSad", false)->withdrawals_size(),
            0);

  rs_.peers.SetBehaviour("MK", FakeBehaviour::kRefuse);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  listed = rs_.withdrawals.List(kRsOffice, true);
  ASSERT_EQ(listed->withdrawals_size(), 1);
  EXPECT_EQ(listed->withdrawals(0).attempts(), 1u);
  EXPECT_EQ(listed->withdrawals(0).next_attempt_ms(), closed_at + 1000);
  EXPECT_NE(listed->withdrawals(0).last_error().find("UNAVAILABLE"),
            std::string::npos);

  rs_.peers.SetBehaviour("MK", FakeBehaviour::kAnswer);
  Advance(1000);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 1);
  EXPECT_EQ(rs_.withdrawals.List(kRsOffice, true)->withdrawals_size(), 0);
  listed = rs_.withdrawals.List(kRsOffice, false);
  ASSERT_EQ(listed->withdrawals_size(), 1);
  const v1::WithdrawalRecord& r = listed->withdrawals(0);
  EXPECT_EQ(r.state(), v1::WITHDRAWAL_STATE_DELIVERED);
  EXPECT_EQ(r.attempts(), 2u);
  EXPECT_EQ(r.next_attempt_ms(), 0);
  EXPECT_EQ(r.give_up_at_ms(), 0);
  EXPECT_TRUE(r.last_error().empty());
  EXPECT_EQ(r.receipt().case_token(), kToken);
  EXPECT_EQ(r.receipt().deleted_at_ms(), mk_.node.clock().NowMs());
  EXPECT_EQ(r.receipt().refusal(), v1::DELETION_REFUSAL_UNSPECIFIED);
  EXPECT_EQ(r.receipt_at_ms(), mk_.node.clock().NowMs());
  v1::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(r.receipt_envelope()));
  EXPECT_FALSE(envelope.signature().empty());
}

TEST_F(WithdrawalTest, ListShowsAGivenUpWithdrawalAsUndelivered) {
  ASSERT_TRUE(Close().ok());
  rs_.peers.SetBehaviour("MK", FakeBehaviour::kRefuse);
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  Advance(int64_t{directory::kDefaultWithdrawalRetryS} * 1000);
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(*rs_.withdrawals.SendDue(), 0);
  (void)::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rs_.withdrawals.List(kRsOffice, true)->withdrawals_size(), 0);
  absl::StatusOr<v1::ListWithdrawalsResponse> listed =
      rs_.withdrawals.List(kRsOffice, false);
  ASSERT_EQ(listed->withdrawals_size(), 1);
  const v1::WithdrawalRecord& r = listed->withdrawals(0);
  EXPECT_EQ(r.state(), v1::WITHDRAWAL_STATE_UNDELIVERED);
  EXPECT_EQ(r.attempts(), 1u);
  EXPECT_EQ(r.next_attempt_ms(), 0);
  EXPECT_NE(r.last_error().find("UNAVAILABLE"), std::string::npos);
  EXPECT_FALSE(r.has_receipt());
}

TEST_F(WithdrawalTest, CooperationOnAWithdrawnReferenceIsRefused) {
  ASSERT_TRUE(RawWithdrawal(rs_.node, kToken).ok());
  v1::SendCooperationRequestRequest req;
  req.set_case_token(kToken);
  req.set_case_number("MK-1");
  req.set_type(v1::COOPERATION_TYPE_INFORMATION);
  req.set_legal_basis("Budapest Convention Art. 25");
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, req).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mk_.peers.Calls("RS", "Cooperate"), 0);
}

class WithdrawalKeptTest : public WithdrawalTest {
 protected:
  WithdrawalKeptTest() : WithdrawalTest(3600) {}
};

TEST_F(WithdrawalKeptTest, ReferenceKeptUntilItsTimeThenDeleted) {
  const int64_t at = mk_.node.clock().NowMs();
  absl::StatusOr<v1::DeletionReceipt> receipt = RawWithdrawal(rs_.node, kToken);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->deleted_at_ms(), 0);
  EXPECT_EQ(receipt->kept_until_ms(), at + 3'600'000);
  for (const v1::Hit& hit : mk_.Hits()) {
    if (hit.member() != "RS") continue;
    EXPECT_EQ(hit.withdrawn_at_ms(), at);
    EXPECT_EQ(hit.reference().competent_office(), "RS/Office");  // kept
  }
  Advance(3'599'999);
  EXPECT_EQ(*mk_.withdrawals.DeleteExpiredReferences(), 0);
  Advance(1);
  EXPECT_EQ(*mk_.withdrawals.DeleteExpiredReferences(), 1);
  for (const v1::Hit& hit : mk_.Hits()) {
    if (hit.member() != "RS") continue;
    EXPECT_EQ(hit.withdrawn_at_ms(), at);
    EXPECT_TRUE(hit.reference().competent_office().empty());
    EXPECT_EQ(hit.reference().case_token(), kToken);
  }
  EXPECT_EQ(*mk_.withdrawals.DeleteExpiredReferences(), 0);
  // A repeat after the deletion still gets the first receipt's content.
  absl::StatusOr<v1::DeletionReceipt> again = RawWithdrawal(rs_.node, kToken);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->SerializeAsString(), receipt->SerializeAsString());
}

}  // namespace
}  // namespace cbx::node
