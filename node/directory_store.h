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

// Persists every version `state` adopted after `since` (already verified
// by the state, so nothing is verified again).
absl::Status SaveAdoptedVersions(Storage& storage,
                                 const directory::DirectoryState& state,
                                 uint64_t since);

// Adopts every version stored after `state`'s current one (for example
// one an operator installed with InstallDirectory while the node runs).
// Returns how many were adopted.
absl::StatusOr<int> AdoptStoredVersions(Storage& storage,
                                        directory::DirectoryState& state);

// What an operator runs to install a directory update that k governance
// members signed: verifies `next` as the successor of the newest version in
// the node's database (pinned genesis + stored updates) and stores it. A
// running node adopts it within one directory interval and serves it to its
// peers. FAILED_PRECONDITION if it is not the next version (or is already
// installed); UNAUTHENTICATED if too few valid governance signatures.
absl::StatusOr<uint64_t> InstallDirectory(Storage& storage,
                                          const v1::SignedDirectory& genesis,
                                          const v1::SignedDirectory& next);

// Verifies the pinned `genesis`, then adopts every stored later version in
// order. A stored genesis that differs from the pinned one is
// FAILED_PRECONDITION (the node was pointed at another federation).
absl::StatusOr<std::unique_ptr<directory::DirectoryState>> LoadDirectoryState(
    Storage& storage, const v1::SignedDirectory& genesis);

}  // namespace cbx::node

#endif  // CBX_NODE_DIRECTORY_STORE_H_
