// This node's signing keys and the rule that picks the one that signs
// (spec/keys.md §4): of the keys the config names (keys.node_signing_key
// and, during a rotation, keys.node_signing_key_next; each a key file or a
// PKCS#11 URI), the ones the CURRENT directory lists as this member's node
// keys valid NOW (not_before_ms <= now < not_after_ms, 0 = open) may sign.
//
//   - Envelopes are signed by one of them: the newest (the largest
//     not_before_ms; on a tie, the later in the config). So the node
//     switches to the next key as soon as it becomes valid, whether time
//     passed or a directory version listing it was adopted.
//   - Checkpoints and cosignatures are signed by all of them: during the
//     overlap a verifier that has not yet adopted the version listing the
//     new key still finds a signature it can check, and one that has
//     dropped the old key finds the new one.
//   - A key the directory does not list as valid now never signs. With none
//     valid, signing is refused (FAILED_PRECONDITION) and an ALERT line is
//     logged once until a key is valid again.
//
// Each change of the key that signs envelopes is logged once as
// `node-key-switched` (from, to: key ids in hex).
//
// Threading model: immutable keys; the choice is made again on every call
// from the directory and the clock (both thread-safe), and the last choice
// (for the log line) is kept under a mutex. Safe from any thread.
#ifndef CBX_NODE_NODE_SIGNING_KEYS_H_
#define CBX_NODE_NODE_SIGNING_KEYS_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "core/crypto/signer.h"
#include "core/directory/directory.h"
#include "core/directory/directory_state.h"
#include "core/util/bytes.h"
#include "core/util/clock.h"

namespace cbx::node {

class NodeSigningKeys {
 public:
  // One configured key: the config field that names it and the signer.
  struct Key {
    std::string field;  // "keys.node_signing_key", ...
    std::shared_ptr<const crypto::Signer> signer;
    Bytes key_id;  // directory::NodeKeyId of its public key
  };

  // `keys` in config order (must not be empty); `directory` and `clock`
  // must outlive this.
  NodeSigningKeys(std::string member, std::vector<Key> keys,
                  const directory::DirectoryState* directory,
                  const Clock* clock);

  // A single in-memory key (tests, tools): field "keys.node_signing_key".
  static std::unique_ptr<NodeSigningKeys> Single(
      std::string member, crypto::Ed25519PrivateKey key,
      const directory::DirectoryState* directory, const Clock* clock);

  // The key that signs envelopes now (see above). FAILED_PRECONDITION
  // naming the keys and why none may sign.
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> Current() const;

  // Every configured key valid now, the one Current() returns first.
  // FAILED_PRECONDITION as Current().
  absl::StatusOr<std::vector<std::shared_ptr<const crypto::Signer>>> AllValid()
      const;

  // Seals `message` with Current(): its error, or the signer's.
  absl::StatusOr<v1::Envelope> Seal(const v1::Message& message) const;

  // Makes the choice now (logging a switch or the alert): for the directory
  // listener and the node's timers, so that the switch is logged when it
  // happens rather than at the next signature.
  void Refresh() const;

  // Whether at least one configured key is one of `member`'s node keys in
  // `dir` (at any time). Used at start: a node whose keys the directory
  // does not list at all is misconfigured.
  bool AnyListedIn(const directory::Directory& dir) const;

  const std::vector<Key>& keys() const { return keys_; }

 private:
  // Indices into keys_ of the keys valid now in `dir`, newest first.
  std::vector<size_t> ValidNow(const directory::Directory& dir,
                               int64_t now_ms) const;
  // Logs a switch or the alert if the choice changed.
  void Note(const std::vector<size_t>& valid, const directory::Directory& dir,
            int64_t now_ms) const;
  absl::Status NoneValid(const directory::Directory& dir, int64_t now_ms) const;

  const std::string member_;
  const std::vector<Key> keys_;
  const directory::DirectoryState* directory_;
  const Clock* clock_;
  mutable std::mutex mu_;
  // The index of the key that signed last; -1 before the first choice, -2
  // while none is valid (the alert was logged).
  mutable long last_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_SIGNING_KEYS_H_
