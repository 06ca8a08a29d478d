#include "node/tag_index.h"

#include <algorithm>
#include <random>
#include <set>

#include "core/crypto/sha256.h"
#include "gtest/gtest.h"

namespace cbx::node {
namespace {

TEST(TagIndexTest, PackUnpackRoundTrip) {
  std::vector<Tag> tags = {0, 1, 0x0102030405060708ULL, ~0ULL};
  Bytes packed = PackTags(tags, 0, tags.size());
  EXPECT_EQ(packed.size(), 32u);
  EXPECT_EQ(HexEncode(packed.substr(16, 8)), "0102030405060708");
  auto back = UnpackTags(packed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, tags);
  EXPECT_EQ(UnpackTags("1234567").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TagIndexTest, DigestIsSha256OfPackedSortedTags) {
  std::vector<Tag> tags;
  for (Tag t = 0; t < 70000; ++t) tags.push_back(t * 7919);  // > one block
  EXPECT_EQ(IndexDigest(tags), crypto::Sha256(PackTags(tags, 0, tags.size())));
  EXPECT_EQ(IndexDigest({}), crypto::Sha256(""));
}

TEST(TagIndexTest, DeltaMergesIntoTheHeldCopy) {
  // Removed before added: a tag both removed and added is held after.
  EXPECT_EQ(ApplyTagDelta({2, 4, 6, 8}, {9, 1, 5, 5, 4}, {6, 4, 3}),
            (std::vector<Tag>{1, 2, 4, 5, 8, 9}));
  EXPECT_EQ(ApplyTagDelta({}, {3, 1}, {1}), (std::vector<Tag>{1, 3}));
  EXPECT_EQ(ApplyTagDelta({1, 2}, {}, {1, 2}), std::vector<Tag>{});
  EXPECT_EQ(ApplyTagDelta({1, 2}, {}, {}), (std::vector<Tag>{1, 2}));
  EXPECT_EQ(ApplyTagDelta({0, ~0ULL}, {~0ULL, 0}, {}),
            (std::vector<Tag>{0, ~0ULL}));

  // Against sets, on random deltas with collisions.
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::set<Tag> held_set;
    for (int i = 0; i < 300; ++i) held_set.insert(rng() % 1000);
    std::vector<Tag> added, removed;
    for (int i = 0; i < 40; ++i) added.push_back(rng() % 1000);
    for (int i = 0; i < 40; ++i) removed.push_back(rng() % 1000);
    std::set<Tag> expected = held_set;
    for (Tag t : removed) expected.erase(t);
    expected.insert(added.begin(), added.end());
    const std::vector<Tag> held(held_set.begin(), held_set.end());
    EXPECT_EQ(ApplyTagDelta(held, added, removed),
              std::vector<Tag>(expected.begin(), expected.end()));
  }
}

TEST(PeerIndexSetTest, PutContainsDescribe) {
  PeerIndexSet set;
  EXPECT_FALSE(set.Contains("RS", 5));
  EXPECT_FALSE(set.Describe("RS").held);
  PeerIndex index;
  index.member = "RS";
  index.oprf_epoch = 3;
  index.version = 9;
  index.tags = {2, 5, 11};
  index.synced_at_ms = 1234;
  set.Put(index);
  EXPECT_TRUE(set.Contains("RS", 5));
  EXPECT_FALSE(set.Contains("RS", 6));
  EXPECT_FALSE(set.Contains("BA", 5));
  PeerIndexSet::Info info = set.Describe("RS");
  EXPECT_TRUE(info.held);
  EXPECT_EQ(info.oprf_epoch, 3u);
  EXPECT_EQ(info.version, 9u);
  EXPECT_EQ(info.count, 3u);
  EXPECT_EQ(info.synced_at_ms, 1234);
  index.tags = {6};
  set.Put(index);
  EXPECT_FALSE(set.Contains("RS", 5));
  EXPECT_TRUE(set.Contains("RS", 6));
  EXPECT_EQ(set.Get("RS").tags, std::vector<Tag>{6});
}

}  // namespace
}  // namespace cbx::node
