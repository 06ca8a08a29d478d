#include "core/directory/directory_state.h"

#include <cstdlib>

namespace cbx::directory {

DirectoryState::DirectoryState(std::shared_ptr<const Directory> start)
    : current_(std::move(start)) {
  if (current_ == nullptr) std::abort();  // Programming error, not input.
  history_.push_back(current_->signed_directory());
}

std::shared_ptr<const Directory> DirectoryState::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

absl::Status DirectoryState::Update(
    const std::vector<v1::SignedDirectory>& versions) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::SignedDirectory& next : versions) {
    v1::Directory peek;
    if (!peek.ParseFromString(next.directory())) {
      return absl::InvalidArgumentError(
          "directory: directory bytes do not parse as cbx.v1.Directory");
    }
    if (peek.version() <= current_->version()) continue;
    auto adopted = current_->Adopt(next);
    if (!adopted.ok()) return adopted.status();
    current_ = *std::move(adopted);
    history_.push_back(next);
  }
  return absl::OkStatus();
}

std::vector<v1::SignedDirectory> DirectoryState::VersionsAfter(
    uint64_t since_version) const {
  std::lock_guard<std::mutex> lock(mu_);
  // history_ holds consecutive versions ending with the current one.
  const uint64_t first = current_->version() + 1 - history_.size();
  std::vector<v1::SignedDirectory> out;
  for (size_t i = 0; i < history_.size(); ++i) {
    if (first + i > since_version) out.push_back(history_[i]);
  }
  return out;
}

}  // namespace cbx::directory
