// spec/vectors/audit-export-mk.json and audit-export-rs.json: two exports of
// the test federation (spec/vectors/directory.json) that an independent
// auditor tool can check itself against (spec/audit-log.md §9.8). This test
// rebuilds both from their definition below and requires the files to be
// byte for byte what it builds; then it verifies them and reconciles them
// with the results the spec states.
//
// To regenerate after a deliberate change:
//   CBX_AUDIT_WRITE_VECTORS=1 cbx_audit_client_test
//   --gtest_filter='AuditVectors*'
#include <cstdlib>
#include <string>
#include <vector>

#include "client/audit/export.h"
#include "client/audit/reconcile.h"
#include "client/audit/test_log.h"
#include "client/audit_files.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
using testing::TestCosigner;
using testing::TestLog;

constexpr int64_t kT0 = testing::kTestNowMs;  // 2026-01-01T00:00:00Z
constexpr int64_t kMinute = 60000;
// Cosignatures at 2026-01-01T01:05:00Z.
constexpr uint64_t kCosignedAt = kT0 / 1000 + 3900;

v1::AuditEntry Entry(v1::AuditDirection direction, const std::string& peer,
                     const std::string& rpc, const std::string& kind,
                     const std::string& envelope, int64_t time_ms,
                     int32_t status = 0, const std::string& office = "") {
  v1::AuditEntry e =
      testing::MakeEntry(direction, peer, envelope, time_ms, status);
  e.set_rpc(rpc);
  e.set_kind(kind);
  e.set_office(office);
  return e;
}

constexpr auto kSent = v1::AUDIT_DIRECTION_SENT;
constexpr auto kReceived = v1::AUDIT_DIRECTION_RECEIVED;
constexpr auto kLocal = v1::AUDIT_DIRECTION_LOCAL;

std::vector<v1::SignedDirectory> Chain() {
  return {fed::SignedGenesis(), fed::SignedV2(), fed::SignedV3()};
}

// MK's log, signed with MK's rotated node key (MK/node/2, listed from v2).
AuditExport MkExport() {
  TestLog mk("MK", "MK/node/2");
  const std::string ppo = "MK/PPO-Skopje";
  mk.Append(Entry(kLocal, "", "Office.Query", "query", "", kT0, 0, ppo));
  mk.Append(Entry(kSent, "RS", "Peer.Evaluate", "evaluate_request",
                  "MK->RS evaluate 1", kT0 + 10 * kMinute, 0, ppo));
  mk.Append(Entry(kReceived, "RS", "Peer.Evaluate", "evaluate_response",
                  "RS->MK evaluate reply 1", kT0 + 10 * kMinute + 400));
  mk.Append(Entry(kSent, "AL", "Peer.Evaluate", "evaluate_request",
                  "MK->AL evaluate 1", kT0 + 12 * kMinute, 0, ppo));
  mk.Append(Entry(kSent, "RS", "Peer.Resolve", "resolve_request",
                  "MK->RS resolve 1", kT0 + 20 * kMinute, 0, ppo));
  mk.Append(Entry(kSent, "RS", "Peer.Evaluate", "evaluate_request",
                  "MK->RS evaluate 2", kT0 + 30 * kMinute, 0, ppo));
  mk.Append(Entry(kSent, "RS", "Peer.Evaluate", "evaluate_request",
                  "MK->RS evaluate 3", kT0 + 40 * kMinute, 0, ppo));
  mk.Append(Entry(kLocal, "RS", "Peer.Evaluate", "call_failed",
                  "MK->RS evaluate 3", kT0 + 40 * kMinute + 2000,
                  /*UNAVAILABLE*/ 14, ppo));
  mk.Append(Entry(kReceived, "RS", "Peer.Evaluate", "evaluate_request",
                  "RS->MK evaluate 1", kT0 + 50 * kMinute));
  mk.Append(Entry(kSent, "RS", "Peer.Evaluate", "evaluate_response",
                  "MK->RS evaluate reply 1", kT0 + 50 * kMinute + 300));
  mk.Append(Entry(kLocal, "", "Office.ListHits", "list_hits", "",
                  kT0 + 60 * kMinute, 0, ppo));
  const std::string note = mk.Checkpoint(
      mk.size(), {TestCosigner{"cbx/RS/witness", "RS/node/1", kCosignedAt},
                  TestCosigner{"cbx/AL/witness", "AL/node/1", kCosignedAt}});
  return mk.Export(0, mk.size(), mk.size(), note, Chain());
}

