// Outgoing calls and revocation (spec/keys.md §5.3): a peer whose server
// certificate is on a CRL in use is refused at the handshake, before any
// request reaches it. Real gRPC on loopback, certificates made in-test.
#include "node/peer_clients.h"

#include <atomic>
#include <ctime>

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

  absl::Status Call() {
    return transport_->GetDirectory("RS", v1::GetDirectoryRequest(), 5000)
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

}  // namespace
}  // namespace cbx::node
