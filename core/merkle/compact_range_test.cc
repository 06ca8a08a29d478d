#include "core/merkle/compact_range.h"

#include <string>

#include "absl/status/status.h"
#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::merkle {
namespace {

using ::absl::StatusCode;
using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

TEST(CompactRangeTest, EmptyRange) {
  CompactRange range;
  EXPECT_EQ(range.size(), 0u);
  EXPECT_EQ(range.Root(), EmptyRoot());
  EXPECT_EQ(HexEncode(range.Serialize()), "010000000000000000");
}

TEST(CompactRangeTest, RootsMatchReferenceTree) {
  const auto tree = LoadJson(std::string(CBX_VECTORS_DIR) +
                             "/merkle/rfc6962_reference_tree.json");
  CompactRange range;
  for (size_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(range.Append(LeafHash(Unhex(tree["leaf_inputs_hex"][i]))).ok());
    EXPECT_EQ(HexEncode(range.Root()),
              tree["root_hashes_hex_by_tree_size"][i + 1]);
  }
}

TEST(CompactRangeTest, AppendReportsEveryCompletedSubtree) {
  CompactRange range;
  // Appending leaf 7 (0-based) to a tree of 7 closes the subtrees at levels
  // 1, 2 and 3.
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(range.Append(LeafHash("x")).ok());
  auto completed = range.Append(LeafHash("y"));
  ASSERT_TRUE(completed.ok());
  ASSERT_EQ(completed->size(), 4u);
  for (uint64_t level = 0; level < 4; ++level) {
    EXPECT_EQ((*completed)[level].level, level);
    EXPECT_EQ((*completed)[level].index, 7u >> level);
  }
  EXPECT_EQ(completed->back().hash, range.Root());
  EXPECT_EQ(range.hashes().size(), 1u);
}

TEST(CompactRangeTest, AgreesWithInMemoryTreeAndSurvivesRestartAtEverySize) {
  InMemoryTree tree;
  CompactRange range;
  for (uint64_t n = 1; n <= 300; ++n) {
    const Bytes leaf_hash = LeafHash("leaf " + std::to_string(n));
    ASSERT_TRUE(tree.AppendLeafHash(leaf_hash).ok());
    auto completed = range.Append(leaf_hash);
    ASSERT_TRUE(completed.ok());
    // What Append reports is exactly what a perfect-subtree store holds.
    for (const PerfectSubtree& s : *completed) {
      auto stored = tree.SubtreeHash(s.level, s.index);
      ASSERT_TRUE(stored.ok());
      EXPECT_EQ(*stored, s.hash) << s.level << "/" << s.index;
    }
    const Bytes root = RootHash(tree, n).value();
    ASSERT_EQ(range.Root(), root) << n;
    ASSERT_EQ(range.hashes().size(), static_cast<size_t>(std::popcount(n)));

    // Restart from the serialized state.
    auto parsed = CompactRange::Parse(range.Serialize());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->size(), n);
    EXPECT_EQ(parsed->Root(), root);
    EXPECT_EQ(*parsed, range);
    // Restart from the store.
    auto rebuilt = CompactRange::FromHashSource(tree, n);
    ASSERT_TRUE(rebuilt.ok());
    EXPECT_EQ(*rebuilt, range);
    range = *std::move(parsed);  // keep appending to the restarted copy
  }
}

TEST(CompactRangeTest, RejectsBadLeafHash) {
  CompactRange range;
  EXPECT_EQ(range.Append(Bytes(31, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(range.size(), 0u);
}

TEST(CompactRangeTest, ParseRejectsMalformedState) {
  CompactRange range;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(range.Append(LeafHash("a")).ok());
  const Bytes good = range.Serialize();
  ASSERT_EQ(good.size(), 1 + 8 + 2 * 32u);
  EXPECT_EQ(CompactRange::Parse("").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::Parse(good.substr(0, 8)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CompactRange::Parse(good.substr(0, good.size() - 1)).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::Parse(good + "x").status().code(),
            StatusCode::kInvalidArgument);
  Bytes wrong_version = good;
  wrong_version[0] = '\x02';
  EXPECT_EQ(CompactRange::Parse(wrong_version).status().code(),
            StatusCode::kInvalidArgument);
  Bytes wrong_size = good;
  wrong_size[8] = '\x07';  // popcount 3 needs 3 hashes
  EXPECT_EQ(CompactRange::Parse(wrong_size).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CompactRangeTest, FromHashSourcePassesErrorsThrough) {
  InMemoryTree tree;
  for (int i = 0; i < 5; ++i) tree.AppendLeaf("a");
  EXPECT_EQ(CompactRange::FromHashSource(tree, 6).status().code(),
            StatusCode::kOutOfRange);
  auto empty = CompactRange::FromHashSource(tree, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->Root(), EmptyRoot());
}

}  // namespace
}  // namespace cbx::merkle
