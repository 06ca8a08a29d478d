// What a standby node of an active/standby pair serves while the other node
// is active (spec/active-standby.md §5): on the Peer and Office ports every
// call is answered UNAVAILABLE "standby: ..." (so that a client tries the
// member's other endpoint), gRPC health answers NOT_SERVING; on the admin
// endpoint /healthz is 200 (the process is alive), /readyz 503 "standby",
// /metrics has cbx_node_active 0. Nothing of node.db or the audit log is
// opened.
//
// The TLS server credentials are the node's certificate and key, read once;
// clients' certificates are not asked for (a standby tells nobody anything
// but that it is the standby).
//
// Threading: Start and the destructor on one thread; the servers answer on
// gRPC's threads and the admin endpoint on a thread of its own.
#ifndef CBX_NODE_STANDBY_H_
#define CBX_NODE_STANDBY_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"
#include "node/admin_http.h"
#include "node/config.h"

namespace boost::asio {
class io_context;
}

namespace cbx::node {

class StandbyServer {
 public:
  // The message every refused call carries names `instance`.
  static absl::StatusOr<std::unique_ptr<StandbyServer>> Start(
      const Config& config, const std::string& instance);
  // Stops the servers and the admin endpoint (so that the active node's
  // can bind the same addresses).
  ~StandbyServer();

 private:
  StandbyServer() = default;
  absl::Status StartAdmin(const Config& config);

  std::unique_ptr<grpc::CallbackGenericService> refuse_peer_;
  std::unique_ptr<grpc::CallbackGenericService> refuse_office_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<grpc::Server> office_server_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<AdminHttp> admin_;
  std::thread admin_thread_;
};

// The gauge cbx_node_active (1 active, 0 standby) on every /metrics scrape
// of this process, read from `active`.
void RegisterActiveGauge(const std::atomic<bool>* active);

}  // namespace cbx::node

#endif  // CBX_NODE_STANDBY_H_
