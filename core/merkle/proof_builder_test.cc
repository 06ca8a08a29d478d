#include "core/merkle/proof_builder.h"

#include <map>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/verify.h"
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

InMemoryTree ReferenceTree() {
  InMemoryTree tree;
  for (const auto& leaf : Tree()["leaf_inputs_hex"])
    tree.AppendLeaf(Unhex(leaf));
  return tree;
}

std::vector<std::string> Hex(const std::vector<Bytes>& hashes) {
  std::vector<std::string> out;
  for (const Bytes& h : hashes) out.push_back(HexEncode(h));
  return out;
}

// --- RFC 9162 section 2.1 written out literally, as an independent oracle.
uint64_t Split(uint64_t n) {  // largest power of two smaller than n
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Bytes Mth(const std::vector<Bytes>& leaf_hashes, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaf_hashes[begin];
  const uint64_t k = Split(n);
  return NodeHash(Mth(leaf_hashes, begin, begin + k),
                  Mth(leaf_hashes, begin + k, end));
}

void Path(const std::vector<Bytes>& d, uint64_t m, uint64_t begin, uint64_t end,
          std::vector<Bytes>& out) {
  const uint64_t n = end - begin;
  if (n == 1) return;
  const uint64_t k = Split(n);
  if (m < k) {
    Path(d, m, begin, begin + k, out);
    out.push_back(Mth(d, begin + k, end));
  } else {
    Path(d, m - k, begin + k, end, out);
    out.push_back(Mth(d, begin, begin + k));
  }
}

void Subproof(const std::vector<Bytes>& d, uint64_t m, uint64_t begin,
              uint64_t end, bool b, std::vector<Bytes>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!b) out.push_back(Mth(d, begin, end));
    return;
  }
  const uint64_t k = Split(n);
  if (m <= k) {
    Subproof(d, m, begin, begin + k, b, out);
    out.push_back(Mth(d, begin + k, end));
  } else {
    Subproof(d, m - k, begin + k, end, false, out);
    out.push_back(Mth(d, begin, begin + k));
  }
}
// ---

