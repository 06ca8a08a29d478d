#include "core/directory/directory_state.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cbx::directory {

DirectoryState::DirectoryState(std::shared_ptr<const Directory> start,
                               SuccessorRule rule)
    : rule_(std::move(rule)) {
  if (start == nullptr) std::abort();  // Programming error, not input.
  chain_.push_back(std::move(start));
}

std::shared_ptr<const Directory> DirectoryState::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chain_.back();
}

std::shared_ptr<const Directory> DirectoryState::Held(uint64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t first = chain_.front()->version();
  if (version < first || version > chain_.back()->version()) return nullptr;
  return chain_[version - first];
}

absl::Status DirectoryState::CheckOlder(const v1::SignedDirectory& next,
                                        uint64_t version,
                                        UpdateResult& result) const {
  std::shared_ptr<const Directory> held = Held(version);
  if (held == nullptr ||
      held->signed_directory().directory() == next.directory()) {
    return absl::OkStatus();  // overlap, or older than anything we hold
  }
  // Same number, other bytes. Signed by a threshold of the keys in force
  // for that version? Then the governance signed two versions: evidence.
  std::shared_ptr<const Directory> before = Held(version - 1);
  if (before == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "directory: version ", version,
        " differs from the one this node holds and cannot be checked (it is "
        "the start version)"));
  }
  auto verified = before->Adopt(next);
  if (!verified.ok()) {
    return absl::Status(
        verified.status().code(),
        absl::StrCat("directory: version ", version,
                     " differs from the adopted one and does not verify: ",
                     verified.status().message()));
  }
  result.equivocations.push_back({version, held->signed_directory(), next});
  return absl::FailedPreconditionError(absl::StrCat(
      "directory equivocation: version ", version,
      " is validly signed but differs from the adopted version ", version));
}

DirectoryState::UpdateResult DirectoryState::AdoptVersions(
    const std::vector<v1::SignedDirectory>& versions, const Persist& persist) {
  std::lock_guard<std::mutex> adopting(adopt_mu_);
  UpdateResult result;
  for (const v1::SignedDirectory& next : versions) {
    v1::Directory peek;
    if (!peek.ParseFromString(next.directory())) {
      result.status = absl::InvalidArgumentError(
          "directory: directory bytes do not parse as cbx.v1.Directory");
      return result;
    }
    // Only this call changes chain_ (adopt_mu_), so current stays current.
    std::shared_ptr<const Directory> current = Current();
    if (peek.version() <= current->version()) {
      result.status = CheckOlder(next, peek.version(), result);
      if (!result.status.ok()) return result;
      continue;
    }
    auto adopted = current->Adopt(next);
    if (!adopted.ok()) {
      result.status = adopted.status();
      return result;
    }
    if (rule_ != nullptr) {
      result.status = rule_(current->proto(), (*adopted)->proto());
      if (!result.status.ok()) {
        result.refused_by_rule = *adopted;
        result.rule_previous = current;
        return result;
      }
    }
    // Persist first (spec/directory.md §5.3): a version a crash could
    // forget is never used.
    if (persist != nullptr) {
      result.status = persist(**adopted);
      if (!result.status.ok()) {
        result.persist_failed = true;
        return result;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    chain_.push_back(*std::move(adopted));
    ++result.adopted;
  }
  return result;
}

absl::Status DirectoryState::Update(
    const std::vector<v1::SignedDirectory>& versions) {
  return AdoptVersions(versions, nullptr).status;
}

std::vector<v1::SignedDirectory> DirectoryState::VersionsAfter(
    uint64_t since_version) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::SignedDirectory> out;
  for (const auto& d : chain_) {
    if (d->version() > since_version) out.push_back(d->signed_directory());
  }
  return out;
}

}  // namespace cbx::directory
