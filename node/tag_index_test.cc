#include "node/tag_index.h"

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
