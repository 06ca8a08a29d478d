#include "core/merkle/in_memory_tree.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"

namespace cbx::merkle {

void InMemoryTree::Level::Push(std::string_view hash) {
  if (count_ % kChunkHashes == 0) {
    chunks_.push_back(std::make_unique<char[]>(kChunkHashes * kHashSize));
  }
  std::memcpy(chunks_.back().get() + (count_ % kChunkHashes) * kHashSize,
              hash.data(), kHashSize);
  ++count_;
}

std::string_view InMemoryTree::Level::At(uint64_t i) const {
  return std::string_view(
      chunks_[i / kChunkHashes].get() + (i % kChunkHashes) * kHashSize,
      kHashSize);
}

absl::Status InMemoryTree::AppendLeafHash(std::string_view leaf_hash) {
  if (leaf_hash.size() != kHashSize) {
    return absl::InvalidArgumentError("leaf hash is not 32 bytes");
  }
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].Push(leaf_hash);
  ++size_;
  // Every level whose count just became even completed a parent.
  for (size_t level = 0; levels_[level].count() % 2 == 0; ++level) {
    const uint64_t n = levels_[level].count();
    Bytes parent = NodeHash(levels_[level].At(n - 2), levels_[level].At(n - 1));
    if (level + 1 == levels_.size()) levels_.emplace_back();
    levels_[level + 1].Push(parent);
  }
  return absl::OkStatus();
}

void InMemoryTree::AppendLeaf(std::string_view leaf) {
  // A LeafHash is always 32 bytes, so this cannot fail.
  (void)AppendLeafHash(LeafHash(leaf));
}

absl::StatusOr<Bytes> InMemoryTree::SubtreeHash(uint64_t level,
                                                uint64_t index) const {
  if (level >= levels_.size() || index >= levels_[level].count()) {
    return absl::OutOfRangeError(
        absl::StrCat("subtree (level ", level, ", index ", index,
                     ") is not complete in a tree of size ", size_));
  }
  return Bytes(levels_[level].At(index));
}

}  // namespace cbx::merkle
