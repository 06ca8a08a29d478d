#include "node/executor.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace cbx::node {

using WorkGuard =
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

// One repeating timer. Its asio timer is touched only on its strand (a
// steady_timer is not thread-safe); `busy` is set while a run is queued or
// running, so that a tick due meanwhile is skipped.
struct Executor::Timer {
  Timer(boost::asio::io_context& io, int64_t interval, std::function<void()> w)
      : strand(boost::asio::make_strand(io)),
        timer(strand),
        interval_ms(interval),
        work(std::move(w)) {}
  boost::asio::strand<boost::asio::io_context::executor_type> strand;
  boost::asio::steady_timer timer;
  const int64_t interval_ms;
  const std::function<void()> work;
  std::atomic<bool> busy{false};
};

Executor::Executor(std::string name, int threads)
    : name_(std::move(name)),
      io_(std::make_unique<boost::asio::io_context>(threads < 1 ? 1
                                                                : threads)) {
  work_guard_ = std::make_shared<WorkGuard>(io_->get_executor());
  const int n = threads < 1 ? 1 : threads;
  workers_.reserve(n);
  for (int i = 0; i < n; ++i) {
    workers_.emplace_back([this] { io_->run(); });
  }
}

Executor::~Executor() { Shutdown(); }

bool Executor::Post(std::function<void()> work) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  boost::asio::post(*io_, std::move(work));
  return true;
}

void Executor::Every(int64_t interval_ms, std::function<void()> work) {
  auto timer = std::make_shared<Timer>(*io_, interval_ms < 1 ? 1 : interval_ms,
                                       std::move(work));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    timers_.push_back(timer);
  }
  boost::asio::post(timer->strand, [this, timer] { Arm(timer, 0); });
}

// On the timer's strand.
void Executor::Arm(const std::shared_ptr<Timer>& timer, int64_t delay_ms) {
  timer->timer.expires_after(std::chrono::milliseconds(delay_ms));
  timer->timer.async_wait(boost::asio::bind_executor(
      timer->strand, [this, timer](const boost::system::error_code& ec) {
        if (!ec) Tick(timer);
      }));
}

// On the timer's strand.
void Executor::Tick(const std::shared_ptr<Timer>& timer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Shutdown cancels the timer on this strand after setting stopping_:
    // either it sees this tick's new wait, or this tick sees stopping_.
    if (stopping_) return;
  }
  if (!timer->busy.exchange(true)) {
    // Posted while this handler runs, so the workers are still in run()
    // even if Shutdown has just begun: the run completes before they exit.
    boost::asio::post(*io_, [timer] {
      timer->work();
      timer->busy.store(false);
    });
  }
  Arm(timer, timer->interval_ms);
}

void Executor::Shutdown() {
  std::vector<std::shared_ptr<Timer>> timers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::thread& w : workers_) {
      if (w.get_id() == std::this_thread::get_id()) {
        // Joining ourselves would never return: a broken invariant.
        std::fprintf(stderr,
                     "cbx-node: executor %s shut down from its own "
                     "work item\n",
                     name_.c_str());
        std::abort();
      }
    }
    if (joined_) return;
    stopping_ = true;
    timers.swap(timers_);
  }
  for (const std::shared_ptr<Timer>& t : timers) {
    boost::asio::post(t->strand, [t] { t->timer.cancel(); });
  }
  // Without the guard, run() returns once the queue is empty and no timer
  // waits: every item posted before stopping_ was set has then finished.
  std::lock_guard<std::mutex> join_lock(join_mu_);
  work_guard_.reset();
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  joined_ = true;
}

}  // namespace cbx::node
