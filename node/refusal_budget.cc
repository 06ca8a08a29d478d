#include "node/refusal_budget.h"

#include <algorithm>
#include <tuple>

namespace cbx::node {

void RefusalBudget::End(const std::string& caller, Window& w) {
  for (const auto& [key, calls] : w.counted) {
    ended_.push_back(Summary{caller, key.first,
                             static_cast<absl::StatusCode>(key.second), calls,
                             w.start_ms});
  }
  w.counted.clear();
}

bool RefusalBudget::Admit(const std::string& caller, std::string_view rpc,
                          absl::StatusCode code, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = windows_.try_emplace(caller);
  Window& w = it->second;
  if (fresh || now_ms - w.start_ms >= window_ms_ || now_ms < w.start_ms) {
    End(caller, w);
    w.start_ms = now_ms;
    w.written = 0;
  }
  if (w.written < per_window_) {
    ++w.written;
    return true;
  }
  ++w.counted[{std::string(rpc), static_cast<int>(code)}];
  return false;
}

std::vector<RefusalBudget::Summary> RefusalBudget::TakeEnded(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now_ms - it->second.start_ms >= window_ms_) {
      End(it->first, it->second);
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<Summary> out;
  out.swap(ended_);
  std::sort(out.begin(), out.end(), [](const Summary& a, const Summary& b) {
    return std::tie(a.caller, a.window_start_ms, a.rpc, a.code) <
           std::tie(b.caller, b.window_start_ms, b.rpc, b.code);
  });
  return out;
}

}  // namespace cbx::node
