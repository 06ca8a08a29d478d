// spec/vectors/report.json: the committed vector is what the code computes
// and signs, and its signature verifies against the test federation.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/directory/testing/test_federation.h"
#include "core/report/report.h"
#include "core/report/report_signature.h"
#include "core/report/testing/report_vectors.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"

namespace cbx::report {
namespace {

nlohmann::json LoadVectors() {
  std::ifstream in(std::string(CBX_SPEC_VECTORS_DIR) + "/report.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

TEST(ReportVectorsTest, CommittedFileIsUpToDate) {
  EXPECT_EQ(LoadVectors(), testing::MakeReportVectors())
      << "regenerate with cbx_gen_spec_vectors";
}

TEST(ReportVectorsTest, RecomputedFromTheEntriesAndVerified) {
  const nlohmann::json v = LoadVectors();
  std::vector<v1::AuditEntry> entries;
  for (const auto& hex : v["entries"]) {
    v1::AuditEntry e;
    ASSERT_TRUE(e.ParseFromString(*HexDecode(hex.get<std::string>())));
    entries.push_back(e);
  }
  ReportInput input{.member = v["member"],
                    .month = *ParseMonth(v["month"].get<std::string>()),
                    .min_cell = v["min_cell"],
                    .log_begin = v["log_begin"],
                    .log_end = v["log_end"],
                    .as_of_ms = v["as_of_ms"]};
  v1::Report report = ComputeReport(input, entries);
  report.set_signed_at_ms(v["signed_at_ms"]);
  EXPECT_EQ(HexEncode(report.SerializeAsString()), v["report_hex"]);
  v1::SignedReport signed_;
  signed_.set_report(*HexDecode(v["report_hex"].get<std::string>()));
  signed_.set_key_id(*HexDecode(v["key_id_hex"].get<std::string>()));
  signed_.set_signature(*HexDecode(v["signature_hex"].get<std::string>()));
  EXPECT_EQ(HexEncode(ReportSigningInput(signed_.report())),
            v["signing_input_hex"]);
  auto dir = directory::Directory::FromGenesis(
      directory::testing::SignedGenesis());
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<v1::Report> verified = VerifySignedReport(signed_, **dir);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->figures_size(), report.figures_size());
}

}  // namespace
}  // namespace cbx::report
