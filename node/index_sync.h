// Background pulls from peers: each peer's tag index (a signed manifest and
// a delta or a full copy, spec/index-sync.md) and newer directory versions.
// A copy changes only when the result matches the peer's signed manifest
// and the manifest is within the policy's caps (spec/index-sync.md,
// "Caps"): the stream is judged part by part and stopped at the first part
// that breaks a cap, so a peer can make this node hold at most the cap's
// tags; the offending signed manifest is kept as evidence and the peer's
// index alert raised.
//
// Threading model: SyncIndex and SyncDirectory block their caller for at
// most one call's budget. SyncAll posts one work item per peer to the
// executor and returns at once, so a dead peer holds up only its own item
// (and one of the executor's threads, for its budget); at most one sync per
// peer is in flight. Thread-safe.
#ifndef CBX_NODE_INDEX_SYNC_H_
#define CBX_NODE_INDEX_SYNC_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "node/executor.h"
#include "node/node_context.h"
#include "node/peer_transport.h"

namespace cbx::node {

// How often this node pulls each peer's index, in ms: `config`'s
// sync.index_interval_ms, or, left at its default (2000), that default
// paced with the `active_peers` (spec/node-config.md "Background work at
// federation size"): max(2000, 250 x active_peers). Node's timer and the
// querier's "older than expected" (spec/office-api.md §4.5) both use it.
int64_t IndexSyncIntervalMs(const Config& config, size_t active_peers);

// How often this node asks its peers for newer directory versions, in ms:
// `config`'s sync.directory_interval_ms, or, left at its default (10000),
// max(10000, 1000 x active_peers) (the same section). An installed version
// is adopted every sync.directory_interval_ms regardless.
int64_t DirectorySyncIntervalMs(const Config& config, size_t active_peers);

class IndexSync {
 public:
  // Uses `context` for this node's identity and keys, directory, clock,
  // storage (the copies, directory versions, the replay cache), peer index
  // copies and audit trail; pulls through `transport`; SyncAll posts to
  // `executor`. All three must outlive this.
  IndexSync(NodeContext* context, PeerTransport* transport, Executor* executor)
      : ctx_(context), transport_(transport), executor_(executor) {}

  // Loads the stored index copies into memory (at start-up).
  absl::Status LoadStoredIndexes();
  // Pulls `member`'s index once; the copy changes only if the result
  // matches the signed manifest.
  absl::Status SyncIndex(const std::string& member);
  // Asks `member` for directory versions newer than ours and adopts them.
  absl::Status SyncDirectory(const std::string& member);
  // Posts SyncIndex (and, if `directory`, SyncDirectory first) for every
  // active peer that has no sync in flight, one work item each, and returns
  // at once: a slow or dead peer holds up only its own sync. May be called
  // from a work item of the executor (it never waits for the items).
  void SyncAll(bool directory);
  // The directory listener (NodeContext::AddDirectoryListener): for each
  // peer whose OPRF epoch changed (a key rotation, spec/index-sync.md
  // "Epoch change"), drops the held copy at once — in memory and in
  // storage; queries to that peer then say "index sync pending", never a
  // miss — keeping its growth baseline, and posts a full pull of the new
  // epoch's index without waiting for the interval.
  void OnDirectory(const directory::Directory& before,
                   const directory::Directory& after);
  // Waits until every sync started by SyncAll has finished. Not from a work
  // item of the executor.
  void Drain();

  // The last index sync error for `member` ("" after a success).
  std::string LastError(const std::string& member) const;
  // Why `member`'s index was last refused under the caps, and since when;
  // "" if none was, or if a later index was accepted. Survives a restart
  // through the stored evidence (LoadStoredIndexes).
  std::string IndexAlert(const std::string& member) const;

 private:
  class Stream;

  void Record(const std::string& member, const absl::Status& status);
  // Posts one sync of `member` (its directory first if `directory`) unless
  // one is in flight; false if the executor is shutting down.
  bool PostSync(const std::string& member, bool directory);
  // Replaces the copy with the stream's result if it matches the manifest.
  absl::Status ApplyIndexStream(const std::string& member, uint32_t epoch,
                                const PeerIndex& held, bool have_epoch,
                                Stream& stream);
  // A cap broken by `stream`: the alert (once per offending manifest) and
  // the evidence.
  void RaiseAlert(const std::string& member, const Stream& stream);
  // Clears `member`'s index alert (its index was accepted).
  void ClearAlert(const std::string& member);

  NodeContext* ctx_;
  PeerTransport* transport_;
  Executor* executor_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> last_error_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  // Per member with an index alert: since when, why (the latest refusal),
  // and the manifest last alerted for (version, count, digest, ...), so
  // that one manifest alerts once however often it is served.
  struct Alert {
    int64_t since_ms = 0;
    std::string reason;
    std::string manifest_key;
  };
  std::map<std::string, Alert> index_alert_ ABSL_GUARDED_BY(mu_);
  std::condition_variable idle_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_INDEX_SYNC_H_
