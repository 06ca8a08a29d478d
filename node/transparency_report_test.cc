#include "node/transparency_report.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include "core/directory/testing/test_federation.h"
#include "core/report/report.h"
#include "core/report/report_signature.h"
#include "gtest/gtest.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::TestNode;

constexpr int64_t kJan = directory::testing::kNowMs;  // 2026-01-01T00:00Z
constexpr int64_t kFeb = 1769904000000;               // 2026-02-01T00:00Z
constexpr int64_t kDay = 86'400'000;

v1::AuditEntry Query(v1::AuditDirection d, const std::string& peer) {
  v1::AuditEntry e;
  e.set_direction(d);
  e.set_peer(peer);
  e.set_rpc("Peer.Evaluate");
  e.set_kind("evaluate_request");
  return e;
}

class TransparencyReportTest : public ::testing::Test {
 protected:
  TransparencyReportTest() : node_(FakeGenesis()), reports_(&node_.ctx()) {}

  // `n` entries appended at `time_ms` (the log takes its time from the
  // clock).
  void AppendAt(int64_t time_ms, int n, v1::AuditDirection d) {
    node_.clock().SetMs(time_ms);
    std::vector<v1::AuditEntry> batch(n, Query(d, "RS"));
    ASSERT_TRUE(node_.ctx().audit->AppendAll(std::move(batch)).ok());
  }

  TestNode node_;
  TransparencyReport reports_;
};

TEST_F(TransparencyReportTest, ReportsTheMonthSignedByTheNodeKey) {
  AppendAt(kJan - kDay, 3, v1::AUDIT_DIRECTION_SENT);        // December
  AppendAt(kJan + kDay, 6, v1::AUDIT_DIRECTION_SENT);        // January
  AppendAt(kJan + 2 * kDay, 7, v1::AUDIT_DIRECTION_RECEIVED);
  AppendAt(kFeb + kDay, 1, v1::AUDIT_DIRECTION_SENT);        // February
  node_.clock().SetMs(kFeb + 2 * kDay);
  absl::StatusOr<v1::SignedReport> signed_ = reports_.Get("2026-01");
  ASSERT_TRUE(signed_.ok()) << signed_.status();
  absl::StatusOr<v1::Report> report = report::VerifySignedReport(
      *signed_, *node_.ctx().directory->Current());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->member(), "MK");
  EXPECT_EQ(report->log_begin(), 3u);
  EXPECT_EQ(report->log_end(), 16u);
  EXPECT_EQ(report->as_of_ms(), kFeb);  // the log is past January
  EXPECT_EQ(report->min_cell(), 5u);
  EXPECT_EQ(report->signed_at_ms(), kFeb + 2 * kDay);
  std::map<std::string, std::string> shown;
  for (const auto& f : report->figures()) {
    shown[f.name() + "@" + f.peer()] = report::ShownValue(f, 5);
  }
  EXPECT_EQ(shown.at("queries_sent@"), "6");
  EXPECT_EQ(shown.at("queries_received@RS"), "7");
  // December: 3 is under the default cell of 5.
  report = report::VerifySignedReport(*reports_.Get("2025-12"),
                                       *node_.ctx().directory->Current());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->log_begin(), 0u);
  EXPECT_EQ(report->log_end(), 3u);
  EXPECT_TRUE(report->figures().size() > 0);
  for (const auto& f : report->figures()) {
    if (f.name() == "queries_sent" && f.peer().empty()) {
      EXPECT_TRUE(f.suppressed());
    }
  }
}

TEST_F(TransparencyReportTest, AMonthInProgressIsJudgedAtItsLastEntry) {
  AppendAt(kJan + kDay, 2, v1::AUDIT_DIRECTION_SENT);
  node_.clock().SetMs(kJan + 3 * kDay);
  absl::StatusOr<v1::SignedReport> s = reports_.Get("2026-01");
  ASSERT_TRUE(s.ok()) << s.status();
  v1::Report r;
  ASSERT_TRUE(r.ParseFromString(s->report()));
  EXPECT_EQ(r.as_of_ms(), kJan + kDay);
  EXPECT_EQ(r.log_end(), 2u);
}

TEST_F(TransparencyReportTest, RefusesMalformedAndFutureMonths) {
  EXPECT_EQ(reports_.Get("2026-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reports_.Get("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reports_.Get("2026-02").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The month that started now is allowed.
  EXPECT_TRUE(reports_.Get("2026-01").ok());
  // An empty log: no entries, judged at the month's start.
  v1::Report r;
  ASSERT_TRUE(r.ParseFromString(reports_.Get("2025-11")->report()));
  EXPECT_EQ(r.log_begin(), 0u);
  EXPECT_EQ(r.log_end(), 0u);
}

// The measurement the brief asks for: a log of 100,000 entries over 100
// days (1,000 a day); a month's report reads the month's entries plus
// O(log n) entries for the two binary searches, not the log.
TEST_F(TransparencyReportTest, ReadsTheMonthNotTheLog) {
  const int64_t start = kJan - 60 * kDay;  // 2025-11-02
  for (int day = 0; day < 100; ++day) {
    AppendAt(start + day * kDay, 1000, v1::AUDIT_DIRECTION_SENT);
  }
  ASSERT_EQ(node_.ctx().audit->Size(), 100'000u);
  node_.clock().SetMs(start + 101 * kDay);
  auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<v1::SignedReport> s = reports_.Get("2025-12");
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.ok()) << s.status();
  v1::Report r;
  ASSERT_TRUE(r.ParseFromString(s->report()));
  EXPECT_EQ(r.log_end() - r.log_begin(), 31'000u);
  // 31,000 entries of December, two searches of <= 17 reads, one next entry.
  EXPECT_LE(reports_.entries_read(), 31'000u + 2 * 17 + 1);
  // For comparison: reading and parsing the whole log.
  auto t2 = std::chrono::steady_clock::now();
  auto all = node_.ctx().audit->ReadEntries(0, 100'000);
  ASSERT_TRUE(all.ok());
  for (const std::string& leaf : *all) {
    v1::AuditEntry e;
    ASSERT_TRUE(e.ParseFromString(leaf));
  }
  auto t3 = std::chrono::steady_clock::now();
  using ms = std::chrono::milliseconds;
  std::printf(
      "[ measure ] report of 31,000 of 100,000 entries: %lld ms, %llu "
      "entries read; reading the whole log: %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<ms>(t1 - t0).count()),
      static_cast<unsigned long long>(reports_.entries_read()),
      static_cast<long long>(std::chrono::duration_cast<ms>(t3 - t2).count()));
}

}  // namespace
}  // namespace cbx::node
