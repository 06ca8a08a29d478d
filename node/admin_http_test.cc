#include "node/admin_http.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <thread>

namespace cbx::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// An AdminHttp on its own io_context thread, and a blocking client.
class AdminHttpTest : public ::testing::Test {
 protected:
  void Start(AdminHttp::Options options) {
    std::map<std::string, AdminHttp::Handler> routes;
    routes["/healthz"] = [] {
      return AdminHttp::Response{200, "text/plain", "ok\n"};
    };
    routes["/readyz"] = [] {
      return AdminHttp::Response{503, "text/plain", "not ready\n"};
    };
    auto admin = AdminHttp::Start(io_, "127.0.0.1:0", routes, options);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      guard_.reset();
      io_.stop();
      thread_.join();
    }
  }

  std::unique_ptr<tcp::socket> Connect() {
    auto s = std::make_unique<tcp::socket>(client_io_);
    s->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(admin_->port())));
    return s;
  }
  // Sends `request` on a new connection; returns everything read until the
  // server closes it.
  std::string Exchange(const std::string& request) {
    auto s = Connect();
    boost::system::error_code ec;  // the server may have closed already
    asio::write(*s, asio::buffer(request), ec);
    return ReadAll(*s);
  }
  static std::string ReadAll(tcp::socket& s) {
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    while (true) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  asio::io_context io_;
  asio::io_context client_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      guard_;
  std::thread thread_;
  std::unique_ptr<AdminHttp> admin_;
};

TEST_F(AdminHttpTest, ServesRoutesWithStatusAndCloses) {
  Start({});
  std::string r = Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\nok\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  r = Exchange("GET /readyz?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
  r = Exchange("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;
}

TEST_F(AdminHttpTest, OnlyGetWithoutBody) {
  Start({});
  std::string r = Exchange("POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 405", 0), 0u) << r;
  EXPECT_NE(r.find("Allow: GET"), std::string::npos) << r;
  r = Exchange(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
}

TEST_F(AdminHttpTest, OversizedHeaderIsRefused) {
  AdminHttp::Options options;
  options.max_header_bytes = 1024;
  Start(options);
  std::string r = Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                           std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r;
}

// A slow-loris: connections that never finish their request hold at most
// max_connections slots, each until its timeout; the connection over the
// bound is closed without an answer; once the slow ones time out the
// endpoint answers again.
TEST_F(AdminHttpTest, SlowClientsAreBoundedAndTimedOut) {
  AdminHttp::Options options;
  options.max_connections = 3;
  options.request_timeout_ms = 300;
  Start(options);
  std::vector<std::unique_ptr<tcp::socket>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(Connect());
    asio::write(*slow.back(), asio::buffer(std::string("GET /hea")));
  }
  // Over the bound: closed at once (may race with the slow ones' accept,
  // so a healthz answer is not expected here).
  std::string over = Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(over, "");
  // Each slow connection is closed by the server at its timeout.
  for (auto& s : slow) EXPECT_EQ(ReadAll(*s), "");
  slow.clear();
  std::string r;
  for (int attempt = 0; attempt < 100; ++attempt) {
    r = Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    if (!r.empty()) break;
  }
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
}

TEST(AdminHttpStartTest, RefusesNonLoopbackUnlessAllowed) {
  asio::io_context io;
  auto admin = AdminHttp::Start(io, "0.0.0.0:0", {});
  EXPECT_EQ(admin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(admin.status().message().find("admin_allow_non_loopback"),
            std::string::npos);
  AdminHttp::Options options;
  options.allow_non_loopback = true;
  admin = AdminHttp::Start(io, "0.0.0.0:0", {}, options);
  EXPECT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(AdminHttp::Start(io, "example.org:80", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(AdminHttp::Start(io, "[::1]:0", {}).ok() ||
              AdminHttp::Start(io, "[::1]:0", {}).status().code() ==
                  absl::StatusCode::kUnavailable);  // no IPv6 here
  EXPECT_TRUE(AdminHttp::Start(io, "localhost:0", {}).ok());
}

TEST(AdminHttpStartTest, PortInUseIsUnavailable) {
  asio::io_context io;
  auto first = AdminHttp::Start(io, "127.0.0.1:0", {});
  ASSERT_TRUE(first.ok());
  auto second =
      AdminHttp::Start(io, "127.0.0.1:" + std::to_string((*first)->port()), {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cbx::node
