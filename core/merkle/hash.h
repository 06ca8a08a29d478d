// RFC 9162 section 2.1.1 hashing for the audit log's Merkle tree (SHA-256).
//
//   MTH({})      = SHA-256()                      EmptyRoot()
//   leaf hash    = SHA-256(0x00 || leaf)          LeafHash(leaf)
//   interior     = SHA-256(0x01 || left || right) NodeHash(left, right)
//
// The distinct prefixes keep a leaf from being passed off as an interior node
// (second-preimage resistance). Pure functions, safe from any thread.
#ifndef CBX_CORE_MERKLE_HASH_H_
#define CBX_CORE_MERKLE_HASH_H_

#include <cstddef>
#include <string_view>

#include "core/util/bytes.h"

namespace cbx::merkle {

// Every hash in the tree (leaf, interior, root) is 32 bytes.
inline constexpr size_t kHashSize = 32;

// SHA-256 of the empty string: the root of the tree of size 0.
const Bytes& EmptyRoot();

// SHA-256(0x00 || leaf): the hash of one leaf's data.
Bytes LeafHash(std::string_view leaf);

// SHA-256(0x01 || left || right). Any lengths are hashed as given, so a
// verifier fed a malformed proof computes a (wrong) root instead of failing.
Bytes NodeHash(std::string_view left, std::string_view right);

}  // namespace cbx::merkle

#endif  // CBX_CORE_MERKLE_HASH_H_
