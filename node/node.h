// A running cbx-node: loads its config, keys, storage and directory, serves
// the Peer and Office services on mutual TLS, and runs its background work
// (index sync, directory sync, witnessing, checkpoints, replay-cache
// sweeps) on bounded executors (node/executor.h).
//
// Threading: Create and Run are called from the main thread; Shutdown may be
// called from any thread (tests use it instead of a signal). Run's own
// io_context only waits for SIGTERM/SIGINT, and for SIGHUP, on which it
// rereads the TLS files (node/tls_credentials.h) on the main thread.
// Besides gRPC's server threads and the ports' TLS fronts
// (kPeerFrontThreads + kFrontThreads, node/tls_front.h), the node has exactly
// kLookupThreads + kSyncThreads + kLocalThreads threads of its own (and
// kConsoleThreads more with the web console), in three executors (four), so
// that no kind of work can starve another:
//   lookup (kLookupThreads): the per-peer items of office queries; an
//       office's query waits only for its own peers, never behind syncs.
//   sync (kSyncThreads): index and directory pulls (one item per peer) and
//       witness rounds, whose calls to dead peers may each hold a thread
//       for their budget.
//   local (kLocalThreads): the timers and local work: checkpoints, replay-
//       cache sweeps, adopting installed directory versions, and starting
//       each sync round (which posts to `sync` and returns).
//   console (kConsoleThreads, only with console_listen): the web console's
//       queries, each waiting for its peers' items on `lookup` (so never
//       on `lookup` itself), and its hit and inbox pages.
// Run returns only once every executor has finished all its work: no
// thread outlives the node.
#ifndef CBX_NODE_NODE_H_
#define CBX_NODE_NODE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "node/admin_http.h"
#include "node/checkpoints.h"
#include "node/config.h"
#include "node/console/console_server.h"
#include "node/console_audit_pages.h"
#include "node/console_cooperation_pages.h"
#include "node/console_hit_pages.h"
#include "node/console_language.h"
#include "node/console_pages.h"
#include "node/console_query_pages.h"
#include "node/console_watch_pages.h"
#include "node/cooperation.h"
#include "node/executor.h"
#include "node/grpc_peer_transport.h"
#include "node/index_sync.h"
#include "node/lookup_querier.h"
#include "node/node_context.h"
#include "node/office_service.h"
#include "node/oprf_rotation.h"
#include "node/peer_clients.h"
#include "node/peer_service.h"
#include "node/retention.h"
#include "node/storage/pg/pg_fence.h"
#include "node/tls_credentials.h"
#include "node/tls_front.h"
#include "node/watches.h"
#include "node/withdrawal.h"
#include "node/witnessing.h"

namespace boost::asio {
class io_context;
}

namespace cbx::node {

class Node {
 public:
  // The executors' sizes (see the file comment). Lookup: a query asks up
  // to every active member at once and each ask blocks a thread for up to
  // the policy's peer deadline, so 16 lets a federation of 16 peers be
  // asked fully in parallel and two queries share it; beyond that, asks
  // queue (their budget keeps running). Sync: 4 dead peers at a time cost
  // one sync interval each. Local: checkpoints and sweeps are quick and
  // must not overlap.
  static constexpr int kLookupThreads = 16;
  static constexpr int kSyncThreads = 4;
  static constexpr int kLocalThreads = 1;
  // Console: at most this many console queries run at once (each holds a
  // thread while its peers answer); more wait for a thread.
  static constexpr int kConsoleThreads = 4;

  // Loads everything `config` names and checks that this node's keys are the
  // ones the directory lists for it. FAILED_PRECONDITION / INVALID_ARGUMENT /
  // NOT_FOUND with a message naming the file or field otherwise.
  // With `fence` (the active node of a pair, node/leadership.h), every
  // append to the audit log checks it (node/storage/pg/pg_fence.h).
  static absl::StatusOr<std::unique_ptr<Node>> Create(
      const Config& config, std::shared_ptr<const pg::Fence> fence = nullptr);

  // cbx-node --check: what Create checks (key files and their modes, the
  // genesis, the directory versions in node.db, this member's keys in the
  // directory, the TLS certificate, key, office CA and CRLs) without
  // writing anything: no folder, database or <data_dir>/tls file is
  // created or changed. node.db is opened read-only if it exists (the
  // genesis alone is used if not); audit.db is not opened. On success, the
  // lines to print (what was checked and what was not); else Create's
  // error.
  static absl::StatusOr<std::vector<std::string>> Check(const Config& config);
  ~Node();

  // Starts both servers, and the admin endpoint if admin_listen is set
  // (node/admin_http.h; it runs on Run's io_context, on the main thread).
  // UNAVAILABLE if a port cannot be bound; INVALID_ARGUMENT for an
  // admin_listen that is not loopback without admin_allow_non_loopback.
  absl::Status Start();
  // Runs background work until a signal or Shutdown(); then drains the
  // servers (in-flight calls finish, within a grace period) and returns.
  void Run();
  // Asks Run to stop. Thread-safe, idempotent.
  void Shutdown();

  NodeContext& context() { return *ctx_; }
  IndexSync& sync() { return *sync_; }

 private:
  explicit Node(std::unique_ptr<NodeContext> ctx);

