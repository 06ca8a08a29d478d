#include "client/hit_groups.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

using Strings = std::vector<std::string>;

v1::Hit MakeHit(const std::string& query, const std::string& member,
                const std::string& token, int64_t at_ms,
                const std::string& value) {
  v1::Hit h;
  h.set_query_id(query);
  h.set_member(member);
  h.set_case_number("MK-2026-0142");
  h.set_received_at_ms(at_ms);
  h.mutable_reference()->set_case_token(token);
  h.mutable_reference()->set_member(member);
  v1::HitMatch* m = h.add_matches();
  m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  m->set_value(value);
  m->set_normalized("smokva_admin");
  return h;
}

// Repeated queries finding one peer case give one group, with each query
// once and each identifier once (the same name typed two ways is one).
TEST(HitGroupsTest, OneGroupPerPeerCase) {
  v1::ListHitsResponse r;
  *r.add_hits() = MakeHit("q3", "RS", "tok-1", 300, "@Smokva_Admin");
  *r.add_hits() = MakeHit("q2", "AL", "tok-1", 200, "@smokva_admin");
  *r.add_hits() = MakeHit("q1", "RS", "tok-1", 100, "t.me/smokva_admin");
  v1::Hit watch = MakeHit("", "RS", "tok-1", 50, "");
  watch.set_watch_id("w-1");
  watch.mutable_matches(0)->clear_normalized();
  *r.add_hits() = watch;
  std::vector<HitGroup> groups = GroupHits(r);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].member, "RS");
  EXPECT_EQ(groups[0].latest_received_ms, 300);
  EXPECT_EQ(groups[0].query_ids, (Strings{"q3", "q1"}));
  EXPECT_EQ(groups[0].watch_ids, (Strings{"w-1"}));
  EXPECT_EQ(groups[0].case_numbers, (Strings{"MK-2026-0142"}));
  // The typed value of the newest, and the watch's value-less entry.
  ASSERT_EQ(groups[0].matches.size(), 2u);
  EXPECT_EQ(groups[0].matches[0].value(), "@Smokva_Admin");
  EXPECT_EQ(groups[0].matches[1].value(), "");
  EXPECT_EQ(groups[1].member, "AL");  // the same token of another member
  EXPECT_FALSE(groups[0].disjoint);
}

TEST(HitGroupsTest, DisjointWindowsMarkTheGroupAndOldHitsKeepTheirMatched) {
  v1::ListHitsResponse r;
  v1::Hit h = MakeHit("q1", "RS", "tok-1", 100, "@a");
  h.mutable_matches(0)->set_windows_overlap(v1::WINDOWS_OVERLAP_DISJOINT);
  h.set_windows_overlap(v1::WINDOWS_OVERLAP_DISJOINT);
  *r.add_hits() = h;
  v1::Hit old;  // stored before HitMatch existed
  old.set_query_id("q0");
  old.set_member("RS");
  old.mutable_reference()->set_case_token("tok-2");
  old.mutable_reference()->add_matched()->set_input_index(1);
  *r.add_hits() = old;
  *r.add_hits() = old;
  std::vector<HitGroup> groups = GroupHits(r);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_TRUE(groups[0].disjoint);
  EXPECT_FALSE(groups[1].disjoint);
  EXPECT_TRUE(groups[1].matches.empty());
  ASSERT_EQ(groups[1].legacy_matched.size(), 1u);
  EXPECT_EQ(groups[1].legacy_matched[0].input_index(), 1u);
}

}  // namespace
}  // namespace cbx::client
