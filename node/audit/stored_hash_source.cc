#include "node/audit/stored_hash_source.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/util/status_macros.h"

namespace cbx::node::audit {

absl::StatusOr<Bytes> StoredHashSource::SubtreeHash(uint64_t level,
                                                    uint64_t index) const {
  // Complete in the tree of size_: (index + 1) * 2^level <= size_, written
  // so that it cannot overflow.
  if (level >= 64 || index >= (size_ >> level)) {
    return absl::OutOfRangeError(
        absl::StrCat("perfect subtree (level ", level, ", index ", index,
                     ") is not complete in the tree of size ", size_));
  }
  const bool cacheable = cache_ != nullptr && level >= cache_min_level_;
  if (cacheable) {
    auto it = cache_->find(std::make_pair(level, index));
    if (it != cache_->end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::optional<Bytes> hash, store_.ReadSubtree(level, index));
  if (!hash.has_value()) {
    const uint64_t row = ((index + 1) << level) - 1;
    return absl::DataLossError(absl::StrCat(
        "leaf ", row, " is missing from the audit database",
        level == 0 ? std::string()
                   : absl::StrCat(" (its row holds perfect subtree (level ",
                                  level, ", index ", index, "))"),
        ": rows were deleted"));
  }
  if (hash->size() != merkle::kHashSize) {
    return absl::DataLossError(absl::StrCat(
        "stored hash of perfect subtree (level ", level, ", index ", index,
        ") is ", hash->size(), " bytes, not 32"));
  }
  if (cacheable) cache_->emplace(std::make_pair(level, index), *hash);
  return *std::move(hash);
}

}  // namespace cbx::node::audit
