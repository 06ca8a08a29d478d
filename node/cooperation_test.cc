// Cooperation after a hit (node/cooperation.h), in process: MK and RS are
// two TestNodes (MemoryStorage, FakeClocks, real audit logs), each with a
// PeerService, and each one's FakePeers routes Peer.Cooperate to the
// other's PeerService as that member (the envelope checks included).
#include "node/cooperation.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "core/envelope/envelope.h"
#include "core/identifiers/identifiers.h"
#include "gtest/gtest.h"
#include "node/checkpoints.h"
#include "node/cooperation_checks.h"
#include "node/peer_service.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;

constexpr char kMkOffice[] = "MK/PPO-Skopje";
constexpr char kRsOffice[] = "RS/VJT-Beograd";
const Bytes kToken(16, 't');

// One member: its node, its Peer service and its cooperation module,
// whose transport reaches the other member's Peer service.
struct Member {
  explicit Member(const std::string& code)
      : node(FakeGenesis(), code),
        checkpoints(&node.ctx()),
        service(&node.ctx(), &checkpoints),
        peers(FakeGenesis(), code, &node.clock()),
        cooperation(&node.ctx(), &peers) {
    service.set_cooperation(&cooperation);
  }
  Storage& storage() { return *node.ctx().storage; }
  std::vector<v1::AuditEntry> Entries(v1::AuditDirection d) {
    return node.AuditEntries(d, kCooperateRpc);
  }

  TestNode node;
  Checkpoints checkpoints;
  PeerService service;
  FakePeers peers;
  Cooperation cooperation;
};

StoredCase Case(const std::string& number, const std::string& office,
                const Bytes& token, bool open = true) {
  StoredCase c;
  c.record.set_case_number(number);
  c.record.set_case_token(token);
  c.record.set_office(office);
  c.record.set_status(open ? v1::CASE_STATUS_OPEN : v1::CASE_STATUS_CLOSED);
  c.record.set_contact_point("+381 11 000 000");
  StoredIdentifier id;
  id.type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
  id.normalized_value = "cbx_test_account";
  id.y = Bytes(32, static_cast<char>(number.size()));
  id.tag = 7 + number.size();
  c.identifiers.push_back(id);
  return c;
}

class CooperationTest : public ::testing::Test {
 protected:
  CooperationTest() : mk_("MK"), rs_("RS") {
    mk_.peers.OnCooperate(
        [this](const std::string& member,
               const v1::Envelope& e) -> absl::StatusOr<v1::Envelope> {
          EXPECT_EQ(member, "RS");
          return rs_.service.CooperateAs(std::string("MK"), &e);
        });
    rs_.peers.OnCooperate(
        [this](const std::string& member,
               const v1::Envelope& e) -> absl::StatusOr<v1::Envelope> {
          EXPECT_EQ(member, "MK");
          return mk_.service.CooperateAs(std::string("RS"), &e);
        });
    // RS holds case RS-1 and gave its reference to MK (the notification
    // its Resolve stored); MK holds case MK-1 and the hit.
    EXPECT_TRUE(rs_.storage().AddCase(Case("RS-1", kRsOffice, kToken)).ok());
    v1::Notification note;
    note.set_at_ms(rs_.node.clock().NowMs());
    note.set_from_member("MK");
    note.set_case_number("RS-1");
    EXPECT_TRUE(rs_.storage().AddNotification(note).ok());
    EXPECT_TRUE(
        mk_.storage().AddCase(Case("MK-1", kMkOffice, Bytes(16, 'm'))).ok());
    EXPECT_TRUE(mk_.storage().AddHit(HitOf(kToken)).ok());
  }