TEST(ProofBuilderTest, RootHashMatchesReferenceAtEverySize) {
  const InMemoryTree tree = ReferenceTree();
  const auto& roots = Tree()["root_hashes_hex_by_tree_size"];
  ASSERT_EQ(roots.size(), 9u);
  for (uint64_t size = 0; size <= 8; ++size) {
    auto root = RootHash(tree, size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(HexEncode(*root), roots[size]) << size;
  }
}

TEST(ProofBuilderTest, InclusionProofsMatchReferenceAndVerify) {
  const InMemoryTree tree = ReferenceTree();
  const auto& roots = Tree()["root_hashes_hex_by_tree_size"];
  const auto& leaves = Tree()["node_hashes_hex_by_level"][0];
  ASSERT_FALSE(Tree()["inclusion_proofs"].empty());
  for (const auto& v : Tree()["inclusion_proofs"]) {
    const uint64_t index = v["leaf_index"];
    const uint64_t size = v["tree_size"];
    SCOPED_TRACE(::testing::Message() << index << " in " << size);
    auto proof = InclusionProof(tree, index, size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(Hex(*proof), v["proof_hex"].get<std::vector<std::string>>());
    EXPECT_TRUE(VerifyInclusion(index, size, Unhex(leaves[index]), *proof,
                                Unhex(roots[size]))
                    .ok());
  }
}

TEST(ProofBuilderTest, ConsistencyProofsMatchReferenceAndVerify) {
  const InMemoryTree tree = ReferenceTree();
  const auto& roots = Tree()["root_hashes_hex_by_tree_size"];
  ASSERT_FALSE(Tree()["consistency_proofs"].empty());
  for (const auto& v : Tree()["consistency_proofs"]) {
    const uint64_t size1 = v["size1"];
    const uint64_t size2 = v["size2"];
    SCOPED_TRACE(::testing::Message() << size1 << " -> " << size2);
    auto proof = ConsistencyProof(tree, size1, size2);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(Hex(*proof), v["proof_hex"].get<std::vector<std::string>>());
    EXPECT_TRUE(VerifyConsistency(size1, size2, *proof, Unhex(roots[size1]),
                                  Unhex(roots[size2]))
                    .ok());
  }
}

TEST(ProofBuilderTest, ImpossibleArgumentsAreInvalid) {
  const InMemoryTree tree = ReferenceTree();
  EXPECT_EQ(InclusionProof(tree, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(tree, 8, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 0, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 6, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto same = ConsistencyProof(tree, 5, 5);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
}

TEST(ProofBuilderTest, SizesBeyondTheSourceReportTheSourceError) {
  const InMemoryTree tree = ReferenceTree();
  EXPECT_EQ(RootHash(tree, 9).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(InclusionProof(tree, 0, 9).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ConsistencyProof(tree, 3, 12).status().code(),
            absl::StatusCode::kOutOfRange);
}

// A store that serves from a map, to test error and corruption paths.
class MapSource : public HashSource {
 public:
  std::map<std::pair<uint64_t, uint64_t>, Bytes> hashes;
  mutable int reads = 0;
  absl::StatusOr<Bytes> SubtreeHash(uint64_t level,
                                    uint64_t index) const override {
    ++reads;
    auto it = hashes.find({level, index});
    if (it == hashes.end()) return absl::UnavailableError("store is down");
    return it->second;
  }
};

MapSource CopyOf(const InMemoryTree& tree) {
  MapSource source;
  for (uint64_t level = 0; level < 64; ++level) {
    for (uint64_t index = 0;; ++index) {
      auto h = tree.SubtreeHash(level, index);
      if (!h.ok()) break;
      source.hashes[{level, index}] = *h;
    }
  }
  return source;
}

TEST(ProofBuilderTest, SourceErrorsPassThroughUnchanged) {
  MapSource source = CopyOf(ReferenceTree());
  source.hashes.erase({0, 6});
  EXPECT_EQ(InclusionProof(source, 7, 8).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(RootHash(source, 7).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(ProofBuilderTest, ShortStoredHashIsDataLoss) {
  MapSource source = CopyOf(ReferenceTree());
  source.hashes[{1, 3}] = Bytes(31, 'x');
  EXPECT_EQ(InclusionProof(source, 0, 8).status().code(),
            absl::StatusCode::kOk);  // does not read (1, 3)
  EXPECT_EQ(InclusionProof(source, 5, 8).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(RootHash(source, 8).status().code(), absl::StatusCode::kOk);
}

TEST(ProofBuilderTest, ReadsAreLogarithmic) {
  InMemoryTree tree;
  for (int i = 0; i < 5000; ++i) tree.AppendLeaf(std::to_string(i));
  MapSource source = CopyOf(tree);
  source.reads = 0;
  ASSERT_TRUE(InclusionProof(source, 1234, 4999).ok());
  EXPECT_LE(source.reads, 2 * 13);
  source.reads = 0;
  ASSERT_TRUE(ConsistencyProof(source, 1235, 4999).ok());
  EXPECT_LE(source.reads, 2 * 13);
  source.reads = 0;
  ASSERT_TRUE(RootHash(source, 4999).ok());
  EXPECT_EQ(source.reads, 7);  // popcount(4999)
}

TEST(ProofBuilderTest, MatchesRfcDefinitionOnSmallTrees) {
  std::vector<Bytes> d;
  InMemoryTree tree;
  for (uint64_t n = 1; n <= 64; ++n) {
    d.push_back(LeafHash(std::to_string(n)));
    ASSERT_TRUE(tree.AppendLeafHash(d.back()).ok());
    auto root = RootHash(tree, n);
    ASSERT_TRUE(root.ok());
    ASSERT_EQ(*root, Mth(d, 0, n)) << n;
    for (uint64_t m = 0; m < n; ++m) {
      std::vector<Bytes> want;
      Path(d, m, 0, n, want);
      auto got = InclusionProof(tree, m, n);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(*got, want) << m << " in " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      std::vector<Bytes> want;
      if (m < n) Subproof(d, m, 0, n, true, want);
      auto got = ConsistencyProof(tree, m, n);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(*got, want) << m << " -> " << n;
    }
  }
}

TEST(ProofBuilderTest, EveryProofOfRandomTreesVerifies) {
  std::mt19937_64 rng(20240611);
  InMemoryTree tree;
  std::vector<Bytes> leaf_hashes;
  std::vector<Bytes> roots = {EmptyRoot()};
  const uint64_t kMax = 300;
  for (uint64_t n = 1; n <= kMax; ++n) {
    Bytes leaf(rng() % 40, '\0');
    for (char& c : leaf) c = static_cast<char>(rng());
    leaf = std::to_string(n) + ":" + leaf;  // distinct leaves
    leaf_hashes.push_back(LeafHash(leaf));
    tree.AppendLeaf(leaf);
    auto root = RootHash(tree, n);
    ASSERT_TRUE(root.ok());
    roots.push_back(*root);
  }
  for (uint64_t n = 1; n <= kMax; ++n) {
    for (uint64_t m = 0; m < n; ++m) {
      auto proof = InclusionProof(tree, m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyInclusion(m, n, leaf_hashes[m], *proof, roots[n]).ok())
          << m << " in " << n;
      // The same proof must not verify another leaf.
      if (n > 1) {
        ASSERT_EQ(
            VerifyInclusion(m, n, leaf_hashes[(m + 1) % n], *proof, roots[n])
                .code(),
            absl::StatusCode::kDataLoss);
      }
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(tree, m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(m, n, *proof, roots[m], roots[n]).ok())
          << m << " -> " << n;
    }
  }
}

}  // namespace
}  // namespace cbx::merkle
