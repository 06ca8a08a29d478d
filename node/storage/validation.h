// Input checks and own-index bookkeeping shared by every Storage backend, so
// that the backends refuse the same inputs with the same codes and record
// the same index changes (storage.h states the rules).
#ifndef CBX_NODE_STORAGE_VALIDATION_H_
#define CBX_NODE_STORAGE_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Size of an OPRF output y.
inline constexpr size_t kOutputSize = 32;

// Whether a case contributes its tags to the own index.
inline bool IsOpen(const v1::Case& record) {
  return record.status() == v1::CASE_STATUS_OPEN;
}

// INVALID_ARGUMENT unless the case number is set, the status is OPEN or
// CLOSED, every y is kOutputSize bytes and no two identifiers share type and
// normalized value.
absl::Status ValidateCase(const StoredCase& c);

// INVALID_ARGUMENT unless the member is set and the tags strictly ascend.
absl::Status ValidatePeerIndex(const PeerIndex& index);

// INVALID_ARGUMENT unless the member and the manifest are set.
absl::Status ValidateIndexEvidence(const IndexEvidence& evidence);
// INVALID_ARGUMENT if the version is 0 or either directory is empty.
absl::Status ValidateDirectoryEvidence(const DirectoryEvidence& evidence);

// INVALID_ARGUMENT unless the watch id and office are set, every y is
// kOutputSize bytes, every output names a member and no two outputs share
// (member, input).
absl::Status ValidateWatch(const StoredWatch& w);

// INVALID_ARGUMENT if a y is not kOutputSize bytes or one identifier (case
// number, type, normalized value) is named twice.
absl::Status ValidateOutputs(
    const std::vector<std::pair<std::string, StoredIdentifier>>& outputs);

// The net change of each tag's reference count when the identifiers with
// tags `removed` leave the open cases and those with tags `added` join them.
// Sorted by tag; tags whose count does not change are left out.
std::vector<std::pair<Tag, int64_t>> TagDeltas(const std::vector<Tag>& removed,
                                               const std::vector<Tag>& added);

// The tags of a case's identifiers if it is open, none otherwise.
std::vector<Tag> OpenTags(const StoredCase& c);

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_VALIDATION_H_
