#include "core/merkle/verify.h"

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

const nlohmann::json& Probes() {
  static const nlohmann::json* const kProbes = new nlohmann::json(
      LoadJson(std::string(CBX_VECTORS_DIR) + "/merkle/proof_probes.json"));
  return *kProbes;
}

Bytes B64(const nlohmann::json& v) {
  if (v.is_null()) return Bytes();
  auto decoded = Base64Decode(v.get<std::string>());
  EXPECT_TRUE(decoded.ok()) << v;
  return decoded.value_or(Bytes());
}

std::vector<Bytes> ProofOf(const nlohmann::json& v) {
  std::vector<Bytes> proof;
  if (v.is_null()) return proof;
  for (const auto& h : v) proof.push_back(B64(h));
  return proof;
}

// A rejected probe must be rejected for a reason the contract names.
bool IsContractFailure(const absl::Status& s) {
  return s.code() == StatusCode::kInvalidArgument ||
         s.code() == StatusCode::kDataLoss;
}

TEST(VerifyTest, AllInclusionProbes) {
  const auto& probes = Probes()["inclusion"];
  ASSERT_EQ(probes.size(), 98u);
  int failures = 0;
  for (const auto& p : probes) {
    SCOPED_TRACE(p["source_path"].get<std::string>());
    // Indices reach 2^64 - 1: read them as uint64, never through a double.
    ASSERT_TRUE(p["leafIdx"].is_number_unsigned());
    const uint64_t index = p["leafIdx"].get<uint64_t>();
    const uint64_t size = p["treeSize"].get<uint64_t>();
    const absl::Status s = VerifyInclusion(index, size, B64(p["leafHash"]),
                                           ProofOf(p["proof"]), B64(p["root"]));
    if (p["wantErr"].get<bool>()) {
      ++failures;
      EXPECT_TRUE(IsContractFailure(s)) << s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
  }
  EXPECT_EQ(failures, 92);
}

TEST(VerifyTest, AllConsistencyProbes) {
  const auto& probes = Probes()["consistency"];
  ASSERT_EQ(probes.size(), 98u);
  int failures = 0;
  for (const auto& p : probes) {
    SCOPED_TRACE(p["source_path"].get<std::string>());
    const absl::Status s = VerifyConsistency(
        p["size1"].get<uint64_t>(), p["size2"].get<uint64_t>(),
        ProofOf(p["proof"]), B64(p["root1"]), B64(p["root2"]));
    if (p["wantErr"].get<bool>()) {
      ++failures;
      EXPECT_TRUE(IsContractFailure(s)) << s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
  }
  EXPECT_EQ(failures, 92);
}

// Hand-made cases pin the exact code of each rule.
class VerifyCodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 7; ++i) tree_.AppendLeaf(std::to_string(i));
    root3_ = RootHash(tree_, 3).value();
    root4_ = RootHash(tree_, 4).value();
    root7_ = RootHash(tree_, 7).value();
    leaf5_ = LeafHash("5");
    incl_ = InclusionProof(tree_, 5, 7).value();
    cons_ = ConsistencyProof(tree_, 3, 7).value();
  }
  InMemoryTree tree_;
  Bytes root3_, root4_, root7_, leaf5_;
  std::vector<Bytes> incl_, cons_;
};

TEST_F(VerifyCodesTest, InclusionHappyPath) {
  EXPECT_TRUE(VerifyInclusion(5, 7, leaf5_, incl_, root7_).ok());
  auto root = RootFromInclusionProof(5, 7, leaf5_, incl_);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, root7_);
}

