#include "core/merkle/in_memory_tree.h"

#include <string>

#include "absl/status/status.h"
#include "core/merkle/compact_range.h"
#include "core/merkle/hash.h"
#include "core/merkle/proof_builder.h"
#include "core/merkle/verify.h"
#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::merkle {
namespace {

using ::absl::StatusCode;
using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

TEST(InMemoryTreeTest, StoresEveryPerfectSubtreeOfReferenceTree) {
  const auto v = LoadJson(std::string(CBX_VECTORS_DIR) +
                          "/merkle/rfc6962_reference_tree.json");
  InMemoryTree tree;
  for (const auto& leaf : v["leaf_inputs_hex"]) tree.AppendLeaf(Unhex(leaf));
  EXPECT_EQ(tree.size(), 8u);
  const auto& levels = v["node_hashes_hex_by_level"];
  for (uint64_t level = 0; level < levels.size(); ++level) {
    for (uint64_t i = 0; i < levels[level].size(); ++i) {
      auto h = tree.SubtreeHash(level, i);
      ASSERT_TRUE(h.ok());
      EXPECT_EQ(HexEncode(*h), levels[level][i]);
    }
    EXPECT_EQ(tree.SubtreeHash(level, levels[level].size()).status().code(),
              StatusCode::kOutOfRange);
  }
  EXPECT_EQ(tree.SubtreeHash(4, 0).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(tree.SubtreeHash(64, 0).status().code(), StatusCode::kOutOfRange);
}

TEST(InMemoryTreeTest, IncompleteSubtreesAreOutOfRange) {
  InMemoryTree tree;
  for (int i = 0; i < 3; ++i) tree.AppendLeaf("x");
  EXPECT_TRUE(tree.SubtreeHash(1, 0).ok());
  EXPECT_EQ(tree.SubtreeHash(1, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(tree.SubtreeHash(2, 0).status().code(), StatusCode::kOutOfRange);
}

TEST(InMemoryTreeTest, RejectsBadLeafHash) {
  InMemoryTree tree;
  EXPECT_EQ(tree.AppendLeafHash("short").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.size(), 0u);
}

TEST(InMemoryTreeTest, CrossesStorageChunks) {
  // More than one 32768-hash chunk at level 0.
  InMemoryTree tree;
  CompactRange range;
  const uint64_t n = 70001;
  for (uint64_t i = 0; i < n; ++i) {
    const Bytes h = LeafHash(std::to_string(i));
    ASSERT_TRUE(tree.AppendLeafHash(h).ok());
    ASSERT_TRUE(range.Append(h).ok());
  }
  const Bytes root = RootHash(tree, n).value();
  EXPECT_EQ(root, range.Root());
  for (uint64_t index : {uint64_t{0}, uint64_t{32767}, uint64_t{32768},
                         uint64_t{65536}, n - 1}) {
    auto proof = InclusionProof(tree, index, n);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(
        VerifyInclusion(index, n, LeafHash(std::to_string(index)), *proof, root)
            .ok())
        << index;
  }
}

}  // namespace
}  // namespace cbx::merkle
