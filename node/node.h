// A running cbx-node: loads its config, keys, storage and directory, serves
// the Peer and Office services on mutual TLS, and runs its background work
// (index sync, directory sync, replay-cache sweeps) on a Boost.Asio
// io_context that also handles SIGTERM/SIGINT (drain and stop).
//
// Threading: Create and Run are called from the main thread; Shutdown may be
// called from any thread (tests use it instead of a signal).
#ifndef CBX_NODE_NODE_H_
#define CBX_NODE_NODE_H_

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "node/config.h"
#include "node/node_context.h"
#include "node/office_service.h"
#include "node/peer_clients.h"
#include "node/peer_service.h"
#include "node/peer_sync.h"
#include "node/query.h"
#include "node/witness.h"

namespace boost::asio {
class io_context;
}

namespace cbx::node {

class Node {
 public:
  // Loads everything `config` names and checks that this node's keys are the
  // ones the directory lists for it. FAILED_PRECONDITION / INVALID_ARGUMENT /
  // NOT_FOUND with a message naming the file or field otherwise.
  static absl::StatusOr<std::unique_ptr<Node>> Create(const Config& config);
  ~Node();

  // Starts both servers. UNAVAILABLE if a port cannot be bound.
  absl::Status Start();
  // Runs background work until a signal or Shutdown(); then drains the
  // servers (in-flight calls finish, within a grace period) and returns.
  void Run();
  // Asks Run to stop. Thread-safe, idempotent.
  void Shutdown();

  NodeContext& context() { return *ctx_; }
  PeerSync& sync() { return *sync_; }

 private:
  explicit Node(std::unique_ptr<NodeContext> ctx);

  std::unique_ptr<NodeContext> ctx_;
  std::unique_ptr<PeerClients> clients_;
  std::unique_ptr<PeerSync> sync_;
  std::unique_ptr<QueryRunner> query_;
  std::unique_ptr<Witness> witness_;
  std::unique_ptr<PeerService> peer_service_;
  std::unique_ptr<OfficeService> office_service_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<grpc::Server> office_server_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::atomic<bool> stopping_{false};
  // Background jobs still running (they finish before Run returns).
  std::atomic<int> background_{0};
};

// Reads a key file: 64 hex characters (32 bytes) and an optional newline.
// INVALID_ARGUMENT naming `field` and the path if it is anything else.
absl::StatusOr<Bytes> ReadKeyFile(const std::string& path,
                                  const std::string& field);

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_H_
