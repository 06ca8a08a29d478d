// Outgoing calls and revocation (spec/keys.md §5.3): a peer whose server
// certificate is on a CRL in use is refused at the handshake, before any
// request reaches it. Real gRPC on loopback, certificates made in-test.
#include "node/peer_clients.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>

#include "core/crypto/testing/test_pki.h"
#include "core/directory/testing/test_federation.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "node/grpc_peer_transport.h"

namespace cbx::node {
namespace {

using crypto::testing::IssueTestCertificate;
using crypto::testing::MakeTestCa;
using crypto::testing::MakeTestCrl;
using crypto::testing::TestKeyPair;
namespace fed = directory::testing;

constexpr int64_t kDay = 86'400;

// RS's Peer service as far as GetDirectory: counts the calls that reach it.
class CountingPeer final : public v1::Peer::Service {
 public:
  grpc::Status GetDirectory(grpc::ServerContext*,
                            const v1::GetDirectoryRequest*,
                            v1::GetDirectoryResponse*) override {
    calls++;
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

class PeerClientsRevocationTest : public ::testing::Test {
 protected:
  const int64_t now_ = static_cast<int64_t>(std::time(nullptr));
  TestKeyPair mk_ca_ = MakeTestCa("cbx test CA MK", now_ - kDay, now_ + kDay);
  TestKeyPair rs_ca_ = MakeTestCa("cbx test CA RS", now_ - kDay, now_ + kDay);
  TestKeyPair mk_node_ =
      IssueTestCertificate(mk_ca_, 0x10, "localhost", "spiffe://cbx/member/MK",
                           now_ - kDay, now_ + kDay);

  // Starts RS's Peer port presenting `server` and points the directory's
  // RS at it.
  void Start(const TestKeyPair& server) {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = mk_ca_.certificate_pem;
    options.pem_key_cert_pairs.push_back(
        {server.private_key_pem, server.certificate_pem});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("localhost:0", grpc::SslServerCredentials(options),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    v1::Directory d = fed::GenesisDirectory();
    for (v1::Member& m : *d.mutable_members()) {
      if (m.code() != "RS") continue;
      m.set_endpoint("localhost:" + std::to_string(port));
      m.clear_ca_certificates_pem();
      m.add_ca_certificates_pem(rs_ca_.certificate_pem);
    }
    auto dir = directory::Directory::FromGenesis(
        fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}}));
    ASSERT_TRUE(dir.ok()) << dir.status();
    ctx_.config.member = "MK";
    ctx_.directory = std::make_unique<directory::DirectoryState>(*dir);
    ctx_.tls_certificate_pem = mk_node_.certificate_pem;
    ctx_.tls_private_key_pem = mk_node_.private_key_pem;
    clients_ = std::make_unique<PeerClients>(&ctx_, [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return revocations_;
    });
    transport_ = std::make_unique<GrpcPeerTransport>(clients_.get());
  }
  void TearDown() override {
    transport_.reset();
    clients_.reset();
    if (server_ != nullptr) server_->Shutdown();
  }

  // RS's CA revokes `serials`.
  void Revoke(const std::vector<uint64_t>& serials) {
    auto set = std::make_shared<RevocationSet>(LoadRevocations(
        {{"rs.crl", MakeTestCrl(rs_ca_, serials, now_, now_ + kDay)}},
        {rs_ca_.certificate_pem}, RevocationSet(), now_, nullptr));
    ASSERT_EQ(set->entries().size(), 1u);
    std::lock_guard<std::mutex> lock(mu_);
    revocations_ = std::move(set);
  }

  absl::Status Call(int64_t budget_ms = 5000) {
    return transport_->GetDirectory("RS", v1::GetDirectoryRequest(), budget_ms)
        .status();
  }

  // RS's node certificate for host `host` (the SAN text is OpenSSL's
  // extension syntax, so a second name follows the URI after a comma).
  TestKeyPair RsNode(uint64_t serial, const std::string& host = "localhost") {
    return IssueTestCertificate(rs_ca_, serial, "cbx-node RS",
                                "spiffe://cbx/member/RS,DNS:" + host,
                                now_ - kDay, now_ + kDay);
  }

