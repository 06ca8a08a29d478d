// Tag sets: the node's own index and its copies of peers' indexes
// (spec/index-sync.md).
#ifndef CBX_NODE_TAG_INDEX_H_
#define CBX_NODE_TAG_INDEX_H_

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "core/util/bytes.h"
#include "node/storage/storage.h"

namespace cbx::node {

// SHA-256 of the tags in ascending order, each as 8 big-endian bytes.
Bytes IndexDigest(const std::vector<Tag>& sorted_tags);
// Tags as concatenated 8-byte big-endian values, and back.
Bytes PackTags(const std::vector<Tag>& tags, size_t begin, size_t end);
// INVALID_ARGUMENT unless the length is a multiple of 8.
absl::StatusOr<std::vector<Tag>> UnpackTags(std::string_view packed);

// A copy after a delta: (`sorted_held` without `removed`) with `added`,
// ascending and without repeats, as one linear merge (a delta of 10,000
// tags onto a copy of 1,000,000 costs a pass over the copy, not a sort of
// it). `sorted_held` must ascend; `added` and `removed` may come in any
// order and are sorted here.
std::vector<Tag> ApplyTagDelta(const std::vector<Tag>& sorted_held,
                               std::vector<Tag> added,
                               std::vector<Tag> removed);

// The node's in-memory copies of every peer's index, for the membership test
// of a query. Reads take a shared lock; a sync swaps a whole copy in.
// Thread-safe.
class PeerIndexSet {
 public:
  // Replaces (or adds) the copy of `index.member`.
  void Put(PeerIndex index);
  // True if `member`'s copy holds `tag`; false if no copy is held.
  bool Contains(const std::string& member, Tag tag) const;
  struct Info {
    bool held = false;
    uint32_t oprf_epoch = 0;
    uint64_t version = 0;
    uint64_t count = 0;
    int64_t synced_at_ms = 0;
  };
  // What copy of `member`'s index is held (held = false if none).
  Info Describe(const std::string& member) const;
  // A full copy of `member`'s index (empty PeerIndex if none).
  PeerIndex Get(const std::string& member) const;
  // The held copy itself, without copying its tags (null if none).
  std::shared_ptr<const PeerIndex> Share(const std::string& member) const;
  // The same, and in `*confirmed_ms` when that copy was last confirmed
  // current (Describe's synced_at_ms), read under one lock so that the two
  // belong together; 0 if no copy is held.
  std::shared_ptr<const PeerIndex> Share(const std::string& member,
                                         int64_t* confirmed_ms) const;
  // Drops the copy of `member` (a member removed from the directory).
  void Remove(const std::string& member);
  // Records that `member`'s copy was confirmed current at `at_ms`.
  void Touch(const std::string& member, int64_t at_ms);

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<const PeerIndex>> copies_
      ABSL_GUARDED_BY(mu_);
  // Last confirmation per member (a copy's own synced_at_ms is when it was
  // built).
  std::map<std::string, int64_t> confirmed_ms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_TAG_INDEX_H_
