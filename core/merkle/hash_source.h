// Where proof building reads the tree from.
//
// The tree is stored as its *perfect subtrees*: for every level L and index i
// such that the leaves [i*2^L, (i+1)*2^L) all exist, the RFC 9162 hash of
// those 2^L leaves. Level 0 holds the leaf hashes. A node of the tree of size
// n that is not perfect lies on the right edge and is recomputed from at most
// log2(n) perfect subtrees, so a store that keeps exactly these hashes (about
// 2n of them, each written once and never changed) serves any root, inclusion
// or consistency proof with O(log n) reads. CompactRange::Append reports each
// perfect subtree as it becomes complete, which is what a store persists.
#ifndef CBX_CORE_MERKLE_HASH_SOURCE_H_
#define CBX_CORE_MERKLE_HASH_SOURCE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::merkle {

class HashSource {
 public:
  virtual ~HashSource() = default;

  // The 32-byte hash of the complete, aligned subtree of 2^level leaves that
  // starts at leaf index * 2^level. Implementations return OUT_OF_RANGE (or
  // NOT_FOUND) when that subtree is not complete yet, and any other error
  // for a failing store; proof builders pass the error through unchanged.
  // Thread-safety is the implementation's to state.
  virtual absl::StatusOr<Bytes> SubtreeHash(uint64_t level,
                                            uint64_t index) const = 0;
};

}  // namespace cbx::merkle

#endif  // CBX_CORE_MERKLE_HASH_SOURCE_H_
