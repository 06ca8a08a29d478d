// LookupResponder in process, as MK answering RS, with the test
// federation's keys (core/directory/testing/test_federation.h), MemoryStorage
// and a recording audit sink. Requests are given as admitted envelopes:
// admission (the envelope checks) is PeerService's and core/envelope's.
#include "node/lookup_responder.h"

#include <memory>
#include <string>
#include <vector>

#include "core/directory/directory.h"
#include "core/directory/policy.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/tag_index.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using directory::testing::SignedGenesis;
using directory::testing::TestKey;
using directory::testing::TestOprfPublicKey;
using testing::kOffice;
using testing::NewCase;

class LookupResponderTest : public testing::DomainFixture {
 protected:
  LookupResponderTest()
      : directory_(*directory::Directory::FromGenesis(SignedGenesis())),
        signing_keys_(NodeSigningKeys::Single("MK", TestKey("MK/node/1"),
                                              &directory_, &clock_)),
        responder_(LookupResponder::Deps{
            .self = "MK",
            .directory = &directory_,
            .oprf_key = &oprf_key_,
            .signing_keys = signing_keys_.get(),
            .storage = &storage_,
            .trail = &trail_,
            .clock = &clock_,
        }) {}

  // An admitted request from RS's office.
  envelope::OpenedEnvelope From(v1::Message message) {
    v1::Header* h = message.mutable_header();
    h->set_sender("RS");
    h->set_office("RS/PPO-Belgrade");
    h->set_message_id(std::string(16, static_cast<char>(++sent_)));
    envelope::OpenedEnvelope opened;
    opened.message = std::move(message);
    opened.envelope_sha256 = std::string(32, static_cast<char>(sent_));
    return opened;
  }
  envelope::OpenedEnvelope EvaluateRequest(const std::vector<Bytes>& blinded,
                                           uint32_t epoch = 1) {
    v1::Message m;
    v1::EvaluateRequest* r = m.mutable_evaluate_request();
    r->set_oprf_epoch(epoch);
    for (const Bytes& b : blinded) r->add_blinded_elements(b);
    return From(std::move(m));
  }
  envelope::OpenedEnvelope ResolveRequest(const std::vector<Bytes>& ys,
                                          uint32_t epoch = 1) {
    v1::Message m;
    v1::ResolveRequest* r = m.mutable_resolve_request();
    r->set_oprf_epoch(epoch);
    r->mutable_purpose()->set_case_number("RS-77");
    r->mutable_purpose()->set_legal_basis("MLA Convention 1959, Art. 1");
    r->mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    for (const Bytes& y : ys) r->add_outputs(y);
    return From(std::move(m));
  }
  envelope::OpenedEnvelope IndexRequest(uint64_t since, uint32_t epoch = 1) {
    v1::Message m;
    m.mutable_index_request()->set_oprf_epoch(epoch);
    m.mutable_index_request()->set_since_version(since);
    return From(std::move(m));
  }
  static v1::Message Body(const v1::Envelope& e) {
    v1::Message m;
    EXPECT_TRUE(m.ParseFromString(e.body()));
    return m;
  }
  // `inputs` blinded as a querier blinds them.
  struct Blinded {
    std::vector<Bytes> inputs, blinds, elements;
  };
  static Blinded Blind(std::vector<Bytes> inputs) {
    Blinded out;
    for (const Bytes& in : inputs) {
      auto b = crypto::OprfBlind(in);
      EXPECT_TRUE(b.ok()) << b.status();
      if (!b.ok()) continue;
      out.blinds.push_back(b->blind);
      out.elements.push_back(b->blinded_element);
    }
    out.inputs = std::move(inputs);
    return out;
  }
  // Finalizes `resp` as the querier would and expects MK's outputs.
  void ExpectOutputs(const Blinded& sent, const v1::EvaluateResponse& resp) {
    std::vector<Bytes> evaluated(resp.evaluated_elements().begin(),
                                 resp.evaluated_elements().end());
    auto ys =
        crypto::OprfFinalize(sent.inputs, sent.blinds, sent.elements, evaluated,
                             resp.proof(), TestOprfPublicKey("MK", 1));
    ASSERT_TRUE(ys.ok()) << ys.status();
    for (size_t i = 0; i < sent.inputs.size(); ++i) {
      EXPECT_EQ((*ys)[i], *oprf_key_.Evaluate(sent.inputs[i]));
    }
  }
  void AddCase(const std::string& number,
               const std::vector<std::string>& usernames) {
    auto added = book_.Add(kOffice, NewCase(number, usernames));
    ASSERT_TRUE(added.ok()) << added.status();
  }
  size_t Notifications() {
    auto notes = storage_.ListNotifications("");
    EXPECT_TRUE(notes.ok());
    return notes.ok() ? notes->items.size() : 0;
  }
  // The last audit entry.
  v1::AuditEntry LastEntry() {
    std::vector<v1::AuditEntry> entries = sink_.entries();
    return entries.empty() ? v1::AuditEntry() : entries.back();
  }