  static v1::Hit HitOf(const Bytes& token) {
    v1::Hit hit;
    hit.set_member("RS");
    hit.set_case_number("MK-1");
    hit.set_query_id("q1");
    hit.mutable_reference()->set_case_token(token);
    hit.mutable_reference()->set_member("RS");
    hit.mutable_reference()->set_competent_office(kRsOffice);
    hit.mutable_reference()->add_matched()->set_type(
        v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    return hit;
  }

  static v1::SendCooperationRequestRequest Information() {
    v1::SendCooperationRequestRequest req;
    req.set_case_token(kToken);
    req.set_case_number("MK-1");
    req.set_type(v1::COOPERATION_TYPE_INFORMATION);
    req.set_legal_basis("Budapest Convention Art. 25");
    return req;
  }
  static v1::SendCooperationRequestRequest Preservation() {
    v1::SendCooperationRequestRequest req = Information();
    req.set_type(v1::COOPERATION_TYPE_PRESERVATION);
    v1::PreservationDetails* p = req.mutable_preservation();
    p->set_platform("telegram");
    v1::Identifier* account = p->add_account();
    account->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    account->set_value("@CBX_test_account");
    p->set_period_from_ms(1'700'000'000'000);
    p->set_period_to_ms(1'700'086'400'000);
    p->add_data_categories(v1::DATA_CATEGORY_SUBSCRIBER);
    p->add_data_categories(v1::DATA_CATEGORY_TRAFFIC);
    req.set_note("urgent: account active");
    return req;
  }

  // A request MK's node key signs without MK's sender-side checks (an
  // attacker's own node), sent straight to RS's Peer service.
  absl::StatusOr<v1::CooperationReceipt> RawRequest(
      const std::function<void(v1::CooperationRequest&)>& edit) {
    v1::Message m;
    *m.mutable_header() = mk_.node.ctx().NewHeader("RS", kMkOffice);
    v1::CooperationRequest* r = m.mutable_cooperation_request();
    r->set_case_token(kToken);
    r->set_requester_case_number("MK-1");
    r->set_type(v1::COOPERATION_TYPE_INFORMATION);
    r->set_legal_basis("MLA Convention 1959, Art. 1");
    r->set_response_due_ms(m.header().issued_at_ms() +
                           int64_t{directory::kDefaultInformationResponseS} *
                               1000);
    edit(*r);
    absl::StatusOr<v1::Envelope> sealed = mk_.node.ctx().signing_keys->Seal(m);
    if (!sealed.ok()) return sealed.status();
    absl::StatusOr<v1::Envelope> reply =
        rs_.service.CooperateAs(std::string("MK"), &*sealed);
    if (!reply.ok()) return reply.status();
    v1::Message opened;
    EXPECT_TRUE(opened.ParseFromString(reply->body()));
    EXPECT_EQ(opened.header().in_reply_to(), m.header().message_id());
    return opened.cooperation_receipt();
  }

  void Advance(int64_t ms) {
    mk_.node.clock().AdvanceMs(ms);
    rs_.node.clock().AdvanceMs(ms);
  }

  Member mk_;
  Member rs_;
};

TEST_F(CooperationTest, PreservationRequestReceiptAndResponseDone) {
  absl::StatusOr<v1::CooperationRecord> sent =
      mk_.cooperation.Send(kMkOffice, Preservation());
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);
  EXPECT_EQ(sent->receipt().competent_office(), kRsOffice);
  EXPECT_EQ(sent->peer_office(), kRsOffice);
  EXPECT_EQ(sent->request().response_due_ms(),
            sent->requested_at_ms() +
                int64_t{directory::kDefaultPreservationResponseS} * 1000);
  EXPECT_FALSE(sent->overdue());
  EXPECT_FALSE(sent->receipt_envelope().empty());

