#include "core/merkle/proof_builder.h"

#include <bit>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/util/status_macros.h"

namespace cbx::merkle {
namespace {

// A perfect subtree from the source, with its length checked: a store that
// hands back a short hash is corrupt, and must not produce a proof.
absl::StatusOr<Bytes> Perfect(const HashSource& source, uint64_t level,
                              uint64_t index) {
  ASSIGN_OR_RETURN(Bytes hash, source.SubtreeHash(level, index));
  if (hash.size() != kHashSize) {
    return absl::DataLossError(absl::StrCat("stored subtree hash (level ",
                                            level, ", index ", index,
                                            ") is not 32 bytes"));
  }
  return hash;
}

// The hash of the leaves [begin, begin + count), count > 0, where `begin` is
// a multiple of the largest power of two not above `count`. Such a range is
// a node of any tree that ends at begin + count: it splits into the perfect
// subtrees given by the bits of `count`, largest (leftmost) first, and its
// hash folds them from the right, as RFC 9162's MTH does.
absl::StatusOr<Bytes> RangeHash(const HashSource& source, uint64_t begin,
                                uint64_t count) {
  std::vector<Bytes> parts;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((count & width) == 0) continue;
    ASSIGN_OR_RETURN(Bytes part, Perfect(source, level, begin >> level));
    parts.push_back(std::move(part));
    begin += width;
  }
  Bytes hash = std::move(parts.back());
  for (size_t i = parts.size() - 1; i-- > 0;) hash = NodeHash(parts[i], hash);
  return hash;
}

// The hash of node (level, index) of the tree of `size` leaves: the perfect
// subtree if it is complete, else the right-edge node that covers
// [index * 2^level, size). Requires index * 2^level < size.
absl::StatusOr<Bytes> NodeAt(const HashSource& source, uint64_t level,
                             uint64_t index, uint64_t size) {
  const uint64_t begin = index << level;
  const uint64_t width = uint64_t{1} << level;
  if (size - begin >= width) return Perfect(source, level, index);
  return RangeHash(source, begin, size - begin);
}

// Appends the path from the node (level `from`, index leaf >> from) up to
// the root of the tree of `size` leaves, where `leaf` < size. Levels below
// `inner` have a sibling (possibly a right-edge node) at every level; from
// `inner` up the path runs along the right edge, where only a left sibling
// (always perfect) adds a hash and a lone right-edge node is promoted as is.
absl::Status AppendPath(const HashSource& source, uint64_t leaf, int from,
                        uint64_t size, std::vector<Bytes>& proof) {
  const int inner = std::bit_width(leaf ^ (size - 1));
  for (int level = from; level < inner; ++level) {
    ASSIGN_OR_RETURN(Bytes sibling,
                     NodeAt(source, level, (leaf >> level) ^ 1, size));
    proof.push_back(std::move(sibling));
  }
  for (int level = inner; level < 64; ++level) {
    const uint64_t node = leaf >> level;
    if ((node & 1) == 0) continue;
    ASSIGN_OR_RETURN(Bytes sibling, Perfect(source, level, node - 1));
    proof.push_back(std::move(sibling));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Bytes> RootHash(const HashSource& source, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return RangeHash(source, 0, size);
}

absl::StatusOr<std::vector<Bytes>> InclusionProof(const HashSource& source,
                                                  uint64_t index,
                                                  uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below the tree size ", size));
  }
  std::vector<Bytes> proof;
  RETURN_IF_ERROR(AppendPath(source, index, 0, size, proof));
  return proof;
}

absl::StatusOr<std::vector<Bytes>> ConsistencyProof(const HashSource& source,
                                                    uint64_t size1,
                                                    uint64_t size2) {
  if (size1 == 0) {
    return absl::InvalidArgumentError(
        "no consistency proof from the empty tree");
  }
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("size1 ", size1, " is greater than size2 ", size2));
  }
  std::vector<Bytes> proof;
  if (size1 == size2) return proof;
  // The old tree is the perfect subtrees given by the bits of size1. Its
  // smallest one, at level `shift`, contains leaf size1 - 1; the proof is
  // that subtree's hash (omitted when it is the whole old tree, which the
  // verifier already holds as root1) followed by the path from it to the
  // new root. This is RFC 9162's SUBPROOF, computed bottom-up.
  const int shift = std::countr_zero(size1);
  const uint64_t last = size1 - 1;
  if (size1 != uint64_t{1} << shift) {
    ASSIGN_OR_RETURN(Bytes seed, Perfect(source, shift, last >> shift));
    proof.push_back(std::move(seed));
  }
  RETURN_IF_ERROR(AppendPath(source, last, shift, size2, proof));
  return proof;
}

}  // namespace cbx::merkle
