#include "core/logcheck/consistency.h"

#include <string>
#include <vector>

#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::logcheck {
namespace {

using ::testing::HasSubstr;

// A log of `n` leaves "<prefix> i", its checkpoints and proofs.
class Log {
 public:
  Log(int n, std::string_view prefix = "entry") {
    for (int i = 0; i < n; ++i) {
      tree_.AppendLeaf(std::string(prefix) + " " + std::to_string(i));
    }
  }
  note::Checkpoint Cp(uint64_t size) const {
    return note::Checkpoint{
        "cbx/MK/audit", size, *merkle::RootHash(tree_, size), {}};
  }
  std::vector<Bytes> Proof(uint64_t size1, uint64_t size2) const {
    return *merkle::ConsistencyProof(tree_, size1, size2);
  }

 private:
  merkle::InMemoryTree tree_;
};

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(ConsistencyTest, ExtendedLogIsConsistent) {
  Log log(9);
  EXPECT_TRUE(NeedsConsistencyProof(log.Cp(5), log.Cp(9)));
  auto c = CheckConsistency(log.Cp(5), log.Cp(9), log.Proof(5, 9));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, Consistency::kExtended);
  EXPECT_EQ(
      CompareCheckpoints(log.Cp(5), log.Cp(9), log.Proof(5, 9)).comparison,
      Comparison::kExtended);
}

TEST(ConsistencyTest, SameTreeAndEmptyTree) {
  Log log(9);
  EXPECT_FALSE(NeedsConsistencyProof(log.Cp(9), log.Cp(9)));
  auto same = CheckConsistency(log.Cp(9), log.Cp(9), {});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, Consistency::kSame);
  EXPECT_FALSE(NeedsConsistencyProof(log.Cp(0), log.Cp(9)));
  auto empty = CheckConsistency(log.Cp(0), log.Cp(9), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, Consistency::kFromEmpty);
}

TEST(ConsistencyTest, ForkAtTheSameSizeIsDataLoss) {
  Log log(9), forked(9, "forged");
  ConsistencyVerdict v = CompareCheckpoints(log.Cp(9), forked.Cp(9), {});
  EXPECT_EQ(v.comparison, Comparison::kForked);
  EXPECT_FALSE(v.consistent());
  auto c = CheckConsistency(log.Cp(9), forked.Cp(9), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Msg(c.status()),
            "the log was rewritten: checkpoint 9 is not consistent with the "
            "trusted checkpoint 9 (same size, different root hash)");
}

TEST(ConsistencyTest, ShrunkLogIsDataLoss) {
  Log log(9);
  EXPECT_EQ(CompareCheckpoints(log.Cp(9), log.Cp(5), {}).comparison,
            Comparison::kShrank);
  auto c = CheckConsistency(log.Cp(9), log.Cp(5), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Msg(c.status()),
            "the log was rewritten: checkpoint 5 is not consistent with the "
            "trusted checkpoint 9 (the log shrank)");
}

TEST(ConsistencyTest, ProofThatDoesNotReachTheRootsIsDataLoss) {
  Log log(9), forked(9, "forged");
  ConsistencyVerdict v =
      CompareCheckpoints(log.Cp(5), forked.Cp(9), forked.Proof(5, 9));
  EXPECT_EQ(v.comparison, Comparison::kProofFails);
  EXPECT_FALSE(v.proof_error.empty());
  auto c = CheckConsistency(log.Cp(5), forked.Cp(9), forked.Proof(5, 9));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(c.status()),
              HasSubstr("the log was rewritten: checkpoint 9 is not "
                        "consistent with the trusted checkpoint 5 ("));
}

TEST(ConsistencyTest, MalformedProofProvesNothing) {
  Log log(9);
  std::vector<Bytes> proof = log.Proof(5, 9);
  proof.pop_back();
  EXPECT_EQ(CompareCheckpoints(log.Cp(5), log.Cp(9), proof).comparison,
            Comparison::kMalformedProof);
  auto c = CheckConsistency(log.Cp(5), log.Cp(9), proof);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(c.status()),
              HasSubstr("the consistency proof from size 5 to 9 is malformed"));
}

TEST(ConsistencyTest, TrustedEmptyTreeWithAnotherRootIsAFork) {
  Log log(9);
  note::Checkpoint bogus = log.Cp(0);
  bogus.root_hash = log.Cp(1).root_hash;
  EXPECT_EQ(CompareCheckpoints(bogus, log.Cp(9), {}).comparison,
            Comparison::kForked);
  EXPECT_EQ(CheckConsistency(bogus, log.Cp(9), {}).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ConsistencyTest, CheckpointsOfTwoLogsAreInvalidArgument) {
  Log log(9);
  note::Checkpoint other = log.Cp(9);
  other.origin = "cbx/RS/audit";
  EXPECT_EQ(CompareCheckpoints(log.Cp(5), other, {}).comparison,
            Comparison::kOtherLog);
  auto c = CheckConsistency(log.Cp(5), other, {});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(c.status()),
            "the trusted checkpoint is of 'cbx/MK/audit', the new one of "
            "'cbx/RS/audit'");
}

}  // namespace
}  // namespace cbx::logcheck
