// How the node moves to a new directory version (spec/directory.md §5.3,
// §8): each version is verified against the current one, written to
// node.db durably, and only then made current; the directory listeners
// (NodeContext::AddDirectoryListener) are told afterwards. A second version
// with an adopted number that the governance validly signed is an
// equivocation: refused, both versions kept as evidence in node.db, an
// ALERT-directory-equivocation log line raised once per distinct version,
// and shown in `cbx peers` (DirectoryAlert).
//
// A version whose governance signatures hold but that breaks the audit log
// generation rule (spec/directory.md §5.2 step 8: a member's generation
// goes back, skips, changes without its predecessor, or names a predecessor
// checkpoint that does not verify as witnessed) is refused the same way:
// the node stays on its version, raises ALERT-directory-log-generation
// naming the member once per distinct version, keeps the refusal in node.db
// (setting kRefusedVersionsSetting) and shows it in `cbx peers` until it
// adopts a version at least as new (spec/directory.md §5.3).
//
// Stateless functions over a NodeContext; thread-safe (the DirectoryState
// serializes adoptions; a module mutex the refusals kept in node.db).
#ifndef CBX_NODE_DIRECTORY_ADOPTION_H_
#define CBX_NODE_DIRECTORY_ADOPTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "node/node_context.h"
#include "node/storage/storage.h"

namespace cbx::node {

// node.db setting listing the versions refused by the generation rule, one
// line each: "<version>\t<sha256 16 hex>\t<member>\t<served by>\t<why>".
inline constexpr char kRefusedVersionsSetting[] =
    "directory.refused_by_log_generation";

// Adopts `versions`, served by member `served_by`, into ctx.directory:
// verified, persisted (PersistDirectoryVersion), then current; logs
// "directory-adopted" and tells the listeners once if anything was adopted.
// Returns DirectoryState::AdoptVersions' status: OK, the refusal of a bad
// version (it is logged by the caller), a storage failure (logged here as
// "directory-persist-failed"; the old version stays current), or
// FAILED_PRECONDITION for an equivocation (kept as evidence, alert logged
// once per distinct version); INVALID_ARGUMENT naming the member for a
// version the generation rule refuses (kept, alert logged once per distinct
// version).
absl::Status AdoptDirectoryVersions(
    NodeContext& ctx, const std::vector<v1::SignedDirectory>& versions,
    const std::string& served_by);

// Adopts the versions an operator installed into node.db while the node
// runs (already durable); logs and tells the listeners as above. Returns how
// many were adopted, or why a stored one was refused.
absl::StatusOr<int> AdoptInstalledVersions(NodeContext& ctx);

// Adds the directory listener for members changing at runtime
// (spec/directory.md §6): a member a new version removes has its index copy
// dropped from memory and deleted from node.db at once, and is logged
// ("member-removed"); a suspension or reactivation is logged
// ("member-suspended", "member-reactivated"). Nothing else is needed here:
// every index sync, witness round and query fan-out walks the current
// version's active members, so an added or reactivated member is synced
// and witnessed from the next round on, and a suspended one is no longer
// asked, synced or witnessed (its copy is kept, unused, for a delta sync
// if it is reactivated).
void WatchMembership(NodeContext& ctx);

// The equivocation evidence kept: empty if none, otherwise "directory
// equivocation: version N served by XX (adopted sha256 <16 hex>,
// conflicting sha256 <16 hex>); ...".
absl::StatusOr<std::string> EquivocationAlert(Storage& storage);

// The versions newer than `current_version` that the generation rule
// refused: empty if none, otherwise "directory version N (sha256 <16 hex>)
// served by XX not adopted: member MK: <why>; ...".
absl::StatusOr<std::string> RefusedVersionAlert(Storage& storage,
                                                uint64_t current_version);

// For ListPeersResponse.directory_alert: EquivocationAlert and
// RefusedVersionAlert, joined by "; "; empty if both are.
absl::StatusOr<std::string> DirectoryAlert(Storage& storage,
                                           uint64_t current_version);

}  // namespace cbx::node

#endif  // CBX_NODE_DIRECTORY_ADOPTION_H_
