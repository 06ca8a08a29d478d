#include "node/admin_http.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "node/console/listen_endpoint.h"

namespace cbx::node {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// What the acceptor and every connection share: the connections hold it, so
// it outlives the AdminHttp while any of them is still queued on the
// io_context.
struct AdminHttp::State {
  State(asio::io_context& io, std::map<std::string, Handler> r, Options o)
      : acceptor(io), routes(std::move(r)), options(o) {}
  tcp::acceptor acceptor;
  const std::map<std::string, Handler> routes;
  const Options options;
  std::atomic<int> open{0};
  bool closed = false;  // on the io_context's thread only
};

namespace {

// One connection: read one request within the timeout, answer, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<AdminHttp::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    state_->open.fetch_add(1);
  }
  ~Session() { state_->open.fetch_sub(1); }

  void Begin() {
    parser_.emplace();
    parser_->header_limit(state_->options.max_header_bytes);
    parser_->body_limit(0);  // GET only: no request carries a body
    stream_.expires_after(
        std::chrono::milliseconds(state_->options.request_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return Answer(
          http::status::request_header_fields_too_large,
          {431, "text/plain; charset=utf-8", "request header too large\n"});
    }
    if (ec == http::error::body_limit) {
      return Answer(http::status::payload_too_large,
                    {413, "text/plain; charset=utf-8",
                     "a request body is not accepted\n"});
    }
    if (ec) return Close();  // timeout, reset, malformed: nothing to answer
    const auto& req = parser_->get();
    if (req.method() != http::verb::get) {
      return Answer(http::status::method_not_allowed,
                    {405, "text/plain; charset=utf-8", "only GET\n"});
    }
    std::string target(req.target());
    if (size_t q = target.find('?'); q != std::string::npos) {
      target.resize(q);
    }
    auto route = state_->routes.find(target);
    if (route == state_->routes.end()) {
      return Answer(http::status::not_found,
                    {404, "text/plain; charset=utf-8", "not found\n"});
    }
    AdminHttp::Response r = route->second();
    Answer(static_cast<http::status>(r.status), std::move(r));
  }

  void Answer(http::status status, AdminHttp::Response r) {
    response_.result(status);
    response_.version(11);
    response_.set(http::field::content_type, r.content_type);
    response_.set(http::field::connection, "close");
    if (status == http::status::method_not_allowed) {
      response_.set(http::field::allow, "GET");
    }
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    stream_.expires_after(
        std::chrono::milliseconds(state_->options.request_timeout_ms));
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, size_t) {
                        self->Close();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<AdminHttp::State> state_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
};

void Accept(const std::shared_ptr<AdminHttp::State>& state) {
  state->acceptor.async_accept(
      [state](beast::error_code ec, tcp::socket socket) {
        if (state->closed || ec == asio::error::operation_aborted) return;
        if (!ec) {
          if (state->open.load() >= state->options.max_connections) {
            // Over the bound: closed at once, before any byte is read.
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            std::make_shared<Session>(std::move(socket), state)->Begin();
          }
        }
        Accept(state);
      });
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminHttp>> AdminHttp::Start(
    asio::io_context& io, const std::string& listen,
    std::map<std::string, Handler> routes, Options options) {
  absl::StatusOr<tcp::endpoint> endpoint =
      ParseListenEndpoint("admin_listen", listen);
  if (!endpoint.ok()) return endpoint.status();
  if (!endpoint->address().is_loopback() && !options.allow_non_loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "admin_listen: ", listen,
        " is not a loopback address; the admin endpoint has no "
        "authentication (set admin_allow_non_loopback to true to serve it "
        "there anyway)"));
  }
  std::unique_ptr<AdminHttp> admin(new AdminHttp());
  admin->state_ = std::make_shared<State>(io, std::move(routes), options);
  tcp::acceptor& acceptor = admin->state_->acceptor;
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "admin_listen: cannot listen on ", listen, ": ", ec.message()));
  }
  admin->port_ = acceptor.local_endpoint().port();
  Accept(admin->state_);
  return admin;
}

AdminHttp::~AdminHttp() {
  if (state_ == nullptr) return;
  state_->closed = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace cbx::node