  // RS keeps it for the competent office, not for another office.
  absl::StatusOr<v1::CooperationRecord> received =
      rs_.cooperation.Get(kRsOffice, sent->id());
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->direction(), v1::COOPERATION_DIRECTION_RECEIVED);
  EXPECT_EQ(received->case_number(), "RS-1");
  EXPECT_EQ(received->peer(), "MK");
  EXPECT_EQ(received->peer_office(), kMkOffice);
  EXPECT_EQ(received->request().preservation().platform(), "telegram");
  EXPECT_EQ(rs_.cooperation.Get("RS/Other", sent->id()).status().code(),
            absl::StatusCode::kNotFound);

  v1::RespondToCooperationRequestRequest answer;
  answer.set_id(sent->id());
  answer.set_outcome(v1::RESPONSE_OUTCOME_DONE);
  // Preserved until a time already past: refused, nothing sent.
  answer.set_preserved_until_ms(rs_.node.clock().NowMs() - 86'400'000);
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(mk_.cooperation.Get(kMkOffice, sent->id())->has_response());
  answer.set_preserved_until_ms(1'800'000'000'000);
  absl::StatusOr<v1::CooperationRecord> responded =
      rs_.cooperation.Respond(kRsOffice, answer);
  ASSERT_TRUE(responded.ok()) << responded.status();
  EXPECT_EQ(responded->response_receipt().status(),
            v1::RECEIPT_STATUS_ACCEPTED);

  absl::StatusOr<v1::CooperationRecord> seen =
      mk_.cooperation.Get(kMkOffice, sent->id());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->response().outcome(), v1::RESPONSE_OUTCOME_DONE);
  EXPECT_EQ(seen->response().preserved_until_ms(), 1'800'000'000'000);
  EXPECT_FALSE(seen->response_envelope().empty());

  // §8: each message one entry on each side, with type and code, no note.
  std::vector<v1::AuditEntry> mk_sent = mk_.Entries(v1::AUDIT_DIRECTION_SENT);
  std::vector<v1::AuditEntry> mk_got =
      mk_.Entries(v1::AUDIT_DIRECTION_RECEIVED);
  ASSERT_EQ(mk_sent.size(), 2u);  // the request, the response's receipt
  ASSERT_EQ(mk_got.size(), 2u);   // the receipt, the response
  EXPECT_EQ(mk_sent[0].kind(), "cooperation_request");
  EXPECT_EQ(mk_sent[0].outcome().cooperation_type(),
            static_cast<uint32_t>(v1::COOPERATION_TYPE_PRESERVATION));
  EXPECT_EQ(mk_got[0].kind(), "cooperation_receipt");
  EXPECT_EQ(mk_got[0].outcome().cooperation_code(), 100u);
  EXPECT_EQ(mk_got[1].kind(), "cooperation_response");
  EXPECT_EQ(mk_got[1].outcome().cooperation_code(), 100u);  // DONE
  EXPECT_EQ(mk_sent[1].kind(), "cooperation_receipt");
  std::vector<v1::AuditEntry> rs_got =
      rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED);
  ASSERT_EQ(rs_got.size(), 2u);
  EXPECT_EQ(rs_got[0].kind(), "cooperation_request");
  EXPECT_EQ(rs_got[0].outcome().status_code(), 0);
  for (const v1::AuditEntry& e : mk_.node.AuditEntries()) {
    EXPECT_EQ(e.SerializeAsString().find("urgent"), std::string::npos);
    EXPECT_EQ(e.SerializeAsString().find("cbx_test_account"),
              std::string::npos);
  }
  // A second response is refused by the office call.
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CooperationTest, InformationAnsweredRefusedWithReason) {
  absl::StatusOr<v1::CooperationRecord> sent =
      mk_.cooperation.Send(kMkOffice, Information());
  ASSERT_TRUE(sent.ok()) << sent.status();
  v1::RespondToCooperationRequestRequest answer;
  answer.set_id(sent->id());
  answer.set_outcome(v1::RESPONSE_OUTCOME_REFUSED);
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kInvalidArgument);  // no reason
  answer.set_reason(v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS);
  ASSERT_TRUE(rs_.cooperation.Respond(kRsOffice, answer).ok());
  absl::StatusOr<v1::CooperationRecord> seen =
      mk_.cooperation.Get(kMkOffice, sent->id());
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->response().outcome(), v1::RESPONSE_OUTCOME_REFUSED);
  EXPECT_EQ(seen->response().reason(), v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS);
}

