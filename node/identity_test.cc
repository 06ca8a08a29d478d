#include "node/identity.h"

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

TEST(IdentityTest, ParsesOfficeUris) {
  auto c = ParseOfficeUri("spiffe://cbx/office/MK/PPO-Skopje/prosecutor");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->country, "MK");
  EXPECT_EQ(c->office, "PPO-Skopje");
  EXPECT_EQ(c->role, OfficeRole::kProsecutor);
  EXPECT_EQ(c->Name(), "MK/PPO-Skopje");
  auto a = ParseOfficeUri("spiffe://cbx/office/RS/Poverenik/auditor");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->role, OfficeRole::kAuditor);
  EXPECT_EQ(RoleName(a->role), "auditor");
}

TEST(IdentityTest, RejectsOtherUris) {
  for (const char* uri : {
           "spiffe://cbx/member/MK",
           "spiffe://cbx/office/MK/PPO-Skopje/judge",
           "spiffe://cbx/office/mk/PPO-Skopje/prosecutor",
           "spiffe://cbx/office/MK//prosecutor",
           "spiffe://cbx/office/MK/PPO Skopje/prosecutor",
           "spiffe://other/office/MK/PPO-Skopje/prosecutor",
           "spiffe://cbx/office/MK/PPO-Skopje/prosecutor/extra",
       }) {
    EXPECT_EQ(ParseOfficeUri(uri).status().code(),
              absl::StatusCode::kInvalidArgument)
        << uri;
  }
}

}  // namespace
}  // namespace cbx::node
