// Verification of inclusion and consistency proofs (RFC 9162 sections
// 2.1.3.2 and 2.1.4.2), with the exact accept/reject rules of
// transparency-dev/merkle's proof/verify.go, so that its published probes
// (tests/vectors/merkle/proof_probes.json) mean the same here.
//
// Status codes:
//   INVALID_ARGUMENT  the inputs cannot describe a valid proof: index >= size,
//                     size1 > size2, size1 == 0, a leaf hash or proof element
//                     that is not 32 bytes, a proof of the wrong length, a
//                     non-empty proof for equal sizes.
//   DATA_LOSS         a well-formed proof that does not lead to the given
//                     root(s). Coming from a log, this is evidence that the
//                     log, or something between it and the verifier,
//                     tampered with the data.
// Pure functions; safe from any thread.
#ifndef CBX_CORE_MERKLE_VERIFY_H_
#define CBX_CORE_MERKLE_VERIFY_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::merkle {

// The root of the tree of `size` leaves implied by `proof` for the leaf
// `index` with hash `leaf_hash`. Requires index < size; the proof length must
// be exactly the one RFC 9162 gives for (index, size).
absl::StatusOr<Bytes> RootFromInclusionProof(uint64_t index, uint64_t size,
                                             std::string_view leaf_hash,
                                             const std::vector<Bytes>& proof);

// OK if `proof` shows that the leaf `index` with hash `leaf_hash` is in the
// tree of `size` leaves whose root is `root`.
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             std::string_view leaf_hash,
                             const std::vector<Bytes>& proof,
                             std::string_view root);

// The root of the tree of `size2` leaves implied by `proof` and the root
// `root1` of the tree of `size1` leaves, after checking that the proof does
// lead back to `root1` (DATA_LOSS if not). Requires 0 < size1 <= size2. For
// size1 == size2 the proof must be empty and `root1` is returned as given.
absl::StatusOr<Bytes> RootFromConsistencyProof(uint64_t size1, uint64_t size2,
                                               const std::vector<Bytes>& proof,
                                               std::string_view root1);

// OK if `proof` shows that the tree of `size2` leaves with root `root2` is an
// append-only extension of the tree of `size1` leaves with root `root1`.
// size1 == 0 fails (INVALID_ARGUMENT): the check would say nothing, and a
// caller that trusts no earlier tree must treat that case itself.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               const std::vector<Bytes>& proof,
                               std::string_view root1, std::string_view root2);

}  // namespace cbx::merkle

#endif  // CBX_CORE_MERKLE_VERIFY_H_
