#include "node/storage/io_health.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace cbx::node {

IoHealth& IoHealth::Get() {
  static IoHealth* const health = new IoHealth();
  return *health;
}

void IoHealth::Failed(const std::string& file, const absl::Status& status) {
  std::string message(status.message());
  Listener listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = failing_.insert_or_assign(file, message);
    if (!inserted) return;
    listener = listener_;
  }
  if (listener) listener(file, true, message);
}

void IoHealth::Succeeded(const std::string& file) {
  std::string message;
  Listener listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = failing_.find(file);
    if (it == failing_.end()) return;
    message = std::move(it->second);
    failing_.erase(it);
    listener = listener_;
  }
  if (listener) listener(file, false, message);
}

std::string IoHealth::Alert() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [file, message] : failing_) {
    absl::StrAppend(&out, out.empty() ? "storage failing: " : "; ", file, ": ",
                    message);
  }
  return out;
}

bool IoHealth::IsFailing(const std::string& file) const {
  std::lock_guard<std::mutex> lock(mu_);
  return failing_.contains(file);
}

IoHealth::Listener IoHealth::SetListener(Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(listener_, std::move(listener));
}

}  // namespace cbx::node
