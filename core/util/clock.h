// Time source, injectable so that tests control "now".
#ifndef CBX_CORE_UTIL_CLOCK_H_
#define CBX_CORE_UTIL_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace cbx {

// Milliseconds since the Unix epoch. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// The system's wall clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  // A process-wide instance.
  static const SystemClock& Get();
};

// A clock that stands still until told to move. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void SetMs(int64_t now_ms) { now_ms_.store(now_ms); }
  void AdvanceMs(int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace cbx

#endif  // CBX_CORE_UTIL_CLOCK_H_
