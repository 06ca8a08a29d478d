// A bulk check against real nodes (issue 12): the `cbx` binary reads a file
// of 1,100 contacts, checks it whole and asks MK's node in two queries; RS
// holds one of them. The figures at full size come from
// bench/federation (make bench); this test shows the path is the real one.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/integration/federation_ops.h"

namespace cbx::testing {
namespace {

constexpr int kContacts = 1100;
constexpr int kHeldLine = 700;

TEST(BulkCheckTest, AFileOfContactsIsAskedInQueriesAndTheHitNamesItsLine) {
  FederationOptions options;
  options.countries = {"MK", "RS", "BA"};
  auto made = Federation::Create(options);
  ASSERT_TRUE(made.ok()) << made.status();
  Federation& fed = **made;
  ASSERT_TRUE(fed.StartAll().ok());
  ASSERT_TRUE(
      AddTelegramCase(fed, "RS", "RS-KT-2026-0117", "balkan_room_admin").ok());
  ASSERT_TRUE(AddTelegramCase(fed, "MK", "MK-2026-0142", "mk_own_lead").ok());
  ASSERT_TRUE(fed.WaitForIndex("MK", {{"RS", 1}, {"BA", 0}}).ok());

  // Line 1 a comment, then the contacts; RS's account on kHeldLine.
  const std::string file = fed.dir() + "/contacts.txt";
  {
    std::ofstream out(file);
    out << "# contacts of a seized phone (fictional)\n";
    for (int line = 2; line <= kContacts + 1; ++line) {
      if (line == kHeldLine) {
        out << "telegram_username:@Balkan_Room_Admin\n";
      } else {
        out << "phone:+38970" << 100000 + line << "\n";
      }
    }
  }
  const std::string cert = fed.OfficeCertificate("MK", "prosecutor");
  std::string out;
  const int code = RunCommand(
      absl::StrCat(CliBinary(), " --node localhost:",
                   NodeConfigField(fed, "MK", "office_listen").substr(10),
                   " --cert ", cert, " --key ", cert.substr(0, cert.size() - 4),
                   ".key --ca ", fed.NodeDir("MK"),
                   "/ca.crt --json query --ids-file ", file,
                   " --case MK-2026-0142 --legal-basis 'MLA-Convention-1959 "
                   "Art.1' --offence ncii-sharing"),
      &out);
  ASSERT_EQ(code, 0) << out;

  std::vector<nlohmann::json> events;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    events.push_back(nlohmann::json::parse(std::string(line)));
  }
  ASSERT_FALSE(events.empty()) << out;
  int summaries = 0;
  int hits = 0;
  for (const nlohmann::json& e : events) {
    if (e["event"] == "summary") {
      ++summaries;
      EXPECT_EQ(e["failed_members"], nlohmann::json::array()) << e;
    }
    if (e["event"] == "answer" && e["outcome"] == "hit") {
      ++hits;
      EXPECT_EQ(e["member"], "RS");
      EXPECT_EQ(e["query"], 1);
      EXPECT_EQ(e["references"][0]["matched"][0]["line"], kHeldLine) << e;
    }
  }
  EXPECT_EQ(summaries, 2) << out;
  EXPECT_EQ(hits, 1) << out;
  const nlohmann::json& last = events.back();
  EXPECT_EQ(last["event"], "bulk_summary");
  EXPECT_EQ(last["identifiers"], kContacts);
  EXPECT_EQ(last["completed"], 2);
  EXPECT_EQ(last["hits"], nlohmann::json({{"RS", {1}}}));
  EXPECT_EQ(last["errors"], nlohmann::json::object());

  // The hit is the node's like any query's: in ListHits for the case.
  auto office = fed.Office("MK");
  grpc::ClientContext ctx;
  v1::ListHitsRequest request;
  request.set_case_number("MK-2026-0142");
  v1::ListHitsResponse hits_listed;
  ASSERT_TRUE(office->ListHits(&ctx, request, &hits_listed).ok());
  ASSERT_EQ(hits_listed.hits_size(), 1);
  EXPECT_EQ(hits_listed.hits(0).member(), "RS");
  if (HasFailure()) fed.DumpLogs();
}

}  // namespace
}  // namespace cbx::testing
