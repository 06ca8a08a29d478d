// PeerService in process, as MK answering RS: admission (the envelope
// checks, the stateless request checks, the replay cache and quota) and
// the responder together, for a caller already identified (the gRPC
// methods add only CallerMember and the reading of the body). TestNode's
// context: MemoryStorage, a FakeClock and a real audit log.
#include "node/peer_service.h"

#include <functional>
#include <string>
#include <vector>

#include "core/crypto/voprf.h"
#include "core/directory/policy.h"
#include "core/envelope/envelope.h"
#include "core/logcheck/log_keys.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "gtest/gtest.h"
#include "node/checkpoints.h"
#include "node/storage/storage_test_util.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakeNodeKey;
using ::cbx::node::testing::TestNode;

class PeerServiceTest : public ::testing::Test {
 protected:
  PeerServiceTest()
      : node_(FakeGenesis()),
        checkpoints_(&node_.ctx()),
        service_(&node_.ctx(), &checkpoints_) {}

  // An envelope from RS to MK carrying `fill`'s request.
  v1::Envelope FromRs(const std::function<void(v1::Message&)>& fill) {
    v1::Message m;
    *m.mutable_header() =
        envelope::MakeHeader("RS", {"MK"}, node_.clock(), 60'000);
    m.mutable_header()->set_office("RS/PPO-Belgrade");
    fill(m);
    return envelope::Seal(m, FakeNodeKey("RS"));
  }
  static void SetPurpose(v1::Purpose* p) {
    p->set_case_number("RS-2026-7");
    p->set_legal_basis("MLA Convention 1959, Art. 1");
    p->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  }
  // An evaluate request of `n` copies of one valid blinded element.
  v1::Envelope Evaluate(int n, bool with_purpose = true) {
    return FromRs([&](v1::Message& m) {
      v1::EvaluateRequest* r = m.mutable_evaluate_request();
      r->set_oprf_epoch(1);
      const Bytes element = crypto::OprfBlind("cbx input")->blinded_element;
      for (int i = 0; i < n; ++i) r->add_blinded_elements(element);
      if (with_purpose) SetPurpose(r->mutable_purpose());
    });
  }
  int64_t Day() { return node_.clock().NowMs() / 86'400'000; }
  // Evaluations charged to RS today.
  uint32_t UsedQuota() {
    auto used = node_.ctx().storage->ChargeQuota("RS", Day(), 0, Limit());
    EXPECT_TRUE(used.ok()) << used.status();
    return used.ok() ? *used : 0;
  }
  uint32_t Limit() {
    return node_.ctx()
        .directory->Current()
        ->policy()
        .evaluations_per_peer_per_day();
  }
  v1::AuditEntry LastReceived(const std::string& rpc) {
    auto entries = node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, rpc);
    return entries.empty() ? v1::AuditEntry() : entries.back();
  }

  TestNode node_;
  Checkpoints checkpoints_;
  PeerService service_;
};

