#include "core/merkle/hash.h"

#include <cstring>

#include "core/crypto/sha256.h"

namespace cbx::merkle {

const Bytes& EmptyRoot() {
  static const Bytes* const kEmpty = new Bytes(crypto::Sha256(""));
  return *kEmpty;
}

Bytes LeafHash(std::string_view leaf) {
  static constexpr char kLeafPrefix[] = {'\x00'};
  return crypto::Sha256Concat({std::string_view(kLeafPrefix, 1), leaf});
}

Bytes NodeHash(std::string_view left, std::string_view right) {
  // The common case (two 32-byte children) is one-shot hashed from a stack
  // buffer: this is the hot path of tree building and proof verification.
  if (left.size() == kHashSize && right.size() == kHashSize) {
    char buf[1 + 2 * kHashSize];
    buf[0] = '\x01';
    std::memcpy(buf + 1, left.data(), kHashSize);
    std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
    return crypto::Sha256(std::string_view(buf, sizeof(buf)));
  }
  return crypto::Sha256Concat({std::string_view("\x01", 1), left, right});
}

}  // namespace cbx::merkle
