#include "core/merkle/compact_range.h"

#include <bit>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/util/status_macros.h"

namespace cbx::merkle {
namespace {

constexpr char kSerializationVersion = '\x01';
constexpr size_t kHeaderSize = 1 + 8;

}  // namespace

absl::StatusOr<CompactRange> CompactRange::FromHashSource(
    const HashSource& source, uint64_t size) {
  std::vector<Bytes> hashes;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    ASSIGN_OR_RETURN(Bytes hash, source.SubtreeHash(level, begin >> level));
    if (hash.size() != kHashSize) {
      return absl::DataLossError(absl::StrCat("stored subtree hash (level ",
                                              level, ") is not 32 bytes"));
    }
    hashes.push_back(std::move(hash));
    begin += width;
  }
  return CompactRange(size, std::move(hashes));
}

absl::StatusOr<CompactRange> CompactRange::Parse(std::string_view serialized) {
  if (serialized.size() < kHeaderSize ||
      serialized[0] != kSerializationVersion) {
    return absl::InvalidArgumentError(
        "compact range: missing or unknown version header");
  }
  const uint64_t size = ReadUint64BE(serialized.substr(1));
  const size_t count = std::popcount(size);
  if (serialized.size() != kHeaderSize + count * kHashSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "compact range: a tree of size ", size, " needs ", count,
        " hashes, got ", serialized.size() - kHeaderSize, " bytes"));
  }
  std::vector<Bytes> hashes;
  hashes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    hashes.emplace_back(
        serialized.substr(kHeaderSize + i * kHashSize, kHashSize));
  }
  return CompactRange(size, std::move(hashes));
}

absl::StatusOr<std::vector<PerfectSubtree>> CompactRange::Append(
    std::string_view leaf_hash) {
  if (leaf_hash.size() != kHashSize) {
    return absl::InvalidArgumentError("leaf hash is not 32 bytes");
  }
  if (size_ == std::numeric_limits<uint64_t>::max()) {
    return absl::OutOfRangeError("the tree is full");
  }
  std::vector<PerfectSubtree> completed;
  completed.reserve(1 + std::countr_one(size_));
  completed.push_back({0, size_, Bytes(leaf_hash)});
  hashes_.emplace_back(leaf_hash);
  // Each trailing one bit of the old size is a subtree the new leaf's
  // subtree now pairs with: merge them, lowest level first.
  uint64_t index = size_;
  for (uint64_t level = 0; (size_ >> level) & 1; ++level) {
    Bytes right = std::move(hashes_.back());
    hashes_.pop_back();
    hashes_.back() = NodeHash(hashes_.back(), right);
    index >>= 1;
    completed.push_back({level + 1, index, hashes_.back()});
  }
  ++size_;
  return completed;
}

Bytes CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Bytes hash = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) {
    hash = NodeHash(hashes_[i], hash);
  }
  return hash;
}

Bytes CompactRange::Serialize() const {
  Bytes out;
  out.reserve(kHeaderSize + hashes_.size() * kHashSize);
  out.push_back(kSerializationVersion);
  AppendUint64BE(out, size_);
  for (const Bytes& hash : hashes_) out += hash;
  return out;
}

}  // namespace cbx::merkle
