// Scales the test harness's fixed deadlines for slower builds. A sanitized
// build runs the node several times slower than a normal one; `make
// sanitize` and `make tsan` set CBX_TEST_TIME_SCALE so that every wait for
// a node to start, sync or answer gets that many times longer. Header-only,
// so that any test target can use it without a link dependency.
#ifndef CBX_TESTS_TESTING_TIME_SCALE_H_
#define CBX_TESTS_TESTING_TIME_SCALE_H_

#include <chrono>
#include <cstdint>
#include <cstdlib>

namespace cbx::testing {

// Returns the factor in the environment variable CBX_TEST_TIME_SCALE: a
// number from 1 to 100; 1 when the variable is unset, malformed or out of
// that range. Read once per process; thread-safe.
inline double TimeScale() {
  static const double scale = [] {
    const char* value = std::getenv("CBX_TEST_TIME_SCALE");
    if (value == nullptr) return 1.0;
    char* end = nullptr;
    const double parsed = std::strtod(value, &end);
    if (end == value || *end != '\0' || !(parsed >= 1 && parsed <= 100)) {
      return 1.0;
    }
    return parsed;
  }();
  return scale;
}

// Returns `d` multiplied by TimeScale(), in milliseconds.
template <typename Rep, typename Period>
std::chrono::milliseconds Scaled(std::chrono::duration<Rep, Period> d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(ms.count()) * TimeScale()));
}

// Returns `ms` multiplied by TimeScale().
inline int64_t ScaledMs(int64_t ms) {
  return static_cast<int64_t>(static_cast<double>(ms) * TimeScale());
}

}  // namespace cbx::testing

#endif  // CBX_TESTS_TESTING_TIME_SCALE_H_