  CountingPeer service_;
  std::unique_ptr<grpc::Server> server_;
  NodeContext ctx_;
  std::unique_ptr<PeerClients> clients_;
  std::unique_ptr<GrpcPeerTransport> transport_;
  std::mutex mu_;
  std::shared_ptr<const RevocationSet> revocations_;
};

TEST_F(PeerClientsRevocationTest, PeerNotRevokedIsCalled) {
  Start(RsNode(0x20));
  Revoke({0x99});  // another certificate of RS's CA
  EXPECT_TRUE(Call().ok()) << Call();
  EXPECT_EQ(service_.calls.load(), 1);
}

TEST_F(PeerClientsRevocationTest, RevokedPeerIsRefusedBeforeTheRequest) {
  Start(RsNode(0x20));
  Revoke({0x20});
  absl::Status s = Call();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("presents a revoked certificate: certificate 20"),
            std::string::npos)
      << s;
  EXPECT_EQ(service_.calls.load(), 0);
}

TEST_F(PeerClientsRevocationTest, CrlArrivingLaterStopsTheOpenChannel) {
  Start(RsNode(0x20));
  ASSERT_TRUE(Call().ok());
  Revoke({0x20});
  absl::Status s = Call();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(service_.calls.load(), 1);
  // A CRL without it again (the operator's correction): calls pass.
  Revoke({});
  EXPECT_TRUE(Call().ok());
  EXPECT_EQ(clients_->RevocationRefusal("RS"), "");
}

TEST_F(PeerClientsRevocationTest, HostNameIsStillChecked) {
  Start(RsNode(0x21, "cbx.elsewhere.example"));
  absl::Status s = Call();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(service_.calls.load(), 0);
}

// The standby of a pair (spec/active-standby.md §5): every call refused
// UNAVAILABLE "standby: ...", and counted.
class StandbyPeer final : public v1::Peer::Service {
 public:
  grpc::Status GetDirectory(grpc::ServerContext*,
                            const v1::GetDirectoryRequest*,
                            v1::GetDirectoryResponse*) override {
    calls++;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "standby: this node (rs-b-00000001) of RS is the "
                        "standby of an active/standby pair; call the member's "
                        "other endpoint");
  }
  std::atomic<int> calls{0};
};

// RS as an active/standby pair on loopback: real channels, one per endpoint
// (spec/directory.md §7.1).
class PeerClientsPairTest : public PeerClientsRevocationTest {
 protected:
  // Starts `service` presenting `cert` on a port of its own.
  int Serve(grpc::Service* service, const TestKeyPair& cert) {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = mk_ca_.certificate_pem;
    options.pem_key_cert_pairs.push_back(
        {cert.private_key_pem, cert.certificate_pem});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("localhost:0", grpc::SslServerCredentials(options),
                             &port);
    builder.RegisterService(service);
    servers_.push_back(builder.BuildAndStart());
    EXPECT_NE(servers_.back(), nullptr);
    return port;
  }

  // A loopback port nothing listens on (a node that died).
  int DeadPort() {
    int dead = 0;
    {
      StandbyPeer unused;
      grpc::ServerBuilder builder;
      builder.AddListeningPort("localhost:0", grpc::InsecureServerCredentials(),
                               &dead);
      builder.RegisterService(&unused);
      auto server = builder.BuildAndStart();
      server->Shutdown();
    }
    return dead;
  }

  // The directory lists RS at `endpoint` with `standby` as its
  // standby_endpoints.
  void ListRs(const std::string& endpoint,
              const std::vector<std::string>& standby) {
    v1::Directory d = fed::GenesisDirectory();
    for (v1::Member& m : *d.mutable_members()) {
      if (m.code() != "RS") continue;
      m.set_endpoint(endpoint);
      for (const std::string& s : standby) m.add_standby_endpoints(s);
      m.clear_ca_certificates_pem();
      m.add_ca_certificates_pem(rs_ca_.certificate_pem);
    }
    auto dir = directory::Directory::FromGenesis(
        fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}}));
    ASSERT_TRUE(dir.ok()) << dir.status();
    ctx_.config.member = "MK";
    ctx_.directory = std::make_unique<directory::DirectoryState>(*dir);
    ctx_.tls_certificate_pem = mk_node_.certificate_pem;
    ctx_.tls_private_key_pem = mk_node_.private_key_pem;
    clients_ = std::make_unique<PeerClients>(&ctx_);
    transport_ = std::make_unique<GrpcPeerTransport>(clients_.get());
  }

  void TearDown() override {
    PeerClientsRevocationTest::TearDown();
    for (auto& server : servers_) server->Shutdown();
  }

  static std::string At(int port) {
    return "localhost:" + std::to_string(port);
  }

  StandbyPeer standby_;
  std::vector<std::unique_ptr<grpc::Server>> servers_;
};

TEST_F(PeerClientsPairTest, StandbyRefusalGoesToTheOtherEndpointAndSticks) {
  const int standby = Serve(&standby_, RsNode(0x30));
  const int active = Serve(&service_, RsNode(0x31));
  ListRs(At(standby), {At(active)});
  ASSERT_TRUE(Call().ok()) << Call();
  EXPECT_EQ(standby_.calls.load(), 1);
  EXPECT_EQ(service_.calls.load(), 1);
  EXPECT_EQ(ctx_.peer_endpoints->InUse("RS"), At(active));
  // The endpoint that answered is tried first from now on.
  ASSERT_TRUE(Call().ok());
  ASSERT_TRUE(Call().ok());
  EXPECT_EQ(standby_.calls.load(), 1);
  EXPECT_EQ(service_.calls.load(), 3);
}

