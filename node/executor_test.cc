#include "node/executor.h"

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "tests/testing/time_scale.h"

namespace cbx::node {
namespace {

// Threads of this process, from /proc.
int ThreadCount() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

// A gate work items wait at until the test opens it.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Waits (a generous real-time bound, never reached when the code works)
// until `pred` holds.
template <typename Pred>
bool Eventually(std::mutex& mu, std::condition_variable& cv, Pred pred) {
  std::unique_lock<std::mutex> lock(mu);
  return cv.wait_for(lock, cbx::testing::Scaled(std::chrono::seconds(20)),
                     pred);
}

TEST(ExecutorTest, RunsEveryPostedItem) {
  Executor ex("test", 3);
  EXPECT_EQ(ex.threads(), 3);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(ex.Post([&] { ran.fetch_add(1); }));
  }
  ex.Shutdown();
  EXPECT_EQ(ran.load(), 100);
}

TEST(ExecutorTest, NeverRunsMoreItemsThanThreads) {
  Executor ex("test", 4);
  std::mutex mu;
  std::condition_variable cv;
  int running = 0, peak = 0, done = 0;
  Gate gate;
  for (int i = 0; i < 32; ++i) {
    ex.Post([&, i] {
      {
        std::lock_guard<std::mutex> lock(mu);
        peak = std::max(peak, ++running);
        cv.notify_all();
      }
      if (i < 4) gate.Wait();  // the first four hold their workers
      std::lock_guard<std::mutex> lock(mu);
      --running;
      ++done;
      cv.notify_all();
    });
  }
  // Four items hold all four workers; none of the others can start.
  ASSERT_TRUE(Eventually(mu, cv, [&] { return running == 4; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(done, 0);
  }
  gate.Open();
  ASSERT_TRUE(Eventually(mu, cv, [&] { return done == 32; }));
  EXPECT_EQ(peak, 4);
}

TEST(ExecutorTest, EverySkipsARunWhileThePreviousOneRuns) {
  Executor ex("test", 2);
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, running = 0, peak = 0;
  Gate gate;
  ex.Every(1, [&] {
    int me;
    {
      std::lock_guard<std::mutex> lock(mu);
      me = ++started;
      peak = std::max(peak, ++running);
      cv.notify_all();
    }
    if (me == 1) gate.Wait();
    std::lock_guard<std::mutex> lock(mu);
    --running;
  });
  ASSERT_TRUE(Eventually(mu, cv, [&] { return started == 1; }));
  // Many 1 ms ticks pass while the first run is held; all are skipped, and
  // the second worker (idle) proves they were skipped, not starved.
  std::atomic<int> other{0};
  for (int i = 0; i < 20; ++i) ex.Post([&] { other.fetch_add(1); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(30));
    EXPECT_EQ(started, 1);
  }
  gate.Open();
  ASSERT_TRUE(Eventually(mu, cv, [&] { return started >= 3; }));
  ex.Shutdown();
  EXPECT_EQ(peak, 1);
  EXPECT_EQ(other.load(), 20);
}

TEST(ExecutorTest, ShutdownWaitsForRunningAndQueuedWork) {
  auto ex = std::make_unique<Executor>("test", 1);
  std::mutex mu;
  std::condition_variable cv;
  bool first_started = false;
  std::atomic<bool> first_done{false}, second_done{false};
  Gate gate;
  ex->Post([&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      first_started = true;
      cv.notify_all();
    }
    gate.Wait();
    first_done = true;
  });
  ex->Post([&] { second_done = true; });
  ASSERT_TRUE(Eventually(mu, cv, [&] { return first_started; }));
  std::thread opener([&] {
    // Opens the gate only once Shutdown is under way: it must wait.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate.Open();
  });
  ex->Shutdown();
  EXPECT_TRUE(first_done.load());
  EXPECT_TRUE(second_done.load());
  opener.join();
}

TEST(ExecutorTest, RefusesWorkAfterShutdown) {
  Executor ex("test", 2);
  ex.Shutdown();
  bool ran = false;
  EXPECT_FALSE(ex.Post([&] { ran = true; }));
  ex.Every(1, [&] { ran = true; });
  ex.Shutdown();  // idempotent
  EXPECT_FALSE(ran);
}

TEST(ExecutorTest, ShutdownStopsTimersAndLeavesNoThread) {
  // A sanitizer's runtime may start a thread of its own at the process's
  // first pthread_create (ThreadSanitizer does): let it, before counting.
  std::thread([] {}).join();
  const int before = ThreadCount();
  {
    Executor ex("test", 4);
    EXPECT_EQ(ThreadCount(), before + 4);
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<int> ticks{0};
    ex.Every(1, [&] {
      ticks.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu);
      cv.notify_all();
    });
    ex.Every(60'000, [&] { ticks.fetch_add(1); });  // waits a minute
    for (int i = 0; i < 8; ++i) ex.Post([] {});
    ASSERT_TRUE(Eventually(mu, cv, [&] { return ticks.load() >= 3; }));
    ex.Shutdown();  // does not wait the minute
    const int after_shutdown = ticks.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ticks.load(), after_shutdown);
  }
  EXPECT_EQ(ThreadCount(), before);
}

TEST(ExecutorTest, ConcurrentShutdownsAllWait) {
  Executor ex("test", 2);
  std::atomic<bool> done{false};
  Gate gate;
  ex.Post([&] {
    gate.Wait();
    done = true;
  });
  std::atomic<int> returned_early{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&] {
      ex.Shutdown();
      if (!done.load()) returned_early.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  gate.Open();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(returned_early.load(), 0);
}

}  // namespace
}  // namespace cbx::node
