// The node's admin HTTP endpoint (config `admin_listen`): plain HTTP/1.1,
// GET only, a fixed set of paths (the node serves /healthz, /readyz and
// /metrics; see node/node.cc and spec/node-config.md).
//
// Loopback by default: Start refuses an address that is not a loopback
// address unless `allow_non_loopback` (config admin_allow_non_loopback) is
// set. The endpoint has no authentication; what it shows (peer names, sizes,
// error counts) is operational, never case data.
//
// Bounded so that a hostile or broken client on the admin port cannot hurt
// the node: at most Options::max_connections connections at once (one more
// is accepted and closed at once); each has Options::request_timeout_ms to
// send its request and read the answer, after which it is closed; a
// request's header is at most Options::max_header_bytes and a request body
// is refused; one request per connection (the answer says Connection:
// close). A slow-loris client can therefore hold the admin port for at most
// max_connections x the timeout, and never the Peer or Office ports.
//
// Threading: everything runs on the io_context given to Start, on whatever
// thread runs it (the node: its main thread, in Node::Run, beside the
// signal handlers; no thread of its own). Handlers run there too, one at a
// time, so they must be quick (the node's read in-memory state, stat files
// and make a few small SQLite reads). Start and the destructor must be
// called while the io_context is not running on another thread, or from
// its thread.
#ifndef CBX_NODE_ADMIN_HTTP_H_
#define CBX_NODE_ADMIN_HTTP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace boost::asio {
class io_context;
}

namespace cbx::node {

class AdminHttp {
 public:
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  using Handler = std::function<Response()>;

  struct Options {
    int max_connections = 16;
    int64_t request_timeout_ms = 5000;
    uint32_t max_header_bytes = 8192;
    // Accept an address that is not loopback (config
    // admin_allow_non_loopback).
    bool allow_non_loopback = false;
  };

  // Binds `listen` ("127.0.0.1:7301", "[::1]:7301", "localhost:7301"; port 0
  // picks a free port) on `io` and starts accepting. `routes` maps a path
  // ("/metrics", without the query string) to its handler; other paths are
  // 404, other methods 405. INVALID_ARGUMENT if `listen` is not an IP
  // address (or localhost) and port, or is not loopback while
  // options.allow_non_loopback is false; UNAVAILABLE if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<AdminHttp>> Start(
      boost::asio::io_context& io, const std::string& listen,
      std::map<std::string, Handler> routes, Options options);
  static absl::StatusOr<std::unique_ptr<AdminHttp>> Start(
      boost::asio::io_context& io, const std::string& listen,
      std::map<std::string, Handler> routes) {
    return Start(io, listen, std::move(routes), Options());
  }

  // Stops accepting. Connections still open end at their timeout, or with
  // the io_context.
  ~AdminHttp();
  AdminHttp(const AdminHttp&) = delete;
  AdminHttp& operator=(const AdminHttp&) = delete;

  // The bound port.
  int port() const { return port_; }

  // What the acceptor and the connections share (admin_http.cc).
  struct State;

 private:
  AdminHttp() = default;
  std::shared_ptr<State> state_;
  int port_ = 0;
};

}  // namespace cbx::node

#endif  // CBX_NODE_ADMIN_HTTP_H_
