#include "core/envelope/replay_cache.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace cbx::envelope {
namespace {

const Bytes kId1(16, '\x01');
const Bytes kId2(16, '\x02');

TEST(InMemoryReplayCacheTest, RecordsOncePerSenderAndId) {
  InMemoryReplayCache cache;
  EXPECT_TRUE(cache.CheckAndRecord("MK", kId1, 1000).ok());
  EXPECT_EQ(cache.CheckAndRecord("MK", kId1, 1000).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(cache.CheckAndRecord("MK", kId1, 5000).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(cache.CheckAndRecord("RS", kId1, 1000).ok());
  EXPECT_TRUE(cache.CheckAndRecord("MK", kId2, 1000).ok());
  EXPECT_EQ(cache.size(), 3u);
}

TEST(InMemoryReplayCacheTest, SweepForgetsOnlyExpiredPairs) {
  InMemoryReplayCache cache;
  ASSERT_TRUE(cache.CheckAndRecord("MK", kId1, 1000).ok());
  ASSERT_TRUE(cache.CheckAndRecord("MK", kId2, 2000).ok());
  EXPECT_EQ(cache.Sweep(999), 0u);
  EXPECT_EQ(cache.Sweep(1000), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.CheckAndRecord("MK", kId1, 3000).ok());
  EXPECT_EQ(cache.CheckAndRecord("MK", kId2, 2000).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(InMemoryReplayCacheTest, ConcurrentRecordsOfOnePairSucceedOnce) {
  InMemoryReplayCache cache;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (cache.CheckAndRecord("MK", kId1, 1000).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
}

}  // namespace
}  // namespace cbx::envelope
