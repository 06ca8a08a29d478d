// CallQueue (node/grpc_calls.h): the bound on a service's waiting calls,
// and the answers when there is no executor to run them. The callback
// methods themselves are tested through a node: tests/integration
// (federation_test's calls without a request, h2_abuse_test's rapid
// reset).
#include "node/grpc_calls.h"

#include <condition_variable>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"
#include "node/executor.h"

namespace cbx::node {
namespace {

// A service's calls run on its executor, at most kMaxQueuedCalls waiting
// or running: a caller that opens calls faster than the node answers them
// is refused at once, and makes the node hold no more.
TEST(CallQueueTest, AtMostTheBoundWaitsAndTheRestAreRefusedAtOnce) {
  Executor executor("peer", 1);
  CallQueue calls(&executor);
  grpc::CallbackServerContext ctx;  // no call: never cancelled
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int ok = 0;
  std::vector<grpc::StatusCode> refused;
  constexpr int kBound = CallQueue::kMaxQueuedCalls;
  for (int i = 0; i < kBound + 5; ++i) {
    calls.Run(
        &ctx,
        [&] {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return open; });
          return grpc::Status::OK;
        },
        [&](const grpc::Status& s) {
          std::lock_guard<std::mutex> lock(mu);
          if (s.ok()) {
            ++ok;
          } else {
            refused.push_back(s.error_code());
          }
        });
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    // The five past the bound were answered before any call ran.
    EXPECT_EQ(refused, std::vector<grpc::StatusCode>(
                           5, grpc::StatusCode::RESOURCE_EXHAUSTED));
    EXPECT_EQ(ok, 0);
    open = true;
  }
  cv.notify_all();
  executor.Shutdown();
  EXPECT_EQ(ok, kBound);
  // A stopped executor runs nothing more.
  grpc::Status after;
  calls.Run(
      &ctx, [] { return grpc::Status::OK; },
      [&](const grpc::Status& s) { after = s; });
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(CallQueueTest, WithoutAnExecutorACallIsUnavailable) {
  CallQueue calls(nullptr);
  grpc::CallbackServerContext ctx;
  grpc::Status status;
  bool ran = false;
  calls.Run(
      &ctx,
      [&] {
        ran = true;
        return grpc::Status::OK;
      },
      [&](const grpc::Status& s) { status = s; });
  EXPECT_FALSE(ran);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace cbx::node
