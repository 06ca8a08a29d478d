// What every part of a running node shares: its identity, keys, directory,
// storage and peer index copies. Built once by Node (node/node.h); the
// pointed-to objects outlive every service and thread that uses them.
//
// The admission adapters (node/admission.h) and the status mapping
// (node/grpc_status.h) live in their own files; this header includes both
// for the code that still reaches them through it. New code includes them
// directly.
#ifndef CBX_NODE_NODE_CONTEXT_H_
#define CBX_NODE_NODE_CONTEXT_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cbx/v1/message.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/directory/directory.h"
#include "core/directory/directory_state.h"
#include "core/envelope/envelope.h"
#include "core/util/clock.h"
#include "node/admission.h"  // IWYU pragma: export
#include "node/audit/audit_log.h"
#include "node/audit_trail.h"
#include "node/certificates_seen.h"
#include "node/config.h"
#include "node/grpc_status.h"  // IWYU pragma: export
#include "node/node_signing_keys.h"
#include "node/oprf_keys.h"
#include "node/peer_endpoints.h"
#include "node/storage/storage.h"
#include "node/tag_index.h"

namespace cbx::node {

class TlsCredentials;  // node/tls_credentials.h

struct NodeContext {
  Config config;
  // The node signing keys and the rule choosing which signs
  // (node/node_signing_keys.h): seal envelopes with signing_keys->Seal,
  // sign checkpoints and cosignatures with every key of AllValid().
  std::unique_ptr<NodeSigningKeys> signing_keys;
  // The OPRF key loaded at start (keys.oprf_key); services use oprf_keys
  // when it is set (a node that rotates, spec/oprf.md §2) and this
  // otherwise (in-process tests).
  std::unique_ptr<crypto::OprfServerKey> oprf_key;
  std::unique_ptr<OprfKeys> oprf_keys;
  std::unique_ptr<directory::DirectoryState> directory;
  std::unique_ptr<Storage> storage;
  const Clock* clock = &SystemClock::Get();
  PeerIndexSet peer_indexes;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<AuditTrail> audit_trail;
  // The generation of this node's audit log (spec/audit-log.md §12), as
  // node.db records it: its checkpoints' origin is
  // logcheck::LogOrigin(self(), audit_generation). Set at start.
  uint32_t audit_generation = 1;
  // PEM text of the node's TLS certificate and key (client side to peers)
  // as read at start; when `tls` is set (a running Node), PeerClients takes
  // the identity in use from it instead, which follows reloads.
  std::string tls_certificate_pem;
  std::string tls_private_key_pem;
  TlsCredentials* tls = nullptr;  // owned by Node; null in unit tests
  // The certificates peers presented (ListPeers); shared with the handshake
  // verifiers of PeerClients, which may outlive this context.
  std::shared_ptr<CertificatesSeen> certificates_seen =
      std::make_shared<CertificatesSeen>();
  // Which endpoint of each peer answered last (spec/directory.md §7.1): the
  // one PeerClients' calls try first, shown on /metrics.
  std::shared_ptr<PeerEndpointsInUse> peer_endpoints =
      std::make_shared<PeerEndpointsInUse>();

  const std::string& self() const { return config.member; }
  // This member's OPRF epoch in the current directory.
  uint32_t OprfEpoch() const;
  // Lifetime given to envelopes this node sends: the policy's maximum.
  int64_t MessageLifetimeMs() const;
  // A header from this node to `to`, on behalf of `office` (may be empty)
  // and its acting `person` (Header.user; empty: none).
  v1::Header NewHeader(const std::string& to, const std::string& office,
                       const std::string& person = "") const;

  // What reacts to a newly adopted directory version (trust roots, OPRF
  // key rotation, dropping a suspended member's index, ...). A listener
  // gets the version current before and the one current now; it runs on
  // the thread that adopted, after the version is persisted, and must not
  // block for long (post slow work to an executor). Listeners are added
  // while the node is wired, before its timers start.
  using DirectoryListener = std::function<void(
      const directory::Directory& before, const directory::Directory& after)>;
  void AddDirectoryListener(DirectoryListener listener);
  // Tells every listener that `after` replaced `before` (no-op when both
  // have the same version).
  void DirectoryAdopted(const directory::Directory& before,
                        const directory::Directory& after) const;

  // What reacts to a sync of a peer's index: standing watches
  // (node/watches.h) test their outputs against a copy that changed; the
  // querier settles a peer's version claims (node/version_claims.h) against
  // every copy a sync made or confirmed current.
  struct PeerIndexSync {
    std::shared_ptr<const PeerIndex> copy;  // the copy now held
    // A new version or a new OPRF epoch (else confirmed unchanged).
    bool changed = false;
    int64_t started_ms = 0;  // when the sync began, before its request
  };
  // Told after every sync of a peer's index that succeeded. A listener runs
  // on the syncing thread (an executor work item) and may block for one
  // peer call's budget; added while the node is wired, before its timers
  // start.
  using PeerIndexListener = std::function<void(const PeerIndexSync& sync)>;
  void AddPeerIndexListener(PeerIndexListener listener);
  // Tells every peer index listener of `sync` (no-op for a null copy).
  void PeerIndexSynced(const PeerIndexSync& sync) const;

 private:
  mutable std::mutex listeners_mu_;
  std::vector<DirectoryListener> directory_listeners_;
  std::vector<PeerIndexListener> peer_index_listeners_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_CONTEXT_H_
