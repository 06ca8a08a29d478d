#include "node/version_claims.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

constexpr int64_t kReplyAt = 1'000'000;

VersionClaims::Claim ClaimOf(uint64_t claimed_version, std::vector<Tag> tags,
                             const std::string& member = "RS") {
  VersionClaims::Claim c;
  c.member = member;
  c.oprf_epoch = 1;
  c.copy_version = claimed_version - 1;
  c.claimed_version = claimed_version;
  c.tags = std::move(tags);
  c.received_at_ms = kReplyAt;
  c.query_id = "q1";
  return c;
}

PeerIndex CopyOf(uint64_t version, std::vector<Tag> tags,
                 const std::string& member = "RS", uint32_t epoch = 1) {
  PeerIndex copy;
  copy.member = member;
  copy.oprf_epoch = epoch;
  copy.version = version;
  copy.tags = std::move(tags);  // ascending
  return copy;
}

TEST(VersionClaimsTest, TheClaimedVersionStillHoldingATagIsBroken) {
  VersionClaims claims;
  claims.Add(ClaimOf(5, {7, 9}));
  auto broken = claims.Check(CopyOf(5, {1, 9}), kReplyAt - 10, kReplyAt + 1);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].manifest_version, 5u);
  EXPECT_EQ(broken[0].claim.query_id, "q1");
  EXPECT_NE(broken[0].why.find("holds 1 of the 2 tags"), std::string::npos)
      << broken[0].why;
  EXPECT_EQ(claims.Pending("RS"), 0u);
}

TEST(VersionClaimsTest, AnOlderVersionSignedAfterTheReplyIsBroken) {
  VersionClaims claims;
  claims.Add(ClaimOf(5, {7}));
  auto broken = claims.Check(CopyOf(4, {7}), kReplyAt + 1, kReplyAt + 2);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].manifest_version, 4u);
  EXPECT_NE(broken[0].why.find("versions never go back"), std::string::npos)
      << broken[0].why;
}

// A sync begun before the reply may carry a manifest signed before the
// peer's index moved on: not evidence, the claim waits for the next one.
TEST(VersionClaimsTest, AnOlderVersionFromASyncBegunBeforeTheReplyWaits) {
  VersionClaims claims;
  claims.Add(ClaimOf(5, {7}));
  EXPECT_TRUE(claims.Check(CopyOf(4, {7}), kReplyAt, kReplyAt + 5).empty());
  EXPECT_EQ(claims.Pending("RS"), 1u);
  EXPECT_TRUE(claims.Check(CopyOf(5, {1}), kReplyAt + 6, kReplyAt + 7).empty());
  EXPECT_EQ(claims.Pending("RS"), 0u);
}

TEST(VersionClaimsTest, KeptWordOrUndecidableIsSettledWithoutAnAlarm) {
  VersionClaims claims;
  claims.Add(ClaimOf(5, {7}));
  // The claimed version without the tag: kept its word.
  EXPECT_TRUE(
      claims.Check(CopyOf(5, {1, 9}), kReplyAt + 1, kReplyAt + 2).empty());
  EXPECT_EQ(claims.Pending("RS"), 0u);
  // A later version holding the tag again: a new case may hold it.
  claims.Add(ClaimOf(5, {7}));
  EXPECT_TRUE(claims.Check(CopyOf(8, {7}), kReplyAt + 1, kReplyAt + 2).empty());
  EXPECT_EQ(claims.Pending("RS"), 0u);
  // Another OPRF epoch's tags are not comparable.
  claims.Add(ClaimOf(5, {7}));
  EXPECT_TRUE(
      claims
          .Check(CopyOf(5, {7}, "RS", /*epoch=*/2), kReplyAt + 1, kReplyAt + 2)
          .empty());
  EXPECT_EQ(claims.Pending("RS"), 0u);
}

TEST(VersionClaimsTest, OnlyTheCopysMemberIsChecked) {
  VersionClaims claims;
  claims.Add(ClaimOf(5, {7}, "RS"));
  claims.Add(ClaimOf(5, {7}, "AL"));
  EXPECT_EQ(
      claims.Check(CopyOf(5, {7}, "AL"), kReplyAt + 1, kReplyAt + 2).size(),
      1u);
  EXPECT_EQ(claims.Pending("RS"), 1u);
  EXPECT_EQ(claims.Pending("AL"), 0u);
}

TEST(VersionClaimsTest, ClaimsAreBoundedPerPeerAndExpire) {
  VersionClaims claims;
  for (size_t i = 0; i < VersionClaims::kMaxPerPeer + 10; ++i) {
    claims.Add(ClaimOf(5, {7}));
  }
  EXPECT_EQ(claims.Pending("RS"), VersionClaims::kMaxPerPeer);
  // A day later, unsettled claims are dropped, not judged.
  EXPECT_TRUE(claims
                  .Check(CopyOf(4, {7}), kReplyAt + 1,
                         kReplyAt + VersionClaims::kMaxAgeMs + 1)
                  .empty());
  EXPECT_EQ(claims.Pending("RS"), 0u);
}

}  // namespace
}  // namespace cbx::node