TEST_F(CooperationTest, SenderRefusesBeforeAnythingIsSent) {
  v1::SendCooperationRequestRequest bad = Information();
  bad.set_legal_basis("");
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = Information();
  bad.set_note(std::string(1001, 'x'));
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = Information();
  bad.set_note("two\nlines");
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = Preservation();
  bad.mutable_preservation()->mutable_account(0)->set_type(
      v1::IDENTIFIER_TYPE_PHONE);  // the hit matched no phone
  bad.mutable_preservation()->mutable_account(0)->set_value("+38970000000");
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = Information();
  bad.set_case_number("MK-404");
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(mk_.cooperation.Send("MK/Other", Information()).status().code(),
            absl::StatusCode::kPermissionDenied);
  bad = Information();
  bad.set_case_token(Bytes(16, 'z'));  // no hit of MK-1 carries it
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(mk_.storage()
                  .AddCase(Case("MK-22", kMkOffice, Bytes(16, 'c'),
                                /*open=*/false))
                  .ok());
  bad = Information();
  bad.set_case_number("MK-22");
  EXPECT_EQ(mk_.cooperation.Send(kMkOffice, bad).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mk_.peers.Calls("RS", "Cooperate"), 0);
  EXPECT_TRUE(mk_.Entries(v1::AUDIT_DIRECTION_SENT).empty());
}

TEST_F(CooperationTest, UnreachablePeerLeavesTheRecordWithItsError) {
  mk_.peers.SetBehaviour("RS", testing::FakeBehaviour::kRefuse,
                         absl::UnavailableError("down"));
  absl::StatusOr<v1::CooperationRecord> sent =
      mk_.cooperation.Send(kMkOffice, Information());
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<Page<v1::CooperationRecord>> mine =
      mk_.cooperation.List(kMkOffice, false, {});
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_NE(mine->items[0].delivery_error().find("UNAVAILABLE"),
            std::string::npos);
  EXPECT_FALSE(mine->items[0].has_receipt());
  EXPECT_EQ(mk_.node.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, kCooperateRpc)
                .back()
                .kind(),
            "call_failed");
}

TEST_F(CooperationTest, UnknownTokenIsRefusedWithAReceipt) {
  absl::StatusOr<v1::CooperationReceipt> receipt = RawRequest(
      [](v1::CooperationRequest& r) { r.set_case_token(Bytes(16, 'u')); });
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->status(), v1::RECEIPT_STATUS_REFUSED);
  EXPECT_EQ(receipt->reason(), v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN);
  EXPECT_TRUE(receipt->competent_office().empty());
  EXPECT_EQ(
      rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED).back().outcome().status_code(),
      static_cast<int>(absl::StatusCode::kNotFound));
  absl::StatusOr<Page<v1::CooperationRecord>> none =
      rs_.cooperation.List(kRsOffice, false, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
}

// Attack: AL resolved RS-1, MK did not; MK learned the token elsewhere
// (or guesses it). RS answers exactly as for an unknown token.
TEST_F(CooperationTest, TokenGivenToAnotherMemberIsRefusedAsUnknown) {
  ASSERT_TRUE(
      rs_.storage().AddCase(Case("RS-22", kRsOffice, Bytes(16, 'a'))).ok());
  v1::Notification to_al;
  to_al.set_at_ms(rs_.node.clock().NowMs());
  to_al.set_from_member("AL");
  to_al.set_case_number("RS-22");
  ASSERT_TRUE(rs_.storage().AddNotification(to_al).ok());
  absl::StatusOr<v1::CooperationReceipt> receipt = RawRequest(
      [](v1::CooperationRequest& r) { r.set_case_token(Bytes(16, 'a')); });
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->status(), v1::RECEIPT_STATUS_REFUSED);
  EXPECT_EQ(receipt->reason(), v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN);
  absl::StatusOr<Page<v1::CooperationRecord>> none =
      rs_.cooperation.List(kRsOffice, false, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
}

