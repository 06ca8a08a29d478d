// A merkle::HashSource over the perfect subtrees an AuditStore holds, as of
// one tree size: SubtreeHash answers only for subtrees complete in the tree
// of that size, and a complete subtree whose row is missing is DATA_LOSS (a
// row was deleted). Hashes of level >= cache_min_level are kept in `cache` (if
// given) once read: they never change, and the upper levels are the ones
// every proof reads.
//
// Not thread-safe: it uses the store and the cache as they are; the owner
// holds the lock that guards both for as long as the source is used.
#ifndef CBX_NODE_AUDIT_STORED_HASH_SOURCE_H_
#define CBX_NODE_AUDIT_STORED_HASH_SOURCE_H_

#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/merkle/hash_source.h"
#include "core/util/bytes.h"
#include "node/audit/audit_store.h"

namespace cbx::node::audit {

using SubtreeCache = absl::flat_hash_map<std::pair<uint64_t, uint64_t>, Bytes>;

class StoredHashSource : public merkle::HashSource {
 public:
  StoredHashSource(AuditStore& store, uint64_t size,
                   SubtreeCache* cache = nullptr, uint64_t cache_min_level = 64)
      : store_(store),
        size_(size),
        cache_(cache),
        cache_min_level_(cache_min_level) {}

  // OUT_OF_RANGE if the subtree is not complete in the tree of size(); the
  // store's error; DATA_LOSS if its row is missing or not 32 bytes.
  absl::StatusOr<Bytes> SubtreeHash(uint64_t level,
                                    uint64_t index) const override;

  uint64_t size() const { return size_; }

 private:
  AuditStore& store_;
  const uint64_t size_;
  SubtreeCache* const cache_;
  const uint64_t cache_min_level_;
};

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_STORED_HASH_SOURCE_H_
