#include "node/hit_context.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

constexpr auto kUnknown = v1::WINDOWS_OVERLAP_UNKNOWN;
constexpr auto kOverlap = v1::WINDOWS_OVERLAP_OVERLAP;
constexpr auto kDisjoint = v1::WINDOWS_OVERLAP_DISJOINT;

struct WindowCase {
  const char* name;
  int64_t qf, qt, pf, pt;
  v1::WindowsOverlap want;
};

TEST(CompareWindowsTest, ClosedIntervalsWithUnknownBounds) {
  const WindowCase cases[] = {
      {"inside", 10, 20, 12, 18, kOverlap},
      {"crossing", 10, 20, 15, 30, kOverlap},
      {"equal end and start", 10, 20, 20, 30, kOverlap},
      {"peer ends where querier starts", 20, 30, 10, 20, kOverlap},
      {"single moments, equal", 15, 15, 15, 15, kOverlap},
      {"one ms apart", 10, 20, 21, 30, kDisjoint},
      {"peer before querier", 21, 30, 10, 20, kDisjoint},
      {"querier to unknown, still after peer", 50, 0, 10, 20, kDisjoint},
      {"querier from unknown, ends before peer", 0, 5, 10, 0, kDisjoint},
      {"peer open after, querier before", 1, 5, 10, 0, kDisjoint},
      {"all unknown", 0, 0, 0, 0, kUnknown},
      {"querier unknown", 0, 0, 10, 20, kUnknown},
      {"peer unknown", 10, 20, 0, 0, kUnknown},
      {"open end, could overlap", 10, 0, 15, 30, kUnknown},
      {"open start, could overlap", 0, 20, 15, 30, kUnknown},
  };
  for (const WindowCase& c : cases) {
    EXPECT_EQ(CompareWindows(c.qf, c.qt, c.pf, c.pt), c.want) << c.name;
  }
}

TEST(HitOverlapTest, DisjointWinsThenOverlapThenUnknown) {
  v1::Hit hit;
  EXPECT_EQ(HitOverlap(hit.matches()), kUnknown);
  hit.add_matches()->set_windows_overlap(kUnknown);
  EXPECT_EQ(HitOverlap(hit.matches()), kUnknown);
  hit.add_matches()->set_windows_overlap(kOverlap);
  EXPECT_EQ(HitOverlap(hit.matches()), kOverlap);
  hit.add_matches()->set_windows_overlap(kDisjoint);
  EXPECT_EQ(HitOverlap(hit.matches()), kDisjoint);
}

v1::Hit HitMatching(uint32_t input_index, int64_t peer_from, int64_t peer_to) {
  v1::Hit hit;
  v1::MatchedIdentifier* mi = hit.mutable_reference()->add_matched();
  mi->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  mi->set_input_index(input_index);
  mi->set_observed_from_ms(peer_from);
  mi->set_observed_to_ms(peer_to);
  return hit;
}

TEST(FillHitContextTest, TheAskedValueItsNormalFormAndBothWindows) {
  google::protobuf::RepeatedPtrField<v1::Identifier> asked;
  v1::Identifier* phone = asked.Add();
  phone->set_type(v1::IDENTIFIER_TYPE_PHONE);
  phone->set_value("+389 70 123 456");
  v1::Identifier* name = asked.Add();
  name->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  name->set_value("@Smokva_Admin");
  name->set_observed_from_ms(1000);
  name->set_observed_to_ms(2000);
  v1::Hit hit = HitMatching(1, 3000, 4000);
  FillHitContext(&asked, "MK", hit);
  ASSERT_EQ(hit.matches_size(), 1);
  const v1::HitMatch& m = hit.matches(0);
  EXPECT_EQ(m.type(), v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  EXPECT_EQ(m.value(), "@Smokva_Admin");
  EXPECT_EQ(m.normalized(), "smokva_admin");
  EXPECT_EQ(m.input_index(), 1u);
  EXPECT_EQ(m.querier_from_ms(), 1000);
  EXPECT_EQ(m.querier_to_ms(), 2000);
  EXPECT_EQ(m.peer_from_ms(), 3000);
  EXPECT_EQ(m.peer_to_ms(), 4000);
  EXPECT_EQ(m.windows_overlap(), kDisjoint);
  EXPECT_EQ(hit.windows_overlap(), kDisjoint);
}

TEST(FillHitContextTest, AWatchsHitGetsTheTypeOnly) {
  v1::Hit hit = HitMatching(0, 3000, 4000);
  FillHitContext(nullptr, "MK", hit);
  ASSERT_EQ(hit.matches_size(), 1);
  EXPECT_EQ(hit.matches(0).type(), v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  EXPECT_EQ(hit.matches(0).value(), "");
  EXPECT_EQ(hit.matches(0).normalized(), "");
  EXPECT_EQ(hit.matches(0).peer_from_ms(), 3000);
  EXPECT_EQ(hit.matches(0).querier_from_ms(), 0);
  EXPECT_EQ(hit.windows_overlap(), kUnknown);
}

TEST(FillHitContextTest, AnIndexPastTheQueryGetsTheTypeOnly) {
  google::protobuf::RepeatedPtrField<v1::Identifier> asked;
  asked.Add()->set_value("x");
  v1::Hit hit = HitMatching(5, 0, 0);
  FillHitContext(&asked, "MK", hit);
  ASSERT_EQ(hit.matches_size(), 1);
  EXPECT_EQ(hit.matches(0).value(), "");
  EXPECT_EQ(hit.windows_overlap(), kUnknown);
}

}  // namespace
}  // namespace cbx::node