TEST_F(CooperationTest, ReceiverRefusalsEachWithTheirReason) {
  // A deadline that is not the policy's.
  absl::StatusOr<v1::CooperationReceipt> receipt =
      RawRequest([](v1::CooperationRequest& r) {
        r.set_response_due_ms(r.response_due_ms() + 3'600'000);
      });
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->reason(), v1::RECEIPT_REFUSAL_MALFORMED);
  // A note of two lines.
  receipt = RawRequest([](v1::CooperationRequest& r) { r.set_note("a\nb"); });
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->reason(), v1::RECEIPT_REFUSAL_MALFORMED);
  // A preservation account the case does not hold.
  receipt = RawRequest([](v1::CooperationRequest& r) {
    r.set_type(v1::COOPERATION_TYPE_PRESERVATION);
    *r.mutable_preservation() = Preservation().preservation();
    r.mutable_preservation()->mutable_account(0)->set_value("someone_else");
    r.set_response_due_ms(
        r.response_due_ms() -
        int64_t{directory::kDefaultInformationResponseS} * 1000 +
        int64_t{directory::kDefaultPreservationResponseS} * 1000);
  });
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->reason(), v1::RECEIPT_REFUSAL_MALFORMED);
  EXPECT_EQ(
      rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED).back().outcome().status_code(),
      static_cast<int>(absl::StatusCode::kInvalidArgument));
  // A closed case.
  StoredCase closed = Case("RS-1", kRsOffice, kToken, /*open=*/false);
  ASSERT_TRUE(rs_.storage().UpdateCase(closed).ok());
  receipt = RawRequest([](v1::CooperationRequest&) {});
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->reason(), v1::RECEIPT_REFUSAL_CASE_WITHDRAWN);
  EXPECT_EQ(
      rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED).back().outcome().status_code(),
      static_cast<int>(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CooperationTest, OverQuotaIsRefusedAndChargesNothing) {
  const int64_t day = rs_.node.clock().NowMs() / 86'400'000;
  const uint32_t limit = directory::kDefaultCooperationRequestsPerPeerPerDay;
  ASSERT_TRUE(
      rs_.storage().ChargeQuota("MK/cooperate", day, limit - 1, limit).ok());
  absl::StatusOr<v1::CooperationRecord> last =
      mk_.cooperation.Send(kMkOffice, Information());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);
  absl::StatusOr<v1::CooperationRecord> over =
      mk_.cooperation.Send(kMkOffice, Information());
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_EQ(over->receipt().status(), v1::RECEIPT_STATUS_REFUSED);
  EXPECT_EQ(over->receipt().reason(), v1::RECEIPT_REFUSAL_OVER_QUOTA);
  EXPECT_EQ(*rs_.storage().QuotaUsed("MK/cooperate", day), limit);
  EXPECT_EQ(
      rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED).back().outcome().status_code(),
      static_cast<int>(absl::StatusCode::kResourceExhausted));
  // Refused requests are not overdue.
  Advance(int64_t{directory::kDefaultInformationResponseS} * 1000 + 1);
  EXPECT_EQ(*mk_.cooperation.CountOverdue(), 1);
}

