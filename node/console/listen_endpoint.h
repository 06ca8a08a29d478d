// The TCP endpoint a node's HTTP listener binds (config admin_listen,
// console_listen): shared by the admin endpoint (node/admin_http) and the
// web console (node/console/console_server).
//
// Threading: a pure function.
#ifndef CBX_NODE_CONSOLE_LISTEN_ENDPOINT_H_
#define CBX_NODE_CONSOLE_LISTEN_ENDPOINT_H_

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace cbx::node {

// `listen` ("127.0.0.1:7301", "[::1]:0", "localhost:7301") split into an IP
// address and a port; "localhost" is 127.0.0.1. INVALID_ARGUMENT, starting
// with `field`, if it is not host:port with a port in 0..65535 or the host
// is not an IP address (or localhost).
absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseListenEndpoint(
    const std::string& field, const std::string& listen);

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_LISTEN_ENDPOINT_H_
