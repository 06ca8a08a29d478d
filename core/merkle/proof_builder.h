// Roots and proofs (RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1) built from
// a HashSource that stores the perfect subtrees of the tree.
//
// Each call reads O(log size) subtree hashes and computes at most O(log size)
// interior hashes for the incomplete right edge. The functions keep no state;
// they are as thread-safe as the HashSource they read.
//
// Errors: INVALID_ARGUMENT for arguments that name no proof (index >= size,
// size1 > size2, size1 == 0); DATA_LOSS if the source returns a hash that is
// not 32 bytes; otherwise the source's own error, unchanged.
#ifndef CBX_CORE_MERKLE_PROOF_BUILDER_H_
#define CBX_CORE_MERKLE_PROOF_BUILDER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/merkle/hash_source.h"
#include "core/util/bytes.h"

namespace cbx::merkle {

// MTH(D[0:size]): EmptyRoot() for size 0.
absl::StatusOr<Bytes> RootHash(const HashSource& source, uint64_t size);

// PATH(index, D[0:size]): the audit path of leaf `index` in the tree of
// `size` leaves, the leaf's sibling first and the root's child last.
absl::StatusOr<std::vector<Bytes>> InclusionProof(const HashSource& source,
                                                  uint64_t index,
                                                  uint64_t size);

// PROOF(size1, D[0:size2]) for 0 < size1 <= size2; empty when the sizes are
// equal. size1 == 0 is INVALID_ARGUMENT: every tree extends the empty tree,
// and the verifier contract (verify.h) rejects that case.
absl::StatusOr<std::vector<Bytes>> ConsistencyProof(const HashSource& source,
                                                    uint64_t size1,
                                                    uint64_t size2);

}  // namespace cbx::merkle

#endif  // CBX_CORE_MERKLE_PROOF_BUILDER_H_