TEST_F(CooperationTest, UnansweredRequestBecomesOverdueOnceOnBothSides) {
  absl::StatusOr<v1::CooperationRecord> sent =
      mk_.cooperation.Send(kMkOffice, Information());
  ASSERT_TRUE(sent.ok());
  v1::SendCooperationRequestRequest spontaneous = Information();
  spontaneous.set_type(v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION);
  absl::StatusOr<v1::CooperationRecord> told =
      mk_.cooperation.Send(kMkOffice, spontaneous);
  ASSERT_TRUE(told.ok()) << told.status();
  EXPECT_EQ(told->request().response_due_ms(), 0);
  EXPECT_EQ(*mk_.cooperation.AnnounceOverdue(), 0);
  Advance(int64_t{directory::kDefaultInformationResponseS} * 1000 + 1);
  EXPECT_EQ(*mk_.cooperation.CountOverdue(), 1);
  EXPECT_EQ(*rs_.cooperation.CountOverdue(), 1);
  EXPECT_EQ(*mk_.cooperation.AnnounceOverdue(), 1);
  EXPECT_EQ(*mk_.cooperation.AnnounceOverdue(), 0);  // once
  EXPECT_EQ(*rs_.cooperation.AnnounceOverdue(), 1);
  absl::StatusOr<Page<v1::CooperationRecord>> overdue =
      mk_.cooperation.List(kMkOffice, true, {});
  ASSERT_TRUE(overdue.ok());
  ASSERT_EQ(overdue->items.size(), 1u);
  EXPECT_EQ(overdue->items[0].id(), sent->id());
  EXPECT_TRUE(overdue->items[0].overdue());
  // Spontaneous information needs no response.
  v1::RespondToCooperationRequestRequest answer;
  answer.set_id(told->id());
  answer.set_outcome(v1::RESPONSE_OUTCOME_DONE);
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A late answer ends it.
  answer.set_id(sent->id());
  ASSERT_TRUE(rs_.cooperation.Respond(kRsOffice, answer).ok());
  EXPECT_EQ(*mk_.cooperation.CountOverdue(), 0);
  EXPECT_EQ(*rs_.cooperation.CountOverdue(), 0);
}

TEST_F(CooperationTest, RespondRefusals) {
  absl::StatusOr<v1::CooperationRecord> sent =
      mk_.cooperation.Send(kMkOffice, Information());
  ASSERT_TRUE(sent.ok());
  v1::RespondToCooperationRequestRequest answer;
  answer.set_outcome(v1::RESPONSE_OUTCOME_FORWARDED_TO_MLA);
  answer.set_id("not hex");
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kInvalidArgument);
  answer.set_id(std::string(32, '0'));
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kNotFound);
  answer.set_id(sent->id());
  EXPECT_EQ(rs_.cooperation.Respond("RS/Other", answer).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(mk_.cooperation.Respond(kMkOffice, answer).status().code(),
            absl::StatusCode::kFailedPrecondition);  // MK sent it
  EXPECT_EQ(rs_.cooperation.Respond(kRsOffice, answer).status().code(),
            absl::StatusCode::kInvalidArgument);  // no mla_reference
  answer.set_mla_reference("MLA-2026/0042");
  absl::StatusOr<v1::CooperationRecord> done =
      rs_.cooperation.Respond(kRsOffice, answer);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(
      mk_.cooperation.Get(kMkOffice, sent->id())->response().mla_reference(),
      "MLA-2026/0042");
}

TEST_F(CooperationTest, ResponseToNoRequestIsRefusedUnknownRequest) {
  v1::Message m;
  *m.mutable_header() = rs_.node.ctx().NewHeader("MK", kRsOffice);
  m.mutable_header()->set_in_reply_to(Bytes(16, 'q'));
  m.mutable_cooperation_response()->set_outcome(v1::RESPONSE_OUTCOME_PARTLY);
  absl::StatusOr<v1::Envelope> sealed = rs_.node.ctx().signing_keys->Seal(m);
  ASSERT_TRUE(sealed.ok());
  absl::StatusOr<v1::Envelope> reply =
      mk_.service.CooperateAs(std::string("RS"), &*sealed);
  ASSERT_TRUE(reply.ok()) << reply.status();
  v1::Message opened;
  ASSERT_TRUE(opened.ParseFromString(reply->body()));
  EXPECT_EQ(opened.cooperation_receipt().reason(),
            v1::RECEIPT_REFUSAL_UNKNOWN_REQUEST);
}

