#include "node/hit_stats.h"

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

constexpr int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

TEST(HitStatsTest, UnknownPeerIsZeroWithoutAlarm) {
  HitStats stats;
  HitStats::PeerView v = stats.Describe("RS");
  EXPECT_EQ(v.asked, 0u);
  EXPECT_EQ(v.hits, 0u);
  EXPECT_EQ(v.phantoms, 0u);
  EXPECT_TRUE(v.alert.empty());
}

TEST(HitStatsTest, CountsAskedHitsAndPhantoms) {
  HitStats stats;
  EXPECT_FALSE(stats.RecordAsked("RS", 3, 1, kNow).has_value());
  EXPECT_FALSE(stats.RecordAsked("RS", 2, 0, kNow).has_value());
  EXPECT_EQ(stats.RecordPhantom("RS"), 1u);
  EXPECT_EQ(stats.RecordPhantom("RS"), 2u);
  HitStats::PeerView v = stats.Describe("RS");
  EXPECT_EQ(v.asked, 5u);
  EXPECT_EQ(v.hits, 1u);
  EXPECT_EQ(v.phantoms, 2u);
  EXPECT_EQ(stats.Describe("AL").phantoms, 0u);
}

TEST(HitStatsTest, NoAlarmBeforeFiftyIdentifiers) {
  HitStats stats;
  // Every identifier hits, but 49 is too few to judge.
  EXPECT_FALSE(stats.RecordAsked("RS", 49, 49, kNow).has_value());
  EXPECT_TRUE(stats.Describe("RS").alert.empty());
  // The fiftieth starts the alarm, once.
  std::optional<std::string> started = stats.RecordAsked("RS", 1, 1, kNow);
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(*started,
            "since 2026-01-01T00:00:00.000Z: hit rate 100.0% (50 hits in 50 "
            "identifiers asked) against a median of 0.0% for the other peers "
            "(alarm above 5.0%)");
  EXPECT_FALSE(stats.RecordAsked("RS", 1, 1, kNow + 1000).has_value());
  EXPECT_NE(stats.Describe("RS").alert.find("since 2026-01-01T00:00:00.000Z"),
            std::string::npos);
}

TEST(HitStatsTest, FivePercentFloorWhenTheOthersNeverHit) {
  HitStats stats;
  stats.RecordAsked("AL", 1000, 0, kNow);
  stats.RecordAsked("BA", 1000, 0, kNow);
  // 5 of 100 is exactly the floor: no alarm; 6 of 100 is above it.
  EXPECT_FALSE(stats.RecordAsked("RS", 100, 5, kNow).has_value());
  EXPECT_TRUE(stats.RecordAsked("RS", 0, 1, kNow).has_value());
}

TEST(HitStatsTest, TenTimesTheMedianOfTheOthers) {
  HitStats stats;
  // The others hit 1%, 2% and 3%: median 2%, so the bound is 20%.
  stats.RecordAsked("AL", 100, 1, kNow);
  stats.RecordAsked("BA", 100, 2, kNow);
  stats.RecordAsked("BB", 100, 3, kNow);
  EXPECT_FALSE(stats.RecordAsked("RS", 100, 20, kNow).has_value());
  std::optional<std::string> started = stats.RecordAsked("RS", 0, 1, kNow);
  ASSERT_TRUE(started.has_value());
  EXPECT_NE(started->find("hit rate 21.0%"), std::string::npos) << *started;
  EXPECT_NE(started->find("median of 2.0%"), std::string::npos) << *started;
  EXPECT_NE(started->find("alarm above 20.0%"), std::string::npos) << *started;
}

TEST(HitStatsTest, EvenNumberOfOthersUsesTheMeanOfTheMiddleTwo) {
  HitStats stats;
  stats.RecordAsked("AL", 100, 1, kNow);
  stats.RecordAsked("BA", 100, 3, kNow);
  // Median 2%: bound 20%; 25% is above it.
  std::optional<std::string> started = stats.RecordAsked("RS", 100, 25, kNow);
  ASSERT_TRUE(started.has_value());
  EXPECT_NE(started->find("median of 2.0%"), std::string::npos) << *started;
}

TEST(HitStatsTest, AlarmClearsWhenTheRateFallsBackAndCanStartAgain) {
  HitStats stats;
  ASSERT_TRUE(stats.RecordAsked("RS", 50, 10, kNow).has_value());
  // 10 hits in 300: 3.3%, under the 5% floor.
  EXPECT_FALSE(stats.RecordAsked("RS", 250, 0, kNow).has_value());
  EXPECT_TRUE(stats.Describe("RS").alert.empty());
  std::optional<std::string> again =
      stats.RecordAsked("RS", 100, 100, kNow + 5);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->find("since 2026-01-01T00:00:00.005Z"), std::string::npos);
}

}  // namespace
}  // namespace cbx::node
