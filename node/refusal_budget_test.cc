#include "node/refusal_budget.h"

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

constexpr auto kBad = absl::StatusCode::kInvalidArgument;
constexpr auto kOver = absl::StatusCode::kResourceExhausted;
constexpr int64_t kWindow = RefusalBudget::kWindowMs;

TEST(RefusalBudgetTest, TheFirstOfAWindowAreWrittenTheRestCounted) {
  RefusalBudget budget;
  int written = 0;
  for (int i = 0; i < 250; ++i) {
    written += budget.Admit("RS", "Peer.Evaluate", kBad, 1'000 + i);
  }
  for (int i = 0; i < 30; ++i) {
    written += budget.Admit("RS", "Peer.Resolve", kOver, 2'000 + i);
  }
  EXPECT_EQ(written, static_cast<int>(RefusalBudget::kPerWindow));
  // Another caller has a budget of its own.
  EXPECT_TRUE(budget.Admit("AL", "Peer.Evaluate", kBad, 2'500));
  // Nothing is handed over before the window ends.
  EXPECT_TRUE(budget.TakeEnded(1'000 + kWindow - 1).empty());

  std::vector<RefusalBudget::Summary> ended = budget.TakeEnded(1'000 + kWindow);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].caller, "RS");
  EXPECT_EQ(ended[0].rpc, "Peer.Evaluate");
  EXPECT_EQ(ended[0].code, kBad);
  EXPECT_EQ(ended[0].calls, 150u);
  EXPECT_EQ(ended[0].window_start_ms, 1'000);
  EXPECT_EQ(ended[1].rpc, "Peer.Resolve");
  EXPECT_EQ(ended[1].code, kOver);
  EXPECT_EQ(ended[1].calls, 30u);
  // Each count once; AL's window (it stayed within its budget) ends later
  // and has nothing to hand over.
  EXPECT_TRUE(budget.TakeEnded(1'000 + kWindow).empty());
  EXPECT_TRUE(budget.TakeEnded(2'500 + kWindow).empty());
  // A new window writes again.
  EXPECT_TRUE(budget.Admit("RS", "Peer.Evaluate", kBad, 1'000 + kWindow));
}

// A refusal after the window ended starts the next window at once; the
// ended window's counts wait for TakeEnded.
TEST(RefusalBudgetTest, AWindowEndedByTheNextRefusalKeepsItsCounts) {
  RefusalBudget budget;
  for (uint32_t i = 0; i < RefusalBudget::kPerWindow + 5; ++i) {
    budget.Admit("", "Peer.Evaluate", absl::StatusCode::kUnauthenticated, 0);
  }
  EXPECT_TRUE(budget.Admit("", "Peer.Evaluate",
                           absl::StatusCode::kUnauthenticated, kWindow + 10));
  std::vector<RefusalBudget::Summary> ended = budget.TakeEnded(kWindow + 10);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].caller, "");
  EXPECT_EQ(ended[0].calls, 5u);
  EXPECT_EQ(ended[0].window_start_ms, 0);
  EXPECT_TRUE(budget.TakeEnded(kWindow + 10).empty());
}

}  // namespace
}  // namespace cbx::node
