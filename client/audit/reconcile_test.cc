#include "client/audit/reconcile.h"

#include <string>
#include <vector>

#include "client/audit/test_log.h"
#include "core/crypto/sha256.h"
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

constexpr int64_t kT0 = testing::kTestNowMs;
constexpr int64_t kMinute = 60 * 1000;
constexpr auto kSent = v1::AUDIT_DIRECTION_SENT;
constexpr auto kReceived = v1::AUDIT_DIRECTION_RECEIVED;
constexpr auto kLocal = v1::AUDIT_DIRECTION_LOCAL;

VerifiedExport VerifiedOf(const TestLog& log) {
  const uint64_t n = log.size();
  std::vector<TestCosigner> witnesses;
  for (const char* m : {"MK", "RS", "AL"}) {
    if (log.member() != m) witnesses.push_back(Witness(m));
  }
  AuditExport e =
      log.Export(0, n, n, log.Checkpoint(n, witnesses), {fed::SignedGenesis()});
  ExportCheckOptions o;
  o.now_ms = kT0;
  auto v = VerifyExport(fed::SignedGenesis(), std::move(e), o);
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

// MK's and RS's logs over [kT0, kT0 + 60 min], with a margin of 6 min
// (policy: lifetime 300 s + skew 60 s).
class ReconcileTest : public ::testing::Test {
 protected:
  ReconcileTest() : mk_("MK"), rs_("RS") {
    // Both logs span the hour.
    mk_.Append(MakeEntry(kLocal, "", "", kT0));
    rs_.Append(MakeEntry(kLocal, "", "", kT0));
  }

  void Close() {
    mk_.Append(MakeEntry(kLocal, "", "", kT0 + 60 * kMinute));
    rs_.Append(MakeEntry(kLocal, "", "", kT0 + 60 * kMinute));
  }

  ReconcileReport Run(const ReconcileOptions& o = {}) {
    Close();
    auto r = Reconcile(VerifiedOf(mk_), VerifiedOf(rs_), o);
    EXPECT_TRUE(r.ok()) << r.status();
    return *std::move(r);
  }

  TestLog mk_;
  TestLog rs_;
};

TEST_F(ReconcileTest, RequestsAndRepliesBothWaysMatch) {
  // MK asks RS, RS answers (its reply is SENT by RS, RECEIVED by MK).
  mk_.Append(MakeEntry(kSent, "RS", "request 1", kT0 + 10 * kMinute));
  rs_.Append(MakeEntry(kReceived, "MK", "request 1", kT0 + 10 * kMinute + 50));
  rs_.Append(MakeEntry(kSent, "MK", "reply 1", kT0 + 10 * kMinute + 60));
  mk_.Append(MakeEntry(kReceived, "RS", "reply 1", kT0 + 10 * kMinute + 90));
  // RS asks MK.
  rs_.Append(MakeEntry(kSent, "MK", "request 2", kT0 + 20 * kMinute));
  mk_.Append(MakeEntry(kReceived, "RS", "request 2",
                       kT0 + 20 * kMinute - 2000));  // MK's clock is behind
  ReconcileReport r = Run();
  EXPECT_EQ(r.matched, 3u);
  EXPECT_EQ(r.matched_refused, 0u);
  EXPECT_TRUE(r.orphans.empty());
  EXPECT_TRUE(r.outside.empty());
  EXPECT_EQ(r.margin_ms, 360 * 1000);
  EXPECT_EQ(r.sides[0].member, "MK");
  EXPECT_EQ(r.sides[0].sent, 1u);
  EXPECT_EQ(r.sides[0].received, 2u);
  EXPECT_EQ(r.sides[0].other, 2u);  // the two LOCAL entries
  EXPECT_EQ(r.sides[1].sent, 2u);
  EXPECT_EQ(r.sides[1].received, 1u);
  EXPECT_EQ(r.sides[0].first_ms, kT0);
  EXPECT_EQ(r.sides[0].last_ms, kT0 + 60 * kMinute);
}

TEST_F(ReconcileTest, RefusedAsReceivedCountsAsMatched) {
  mk_.Append(MakeEntry(kSent, "RS", "late request", kT0 + 10 * kMinute));
  // RS refused it (PERMISSION_DENIED = 7), and logged it all the same.
  rs_.Append(MakeEntry(kReceived, "MK", "late request", kT0 + 10 * kMinute + 5,
                       /*status_code=*/7));
  ReconcileReport r = Run();
  EXPECT_EQ(r.matched, 1u);
  EXPECT_EQ(r.matched_refused, 1u);
  EXPECT_TRUE(r.orphans.empty());
}

TEST_F(ReconcileTest, OrphansOnEachSide) {
  // MK says it sent; RS has no record.
  const uint64_t sent =
      mk_.Append(MakeEntry(kSent, "RS", "hidden by RS", kT0 + 15 * kMinute));
  // RS says it received from MK; MK has no record of sending.
  const uint64_t received = rs_.Append(
      MakeEntry(kReceived, "MK", "hidden by MK", kT0 + 25 * kMinute));
  // A matched pair in between.
  mk_.Append(MakeEntry(kSent, "RS", "fine", kT0 + 30 * kMinute));
  rs_.Append(MakeEntry(kReceived, "MK", "fine", kT0 + 30 * kMinute + 10));
  ReconcileReport r = Run();
  EXPECT_EQ(r.matched, 1u);
  ASSERT_EQ(r.orphans.size(), 2u);
  EXPECT_TRUE(r.outside.empty());
  EXPECT_EQ(r.orphans[0].side, 0u);
  EXPECT_EQ(r.orphans[0].index, sent);
  EXPECT_EQ(r.orphans[0].kind, OrphanKind::kSentNotReceived);
  EXPECT_EQ(r.orphans[0].entry.envelope_sha256(),
            crypto::Sha256("hidden by RS"));
  EXPECT_EQ(r.orphans[1].side, 1u);
  EXPECT_EQ(r.orphans[1].index, received);
  EXPECT_EQ(r.orphans[1].kind, OrphanKind::kReceivedNotSent);
}

TEST_F(ReconcileTest, ACallTheSenderLoggedAsFailedIsUndelivered) {
  // MK sent it, the call failed (UNAVAILABLE = 14) and MK logged that; RS
  // never saw it.
  const uint64_t sent =
      mk_.Append(MakeEntry(kSent, "RS", "never arrived", kT0 + 10 * kMinute));
  v1::AuditEntry failed =
      MakeEntry(kLocal, "RS", "never arrived", kT0 + 10 * kMinute + 2000, 14);
  failed.set_kind("call_failed");
  mk_.Append(failed);
  // A failed call that RS did log still matches.
  mk_.Append(MakeEntry(kSent, "RS", "late", kT0 + 20 * kMinute));
  mk_.Append(MakeEntry(kLocal, "RS", "late", kT0 + 20 * kMinute, 4));
  rs_.Append(MakeEntry(kReceived, "MK", "late", kT0 + 20 * kMinute));
  // A LOCAL entry that says OK does not excuse anything.
  const uint64_t lost =
      mk_.Append(MakeEntry(kSent, "RS", "lost", kT0 + 30 * kMinute));
  mk_.Append(MakeEntry(kLocal, "RS", "lost", kT0 + 30 * kMinute, 0));
  ReconcileReport r = Run();
  EXPECT_EQ(r.matched, 1u);
  ASSERT_EQ(r.undelivered.size(), 1u);
  EXPECT_EQ(r.undelivered[0].index, sent);
  EXPECT_EQ(r.undelivered[0].kind, OrphanKind::kSentNotReceived);
  ASSERT_EQ(r.orphans.size(), 1u);
  EXPECT_EQ(r.orphans[0].index, lost);
}

TEST_F(ReconcileTest, ARepeatedEnvelopeNeedsAPartnerEachTime) {
  mk_.Append(MakeEntry(kSent, "RS", "resent", kT0 + 10 * kMinute));
  const uint64_t again =
      mk_.Append(MakeEntry(kSent, "RS", "resent", kT0 + 11 * kMinute));
  rs_.Append(MakeEntry(kReceived, "MK", "resent", kT0 + 10 * kMinute));
  ReconcileReport r = Run();
  EXPECT_EQ(r.matched, 1u);
  ASSERT_EQ(r.orphans.size(), 1u);
  EXPECT_EQ(r.orphans[0].index, again);
}

TEST_F(ReconcileTest, HashMustMatchAndPeersMustBeEachOther) {
  mk_.Append(MakeEntry(kSent, "RS", "what MK sent", kT0 + 10 * kMinute));
  rs_.Append(MakeEntry(kReceived, "MK", "what RS got", kT0 + 10 * kMinute));
  // Exchanges with a third member are not reconciled here.
  mk_.Append(MakeEntry(kSent, "AL", "to AL", kT0 + 12 * kMinute));
  rs_.Append(MakeEntry(kReceived, "AL", "from AL", kT0 + 12 * kMinute));
  // Nor calls without an envelope.
  mk_.Append(MakeEntry(kSent, "RS", "", kT0 + 13 * kMinute));
  ReconcileReport r = Run();
  EXPECT_EQ(r.matched, 0u);
  EXPECT_EQ(r.orphans.size(), 2u);
  EXPECT_EQ(r.sides[0].other, 4u);  // 2 LOCAL, to AL, no envelope
  EXPECT_EQ(r.sides[1].other, 3u);  // 2 LOCAL, from AL
}

TEST_F(ReconcileTest, OutsideTheOtherExportsRangeIsReportedApart) {
  // RS's export starts later: RS's first entry is at kT0 + 30 min.
  TestLog rs_late("RS");
  rs_late.Append(MakeEntry(kLocal, "", "", kT0 + 30 * kMinute));
  rs_late.Append(MakeEntry(kReceived, "MK", "in range", kT0 + 40 * kMinute));
  rs_late.Append(MakeEntry(kLocal, "", "", kT0 + 60 * kMinute));
  // MK sent one at +5 min (RS's part of the log is not in its export), one
  // at +33 min (within the 6 min margin of RS's first entry), one at +40
  // min (matched), one at +45 (orphan).
  mk_.Append(MakeEntry(kSent, "RS", "early", kT0 + 5 * kMinute));
  mk_.Append(MakeEntry(kSent, "RS", "near the edge", kT0 + 33 * kMinute));
  mk_.Append(MakeEntry(kSent, "RS", "in range", kT0 + 40 * kMinute));
  mk_.Append(MakeEntry(kSent, "RS", "lost", kT0 + 45 * kMinute));
  mk_.Append(MakeEntry(kLocal, "", "", kT0 + 60 * kMinute));
  auto r = Reconcile(VerifiedOf(mk_), VerifiedOf(rs_late));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->matched, 1u);
  ASSERT_EQ(r->orphans.size(), 1u);
  EXPECT_EQ(r->orphans[0].entry.envelope_sha256(), crypto::Sha256("lost"));
  ASSERT_EQ(r->outside.size(), 2u);
  EXPECT_EQ(r->outside[0].entry.envelope_sha256(), crypto::Sha256("early"));
  EXPECT_EQ(r->outside[1].entry.envelope_sha256(),
            crypto::Sha256("near the edge"));

  // With no margin, the entry near the edge is inside.
  ReconcileOptions no_margin;
  no_margin.margin_ms = 0;
  auto strict = Reconcile(VerifiedOf(mk_), VerifiedOf(rs_late), no_margin);
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->orphans.size(), 2u);
  EXPECT_EQ(strict->outside.size(), 1u);
}

