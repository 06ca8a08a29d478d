// Directory versions kept in storage, so a restarted node resumes at the
// newest version it had adopted (never going back to the genesis).
#ifndef CBX_NODE_DIRECTORY_STORE_H_
#define CBX_NODE_DIRECTORY_STORE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/directory/directory.h"
#include "core/directory/directory_state.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Persists one adopted version.
absl::Status SaveDirectoryVersion(Storage& storage,
                                  const directory::Directory& version);

// Versions after `since` up to `current`, oldest first.
absl::StatusOr<std::vector<v1::SignedDirectory>> LoadDirectoryVersionsAfter(
    Storage& storage, uint64_t since,
    const std::shared_ptr<const directory::Directory>& current);

// Verifies the pinned `genesis`, then adopts every stored later version in
// order. A stored genesis that differs from the pinned one is
// FAILED_PRECONDITION (the node was pointed at another federation).
absl::StatusOr<std::unique_ptr<directory::DirectoryState>> LoadDirectoryState(
    Storage& storage, const v1::SignedDirectory& genesis);

}  // namespace cbx::node

#endif  // CBX_NODE_DIRECTORY_STORE_H_
