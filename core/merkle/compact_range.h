// The O(log n) state of an append-only Merkle tree: the hashes of the perfect
// subtrees along its right edge (one per set bit of the size, largest first).
//
// This is all a log needs in memory to append leaves and compute the current
// root; every hash it ever held is reported by Append so that a store can
// persist the full set of perfect subtrees (see hash_source.h) from which
// proofs are served. Serialize/Parse let a restarted node resume without
// rehashing the log; FromHashSource rebuilds the state from a store instead.
//
// A value type. Not thread-safe: callers serialize Append with their own
// lock (the log appends from one writer anyway).
#ifndef CBX_CORE_MERKLE_COMPACT_RANGE_H_
#define CBX_CORE_MERKLE_COMPACT_RANGE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/merkle/hash_source.h"
#include "core/util/bytes.h"

namespace cbx::merkle {

// The hash of the complete subtree of 2^level leaves starting at leaf
// index * 2^level: one row of a perfect-subtree store.
struct PerfectSubtree {
  uint64_t level = 0;
  uint64_t index = 0;
  Bytes hash;

  friend bool operator==(const PerfectSubtree&,
                         const PerfectSubtree&) = default;
};

class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // The state of the tree of `size` leaves, read from popcount(size) perfect
  // subtrees of `source`. Errors are the source's, or DATA_LOSS for a stored
  // hash that is not 32 bytes.
  static absl::StatusOr<CompactRange> FromHashSource(const HashSource& source,
                                                     uint64_t size);

  // Parses the output of Serialize. INVALID_ARGUMENT unless `serialized` is
  // exactly: version byte 0x01, the size as 8 bytes big-endian, then
  // popcount(size) 32-byte hashes, largest subtree first. The hashes are not
  // authenticated: compare Root() with the last signed checkpoint.
  static absl::StatusOr<CompactRange> Parse(std::string_view serialized);

  // Appends the leaf with hash `leaf_hash` (32 bytes, else INVALID_ARGUMENT;
  // OUT_OF_RANGE once the tree holds 2^64 - 1 leaves). On success returns
  // every perfect subtree completed by this leaf, lowest level first: the
  // leaf itself (level 0, index = old size) and each subtree it closes.
  absl::StatusOr<std::vector<PerfectSubtree>> Append(
      std::string_view leaf_hash);

  // MTH of the current tree; EmptyRoot() when empty.
  Bytes Root() const;

  uint64_t size() const { return size_; }

  // The right-edge perfect subtree hashes, largest (leftmost) first.
  const std::vector<Bytes>& hashes() const { return hashes_; }

  Bytes Serialize() const;

  friend bool operator==(const CompactRange&, const CompactRange&) = default;

 private:
  CompactRange(uint64_t size, std::vector<Bytes> hashes)
      : size_(size), hashes_(std::move(hashes)) {}

  uint64_t size_ = 0;
  std::vector<Bytes> hashes_;
};

}  // namespace cbx::merkle

#endif  // CBX_CORE_MERKLE_COMPACT_RANGE_H_
