#include "client/audit/report_check.h"

#include <string>
#include <vector>

#include "client/audit/report_output.h"
#include "client/audit/test_log.h"
#include "core/directory/testing/test_federation.h"
#include "core/report/report_signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
using testing::TestLog;
using testing::Witness;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kFeb = 1769904000000;  // 2026-02-01T00:00:00Z

class ReportCheckTest : public ::testing::Test {
 protected:
  ReportCheckTest() : log_("RS") {
    // Six queries to MK in January (entries 0-5), one in February (6).
    for (int i = 0; i < 7; ++i) {
      v1::AuditEntry e = testing::MakeEntry(
          v1::AUDIT_DIRECTION_SENT, "MK", "envelope " + std::to_string(i),
          i < 6 ? testing::kTestNowMs + i * 1000 : kFeb);
      e.set_rpc("Peer.Evaluate");
      e.set_kind("evaluate_request");
      log_.Append(e);
    }
  }

  VerifiedExport Exported(uint64_t begin, uint64_t end) const {
    ExportCheckOptions o;
    o.now_ms = testing::kTestNowMs;
    auto v = VerifyExport(
        fed::SignedGenesis(),
        log_.Export(begin, end, 7,
                    log_.Checkpoint(7, {Witness("MK"), Witness("AL")}),
                    {fed::SignedGenesis()}),
        o);
    EXPECT_TRUE(v.ok()) << v.status();
    return *v;
  }

  // The report the node would sign: computed by core/report over 0..6.
  v1::Report NodeReport() const {
    std::vector<v1::AuditEntry> entries;
    for (uint64_t i = 0; i < 6; ++i) {
      v1::AuditEntry e;
      e.ParseFromString(log_.leaf(i));
      entries.push_back(e);
    }
    report::ReportInput input{.member = "RS",
                              .month = *report::ParseMonth("2026-01"),
                              .min_cell = 5,
                              .log_begin = 0,
                              .log_end = 6,
                              .as_of_ms = kFeb};
    v1::Report r = report::ComputeReport(input, entries);
    r.set_signed_at_ms(testing::kTestNowMs + 7000);
    return r;
  }

  v1::SignedReport Sign(const v1::Report& r,
                        const std::string& key = "RS/node/1") const {
    crypto::Ed25519Signer signer(fed::TestKey(key));
    return *report::SignReport(r, signer);
  }

  TestLog log_;
};

TEST_F(ReportCheckTest, RecomputedReportEqualsTheSignedOne) {
  const v1::SignedReport s = Sign(NodeReport());
  absl::StatusOr<ReportCheck> c = CheckReport(Exported(0, 7), "2026-01", &s);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->differences, IsEmpty());
  EXPECT_EQ(c->recomputed.log_end(), 6u);
  // The signed report round-trips through `cbx report --json`.
  auto parsed = ParseSignedReportJson(ReportJson(*c->node, &s));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->SerializeAsString(), s.SerializeAsString());
}

TEST_F(ReportCheckTest, WithoutASignedReportTheMonthIsFoundByTime) {
  absl::StatusOr<ReportCheck> c = CheckReport(Exported(0, 7), "2026-01", nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->recomputed.log_begin(), 0u);
  EXPECT_EQ(c->recomputed.log_end(), 6u);
  EXPECT_EQ(c->recomputed.as_of_ms(), kFeb);
  EXPECT_FALSE(c->node.has_value());
}

TEST_F(ReportCheckTest, AFigureTheLogDoesNotSupportIsNamed) {
  v1::Report inflated = NodeReport();
  for (auto& f : *inflated.mutable_figures()) {
    if (f.name() == "queries_sent") f.set_value(9);
  }
  const v1::SignedReport s = Sign(inflated);
  absl::StatusOr<ReportCheck> c = CheckReport(Exported(0, 7), "2026-01", &s);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->differences,
              ElementsAre(Field(&report::FigureDifference::name, "queries_sent"),
                          Field(&report::FigureDifference::name,
                                "queries_sent")));
  EXPECT_THAT(DifferenceLines(c->differences)[0],
              HasSubstr("queries_sent: the node's report shows 9, the export "
                        "gives 6"));
}

TEST_F(ReportCheckTest, RefusesForeignSignaturesMonthsAndShortExports) {
  const v1::SignedReport forged = Sign(NodeReport(), "MK/node/1");
  EXPECT_EQ(CheckReport(Exported(0, 7), "2026-01", &forged).status().code(),
            absl::StatusCode::kUnauthenticated);
  const v1::SignedReport s = Sign(NodeReport());
  EXPECT_EQ(CheckReport(Exported(0, 7), "2026-02", &s).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckReport(Exported(2, 7), "2026-01", &s).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckReport(Exported(0, 7), "2026-1", &s).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReportCheckTest, HtmlIsSelfContained) {
  const std::string html = ReportHtml(NodeReport());
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy"));
  EXPECT_THAT(html, HasSubstr("<svg"));
  for (const char* external : {"<script", "<link", "url(", "src=", "@import",
                               "http://", "https://"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

}  // namespace
}  // namespace cbx::client::audit
