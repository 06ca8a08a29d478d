// A bounded pool of worker threads driven by one Boost.Asio io_context: the
// only place the node's background and fan-out work gets a thread.
//
// Threading model: the constructor starts exactly `threads` workers, each
// running io_context::run; no other thread is ever created, so at most
// `threads` work items run at once, whatever is posted. Post and Every may
// be called from any thread, including a work item. A work item must never
// wait for another work item of the same executor (with every worker
// waiting, the awaited item would never start); callers that wait for
// posted work (a query waiting for its peers' answers) wait on their own
// thread, outside the pool. Shutdown stops the timers, refuses new work and
// waits for every item already posted or running; it must not be called
// from one of this executor's own work items.
#ifndef CBX_NODE_EXECUTOR_H_
#define CBX_NODE_EXECUTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace boost::asio {
class io_context;
}

namespace cbx::node {

class Executor {
 public:
  // Starts `threads` (at least 1) workers. `name` appears in nothing but
  // the class's own diagnostics (which pool refused work).
  Executor(std::string name, int threads);
  // Shutdown, then destroys the io_context.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `work` to run on one of the workers. Returns false, and drops
  // `work` without running it, once Shutdown has begun. Thread-safe.
  bool Post(std::function<void()> work);

  // Runs `work` on a worker now and then every `interval_ms` (at least 1)
  // until Shutdown. A run still going when the next is due is skipped, not
  // queued: a slow round never piles up behind itself. The timer itself
  // waits on the io_context, holding no worker. Does nothing once
  // Shutdown has begun. Thread-safe.
  void Every(int64_t interval_ms, std::function<void()> work);

  // Stops the timers, refuses further Post/Every calls, and returns once
  // every item posted before it (and every timer run already started) has
  // finished and every worker has exited. Idempotent; thread-safe, but not
  // from one of this executor's work items.
  void Shutdown();

  int threads() const { return static_cast<int>(workers_.size()); }
  const std::string& name() const { return name_; }

 private:
  struct Timer;
  // Arms `timer` for its next tick after `delay_ms`.
  void Arm(const std::shared_ptr<Timer>& timer, int64_t delay_ms);
  void Tick(const std::shared_ptr<Timer>& timer);

  const std::string name_;
  std::unique_ptr<boost::asio::io_context> io_;
  // Keeps the workers' run() going while no work is queued.
  std::shared_ptr<void> work_guard_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<Timer>> timers_ ABSL_GUARDED_BY(mu_);
  // Held by the Shutdown that joins the workers; a concurrent Shutdown
  // waits on it, so every caller returns only once all work is done.
  std::mutex join_mu_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_EXECUTOR_H_
