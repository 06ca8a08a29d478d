#include "node/hit_stats.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace cbx::node {
namespace {

double Rate(uint64_t hits, uint64_t asked) {
  return asked == 0 ? 0.0 : static_cast<double>(hits) / asked;
}

std::string UtcTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

}  // namespace

double HitStats::MedianOfOthers(const std::string& member) const {
  std::vector<double> rates;
  for (const auto& [code, c] : peers_) {
    if (code != member && c.asked > 0) rates.push_back(Rate(c.hits, c.asked));
  }
  if (rates.empty()) return 0.0;
  std::sort(rates.begin(), rates.end());
  const size_t mid = rates.size() / 2;
  return rates.size() % 2 == 1 ? rates[mid]
                               : (rates[mid - 1] + rates[mid]) / 2.0;
}

std::optional<std::string> HitStats::RecordAsked(const std::string& member,
                                                 uint64_t asked, uint64_t hits,
                                                 int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Counts& c = peers_[member];
  c.asked += asked;
  c.hits += hits;
  const double rate = Rate(c.hits, c.asked);
  const double median = MedianOfOthers(member);
  const double bound = std::max(kMedianFactor * median, kMinAlarmRate);
  if (c.asked < kMinAsked || rate <= bound) {
    c.alert_since_ms = 0;
    c.alert.clear();
    return std::nullopt;
  }
  const bool starts = c.alert_since_ms == 0;
  if (starts) c.alert_since_ms = now_ms;
  c.alert = absl::StrFormat(
      "since %s: hit rate %.1f%% (%d hits in %d identifiers asked) against a "
      "median of %.1f%% for the other peers (alarm above %.1f%%)",
      UtcTime(c.alert_since_ms), 100.0 * rate, c.hits, c.asked, 100.0 * median,
      100.0 * bound);
  if (starts) return c.alert;
  return std::nullopt;
}

uint64_t HitStats::RecordPhantom(const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  return ++peers_[member].phantoms;
}

HitStats::PeerView HitStats::Describe(const std::string& member) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(member);
  if (it == peers_.end()) return {};
  return {it->second.asked, it->second.hits, it->second.phantoms,
          it->second.alert};
}

}  // namespace cbx::node
