#include "core/merkle/hash.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::merkle {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

const nlohmann::json& Tree() {
  static const nlohmann::json* const kTree = new nlohmann::json(LoadJson(
      std::string(CBX_VECTORS_DIR) + "/merkle/rfc6962_reference_tree.json"));
  return *kTree;
}

TEST(HashTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(EmptyRoot(), Unhex(Tree()["root_hashes_hex_by_tree_size"][0]));
}

TEST(HashTest, LeafHashesMatchReferenceTree) {
  const auto& leaves = Tree()["leaf_inputs_hex"];
  const auto& level0 = Tree()["node_hashes_hex_by_level"][0];
  ASSERT_EQ(leaves.size(), 8u);
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(HexEncode(LeafHash(Unhex(leaves[i]))), level0[i]) << i;
  }
}

TEST(HashTest, NodeHashesMatchReferenceTreeAtEveryLevel) {
  const auto& levels = Tree()["node_hashes_hex_by_level"];
  ASSERT_EQ(levels.size(), 4u);
  for (size_t level = 1; level < levels.size(); ++level) {
    ASSERT_EQ(levels[level].size() * 2, levels[level - 1].size());
    for (size_t i = 0; i < levels[level].size(); ++i) {
      EXPECT_EQ(HexEncode(NodeHash(Unhex(levels[level - 1][2 * i]),
                                   Unhex(levels[level - 1][2 * i + 1]))),
                levels[level][i])
          << level << "/" << i;
    }
  }
}

TEST(HashTest, DomainSeparation) {
  // A leaf whose data is "left || right" must not hash like the node.
  const Bytes left(32, 'a');
  const Bytes right(32, 'b');
  EXPECT_NE(LeafHash(left + right), NodeHash(left, right));
  EXPECT_NE(NodeHash(left, right), NodeHash(right, left));
}

TEST(HashTest, NodeHashOfOtherLengthsHashesTheConcatenation) {
  // Off the 32-byte fast path the same definition must hold.
  EXPECT_EQ(NodeHash("ab", "c"), NodeHash("a", "bc"));
  EXPECT_EQ(NodeHash(Bytes(32, 'x'), Bytes(32, 'y')),
            NodeHash(Bytes(31, 'x'), "x" + Bytes(32, 'y')));
}

}  // namespace
}  // namespace cbx::merkle
