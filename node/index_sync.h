// Background pulls from peers: each peer's tag index (a signed manifest and
// a delta or a full copy, spec/index-sync.md) and newer directory versions.
// A copy changes only when the result matches the peer's signed manifest.
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
  // Waits until every sync started by SyncAll has finished. Not from a work
  // item of the executor.
  void Drain();

  // The last index sync error for `member` ("" after a success).
  std::string LastError(const std::string& member) const;

 private:
  void Record(const std::string& member, const absl::Status& status);
  // Opens the signed manifest, reads the chunks and replaces the copy if
  // the result matches the manifest.
  absl::Status ApplyIndexStream(const std::string& member,
                                const v1::Message& msg, uint32_t epoch,
                                const PeerIndex& held, bool have_epoch,
                                const v1::Envelope& manifest_envelope,
                                const std::vector<v1::IndexChunk>& chunks);

  NodeContext* ctx_;
  PeerTransport* transport_;
  Executor* executor_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> last_error_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  std::condition_variable idle_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_INDEX_SYNC_H_
