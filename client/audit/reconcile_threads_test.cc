#include "client/audit/reconcile_threads.h"

#include <string>
#include <vector>

#include "client/audit/output.h"
#include "client/audit/reconcile.h"
#include "client/audit/test_log.h"
#include "core/directory/testing/test_federation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
using testing::MakeEntry;
using testing::TestCosigner;
using testing::TestLog;
using testing::Witness;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kT0 = testing::kTestNowMs;
constexpr auto kSent = v1::AUDIT_DIRECTION_SENT;
constexpr auto kReceived = v1::AUDIT_DIRECTION_RECEIVED;

std::string Id(int n) { return std::string(15, '\0') + static_cast<char>(n); }

// An envelope entry of `kind` with ids, as cbx-node logs it.
v1::AuditEntry Env(v1::AuditDirection d, const std::string& peer,
                   const std::string& kind, int id, int reply_to, int64_t t,
                   uint32_t code = 0, int32_t status = 0) {
  v1::AuditEntry e = MakeEntry(d, peer, kind + std::to_string(id), t, status);
  e.set_rpc(kind == "withdrawal" || kind == "deletion_receipt"
                ? "Peer.Withdraw"
                : "Peer.Cooperate");
  e.set_kind(kind);
  e.set_message_id(Id(id));
  if (reply_to != 0) e.set_in_reply_to(Id(reply_to));
  e.mutable_outcome()->set_cooperation_code(code);
  if (kind == "cooperation_request") e.mutable_outcome()->set_cooperation_type(2);
  return e;
}

VerifiedExport VerifiedOf(const TestLog& log) {
  const uint64_t n = log.size();
  std::vector<TestCosigner> witnesses;
  for (const char* m : {"MK", "RS", "AL"}) {
    if (log.member() != m) witnesses.push_back(Witness(m));
  }
  ExportCheckOptions o;
  o.now_ms = kT0;
  auto v = VerifyExport(
      fed::SignedGenesis(),
      log.Export(0, n, n, log.Checkpoint(n, witnesses), {fed::SignedGenesis()}),
      o);
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

TEST(CooperationThreadsTest, RequestReceiptResponseAndItsReceipt) {
  TestLog mk("MK"), rs("RS");
  mk.Append(Env(kSent, "RS", "cooperation_request", 1, 0, kT0 + 10));
  rs.Append(Env(kReceived, "MK", "cooperation_request", 1, 0, kT0 + 20, 100));
  rs.Append(Env(kSent, "MK", "cooperation_receipt", 2, 1, kT0 + 21, 100));
  mk.Append(Env(kReceived, "RS", "cooperation_receipt", 2, 1, kT0 + 30, 100));
  rs.Append(Env(kSent, "MK", "cooperation_response", 3, 1, kT0 + 500, 100));
  mk.Append(Env(kReceived, "RS", "cooperation_response", 3, 1, kT0 + 510, 100));
  mk.Append(Env(kSent, "RS", "cooperation_receipt", 4, 3, kT0 + 511, 100));
  rs.Append(Env(kReceived, "MK", "cooperation_receipt", 4, 3, kT0 + 520, 100));
  const std::vector<CooperationThread> threads =
      CooperationThreads(VerifiedOf(mk), VerifiedOf(rs));
  ASSERT_EQ(threads.size(), 1u);
  const CooperationThread& t = threads[0];
  EXPECT_EQ(t.opener, "MK");
  EXPECT_EQ(t.answerer, "RS");
  EXPECT_EQ(t.type, 2u);
  EXPECT_EQ(t.opening.sent_ms, kT0 + 10);
  EXPECT_EQ(t.opening.received_ms, kT0 + 20);
  EXPECT_EQ(t.receipt.code, 100u);
  EXPECT_EQ(t.response.sent_ms, kT0 + 500);
  EXPECT_EQ(t.response.received_ms, kT0 + 510);
  EXPECT_TRUE(t.response_receipt.sent && t.response_receipt.received);
  EXPECT_THAT(t.problems, IsEmpty());
}

TEST(CooperationThreadsTest, GapsOnEitherSideAreNamed) {
  TestLog mk("MK"), rs("RS");
  // A request RS never logged as received.
  mk.Append(Env(kSent, "RS", "cooperation_request", 1, 0, kT0));
  // A response RS logged as sent, MK did not log as received.
  mk.Append(Env(kSent, "RS", "cooperation_request", 5, 0, kT0 + 1));
  rs.Append(Env(kReceived, "MK", "cooperation_request", 5, 0, kT0 + 2, 100));
  rs.Append(Env(kSent, "MK", "cooperation_receipt", 6, 5, kT0 + 2, 100));
  mk.Append(Env(kReceived, "RS", "cooperation_receipt", 6, 5, kT0 + 3, 100));
  rs.Append(Env(kSent, "MK", "cooperation_response", 7, 5, kT0 + 9, 100));
  // A withdrawal RS received and never answered with a deletion receipt.
  rs.Append(Env(kReceived, "MK", "withdrawal", 8, 0, kT0 + 10));
  mk.Append(Env(kSent, "RS", "withdrawal", 8, 0, kT0 + 10));
  const std::vector<CooperationThread> threads =
      CooperationThreads(VerifiedOf(mk), VerifiedOf(rs));
  ASSERT_EQ(threads.size(), 3u);
  EXPECT_THAT(threads[0].problems,
              ElementsAre("request: sent by MK, not received by RS"));
  EXPECT_THAT(threads[1].problems,
              ElementsAre("response: sent by RS, not received by MK"));
  EXPECT_EQ(threads[2].opening.kind, "withdrawal");
  EXPECT_THAT(threads[2].problems, ElementsAre("no deletion receipt logged"));
  // Reconcile carries them, and its text shows who answered what.
  auto report = Reconcile(VerifiedOf(mk), VerifiedOf(rs));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->cooperation.size(), 3u);
  const std::string text = ReconcileText(*report);
  EXPECT_THAT(text, HasSubstr("cooperation (who answered what, when)"));
  EXPECT_THAT(text, HasSubstr("GAP: response: sent by RS, not received by MK"));
  EXPECT_EQ(ReconcileJson(*report)["cooperation"].size(), 3u);
}

}  // namespace
}  // namespace cbx::client::audit
