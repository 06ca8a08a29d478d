#include "node/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace cbx::node {
namespace {

std::atomic<const Clock*> log_clock{nullptr};

}  // namespace

void SetLogClock(const Clock* clock) { log_clock.store(clock); }

void LogEvent(std::string_view member, std::string_view level,
              std::string_view event, std::initializer_list<LogField> fields) {
  const Clock* clock = log_clock.load();
  const int64_t now_ms =
      (clock != nullptr ? clock : &SystemClock::Get())->NowMs();
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  int ms = static_cast<int>(now_ms % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line;
  line.reserve(160);
  line.append(stamp).append(".");
  char msbuf[8];
  std::snprintf(msbuf, sizeof(msbuf), "%03dZ", ms);
  line.append(msbuf).append(" ");
  line.append(member).append(" ").append(level).append(" ").append(event);
  for (const auto& [key, value] : fields) {
    line.append(" ").append(key).append("=");
    bool quote = value.empty() || value.find(' ') != std::string::npos;
    if (quote) line.append("\"");
    line.append(value);
    if (quote) line.append("\"");
  }
  line.append("\n");
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace cbx::node