TEST_F(CooperationTest, EnvelopeChecksComeFirstWithoutReceipt) {
  // Another kind on Peer.Cooperate: the envelope check's code, no receipt.
  v1::Message m;
  *m.mutable_header() = mk_.node.ctx().NewHeader("RS", kMkOffice);
  m.mutable_index_request()->set_oprf_epoch(1);
  absl::StatusOr<v1::Envelope> sealed = mk_.node.ctx().signing_keys->Seal(m);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(
      rs_.service.CooperateAs(std::string("MK"), &*sealed).status().code(),
      absl::StatusCode::kInvalidArgument);
  // A caller whose certificate names another member than the sender.
  v1::Message request;
  *request.mutable_header() = mk_.node.ctx().NewHeader("RS", kMkOffice);
  request.mutable_cooperation_request()->set_case_token(kToken);
  sealed = mk_.node.ctx().signing_keys->Seal(request);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(
      rs_.service.CooperateAs(std::string("AL"), &*sealed).status().code(),
      absl::StatusCode::kUnauthenticated);
}

TEST(CooperationChecksTest, IdsRoundTripAndCodes) {
  const Bytes id(16, '\xab');
  std::string hex;
  for (int i = 0; i < 16; ++i) hex += "ab";
  EXPECT_EQ(CooperationId(id), hex);
  EXPECT_EQ(*MessageIdOf(CooperationId(id)), id);
  EXPECT_EQ(MessageIdOf("xyz").status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::CooperationReceipt r;
  r.set_status(v1::RECEIPT_STATUS_REFUSED);
  r.set_reason(v1::RECEIPT_REFUSAL_OVER_QUOTA);
  EXPECT_EQ(ReceiptCode(r), 205u);
  EXPECT_EQ(RefusalStatusCode(v1::RECEIPT_REFUSAL_OVER_QUOTA),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace cbx::node

namespace cbx::node {
namespace {

// spec/cooperation.md §5: the person who sends a request, and the one who
// answers it, are in every entry of their calls, on both nodes (the
// envelopes' Header.user), and never another office's person.
TEST_F(CooperationTest, EveryEntryCarriesTheActingPerson) {
  const size_t mk_before = mk_.node.AuditEntries().size();
  absl::StatusOr<v1::CooperationRecord> sent =
      mk_.cooperation.Send(kMkOffice, Information(), "mk-0042");
  ASSERT_TRUE(sent.ok()) << sent.status();
  std::vector<v1::AuditEntry> mk = mk_.node.AuditEntries();
  ASSERT_EQ(mk.size(), mk_before + 2);  // request SENT, receipt RECEIVED
  for (size_t i = mk_before; i < mk.size(); ++i) {
    EXPECT_EQ(mk[i].user(), "mk-0042") << mk[i].kind();
  }
  // RS's RECEIVED entry of the request names MK's person (its header).
  bool rs_saw = false;
  for (const v1::AuditEntry& e :
       rs_.Entries(v1::AUDIT_DIRECTION_RECEIVED)) {
    rs_saw |= e.kind() == "cooperation_request" && e.user() == "mk-0042";
  }
  EXPECT_TRUE(rs_saw);

  // Attack: another RS office answers the request: refused, nothing sent.
  v1::RespondToCooperationRequestRequest answer;
  answer.set_id(sent->id());
  answer.set_outcome(v1::RESPONSE_OUTCOME_REFUSED);
  answer.set_reason(v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS);
  EXPECT_EQ(
      rs_.cooperation.Respond("RS/Other", answer, "rs-9").status().code(),
      absl::StatusCode::kPermissionDenied);

  const size_t rs_before = rs_.node.AuditEntries().size();
  ASSERT_TRUE(rs_.cooperation.Respond(kRsOffice, answer, "rs-0007").ok());
  std::vector<v1::AuditEntry> rs = rs_.node.AuditEntries();
  ASSERT_EQ(rs.size(), rs_before + 2);  // response SENT, receipt RECEIVED
  for (size_t i = rs_before; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].user(), "rs-0007") << rs[i].kind();
  }
}

}  // namespace
}  // namespace cbx::node
