// A HashSource that keeps every perfect subtree hash in memory: about 2n
// hashes (64 bytes per leaf; 640 MB for 10 million leaves). For tests,
// benchmarks and tools that rebuild a tree from an export; the node's log
// keeps the same hashes in its database instead.
//
// Not thread-safe for Append; SubtreeHash may be called from several threads
// at once while nothing appends.
#ifndef CBX_CORE_MERKLE_IN_MEMORY_TREE_H_
#define CBX_CORE_MERKLE_IN_MEMORY_TREE_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/merkle/hash_source.h"
#include "core/util/bytes.h"

namespace cbx::merkle {

class InMemoryTree : public HashSource {
 public:
  InMemoryTree() = default;

  // Appends a leaf given its 32-byte leaf hash (INVALID_ARGUMENT otherwise).
  absl::Status AppendLeafHash(std::string_view leaf_hash);

  // Appends a leaf given its data; hashes it with LeafHash.
  void AppendLeaf(std::string_view leaf);

  uint64_t size() const { return size_; }

  // OUT_OF_RANGE unless the subtree is complete in the current tree.
  absl::StatusOr<Bytes> SubtreeHash(uint64_t level,
                                    uint64_t index) const override;

 private:
  // The hashes of one level, in fixed-size chunks so that growing the tree
  // never copies (or transiently doubles) hundreds of megabytes.
  class Level {
   public:
    uint64_t count() const { return count_; }
    void Push(std::string_view hash);
    std::string_view At(uint64_t i) const;

   private:
    static constexpr uint64_t kChunkHashes = uint64_t{1} << 15;  // 1 MiB
    std::vector<std::unique_ptr<char[]>> chunks_;
    uint64_t count_ = 0;
  };

  std::vector<Level> levels_;
  uint64_t size_ = 0;
};

}  // namespace cbx::merkle

#endif  // CBX_CORE_MERKLE_IN_MEMORY_TREE_H_