// RS's log: it answered MK's evaluate 1, refused resolve 1 (PERMISSION_DENIED)
// and never logged evaluate 2.
AuditExport RsExport() {
  TestLog rs("RS", "RS/node/1");
  const std::string ppo = "RS/RJT-Beograd";
  rs.Append(Entry(kLocal, "", "Office.Query", "query", "", kT0, 0, ppo));
  rs.Append(Entry(kReceived, "MK", "Peer.Evaluate", "evaluate_request",
                  "MK->RS evaluate 1", kT0 + 10 * kMinute + 150, 0,
                  "MK/PPO-Skopje"));
  rs.Append(Entry(kSent, "MK", "Peer.Evaluate", "evaluate_response",
                  "RS->MK evaluate reply 1", kT0 + 10 * kMinute + 200));
  rs.Append(Entry(kReceived, "MK", "Peer.Resolve", "resolve_request",
                  "MK->RS resolve 1", kT0 + 20 * kMinute + 100,
                  /*PERMISSION_DENIED*/ 7, "MK/PPO-Skopje"));
  rs.Append(Entry(kSent, "MK", "Peer.Evaluate", "evaluate_request",
                  "RS->MK evaluate 1", kT0 + 50 * kMinute - 500, 0, ppo));
  rs.Append(Entry(kReceived, "MK", "Peer.Evaluate", "evaluate_response",
                  "MK->RS evaluate reply 1", kT0 + 50 * kMinute + 600));
  rs.Append(Entry(kLocal, "", "Office.ListHits", "list_hits", "",
                  kT0 + 60 * kMinute, 0, ppo));
  const std::string note = rs.Checkpoint(
      rs.size(), {TestCosigner{"cbx/MK/witness", "MK/node/2", kCosignedAt},
                  TestCosigner{"cbx/AL/witness", "AL/node/1", kCosignedAt}});
  return rs.Export(0, rs.size(), rs.size(), note, Chain());
}

std::string VectorPath(const std::string& name) {
  return std::string(CBX_SPEC_VECTORS_DIR) + "/" + name;
}

void CheckOrWrite(const std::string& name, const std::string& built) {
  const std::string path = VectorPath(name);
  if (std::getenv("CBX_AUDIT_WRITE_VECTORS") != nullptr) {
    ASSERT_TRUE(WriteFileAtomically(path, built).ok()) << path;
  }
  auto stored = ReadWholeFile(path, 1 << 20);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, built)
      << path << " is not what this code builds; regenerate it with "
      << "CBX_AUDIT_WRITE_VECTORS=1 if the change is deliberate";
}

VerifiedExport VerifyVector(const std::string& name) {
  auto text = ReadWholeFile(VectorPath(name), 1 << 20);
  EXPECT_TRUE(text.ok()) << text.status();
  auto parsed = ParseExport(*text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  // The pinned genesis is the one of spec/vectors/directory.json, which is
  // also the first directory version in the file.
  auto v = VerifyExport(fed::SignedGenesis(), *std::move(parsed), {});
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

TEST(AuditVectorsTest, FilesAreWhatTheReferenceBuilds) {
  CheckOrWrite("audit-export-mk.json", FormatExport(MkExport()));
  CheckOrWrite("audit-export-rs.json", FormatExport(RsExport()));
}

TEST(AuditVectorsTest, BothVerifyAndReconcileAsTheSpecSays) {
  VerifiedExport mk = VerifyVector("audit-export-mk.json");
  VerifiedExport rs = VerifyVector("audit-export-rs.json");
  EXPECT_EQ(mk.checkpoint.checkpoint.size, 11u);
  EXPECT_EQ(rs.checkpoint.checkpoint.size, 7u);
  EXPECT_EQ(mk.directory.latest->version(), 3u);
  EXPECT_TRUE(mk.checkpoint.witnessed);
  EXPECT_TRUE(rs.checkpoint.witnessed);

  auto r = Reconcile(mk, rs);
  ASSERT_TRUE(r.ok()) << r.status();
  // v3: max_message_lifetime_s 600 + max_clock_skew_s 60.
  EXPECT_EQ(r->margin_ms, 660000);
  EXPECT_EQ(r->matched, 5u);
  EXPECT_EQ(r->matched_refused, 1u);
  ASSERT_EQ(r->orphans.size(), 1u);
  EXPECT_EQ(r->orphans[0].side, 0u);
  EXPECT_EQ(r->orphans[0].index, 5u);
  EXPECT_EQ(r->orphans[0].kind, OrphanKind::kSentNotReceived);
  ASSERT_EQ(r->undelivered.size(), 1u);
  EXPECT_EQ(r->undelivered[0].index, 6u);
  EXPECT_TRUE(r->outside.empty());

  // An auditor holding only RS's entries 3..6 (00:20 to 01:00) sees MK's
  // exchanges before 00:31 (the first entry's time plus the margin) as
  // outside that range, not as orphans.
  AuditExport part = RsExport();
  part.entries = {part.entries.begin() + 3, part.entries.end()};
  auto rs_part = VerifyExport(fed::SignedGenesis(), part, {});
  ASSERT_TRUE(rs_part.ok()) << rs_part.status();
  auto p = Reconcile(mk, *rs_part);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->matched, 3u);
  EXPECT_TRUE(p->orphans.empty());
  ASSERT_EQ(p->outside.size(), 3u);
  EXPECT_EQ(p->outside[0].index, 1u);
  EXPECT_EQ(p->outside[1].index, 2u);
  EXPECT_EQ(p->outside[1].kind, OrphanKind::kReceivedNotSent);
  EXPECT_EQ(p->outside[2].index, 5u);
  EXPECT_EQ(p->undelivered.size(), 1u);
}

}  // namespace
}  // namespace cbx::client::audit