TEST_F(PeerClientsPairTest, DeadEndpointIsPassedWithoutWaitingOutTheBudget) {
  const int active = Serve(&service_, RsNode(0x32));
  ListRs(At(DeadPort()), {At(active)});
  // A budget of 20 s gives the dead endpoint a share of 10 s: the bound
  // below tells "passed at once" from "waited its share" with room for a
  // TLS handshake to the live one on a loaded machine (2 s was too tight
  // beside the whole suite).
  const auto start = std::chrono::steady_clock::now();
  const absl::Status called = Call(20000);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(called.ok()) << called;
  EXPECT_EQ(service_.calls.load(), 1);
  // Connection refused is seen at once; its share of the budget is not
  // spent.
  EXPECT_LT(took, std::chrono::milliseconds(5000));
  EXPECT_EQ(ctx_.peer_endpoints->InUse("RS"), At(active));
}

TEST_F(PeerClientsPairTest, EveryEndpointsHostNameIsChecked) {
  const int standby = Serve(&standby_, RsNode(0x33));
  const int active = Serve(&service_, RsNode(0x34, "cbx.elsewhere.example"));
  ListRs(At(standby), {At(active)});
  absl::Status s = Call();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("RS: no endpoint took the call"),
            std::string::npos)
      << s;
  EXPECT_EQ(service_.calls.load(), 0);
  EXPECT_EQ(ctx_.peer_endpoints->InUse("RS"), "");
}

TEST_F(PeerClientsPairTest, BothStandbyIsUnavailableNamingBoth) {
  StandbyPeer other;
  const int a = Serve(&standby_, RsNode(0x35));
  const int b = Serve(&other, RsNode(0x36));
  ListRs(At(a), {At(b)});
  absl::Status s = Call();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find(At(a) + ": standby: "), std::string::npos) << s;
  EXPECT_NE(s.message().find(At(b) + ": standby: "), std::string::npos) << s;
  EXPECT_EQ(standby_.calls.load() + other.calls.load(), 2);
}

// A TCP relay on 127.0.0.1 to `target`, whose Freeze() stops carrying
// bytes either way without closing anything: each side still has its
// connection, and nothing more arrives (a peer's machine lost behind a
// network that still holds the connection, or a half-open one).
class FreezableRelay {
 public:
  explicit FreezableRelay(int target) : target_(target) {
    listen_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(bind(listen_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(listen(listen_, 16), 0);
    getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~FreezableRelay() {
    stop_ = true;
    shutdown(listen_, SHUT_RDWR);
    close(listen_);
    acceptor_.join();
    for (std::thread& t : pumps_) t.join();
    for (int fd : fds_) close(fd);
  }
  int port() const { return port_; }
  void Freeze() { frozen_ = true; }

 private:
  void Accept() {
    while (!stop_) {
      const int client = accept(listen_, nullptr, nullptr);
      if (client < 0) return;
      const int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(target_));
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
          0) {
        close(client);
        close(server);
        continue;
      }
      fds_.push_back(client);
      fds_.push_back(server);
      pumps_.emplace_back([this, client, server] { Pump(client, server); });
      pumps_.emplace_back([this, client, server] { Pump(server, client); });
    }
  }
  void Pump(int from, int to) {
    char buf[16384];
    while (!stop_) {
      if (frozen_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      pollfd p{from, POLLIN, 0};
      // Looked at again after the wait: what arrives once Freeze() has
      // returned is never carried.
      if (poll(&p, 1, 50) <= 0 || frozen_) continue;
      const ssize_t n = read(from, buf, sizeof(buf));
      if (n <= 0) return;
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = write(to, buf + sent, static_cast<size_t>(n - sent));
        if (w <= 0) return;
        sent += w;
      }
    }
  }

  const int target_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;  // the acceptor's only, joined after it
  std::vector<int> fds_;
};

// A connection to a peer that goes silent is dropped while calls wait on
// it (node/grpc_limits.h, kPeerKeepaliveTimeMs; shortened here): without
// the channel's keepalive it stays READY for as long as TCP holds it, and
// every call waits out its whole budget on it.
TEST_F(PeerClientsPairTest, ASilentConnectionIsDroppedWhileCallsWaitOnIt) {
  const int active = Serve(&service_, RsNode(0x37));
  FreezableRelay relay(active);
  ListRs("localhost:" + std::to_string(relay.port()), {});
  transport_.reset();
  clients_ =
      std::make_unique<PeerClients>(&ctx_, nullptr, PeerKeepalive{1000, 1000});
  transport_ = std::make_unique<GrpcPeerTransport>(clients_.get());
  ASSERT_TRUE(Call().ok()) << Call();
  absl::StatusOr<std::vector<PeerClients::Link>> links = clients_->Links("RS");
  ASSERT_TRUE(links.ok()) << links.status();
  std::shared_ptr<grpc::Channel> channel = links->front().channel;
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);

  relay.Freeze();
  const auto start = std::chrono::steady_clock::now();
  const auto bound = start + std::chrono::seconds(20);
  bool dropped = false;
  while (!dropped && std::chrono::steady_clock::now() < bound) {
    EXPECT_FALSE(Call(1500).ok());  // nothing gets through the relay now
    dropped = channel->GetState(false) != GRPC_CHANNEL_READY;
  }
  EXPECT_TRUE(dropped) << "the silent connection was still READY after "
                       << "20 s of calls";
}

}  // namespace
}  // namespace cbx::node
