#include "client/office_commands.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

TEST(WhoAmITest, ShowsOfficeRoleAndPerson) {
  auto text = WhoAmI(
      {"spiffe://cbx/office/MK/PPO-Skopje/prosecutor/person/p-0042"}, false);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "office  MK/PPO-Skopje\nrole    prosecutor\nperson  p-0042\n");
  auto json = WhoAmI(
      {"https://example.org", "spiffe://cbx/office/MK/PPO-Skopje/operator"},
      true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_NE(json->find(R"("office":"MK/PPO-Skopje")"), std::string::npos)
      << *json;
  EXPECT_NE(json->find(R"("role":"operator")"), std::string::npos);
  EXPECT_NE(json->find(R"("person":"")"), std::string::npos);
  auto role_only =
      WhoAmI({"spiffe://cbx/office/MK/PPO-Skopje/auditor"}, false);
  ASSERT_TRUE(role_only.ok());
  EXPECT_NE(role_only->find("person  (none"), std::string::npos);
}

TEST(WhoAmITest, RefusesACertificateOfNoOffice) {
  EXPECT_EQ(WhoAmI({"spiffe://cbx/member/MK"}, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      WhoAmI({"spiffe://cbx/office/MK/PPO-Skopje/prosecutor/staff/1"}, false)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(CountsOutputTest, TableAndJson) {
  v1::GetCountsResponse r;
  r.set_counted_at_ms(1'767'225'600'000);
  v1::OfficeCounts* c = r.add_offices();
  c->set_office("MK/PPO-Bitola");
  c->set_cases_open(3);
  c->set_hits(2);
  c->set_requests_overdue(1);
  const std::string text = CountsText(r);
  EXPECT_NE(text.find("OFFICE"), std::string::npos) << text;
  EXPECT_NE(text.find("MK/PPO-Bitola"), std::string::npos) << text;
  const std::string json = CountsJson(r);
  EXPECT_NE(json.find(R"("office":"MK/PPO-Bitola","cases_open":3)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("requests_overdue":1)"), std::string::npos);
  EXPECT_EQ(CountsText(v1::GetCountsResponse()), "no office holds anything\n");
}

}  // namespace
}  // namespace cbx::client