TEST_F(ReconcileTest, AnEmptyExportCoversNothing) {
  mk_.Append(MakeEntry(kSent, "RS", "x", kT0 + 10 * kMinute));
  Close();
  TestLog rs("RS");
  rs.Append(MakeEntry(kLocal, "", "", kT0));
  AuditExport e =
      rs.Export(1, 1, 1, rs.Checkpoint(1, {Witness("MK"), Witness("AL")}), {});
  auto empty = VerifyExport(fed::SignedGenesis(), e, {});
  ASSERT_TRUE(empty.ok()) << empty.status();
  auto r = Reconcile(VerifiedOf(mk_), *empty);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->orphans.empty());
  EXPECT_EQ(r->outside.size(), 1u);
  EXPECT_FALSE(r->sides[1].has_entries);
}

TEST_F(ReconcileTest, SameMemberTwiceIsRefused) {
  Close();
  auto r = Reconcile(VerifiedOf(mk_), VerifiedOf(mk_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()),
            "both exports are of MK's log: reconcile the exports of two "
            "different members");
}

TEST_F(ReconcileTest, DefaultMarginComesFromTheLaterDirectory) {
  Close();
  EXPECT_EQ(DefaultMarginMs(VerifiedOf(mk_), VerifiedOf(rs_)), 360000);
}

}  // namespace
}  // namespace cbx::client::audit
