// Standing watches (spec/cooperation.md §4): an office keeps a query's
// identifiers under watch for a bounded time. Adding a watch runs the
// normal blind evaluation at each peer (LookupQuerier, so it is charged to
// each peer's Evaluate quota) and keeps, per watched identifier and per
// peer, only the finalized OPRF output y and that peer's OPRF epoch — never
// the identifier's value. At each new version of a peer's index copy
// (NodeContext::AddPeerIndexListener, called by index sync) the node tests
// TagOf(y) against it locally, sending nothing; a new hit is resolved
// through the querier's Resolve (within the policy's Resolve quota, counted
// here per peer and day) and stored as a Hit carrying the watch's id.
//
// A peer whose OPRF epoch changed makes its ys useless; since the values
// were never kept, the node cannot evaluate them again: it drops those ys
// and marks the watch "needs refresh" for that peer (the office adds the
// watch again to go on watching it). An expired or removed watch is deleted
// with every y it kept, in the transaction that ends it and writes its
// audit entry.
//
// Audit entries (LOCAL, spec/audit-log.md): Office.AddWatch
// "watch_created", Office.RenewWatch "watch_renewed", Office.RemoveWatch
// "watch_removed", Office.ListWatches "list_watches", Node.WatchExpiry
// "watch_expired", Node.WatchHit "watch_hit", Node.WatchRefresh
// "watch_needs_refresh" — codes and counts only, never an identifier or y.
//
// Threading model: every method is thread-safe. Add blocks its caller for
// one query (LookupQuerier::Run); OnPeerIndex blocks its caller (an index
// sync work item) for at most one Resolve per watch that hit; the rest are
// short storage transactions. Must outlive neither `context` nor `querier`.
#ifndef CBX_NODE_WATCHES_H_
#define CBX_NODE_WATCHES_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "node/identity.h"
#include "node/lookup_querier.h"
#include "node/node_context.h"

namespace cbx::node {

// The policy's watch_max_s when a directory leaves it at 0: 90 days.
inline constexpr uint32_t kDefaultWatchMaxS = 90 * 24 * 3600;
// The longest a watch may run under `policy`, in seconds.
uint32_t WatchMaxS(const v1::Policy& policy);

class Watches {
 public:
  // Uses `context` (directory, clock, storage, peer index copies, audit
  // trail) and asks peers through `querier`; both must outlive this.
  Watches(NodeContext* context, LookupQuerier* querier)
      : ctx_(context), querier_(querier) {}

  // Adds a watch for `caller`: INVALID_ARGUMENT for a duration of 0 or a
  // request Query would refuse (naming the field; nothing is sent);
  // OUT_OF_RANGE for a duration over the policy's watch_max_s;
  // FAILED_PRECONDITION if purpose.case_number is not an open case of the
  // caller's office; then the first evaluation runs at every peer asked
  // and UNAVAILABLE if no peer gave a verified evaluation (nothing is
  // kept). On success the watch and its outputs are stored with their
  // audit entry; the first evaluation's hits are stored as the watch's.
  absl::StatusOr<v1::AddWatchResponse> Add(const v1::AddWatchRequest& request,
                                           const OfficeCaller& caller);
  // The caller's watches by id (expired ones are deleted first).
  absl::StatusOr<std::vector<v1::Watch>> List(const OfficeCaller& caller);
  // Deletes the caller's watch `id` and its outputs; returns its record.
  // NOT_FOUND for no such watch, PERMISSION_DENIED for another office's.
  absl::StatusOr<v1::Watch> Remove(const std::string& id,
                                   const OfficeCaller& caller);
  // Gives the caller's watch a new purpose and a new expiry (now +
  // duration_s). As Add for the duration and the purpose's case; NOT_FOUND
  // and PERMISSION_DENIED as Remove; INVALID_ARGUMENT if the purpose is the
  // one the watch has (renewal needs a new purpose).
  absl::StatusOr<v1::Watch> Renew(const v1::RenewWatchRequest& request,
                                  const OfficeCaller& caller);

  // The peer index listener: tests the outputs of `copy->member` kept by
  // each unexpired watch against `copy` and resolves the new hits (see
  // the file comment). Failures are written to the event log and retried
  // at the peer's next version.
  void OnPeerIndex(const std::shared_ptr<const PeerIndex>& copy);

  // Deletes every watch whose expiry has passed, each with its outputs and
  // its audit entry in one transaction; returns how many. For the node's
  // timer (and run before List and OnPeerIndex).
  absl::StatusOr<int64_t> ExpireDue();

 private:
  // A refusal before any change: logged LOCAL `rpc`/`kind` with its code,
  // then returned (AuditFailure if it could not be logged). The entry's
  // user is `person` (the caller's staff identifier; empty: none).
  absl::Status Refuse(std::string_view rpc, std::string_view kind,
                      const std::string& office, const absl::Status& refusal,
                      const std::string& person = "");
  // `change` and its audit entry (LOCAL `rpc`/`kind`, `counts`, user
  // `person`) in one transaction (log before effect,
  // node/log_before_effect.h).
  absl::Status Logged(std::string_view rpc, std::string_view kind,
                      const std::string& office, AuditCounts counts,
                      const std::function<absl::Status(StorageTransaction&)>&
                          change,
                      const std::string& person = "");
  // OUT_OF_RANGE / INVALID_ARGUMENT for a duration outside 1..watch_max_s.
  absl::Status CheckDuration(uint32_t duration_s) const;
  // FAILED_PRECONDITION unless `purpose` names an open case of `office`;
  // INVALID_ARGUMENT for a purpose Query would refuse.
  absl::Status CheckPurposeCase(const v1::Purpose& purpose,
                                const std::string& office);
  // The caller's watch `id`: NOT_FOUND, or PERMISSION_DENIED for another
  // office's.
  absl::StatusOr<StoredWatch> Owned(const std::string& id,
                                    const OfficeCaller& caller);
  // One watch's part of OnPeerIndex.
  absl::Status TestWatch(const std::string& id,
                         const std::shared_ptr<const PeerIndex>& copy);
  // Drops watch `id`'s outputs of `member` (its OPRF epoch changed) and
  // marks the watch "needs refresh" for it.
  absl::Status MarkNeedsRefresh(const std::string& id,
                                const std::string& member, uint32_t outputs);
  // How many of `wanted` resolves of `member` today's watch quota allows;
  // charges them.
  absl::StatusOr<uint32_t> ChargeResolves(const std::string& member,
                                          uint32_t wanted);

  NodeContext* ctx_;
  LookupQuerier* querier_;
  // One expiry pass at a time (the timer, listings and index versions of
  // several peers may all start one): a watch is ended once, by one.
  std::mutex expiry_mu_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_WATCHES_H_