  directory::DirectoryState directory_;
  std::unique_ptr<NodeSigningKeys> signing_keys_;
  LookupResponder responder_;
  CaseBook book_{"MK", &storage_, &oprf_key_, &trail_, &clock_};
  int sent_ = 0;
};

TEST_F(LookupResponderTest, EvaluatesABatchWithAProofThatVerifies) {
  const Blinded sent = Blind({"input one", "input two", "input three"});
  auto reply = responder_.Evaluate(EvaluateRequest(sent.elements));
  ASSERT_TRUE(reply.ok()) << reply.status();
  v1::Message m = Body(*reply);
  EXPECT_EQ(m.header().sender(), "MK");
  EXPECT_EQ(m.header().audience(0), "RS");
  EXPECT_EQ(m.header().in_reply_to(), std::string(16, '\1'));
  EXPECT_EQ(m.evaluate_response().oprf_epoch(), 1u);
  ExpectOutputs(sent, m.evaluate_response());
  // Logged as one exchange: the request received, the reply sent.
  std::vector<v1::AuditEntry> entries = sink_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].direction(), v1::AUDIT_DIRECTION_RECEIVED);
  EXPECT_EQ(entries[0].peer(), "RS");
  EXPECT_EQ(entries[0].rpc(), "Peer.Evaluate");
  EXPECT_EQ(entries[0].outcome().elements(), 3u);
  EXPECT_EQ(entries[1].direction(), v1::AUDIT_DIRECTION_SENT);
}