  // Creates the transport, executors, domain modules and services.
  absl::Status BuildModules();
  // BuildModules' first part: peer clients and transport, the executors,
  // index sync and the OPRF keys, and their directory listeners.
  absl::Status BuildTransportAndSync();
  // BuildModules' second part: the domain modules and the two services.
  void BuildServices();
  // Opens the admin endpoint on io_ if the config names one.
  absl::Status StartAdmin();
  // Opens the web console on io_ if the config names console_listen.
  absl::Status StartConsole();
  // The console's query, hit, inbox, cooperation and watch pages, on
  // their own executor.
  absl::Status AddConsoleQueryPages(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);
  // Starts the timers of the background work on the local executor.
  void StartTimers();
  // The index and directory sync tick, paced with the federation size if
  // `paced` (sync.index_interval_ms left at its default).
  void StartSyncTimer(bool paced);
  // The wait until the next round that asks the peers for directory
  // versions (paced if sync.directory_interval_ms is left at its default).
  int64_t NextDirectorySyncInMs() const;
  // The checkpoint tick (which also refreshes the signing key).
  void StartCheckpointTimer();
  // Cooperation deadlines, OPRF rotation, retention, withdrawals, watches.
  void StartHousekeepingTimers();
  // The witness rounds, paced with the federation size unless configured.
  void StartWitnessing(bool paced);
  // Stops the executors, each waiting for its work: the background ones,
  // then (once the servers drained) the lookup one.
  void StopBackground();

  std::unique_ptr<NodeContext> ctx_;
  // Before the servers: their credentials call it until they are gone.
  std::unique_ptr<TlsCredentials> tls_;
  std::unique_ptr<PeerClients> clients_;
  std::unique_ptr<GrpcPeerTransport> transport_;
  // Created before, and stopped before the destruction of, the modules
  // whose work they run.
  std::unique_ptr<Executor> lookup_executor_;
  std::unique_ptr<Executor> sync_executor_;
  std::unique_ptr<Executor> local_executor_;
  std::unique_ptr<IndexSync> sync_;
  // OPRF key rotation (spec/oprf.md §2.1); the next key read at start
  // until Start hands it over.
  std::unique_ptr<OprfRotation> rotation_;
  std::unique_ptr<crypto::OprfServerKey> oprf_key_next_;
  // The retention sweep (node/retention.h), on the sync executor's timer.
  std::unique_ptr<Retention> retention_;
  std::unique_ptr<LookupQuerier> query_;
  // Standing watches (node/watches.h): tested at each peer index version,
  // expired on the sync executor's timer.
  std::unique_ptr<Watches> watches_;
  std::unique_ptr<Checkpoints> checkpoints_;
  std::unique_ptr<Witnessing> witnessing_;
  // Before the services, which point to it (node/cooperation.h).
  std::unique_ptr<Cooperation> cooperation_;
  // Before the services, which point to it (node/withdrawal.h).
  std::unique_ptr<Withdrawals> withdrawals_;
  std::unique_ptr<PeerService> peer_service_;
  std::unique_ptr<OfficeService> office_service_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<grpc::Server> office_server_;
  // The ports' TLS fronts (node/tls_front.h), serving the servers above;
  // after them, so destroyed before them.
  std::unique_ptr<TlsFront> peer_front_;
  std::unique_ptr<TlsFront> office_front_;
  std::unique_ptr<boost::asio::io_context> io_;
  // After io_: closed before it is destroyed.
  std::unique_ptr<AdminHttp> admin_;
  // The web console (node/console): its pages (over office_service_'s case
  // book) and the server; after io_, closed before it is destroyed.
  std::unique_ptr<ConsoleLanguage> console_language_;
  std::unique_ptr<CasePages> console_pages_;
  std::unique_ptr<AuditPages> audit_pages_;
  std::unique_ptr<OfficeScope> console_scope_;
  std::unique_ptr<Executor> console_executor_;
  std::unique_ptr<HitPages> console_hits_;
  std::unique_ptr<QueryPages> console_query_;
  std::unique_ptr<CooperationPages> console_cooperation_;
  std::unique_ptr<WatchPages> console_watches_;
  std::unique_ptr<console::ConsoleServer> console_;
  int metrics_collector_ = -1;  // the registry's id; -1: none
  std::atomic<bool> stopping_{false};
};

// The node's two secret keys, read through `env` from the files `config`
// names (keys.node_signing_key, keys.oprf_key) by the one key-file reader
// (core/util/key_file.h, spec/keys.md §3). Each error starts with the config
// field and names the file: FAILED_PRECONDITION if group or others may read
// it (with the chmod to run), INVALID_ARGUMENT if its content is not 64 hex
// digits and an optional LF or, for the OPRF key, the scalar is 0 or not
// below the group order; the Env's code if it cannot be read.
// keys.node_signing_key_next, when the config names it, is read the same
// way into `signing_next`. A signing key given as a PKCS#11 URI
// ("pkcs11:...", core/crypto/pkcs11_signer.h) is opened in its token, its
// errors prefixed with the field likewise.
struct NodeKeys {
  std::shared_ptr<const crypto::Signer> signing;
  std::shared_ptr<const crypto::Signer> signing_next;  // null: none
  std::unique_ptr<crypto::OprfServerKey> oprf;
  // keys.oprf_key_next, if configured (null otherwise); same checks.
  std::unique_ptr<crypto::OprfServerKey> oprf_next;
};
absl::StatusOr<NodeKeys> ReadNodeKeys(const Config& config,
                                      Env* env = Env::Default());

// One node signing key named by config field `field` (for messages):
// `where` is a key file (read as above) or a PKCS#11 URI.
absl::StatusOr<std::shared_ptr<const crypto::Signer>> ReadSigningKey(
    const std::string& where, const std::string& field,
    Env* env = Env::Default());

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_H_
