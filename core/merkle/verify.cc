#include "core/merkle/verify.h"

#include <bit>

#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/util/status_macros.h"

namespace cbx::merkle {
namespace {

// The proof of leaf `index` in the tree of `size` leaves has `inner` hashes
// below the level where the paths to `index` and to the last leaf meet (each
// a sibling, left or right), then `border` hashes along the right edge (one
// per left sibling; a lone right-edge node is promoted without a hash).
struct PathShape {
  int inner;
  int border;
};

PathShape ShapeOf(uint64_t index, uint64_t size) {
  const int inner = std::bit_width(index ^ (size - 1));
  return {inner, std::popcount(index >> inner)};
}

absl::Status CheckElements(const std::vector<Bytes>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kHashSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("proof element ", i, " is not 32 bytes"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLength(size_t got, size_t want) {
  if (got != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("proof has ", got, " hashes, expected ", want));
  }
  return absl::OkStatus();
}

absl::Status CheckMatch(std::string_view calculated, std::string_view expected,
                        const char* what) {
  if (calculated != expected) {
    return absl::DataLossError(absl::StrCat(
        "proof does not match ", what, ": calculated ", HexEncode(calculated),
        ", expected ", HexEncode(expected)));
  }
  return absl::OkStatus();
}

// Hashes `seed`, the node at `index` on its level, with proof[begin, end),
// one level per element, taking the side from the bits of `index`.
Bytes ChainInner(Bytes seed, const std::vector<Bytes>& proof, size_t begin,
                 size_t end, uint64_t index) {
  for (size_t i = begin; i < end; ++i, index >>= 1) {
    seed =
        (index & 1) == 0 ? NodeHash(seed, proof[i]) : NodeHash(proof[i], seed);
  }
  return seed;
}

// Like ChainInner but only with the left siblings: this yields the node as
// it was in the smaller tree whose last leaf is on this path.
Bytes ChainInnerRight(Bytes seed, const std::vector<Bytes>& proof, size_t begin,
                      size_t end, uint64_t index) {
  for (size_t i = begin; i < end; ++i, index >>= 1) {
    if ((index & 1) == 1) seed = NodeHash(proof[i], seed);
  }
  return seed;
}

// Along the right edge every proof hash is a left sibling.
Bytes ChainBorderRight(Bytes seed, const std::vector<Bytes>& proof,
                       size_t begin) {
  for (size_t i = begin; i < proof.size(); ++i) seed = NodeHash(proof[i], seed);
  return seed;
}

}  // namespace

absl::StatusOr<Bytes> RootFromInclusionProof(uint64_t index, uint64_t size,
                                             std::string_view leaf_hash,
                                             const std::vector<Bytes>& proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below the tree size ", size));
  }
  if (leaf_hash.size() != kHashSize) {
    return absl::InvalidArgumentError("leaf hash is not 32 bytes");
  }
  const PathShape shape = ShapeOf(index, size);
  RETURN_IF_ERROR(CheckLength(proof.size(), shape.inner + shape.border));
  RETURN_IF_ERROR(CheckElements(proof));
  Bytes hash = ChainInner(Bytes(leaf_hash), proof, 0, shape.inner, index);
  return ChainBorderRight(std::move(hash), proof, shape.inner);
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             std::string_view leaf_hash,
                             const std::vector<Bytes>& proof,
                             std::string_view root) {
  ASSIGN_OR_RETURN(Bytes calculated,
                   RootFromInclusionProof(index, size, leaf_hash, proof));
  return CheckMatch(calculated, root, "the root");
}

absl::StatusOr<Bytes> RootFromConsistencyProof(uint64_t size1, uint64_t size2,
                                               const std::vector<Bytes>& proof,
                                               std::string_view root1) {
  // size1 == 0 is checked before the equal-sizes shortcut, so 0 -> 0 fails
  // too (as in current transparency-dev/merkle; a literal reading of RFC
  // 9162 would accept it).
  if (size1 == 0) {
    return absl::InvalidArgumentError(
        "consistency with the empty tree proves nothing");
  }
  if (size2 < size1) {
    return absl::InvalidArgumentError(
        absl::StrCat("size2 ", size2, " is smaller than size1 ", size1));
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          "sizes are equal but the proof is not empty");
    }
    return Bytes(root1);
  }
  if (proof.empty()) return absl::InvalidArgumentError("empty proof");

  // The proof is a suffix of the inclusion proof of leaf size1 - 1 in the
  // tree of size2, starting at level `shift`, where the smallest perfect
  // subtree of the old tree sits. Its hash comes first in the proof unless
  // that subtree is the whole old tree (then it is root1).
  const uint64_t last = size1 - 1;
  const int shift = std::countr_zero(size1);
  PathShape shape = ShapeOf(last, size2);
  shape.inner -= shift;  // inner > shift whenever size1 < size2
  const bool seed_is_root1 = size1 == uint64_t{1} << shift;
  const size_t start = seed_is_root1 ? 0 : 1;
  RETURN_IF_ERROR(
      CheckLength(proof.size(), start + shape.inner + shape.border));
  RETURN_IF_ERROR(CheckElements(proof));
  const Bytes seed = seed_is_root1 ? Bytes(root1) : proof[0];
  const uint64_t mask = last >> shift;
  const size_t inner_end = start + shape.inner;

  Bytes hash1 = ChainInnerRight(seed, proof, start, inner_end, mask);
  hash1 = ChainBorderRight(std::move(hash1), proof, inner_end);
  RETURN_IF_ERROR(CheckMatch(hash1, root1, "root1"));

  Bytes hash2 = ChainInner(seed, proof, start, inner_end, mask);
  return ChainBorderRight(std::move(hash2), proof, inner_end);
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               const std::vector<Bytes>& proof,
                               std::string_view root1, std::string_view root2) {
  ASSIGN_OR_RETURN(Bytes calculated,
                   RootFromConsistencyProof(size1, size2, proof, root1));
  return CheckMatch(calculated, root2, "root2");
}

}  // namespace cbx::merkle