TEST_F(PeerServiceTest, AnswersAnEvaluateAndChargesItsElements) {
  const v1::Envelope request = Evaluate(3);
  auto reply = service_.EvaluateAs(std::string("RS"), &request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(UsedQuota(), 3u);
}

// Issue 11 point 2: a refused batch spent quota (the charge came with the
// replay record, before the responder's checks), so a 20,000-element
// batch was answered RESOURCE_EXHAUSTED once the day's quota was low. The
// stateless checks now come first: INVALID_ARGUMENT, nothing charged.
TEST_F(PeerServiceTest, AnOversizedBatchIsRefusedBeforeTheQuota) {
  ASSERT_TRUE(node_.ctx()
                  .storage->ChargeQuota("RS", Day(), Limit() - 10, Limit())
                  .ok());
  const v1::Envelope big = Evaluate(20'000);
  auto refused = service_.EvaluateAs(std::string("RS"), &big);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
      << refused.status();
  EXPECT_EQ(UsedQuota(), Limit() - 10);
  EXPECT_EQ(LastReceived("Peer.Evaluate").outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST_F(PeerServiceTest, ABatchRefusedForAnyStatelessCheckSpendsNoQuota) {
  const v1::Envelope bad_point = FromRs([&](v1::Message& m) {
    v1::EvaluateRequest* r = m.mutable_evaluate_request();
    r->set_oprf_epoch(1);
    // x = 2^256 - 1 is past the field: no point.
    r->add_blinded_elements(Bytes(1, '\x02') + Bytes(32, '\xff'));
    SetPurpose(r->mutable_purpose());
  });
  auto refused = service_.EvaluateAs(std::string("RS"), &bad_point);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  const v1::Envelope other_epoch = FromRs([&](v1::Message& m) {
    v1::EvaluateRequest* r = m.mutable_evaluate_request();
    r->set_oprf_epoch(7);
    r->add_blinded_elements(crypto::OprfBlind("x")->blinded_element);
    SetPurpose(r->mutable_purpose());
  });
  EXPECT_EQ(
      service_.EvaluateAs(std::string("RS"), &other_epoch).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UsedQuota(), 0u);
  // A valid batch over the remaining quota is still RESOURCE_EXHAUSTED.
  ASSERT_TRUE(
      node_.ctx().storage->ChargeQuota("RS", Day(), Limit() - 1, Limit()).ok());
  const v1::Envelope two = Evaluate(2);
  EXPECT_EQ(service_.EvaluateAs(std::string("RS"), &two).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// Issue 11 point 8: an Evaluate without a purpose was answered.
TEST_F(PeerServiceTest, AnEvaluateWithoutAPurposeIsRefused) {
  const v1::Envelope bare = Evaluate(1, /*with_purpose=*/false);
  auto refused = service_.EvaluateAs(std::string("RS"), &bare);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "purpose.case_number is required");
  EXPECT_EQ(UsedQuota(), 0u);
  const v1::Envelope no_offence = FromRs([&](v1::Message& m) {
    v1::EvaluateRequest* r = m.mutable_evaluate_request();
    r->set_oprf_epoch(1);
    r->add_blinded_elements(crypto::OprfBlind("x")->blinded_element);
    SetPurpose(r->mutable_purpose());
    r->mutable_purpose()->set_offence(v1::OFFENCE_CODE_UNSPECIFIED);
  });
  refused = service_.EvaluateAs(std::string("RS"), &no_offence);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("purpose.offence"),
            std::string::npos);
}

TEST_F(PeerServiceTest, AResolveWithoutALegalBasisIsRefused) {
  const v1::Envelope resolve = FromRs([&](v1::Message& m) {
    v1::ResolveRequest* r = m.mutable_resolve_request();
    r->set_oprf_epoch(1);
    r->add_outputs(Bytes(32, 'y'));
    SetPurpose(r->mutable_purpose());
    r->mutable_purpose()->clear_legal_basis();
  });
  auto refused = service_.ResolveAs(std::string("RS"), &resolve);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "purpose.legal_basis is required");
}

// Issue 11 point 4: a body that is not an Envelope was answered INTERNAL
// with no message by gRPC's deserializer, and not logged.
TEST_F(PeerServiceTest, ABodyThatIsNotAnEnvelopeIsRefusedAndLogged) {
  auto refused = service_.EvaluateAs(std::string("RS"), nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "request is not a cbx Envelope");
  v1::AuditEntry e = LastReceived("Peer.Evaluate");
  EXPECT_EQ(e.peer(), "RS");
  EXPECT_EQ(e.kind(), "not_an_envelope");
  EXPECT_EQ(e.outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  // The caller is identified first: an unknown certificate is
  // UNAUTHENTICATED, logged with an empty peer.
  auto unknown = service_.ResolveAs(
      absl::UnauthenticatedError("no client certificate"), nullptr);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  e = LastReceived("Peer.Resolve");
  EXPECT_EQ(e.peer(), "");
  EXPECT_EQ(e.outcome().status_code(),
            static_cast<int>(absl::StatusCode::kUnauthenticated));
}

// Issue 9: a member holding a valid certificate sent refused calls as
// fast as it could, and each was a warn line and a durable audit entry.
// Beyond its budget a caller's refusals are counted; once the window has
// ended one entry gives the count. Every call is still refused, and
// another caller's budget is its own.
TEST_F(PeerServiceTest, RefusalsBeyondTheBudgetAreCountedInOneEntry) {
  const size_t before =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate").size();
  const int beyond = 150;
  for (uint32_t i = 0; i < RefusalBudget::kPerWindow + beyond; ++i) {
    auto refused = service_.EvaluateAs(std::string("RS"), nullptr);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto unknown = service_.EvaluateAs(
      absl::UnauthenticatedError("no client certificate"), nullptr);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  std::vector<v1::AuditEntry> entries =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate");
  ASSERT_EQ(entries.size() - before, RefusalBudget::kPerWindow + 1);
  EXPECT_EQ(entries.back().peer(), "");

  service_.FlushSummaries();  // the window has not ended
  EXPECT_EQ(
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate").size(),
      entries.size());
  node_.clock().AdvanceMs(RefusalBudget::kWindowMs);
  service_.FlushSummaries();
  entries = node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate");
  ASSERT_EQ(entries.size() - before, RefusalBudget::kPerWindow + 2);
  const v1::AuditEntry& summary = entries.back();
  EXPECT_EQ(summary.peer(), "RS");
  EXPECT_EQ(summary.kind(), "summarized_calls");
  EXPECT_EQ(summary.outcome().calls(), static_cast<uint64_t>(beyond));
  EXPECT_EQ(summary.outcome().status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(summary.envelope_sha256().empty());
  // Handed over once; the next window writes one by one again.
  service_.FlushSummaries();
  auto again = service_.EvaluateAs(std::string("RS"), nullptr);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInvalidArgument);
  entries = node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.Evaluate");
  ASSERT_EQ(entries.size() - before, RefusalBudget::kPerWindow + 3);
  EXPECT_EQ(entries.back().kind(), "not_an_envelope");
}

// Issue 9: calls that are answered and change nothing (GetCheckpoint,
// GetDirectory) have no quota and were each an audit entry. Beyond
// kReadsPerWindow a minute they are answered and counted; the window's
// count is one entry, as for refusals.
TEST_F(PeerServiceTest, ReadsBeyondTheirBudgetAreCountedInOneEntry) {
  const size_t before =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.GetCheckpoint")
          .size();
  // A first entry and checkpoint to serve.
  EXPECT_FALSE(service_.EvaluateAs(std::string("RS"), nullptr).ok());
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/true).ok());
  const int beyond = 30;
  for (uint32_t i = 0; i < RefusalBudget::kReadsPerWindow + beyond; ++i) {
    v1::GetCheckpointRequest request;
    v1::GetCheckpointResponse response;
    absl::Status served =
        service_.GetCheckpointAs(std::string("RS"), request, &response);
    ASSERT_TRUE(served.ok()) << served;
    ASSERT_FALSE(response.checkpoint().empty()) << i;
  }
  std::vector<v1::AuditEntry> entries =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.GetCheckpoint");
  ASSERT_EQ(entries.size() - before, RefusalBudget::kReadsPerWindow);
  // A refusal has its own budget: still written one by one.
  auto unknown = service_.GetCheckpointAs(
      absl::UnauthenticatedError("no client certificate"),
      v1::GetCheckpointRequest(), nullptr);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kUnauthenticated);
  entries =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.GetCheckpoint");
  ASSERT_EQ(entries.size() - before, RefusalBudget::kReadsPerWindow + 1);

  node_.clock().AdvanceMs(RefusalBudget::kWindowMs);
  service_.FlushSummaries();
  entries =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.GetCheckpoint");
  ASSERT_EQ(entries.size() - before, RefusalBudget::kReadsPerWindow + 2);
  EXPECT_EQ(entries.back().kind(), "summarized_calls");
  EXPECT_EQ(entries.back().peer(), "RS");
  EXPECT_EQ(entries.back().outcome().status_code(), 0);
  EXPECT_EQ(entries.back().outcome().calls(), static_cast<uint64_t>(beyond));
}

// Issue 9: a witness resending a cosignature the checkpoint already holds
// changes nothing; past the budget of such calls it is answered and
// counted, not logged one by one. A new cosignature is still logged.
TEST_F(PeerServiceTest, RepeatedCosignaturesCountAgainstTheReadBudget) {
  EXPECT_FALSE(service_.EvaluateAs(std::string("RS"), nullptr).ok());
  ASSERT_TRUE(checkpoints_.MaybeCheckpoint(/*force=*/true).ok());
  auto best = checkpoints_.BestCheckpoint();
  ASSERT_TRUE(best.ok()) << best.status();
  auto n = note::ParseNote(*best);
  ASSERT_TRUE(n.ok());
  auto cosigner =
      note::Cosigner::Create(logcheck::WitnessName("RS"), FakeNodeKey("RS"));
  n->signatures.push_back(
      *cosigner->Cosign(n->text, node_.clock().NowMs() / 1000));
  v1::AddCosignatureRequest request;
  request.set_cosigned_checkpoint(*note::FormatNote(*n));
  const size_t before =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.AddCosignature")
          .size();
  const int beyond = 25;
  for (uint32_t i = 0; i < 1 + RefusalBudget::kReadsPerWindow + beyond; ++i) {
    v1::AddCosignatureResponse response;
    absl::Status s =
        service_.AddCosignatureAs(std::string("RS"), request, &response);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(response.cosignatures(), 1u);
  }
  // The first (which stored the line) and the budget's worth of resends.
  std::vector<v1::AuditEntry> entries =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.AddCosignature");
  ASSERT_EQ(entries.size() - before, 1 + RefusalBudget::kReadsPerWindow);
  node_.clock().AdvanceMs(RefusalBudget::kWindowMs);
  service_.FlushSummaries();
  entries =
      node_.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, "Peer.AddCosignature");
  ASSERT_EQ(entries.size() - before, 2 + RefusalBudget::kReadsPerWindow);
  EXPECT_EQ(entries.back().kind(), "summarized_calls");
  EXPECT_EQ(entries.back().outcome().calls(), static_cast<uint64_t>(beyond));
}

// Issue 9: a member asking for index syncs in bulk. The whole index goes to
// one member at most kFullIndexesPerHour times an hour, and at most
// kIndexSyncsPerWindow calls a minute are admitted at all; beyond, the
// call is refused RESOURCE_EXHAUSTED before anything is sent.
TEST_F(PeerServiceTest, IndexSyncsInBulkAreRefusedBeyondTheirBounds) {
  ASSERT_TRUE(
      node_.ctx()
          .storage
          ->AddCase(testing::MakeCase("MK-2026-1", /*open=*/true,
                                      {testing::Ident("@alice_one", 42)}))
          .ok());
  auto sync = [&] {
    v1::Envelope request = FromRs([](v1::Message& m) {
      m.mutable_index_request()->set_oprf_epoch(1);
      m.mutable_index_request()->set_since_version(0);
    });
    int parts = 0;
    absl::Status s = service_.SyncIndexAs(std::string("RS"), &request,
                                          [&parts](const v1::IndexPart&) {
                                            ++parts;
                                            return true;
                                          });
    EXPECT_EQ(s.ok(), parts > 0) << s;
    return s;
  };
  for (uint32_t i = 0; i < RefusalBudget::kFullIndexesPerHour; ++i) {
    absl::Status s = sync();
    ASSERT_TRUE(s.ok()) << i << ": " << s;
  }
  absl::Status whole = sync();
  EXPECT_EQ(whole.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(whole.message().find("whole index"), std::string::npos) << whole;
  for (uint32_t i = RefusalBudget::kFullIndexesPerHour + 1;
       i < RefusalBudget::kIndexSyncsPerWindow; ++i) {
    ASSERT_EQ(sync().code(), absl::StatusCode::kResourceExhausted) << i;
  }
  absl::Status many = sync();
  EXPECT_EQ(many.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(many.message().find("SyncIndex calls in a minute from RS"),
            std::string::npos)
      << many;
  // A minute later calls are admitted again, the whole index not yet.
  node_.clock().AdvanceMs(RefusalBudget::kWindowMs);
  whole = sync();
  EXPECT_NE(whole.message().find("whole index"), std::string::npos) << whole;
  node_.clock().AdvanceMs(RefusalBudget::kHourMs);
  EXPECT_TRUE(sync().ok());
}

// A member whose index is still empty (version 0) answers every pull with
// its whole index of no tags: nothing to send, nothing counted. Refusing it
// after 30 pulls left every such member's peers failing for the rest of
// the hour (found by the federation suite under AddressSanitizer, whose
// slower start let 30 pulls pass before the first case).
TEST_F(PeerServiceTest, AnEmptyIndexIsAnsweredWholeAtEveryPull) {
  for (uint32_t i = 0; i < 2 * RefusalBudget::kFullIndexesPerHour; ++i) {
    v1::Envelope request = FromRs([](v1::Message& m) {
      m.mutable_index_request()->set_oprf_epoch(1);
      m.mutable_index_request()->set_since_version(0);
    });
    absl::Status s = service_.SyncIndexAs(
        std::string("RS"), &request, [](const v1::IndexPart&) { return true; });
    ASSERT_TRUE(s.ok()) << i << ": " << s;
  }
}

}  // namespace
}  // namespace cbx::node
