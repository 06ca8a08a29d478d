// Background pulls from peers: each peer's tag index (a signed manifest and
// a delta or a full copy, spec/index-sync.md) and newer directory versions.
// Thread-safe; SyncAll runs one thread per peer so a dead peer costs only
// its own deadline.
#ifndef CBX_NODE_PEER_SYNC_H_
#define CBX_NODE_PEER_SYNC_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "node/node_context.h"
#include "node/peer_clients.h"

namespace cbx::node {

class PeerSync {
 public:
  PeerSync(NodeContext* context, PeerClients* peers)
      : ctx_(context), peers_(peers) {}

  // Loads the stored index copies into memory (at start-up).
  absl::Status LoadStoredIndexes();
  // Pulls `member`'s index once; the copy changes only if the result
  // matches the signed manifest.
  absl::Status SyncIndex(const std::string& member);
  // Asks `member` for directory versions newer than ours and adopts them.
  absl::Status SyncDirectory(const std::string& member);
  // Starts SyncIndex (and, if `directory`, SyncDirectory) with every active
  // peer that has no sync in flight, each on a thread of its own, and
  // returns at once: a slow or dead peer holds up only its own sync.
  void SyncAll(bool directory);
  // Waits until every sync started by SyncAll has finished.
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
  PeerClients* peers_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> last_error_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  std::condition_variable idle_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_SYNC_H_