TEST_F(VerifyCodesTest, InclusionMalformedIsInvalidArgument) {
  EXPECT_EQ(VerifyInclusion(7, 7, leaf5_, incl_, root7_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(0, 0, leaf5_, {}, EmptyRoot()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_.substr(1), incl_, root7_).code(),
            StatusCode::kInvalidArgument);
  auto longer = incl_;
  longer.push_back(root3_);
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_, longer, root7_).code(),
            StatusCode::kInvalidArgument);
  auto shorter = incl_;
  shorter.pop_back();
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_, shorter, root7_).code(),
            StatusCode::kInvalidArgument);
  auto bad_element = incl_;
  bad_element[0] += "x";
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_, bad_element, root7_).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(VerifyCodesTest, InclusionMismatchIsDataLoss) {
  EXPECT_EQ(VerifyInclusion(5, 7, LeafHash("6"), incl_, root7_).code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(VerifyInclusion(4, 7, leaf5_, incl_, root7_).code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_, incl_, root4_).code(),
            StatusCode::kDataLoss);
  auto flipped = incl_;
  flipped[1][7] ^= 0x01;
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_, flipped, root7_).code(),
            StatusCode::kDataLoss);
  // The root is compared as given: a truncated root is a mismatch.
  EXPECT_EQ(VerifyInclusion(5, 7, leaf5_, incl_, root7_.substr(0, 31)).code(),
            StatusCode::kDataLoss);
}

TEST_F(VerifyCodesTest, InclusionAtTheLargestIndex) {
  // index 2^64 - 2 in a tree of 2^64 - 1 leaves: 63 border hashes, all left
  // siblings. The arithmetic must not overflow.
  const uint64_t size = ~uint64_t{0};
  std::vector<Bytes> proof(63, Bytes(32, '\x11'));
  auto root = RootFromInclusionProof(size - 1, size, leaf5_, proof);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(RootFromInclusionProof(size, size, leaf5_, proof).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(VerifyCodesTest, ConsistencyHappyPath) {
  EXPECT_TRUE(VerifyConsistency(3, 7, cons_, root3_, root7_).ok());
  auto pow2 = ConsistencyProof(tree_, 4, 7).value();
  EXPECT_TRUE(VerifyConsistency(4, 7, pow2, root4_, root7_).ok());
  EXPECT_TRUE(VerifyConsistency(7, 7, {}, root7_, root7_).ok());
  auto root = RootFromConsistencyProof(3, 7, cons_, root3_);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, root7_);
}

TEST_F(VerifyCodesTest, ConsistencyMalformedIsInvalidArgument) {
  EXPECT_EQ(VerifyConsistency(0, 7, cons_, EmptyRoot(), root7_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(0, 0, {}, EmptyRoot(), EmptyRoot()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(7, 3, cons_, root7_, root3_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(7, 7, cons_, root7_, root7_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(3, 7, {}, root3_, root7_).code(),
            StatusCode::kInvalidArgument);
  auto longer = cons_;
  longer.push_back(root4_);
  EXPECT_EQ(VerifyConsistency(3, 7, longer, root3_, root7_).code(),
            StatusCode::kInvalidArgument);
  auto shorter = cons_;
  shorter.pop_back();
  EXPECT_EQ(VerifyConsistency(3, 7, shorter, root3_, root7_).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(VerifyCodesTest, ConsistencyMismatchIsDataLoss) {
  EXPECT_EQ(VerifyConsistency(3, 7, cons_, root4_, root7_).code(),
            StatusCode::kDataLoss);  // root1 wrong
  EXPECT_EQ(VerifyConsistency(3, 7, cons_, root3_, root4_).code(),
            StatusCode::kDataLoss);  // root2 wrong
  EXPECT_EQ(VerifyConsistency(3, 7, cons_, root7_, root3_).code(),
            StatusCode::kDataLoss);  // swapped
  auto flipped = cons_;
  flipped.back()[0] ^= 0x80;
  EXPECT_EQ(VerifyConsistency(3, 7, flipped, root3_, root7_).code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(VerifyConsistency(7, 7, {}, root7_, root3_).code(),
            StatusCode::kDataLoss);
  // Equal sizes compare the roots byte for byte, whatever their length.
  EXPECT_TRUE(VerifyConsistency(1, 1, {}, "twelve bytes", "twelve bytes").ok());
}

}  // namespace
}  // namespace cbx::merkle
