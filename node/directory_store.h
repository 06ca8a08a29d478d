// Directory versions kept in storage, so a restarted node resumes at the
// newest version it had adopted (never going back to the genesis).
#ifndef CBX_NODE_DIRECTORY_STORE_H_
#define CBX_NODE_DIRECTORY_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/directory/directory.h"
#include "core/directory/directory_state.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Persists one verified version, before it is made current
// (spec/directory.md §5.3), in one durable storage transaction. OK without
// writing if the same directory bytes are stored under its number already;
// FAILED_PRECONDITION (nothing written) if other bytes are (an operator
// installed another version with that number meanwhile: the node adopts
// the stored one at its next install check, and the pulled one then shows
// as an equivocation). Otherwise OK or the storage failure.
absl::Status PersistDirectoryVersion(Storage& storage,
                                     const directory::Directory& version);

// What DirectoryEvidence.served_by says for a version an operator tried to
// install (cbx-node --install-directory).
inline constexpr char kOperatorInstall[] = "operator install";

// Keeps `e` (the conflicting version served by `served_by`, received at
// `now_ms`) as evidence in storage. Returns true if it is new evidence (the
// caller raises the alarm), false if the same conflicting version was kept
// before, or the storage error.
absl::StatusOr<bool> KeepEquivocation(Storage& storage,
                                      const directory::Equivocation& e,
                                      const std::string& served_by,
                                      int64_t now_ms);

// Adopts every version stored after `state`'s current one (for example
// one an operator installed with InstallDirectory while the node runs).
// Returns how many were adopted.
absl::StatusOr<int> AdoptStoredVersions(Storage& storage,
                                        directory::DirectoryState& state);

// What an operator runs to install a directory update that k governance
// members signed: verifies `next` as the successor of the newest version in
// the node's database (pinned genesis + stored updates) and stores it. A
// running node adopts it within one directory interval and serves it to its
// peers. ALREADY_EXISTS if a version with the same number and the same
// signed contents is installed already (or was fetched from a peer): the
// caller reports it and succeeds. FAILED_PRECONDITION if it is not the next
// version; UNAUTHENTICATED if too few valid governance signatures. A
// version with an installed number, other bytes and valid signatures is an
// equivocation: FAILED_PRECONDITION saying so, and both versions are kept
// as evidence (served_by "operator install") for `cbx peers` to show.
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
