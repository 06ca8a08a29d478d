// MemoryStorage's standing watches (spec/cooperation.md §4): a value the
// storage holds under its mutex and copies before each transaction (its
// undo), with the contracts of StorageTransaction's watch methods.
//
// Threading: none of its own; the owner serializes every call.
#ifndef CBX_NODE_STORAGE_MEMORY_WATCHES_H_
#define CBX_NODE_STORAGE_MEMORY_WATCHES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/storage.h"

namespace cbx::node {

class MemoryWatches {
 public:
  absl::Status Add(const StoredWatch& w);
  absl::StatusOr<StoredWatch> Get(const std::string& id) const;
  absl::Status Update(const v1::Watch& record);
  absl::Status Delete(const std::string& id);
  std::vector<v1::Watch> List(const std::string& office) const;
  std::vector<WatchedOutput> OutputsOf(const std::string& member) const;
  absl::Status SetResolved(const std::string& id, const std::string& member,
                           uint32_t input, uint64_t version);
  void DeleteOutputs(const std::string& id, const std::string& member);
  std::vector<std::string> Expired(int64_t now_ms, size_t limit) const;

 private:
  // Outputs kept ordered by (member, input), as GetWatch returns them.
  std::map<std::string, StoredWatch> watches_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_MEMORY_WATCHES_H_
