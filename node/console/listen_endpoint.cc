#include "node/console/listen_endpoint.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cbx::node {

absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseListenEndpoint(
    const std::string& field, const std::string& listen) {
  size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", listen, "' is not host:port"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", host,
        "' is not an IP address (give one, e.g. 127.0.0.1, or localhost)"));
  }
  return boost::asio::ip::tcp::endpoint(address,
                                        static_cast<unsigned short>(port));
}

}  // namespace cbx::node