// The batch the quota gate decoded is evaluated as decoded; one that is
// not the request's (never passed by PeerService) is not used.
TEST_F(LookupResponderTest, EvaluatesTheBatchTheGateDecoded) {
  const Blinded sent = Blind({"input one", "input two"});
  const Blinded other = Blind({"input three"});
  auto mine = crypto::DecodedBatch::Decode(sent.elements);
  auto not_mine = crypto::DecodedBatch::Decode(other.elements);
  ASSERT_TRUE(mine.ok() && not_mine.ok());
  for (const crypto::DecodedBatch* decoded : {&*mine, &*not_mine}) {
    auto reply = responder_.Evaluate(EvaluateRequest(sent.elements), decoded);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ExpectOutputs(sent, Body(*reply).evaluate_response());
  }
  // Decoding refuses what the check refuses, naming the element.
  v1::EvaluateRequest bad;
  bad.add_blinded_elements(sent.elements[0]);
  bad.add_blinded_elements("not a point");
  auto refused = DecodeEvaluateRequest(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "blinded_elements: element 1: P-256 element must be a 33-byte "
            "compressed or a 65-byte uncompressed point");
  EXPECT_EQ(DecodeEvaluateRequest(v1::EvaluateRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LookupResponderTest, EvaluateRefusesAnotherEpochAndBadBatches) {
  auto blinded = crypto::OprfBlind("x");
  ASSERT_TRUE(blinded.ok());
  auto other_epoch =
      responder_.Evaluate(EvaluateRequest({blinded->blinded_element}, 2));
  EXPECT_EQ(other_epoch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(LastEntry().outcome().status_code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(responder_.Evaluate(EvaluateRequest({})).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<Bytes> too_many(kMaxBatch + 1, blinded->blinded_element);
  EXPECT_EQ(responder_.Evaluate(EvaluateRequest(too_many)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      responder_.Evaluate(EvaluateRequest({"not a point"})).status().code(),
      absl::StatusCode::kInvalidArgument);
  // Each refusal is one RECEIVED entry, no SENT.
  for (const v1::AuditEntry& e : sink_.entries()) {
    EXPECT_EQ(e.direction(), v1::AUDIT_DIRECTION_RECEIVED);
  }
  EXPECT_EQ(sink_.entries().size(), 4u);
}

TEST_F(LookupResponderTest, ResolveRefusesAnIndexTagAndBadBatches) {
  Bytes tag(8, 'T');
  auto refused = responder_.Resolve(ResolveRequest({tag}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("an index tag does not"),
            std::string::npos);
  EXPECT_EQ(responder_.Resolve(ResolveRequest({})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(responder_.Resolve(ResolveRequest({YOf("@alice_one")}, 2))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Notifications(), 0u);
}

TEST_F(LookupResponderTest, ResolveAnswersReferencesAndNotifiesTheOffice) {
  AddCase("PPO-1", {"@alice_one", "@bob_two"});
  AddCase("PPO-2", {"@carol_three"});
  auto reply = responder_.Resolve(
      ResolveRequest({Bytes(32, 'z'), YOf("@bob_two"), YOf("@alice_one")}));
  ASSERT_TRUE(reply.ok()) << reply.status();
  const v1::Message m = Body(*reply);
  const v1::ResolveResponse& resp = m.resolve_response();
  ASSERT_EQ(resp.references_size(), 1);
  const v1::CaseReference& ref = resp.references(0);
  EXPECT_EQ(ref.member(), "MK");
  EXPECT_EQ(ref.competent_office(), kOffice);
  EXPECT_EQ(ref.case_token().size(), 16u);
  ASSERT_EQ(ref.matched_size(), 2);
  EXPECT_EQ(ref.matched(0).input_index(), 1);
  EXPECT_EQ(ref.matched(1).input_index(), 2);
  auto notes = storage_.ListNotifications("PPO-1");
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->items.size(), 1u);
  EXPECT_EQ(notes->items[0].from_member(), "RS");
  EXPECT_EQ(notes->items[0].from_office(), "RS/PPO-Belgrade");
  EXPECT_EQ(notes->items[0].purpose().case_number(), "RS-77");
  EXPECT_EQ(Notifications(), 1u);
  v1::AuditEntry sent = LastEntry();
  EXPECT_EQ(sent.direction(), v1::AUDIT_DIRECTION_SENT);
  EXPECT_EQ(sent.outcome().references(), 1u);
  EXPECT_EQ(sent.outcome().hits(), 2u);
}

// Issue 11 point 1: [y, y] was answered with one reference whose matched
// list repeated every entry (input_index 0, 1, 0, 1). A repeated output is
// refused: nothing charged, no notification, logged RECEIVED with the code.
TEST_F(LookupResponderTest, ResolveRefusesARepeatedOutput) {
  AddCase("PPO-1", {"@alice_one"});
  const Bytes y = YOf("@alice_one");
  auto refused = responder_.Resolve(ResolveRequest({y, y}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "outputs[1] repeats outputs[0]");
  refused = responder_.Resolve(
      ResolveRequest({y, YOf("@carol_three"), Bytes(32, 'z'), y}));
  EXPECT_EQ(refused.status().message(), "outputs[3] repeats outputs[0]");
  EXPECT_EQ(Notifications(), 0u);
  v1::AuditEntry last = LastEntry();
  EXPECT_EQ(last.direction(), v1::AUDIT_DIRECTION_RECEIVED);
  EXPECT_EQ(last.outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  auto used = storage_.ChargeQuota(ResolveQuotaAccount("RS"),
                                   clock_.NowMs() / 86'400'000, 0,
                                   directory::kDefaultResolvesPerPeerPerDay);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(*used, 0u);
}

TEST_F(LookupResponderTest, ResolveAnswersItsIndexVersion) {
  AddCase("PPO-1", {"@alice_one"});
  AddCase("PPO-2", {"@carol_three"});
  auto reply = responder_.Resolve(ResolveRequest({Bytes(32, 'z')}));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(Body(*reply).resolve_response().index_version(), OwnVersion());
  EXPECT_GT(OwnVersion(), 0u);
}

// Threat: a peer holding one matching y resolves it without limit, each
// call storing a notification (issue 9). The outputs are charged to its
// daily quota with the notifications; refused batches charge nothing.
TEST_F(LookupResponderTest, AResolveFloodStopsAtTheDailyQuota) {
  AddCase("PPO-1", {"@alice_one"});
  const uint32_t limit = directory::kDefaultResolvesPerPeerPerDay;
  // Distinct outputs: a repeated one is refused (issue 11 point 1).
  std::vector<Bytes> batch;
  batch.push_back(YOf("@alice_one"));
  for (int i = 1; i < 1000; ++i) {
    batch.push_back(Bytes(28, 'z') +
                    std::string(reinterpret_cast<char*>(&i), 4));
  }
  // A refused batch (another epoch) is not charged.
  EXPECT_EQ(responder_.Resolve(ResolveRequest(batch, 2)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (uint32_t sent = 0; sent + batch.size() <= limit; sent += batch.size()) {
    auto reply = responder_.Resolve(ResolveRequest(batch));
    ASSERT_TRUE(reply.ok()) << "after " << sent << ": " << reply.status();
  }
  EXPECT_EQ(Notifications(), limit / batch.size());
  auto refused = responder_.Resolve(ResolveRequest({YOf("@alice_one")}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(),
            "member RS has used its quota of 10000 resolve outputs for today "
            "(UTC); this request asked for 1");
  // Nothing stored or notified, and the refusal is logged RECEIVED.
  EXPECT_EQ(Notifications(), limit / batch.size());
  v1::AuditEntry last = LastEntry();
  EXPECT_EQ(last.direction(), v1::AUDIT_DIRECTION_RECEIVED);
  EXPECT_EQ(last.rpc(), "Peer.Resolve");
  EXPECT_EQ(last.outcome().status_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  // The next UTC day starts afresh.
  clock_.AdvanceMs(86'400'000);
  EXPECT_TRUE(responder_.Resolve(ResolveRequest({YOf("@alice_one")})).ok());
  // The charge is durable in storage, per sender: another day's row.
  auto used = storage_.ChargeQuota(ResolveQuotaAccount("RS"),
                                   clock_.NowMs() / 86'400'000, 0, limit);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(*used, 1u);
}

TEST_F(LookupResponderTest, AResolveWhoseCommitFailsChargesNothing) {
  AddCase("PPO-1", {"@alice_one"});
  storage_.FailNextCommit(absl::UnavailableError("disk gone"));
  EXPECT_FALSE(responder_.Resolve(ResolveRequest({YOf("@alice_one")})).ok());
  auto used = storage_.ChargeQuota(ResolveQuotaAccount("RS"),
                                   clock_.NowMs() / 86'400'000, 0, 10);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(*used, 0u);
}

TEST_F(LookupResponderTest, ResolveOfAClosedCaseFindsNothing) {
  AddCase("PPO-1", {"@alice_one"});
  ASSERT_TRUE(book_.Close(kOffice, "PPO-1").ok());
  auto reply = responder_.Resolve(ResolveRequest({YOf("@alice_one")}));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(Body(*reply).resolve_response().references_size(), 0);
  EXPECT_EQ(Notifications(), 0u);
}

class ResolveLogBeforeEffectTest
    : public LookupResponderTest,
      public ::testing::WithParamInterface<absl::StatusCode> {};

TEST_P(ResolveLogBeforeEffectTest, NoNotificationWithoutTheExchangesEntry) {
  AddCase("PPO-1", {"@alice_one"});
  const size_t entries = sink_.entries().size();
  sink_.FailAppends(absl::Status(GetParam(), "the audit log failed"));
  auto reply = responder_.Resolve(ResolveRequest({YOf("@alice_one")}));
  EXPECT_EQ(reply.status().code(), GetParam() == absl::StatusCode::kDataLoss
                                       ? absl::StatusCode::kDataLoss
                                       : absl::StatusCode::kUnavailable);
  EXPECT_EQ(Notifications(), 0u);
  EXPECT_EQ(sink_.entries().size(), entries);
}

INSTANTIATE_TEST_SUITE_P(LogFailures, ResolveLogBeforeEffectTest,
                         ::testing::Values(absl::StatusCode::kUnavailable,
                                           absl::StatusCode::kDataLoss),
                         [](const auto& info) {
                           return absl::StatusCodeToString(info.param);
                         });

TEST_F(LookupResponderTest, ResolveWhoseCommitFailsIsVoidedAndUnanswered) {
  AddCase("PPO-1", {"@alice_one"});
  storage_.FailNextCommit(absl::UnavailableError("disk I/O error"));
  envelope::OpenedEnvelope request = ResolveRequest({YOf("@alice_one")});
  auto reply = responder_.Resolve(request);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Notifications(), 0u);
  v1::AuditEntry voided = LastEntry();
  EXPECT_EQ(voided.direction(), v1::AUDIT_DIRECTION_LOCAL);
  EXPECT_EQ(voided.rpc(), "Peer.Resolve");
  EXPECT_EQ(voided.kind(), "not_applied");
  EXPECT_EQ(voided.peer(), "RS");
  EXPECT_EQ(voided.envelope_sha256(), request.envelope_sha256);
}

// Issue 9: whether the whole index may go to this caller is asked only of
// an answer that would hold it; a refusal is RESOURCE_EXHAUSTED, logged.
TEST_F(LookupResponderTest, TheWholeIndexGoesOnlyWhereTheGateLetsIt) {
  AddCase("PPO-1", {"@alice_one"});
  int asked = 0;
  auto refuse = [&asked] {
    ++asked;
    return false;
  };
  auto whole = responder_.SyncIndex(IndexRequest(0), refuse);
  EXPECT_EQ(whole.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(whole.status().message().find("whole index"), std::string::npos)
      << whole.status();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(LastEntry().rpc(), "Peer.SyncIndex");
  EXPECT_EQ(LastEntry().outcome().status_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  // A delta is not asked about.
  auto delta = responder_.SyncIndex(IndexRequest(1), refuse);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(asked, 1);
}

TEST_F(LookupResponderTest, SyncIndexSendsTheWholeIndexOrTheDelta) {
  AddCase("PPO-1", {"@alice_one"});
  auto full = responder_.SyncIndex(IndexRequest(0));
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(full->full);
  v1::IndexManifest manifest = Body(full->manifest.manifest()).index_manifest();
  EXPECT_EQ(manifest.member(), "MK");
  EXPECT_EQ(manifest.version(), 1u);
  EXPECT_EQ(manifest.count(), 1u);
  EXPECT_TRUE(manifest.full());
  EXPECT_EQ(manifest.digest(), IndexDigest({TagOf("@alice_one")}));
  std::vector<v1::IndexPart> parts;
  ASSERT_TRUE(full->WriteChunks([&](const v1::IndexPart& p) {
    parts.push_back(p);
    return true;
  }));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].chunk().added_tags(),
            PackTags({TagOf("@alice_one")}, 0, 1));

  AddCase("PPO-2", {"@bob_two"});
  ASSERT_TRUE(book_.Close(kOffice, "PPO-1").ok());
  auto delta = responder_.SyncIndex(IndexRequest(1));
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_FALSE(delta->full);
  EXPECT_EQ(delta->added, std::vector<Tag>{TagOf("@bob_two")});
  EXPECT_EQ(delta->removed, std::vector<Tag>{TagOf("@alice_one")});
  manifest = Body(delta->manifest.manifest()).index_manifest();
  EXPECT_EQ(manifest.from_version(), 1u);
  EXPECT_EQ(manifest.version(), 3u);

  // Another epoch, or a version this index never had: the whole index.
  auto other_epoch = responder_.SyncIndex(IndexRequest(1, 2));
  ASSERT_TRUE(other_epoch.ok());
  EXPECT_TRUE(other_epoch->full);
  auto ahead = responder_.SyncIndex(IndexRequest(9));
  ASSERT_TRUE(ahead.ok());
  EXPECT_TRUE(ahead->full);
  // Compacted changes: the whole index too.
  ASSERT_TRUE(storage_.CompactIndexChanges(2).ok());
  auto compacted = responder_.SyncIndex(IndexRequest(1));
  ASSERT_TRUE(compacted.ok());
  EXPECT_TRUE(compacted->full);
}

TEST_F(LookupResponderTest, SnapshotIsComputedOncePerVersion) {
  AddCase("PPO-1", {"@alice_one"});
  auto first = responder_.Snapshot();
  auto again = responder_.Snapshot();
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->get(), again->get());
  AddCase("PPO-2", {"@bob_two"});
  auto next = responder_.Snapshot();
  ASSERT_TRUE(next.ok());
  EXPECT_NE(first->get(), next->get());
  EXPECT_EQ((*next)->version, 2u);
}

TEST_F(LookupResponderTest, AnAnswerTheLogCannotTakeIsNotGiven) {
  sink_.FailAppends(absl::DataLossError("leaf 3 does not hash"));
  auto blinded = crypto::OprfBlind("x");
  ASSERT_TRUE(blinded.ok());
  EXPECT_EQ(responder_.Evaluate(EvaluateRequest({blinded->blinded_element}))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(responder_.SyncIndex(IndexRequest(0)).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cbx::node
