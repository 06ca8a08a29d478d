#include "node/tls_front.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cbx/v1/peer.grpc.pb.h"
#include "core/crypto/testing/test_pki.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "node/identity.h"
#include "node/testing/h2_frame.h"

namespace cbx::node {
namespace {

using crypto::testing::IssueTestCertificate;
using crypto::testing::MakeTestCa;
using crypto::testing::TestKeyPair;

constexpr int64_t kDay = 86'400;

TlsFrontMaterial Material(const std::string& certificate_pem,
                          const std::string& private_key_pem,
                          const std::string& roots_pem, uint64_t generation) {
  return TlsFrontMaterial{std::make_shared<const std::string>(certificate_pem),
                          std::make_shared<const std::string>(private_key_pem),
                          std::make_shared<const std::string>(roots_pem),
                          generation};
}

// RS's Peer service as far as GetDirectory: records who each call came
// from, as the node's services see it.
class RecordingPeer final : public v1::Peer::Service {
 public:
  grpc::Status GetDirectory(grpc::ServerContext* context,
                            const v1::GetDirectoryRequest*,
                            v1::GetDirectoryResponse*) override {
    std::lock_guard<std::mutex> lock(mu);
    peers.push_back(context->peer());
    absl::StatusOr<std::string> pem = CallerCertificatePem(*context);
    certificates.push_back(pem.ok() ? *pem : "");
    std::shared_ptr<const FrontCaller> caller = FrontCallerOf(context->peer());
    uris.push_back(caller != nullptr && !caller->uris.empty() ? caller->uris[0]
                                                              : "");
    return grpc::Status::OK;
  }
  std::mutex mu;
  std::vector<std::string> peers, certificates, uris;
};

using testing::H2Frame;

// A gRPC request's header block in HPACK (RFC 7541) without the dynamic
// table or Huffman coding: literal fields, never indexed.
std::string RequestHeaders() {
  auto literal = [](uint8_t name_index, const std::string& value) {
    std::string s(1, static_cast<char>(name_index));  // 0000 + 4-bit index
    s += static_cast<char>(value.size());
    return s + value;
  };
  std::string block;
  block += static_cast<char>(0x83);  // :method POST (static index 3)
  block += static_cast<char>(0x87);  // :scheme https (static index 7)
  block += literal(4, "/cbx.v1.Peer/GetDirectory");  // :path
  block += literal(1, "localhost");                  // :authority
  block += std::string("\x0f\x10", 2) + static_cast<char>(16) +
           "application/grpc";  // content-type (static index 31)
  block += std::string(1, '\0') + static_cast<char>(2) + "te" +
           static_cast<char>(8) + "trailers";
  return block;
}

// A TLS client on a blocking socket, for what gRPC's client will not do.
class RawClient {
 public:
  RawClient(int port, const TestKeyPair& identity) {
    // A write to a connection the front closed must fail, not end the test.
    signal(SIGPIPE, SIG_IGN);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    static const unsigned char kH2[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(ctx_, kH2, sizeof(kH2));
    BIO* cert =
        BIO_new_mem_buf(identity.certificate_pem.data(),
                        static_cast<int>(identity.certificate_pem.size()));
    X509* x = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    BIO_free(cert);
    BIO* key =
        BIO_new_mem_buf(identity.private_key_pem.data(),
                        static_cast<int>(identity.private_key_pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    BIO_free(key);
    SSL_CTX_use_certificate(ctx_, x);
    SSL_CTX_use_PrivateKey(ctx_, k);
    X509_free(x);
    EVP_PKEY_free(k);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
  }
  ~RawClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    close(fd_);
  }
  bool Handshake() { return connected_ && SSL_connect(ssl_) == 1; }
  bool Write(const std::string& bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
  // Reads until the server closes the connection (true) or 5 s pass
  // without a byte (false).
  bool ReadsToTheEnd() {
    char buf[16384];
    for (;;) {
      const int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n > 0) continue;
      const int err = SSL_get_error(ssl_, n);
      // OpenSSL 3 reports a close without close_notify as SSL_ERROR_SSL.
      return err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SSL ||
             (err == SSL_ERROR_SYSCALL && errno != EAGAIN &&
              errno != EWOULDBLOCK);
    }
  }
  // The same on the bare TCP socket (no handshake).
  bool TcpReadsToTheEnd() {
    char buf[1024];
    for (;;) {
      const ssize_t n = read(fd_, buf, sizeof(buf));
      if (n > 0) continue;
      return n == 0;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

class TlsFrontTest : public ::testing::Test {
 protected:
  const int64_t now_ = static_cast<int64_t>(std::time(nullptr));
  TestKeyPair ca_ = MakeTestCa("cbx test CA", now_ - kDay, now_ + kDay);
  TestKeyPair other_ca_ =
      MakeTestCa("cbx test CA, another", now_ - kDay, now_ + kDay);
  // No URI SAN, so that gRPC's client checks the name "localhost".
  TestKeyPair rs_ = IssueTestCertificate(ca_, 0x10, "localhost", "",
                                         now_ - kDay, now_ + kDay);
  TestKeyPair mk_ =
      IssueTestCertificate(ca_, 0x11, "localhost", "spiffe://cbx/member/MK",
                           now_ - kDay, now_ + kDay);
  TestKeyPair ba_ =
      IssueTestCertificate(ca_, 0x12, "localhost", "spiffe://cbx/member/BA",
                           now_ - kDay, now_ + kDay);
  TestKeyPair stranger_ =
      IssueTestCertificate(other_ca_, 0x13, "localhost",
                           "spiffe://cbx/member/XX", now_ - kDay, now_ + kDay);

  void SetUp() override { roots_ = ca_.certificate_pem; }

  void Start(TlsFrontOptions options = TlsFrontOptions()) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    options.self = "RS";
    options.port = "peer";
    options.listen = "127.0.0.1:0";
    options.tls = [this]() -> absl::StatusOr<TlsFrontMaterial> {
      std::lock_guard<std::mutex> lock(mu_);
      return Material(rs_.certificate_pem, rs_.private_key_pem, roots_,
                      generation_);
    };
    auto front = TlsFront::Start(server_.get(), std::move(options));
    ASSERT_TRUE(front.ok()) << front.status();
    front_ = *std::move(front);
  }
  void TearDown() override {
    if (front_ != nullptr) front_->StopAccepting();
    if (server_ != nullptr) server_->Shutdown();
    front_.reset();
  }

  // The front's counters once `done` holds of them, or after 5 s: the
  // front counts a failed handshake after its client has seen the alert.
  TlsFront::Stats StatsWhen(
      const std::function<bool(const TlsFront::Stats&)>& done) {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    TlsFront::Stats stats = front_->stats();
    while (!done(stats) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      stats = front_->stats();
    }
    return stats;
  }

  grpc::Status Call(const TestKeyPair* client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_.certificate_pem;
    if (client != nullptr) {
      ssl.pem_private_key = client->private_key_pem;
      ssl.pem_cert_chain = client->certificate_pem;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt("cbx.test.unique", ++channels_);  // never a shared channel
    auto channel =
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(front_->port()),
                                  grpc::SslCredentials(ssl), args);
    auto stub = v1::Peer::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    v1::GetDirectoryResponse resp;
    return stub->GetDirectory(&ctx, v1::GetDirectoryRequest(), &resp);
  }

  // The opening of an HTTP/2 connection and `n` streams opened and reset.
  static std::string ResetFlood(int n) {
    std::string bytes = testing::kH2Preface + H2Frame(0x4, 0, 0, "");
    for (int i = 0; i < n; ++i) {
      const uint32_t id = 1 + 2 * static_cast<uint32_t>(i);
      bytes += H2Frame(0x1, 0x4, id, RequestHeaders());  // END_HEADERS
      bytes += H2Frame(0x3, 0, id, std::string("\0\0\0\x08", 4));  // CANCEL
    }
    return bytes;
  }

  RecordingPeer service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<TlsFront> front_;
  std::mutex mu_;
  std::string roots_;
  uint64_t generation_ = 1;
  int channels_ = 0;
};

TEST_F(TlsFrontTest, TheCallerIsTheCertificateOfTheHandshake) {
  Start();
  grpc::Status s = Call(&mk_);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(Call(&ba_).ok());
  std::lock_guard<std::mutex> lock(service_.mu);
  ASSERT_EQ(service_.peers.size(), 2u);
  EXPECT_EQ(service_.peers[0].rfind("fd:", 0), 0u) << service_.peers[0];
  EXPECT_EQ(service_.certificates[0], mk_.certificate_pem);
  EXPECT_EQ(service_.uris[0], "spiffe://cbx/member/MK");
  EXPECT_EQ(service_.certificates[1], ba_.certificate_pem);
  EXPECT_EQ(service_.uris[1], "spiffe://cbx/member/BA");
  EXPECT_EQ(front_->stats().handed_to_grpc, 2u);
  // Any other peer string is no front connection.
  EXPECT_EQ(FrontCallerOf("ipv4:127.0.0.1:5000"), nullptr);
  EXPECT_EQ(FrontCallerOf("fd:x"), nullptr);
}

TEST_F(TlsFrontTest, NoCertificateOrOneFromAnUnknownCaIsRefusedAtTheHandshake) {
  Start();
  EXPECT_EQ(Call(nullptr).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(&stranger_).error_code(), grpc::StatusCode::UNAVAILABLE);
  {
    std::lock_guard<std::mutex> lock(service_.mu);
    EXPECT_TRUE(service_.peers.empty());
  }
  const TlsFront::Stats stats = StatsWhen(
      [](const TlsFront::Stats& s) { return s.handshake_failures >= 2; });
  EXPECT_GE(stats.handshake_failures, 2u);
  EXPECT_EQ(stats.handed_to_grpc, 0u);
}

TEST_F(TlsFrontTest, NewRootsApplyToTheNextHandshake) {
  Start();
  EXPECT_FALSE(Call(&stranger_).ok());
  {
    std::lock_guard<std::mutex> lock(mu_);
    roots_ = ca_.certificate_pem + other_ca_.certificate_pem;
    ++generation_;
  }
  grpc::Status s = Call(&stranger_);
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::lock_guard<std::mutex> lock(service_.mu);
  ASSERT_EQ(service_.uris.size(), 1u);
  EXPECT_EQ(service_.uris[0], "spiffe://cbx/member/XX");
}

TEST_F(TlsFrontTest, AResetFloodClosesTheConnectionAndShutsOutItsCertificate) {
  TlsFrontOptions options;
  options.max_resets_per_window = 20;
  options.penalty_ms = 1500;
  Start(options);
  {
    RawClient flood(front_->port(), mk_);
    ASSERT_TRUE(flood.Handshake());
    ASSERT_TRUE(flood.Write(ResetFlood(200)));
    EXPECT_TRUE(flood.ReadsToTheEnd());
  }
  EXPECT_EQ(front_->stats().reset_floods, 1u);
  // The certificate that flooded is shut out for the penalty; another
  // member's is not.
  EXPECT_EQ(Call(&mk_).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_GE(StatsWhen([](const TlsFront::Stats& s) {
              return s.refused_penalized >= 1;
            }).refused_penalized,
            1u);
  grpc::Status ba = Call(&ba_);
  EXPECT_TRUE(ba.ok()) << ba.error_message();
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  grpc::Status mk = Call(&mk_);
  EXPECT_TRUE(mk.ok()) << mk.error_message();
}

TEST_F(TlsFrontTest, ResetsUnderTheLimitPass) {
  TlsFrontOptions options;
  options.max_resets_per_window = 20;
  Start(options);
  RawClient client(front_->port(), mk_);
  ASSERT_TRUE(client.Handshake());
  ASSERT_TRUE(client.Write(ResetFlood(20)));
  // The connection stays open: gRPC answers and waits for more.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(front_->stats().reset_floods, 0u);
  EXPECT_EQ(front_->stats().open, 1);
}

TEST_F(TlsFrontTest, AConnectionWithoutHandshakeOrPrefaceIsClosedInTime) {
  TlsFrontOptions options;
  options.handshake_timeout_ms = 300;
  Start(options);
  const auto start = std::chrono::steady_clock::now();
  RawClient silent(front_->port(), mk_);  // TCP only
  EXPECT_TRUE(silent.TcpReadsToTheEnd());
  RawClient no_preface(front_->port(), mk_);
  ASSERT_TRUE(no_preface.Handshake());
  EXPECT_TRUE(no_preface.ReadsToTheEnd());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  const TlsFront::Stats stats = front_->stats();
  EXPECT_EQ(stats.timeouts, 2u) << stats.accepted << " accepted, "
                                << stats.handed_to_grpc << " handed on";
  EXPECT_EQ(stats.open, 0);
}

TEST_F(TlsFrontTest, ConnectionsBeyondTheBoundAreClosedAtOnce) {
  TlsFrontOptions options;
  options.max_connections = 2;
  Start(options);
  RawClient a(front_->port(), mk_);
  RawClient b(front_->port(), mk_);
  ASSERT_TRUE(a.Handshake());
  ASSERT_TRUE(b.Handshake());
  RawClient c(front_->port(), mk_);
  EXPECT_FALSE(c.Handshake());
  EXPECT_GE(StatsWhen([](const TlsFront::Stats& s) {
              return s.refused_full >= 1;
            }).refused_full,
            1u);
}

TEST_F(TlsFrontTest, OneCertificateCannotTakeEveryConnection) {
  TlsFrontOptions options;
  options.max_connections_per_certificate = 2;
  Start(options);
  RawClient a(front_->port(), mk_);
  RawClient b(front_->port(), mk_);
  ASSERT_TRUE(a.Handshake());
  ASSERT_TRUE(b.Handshake());
  // The third of MK's is closed once its handshake shows whose it is.
  RawClient c(front_->port(), mk_);
  if (c.Handshake()) {
    EXPECT_TRUE(c.ReadsToTheEnd());
  }
  EXPECT_GE(StatsWhen([](const TlsFront::Stats& s) {
              return s.refused_full >= 1;
            }).refused_full,
            1u);
  // Another certificate is still let in.
  grpc::Status ba = Call(&ba_);
  EXPECT_TRUE(ba.ok()) << ba.error_message();
}

TEST_F(TlsFrontTest, AnAddressThatCannotBeBoundIsRefused) {
  grpc::ServerBuilder builder;
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  TlsFrontOptions options;
  options.port = "peer";
  options.listen = "192.0.2.1:1";  // TEST-NET-1: not this machine's
  options.tls = [this]() -> absl::StatusOr<TlsFrontMaterial> {
    return Material(rs_.certificate_pem, rs_.private_key_pem,
                    ca_.certificate_pem, 1);
  };
  auto front = TlsFront::Start(server_.get(), options);
  EXPECT_EQ(front.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(front.status().message().find("peer_listen: cannot listen on"),
            std::string::npos)
      << front.status();
  // A key that is not the certificate's.
  options.listen = "127.0.0.1:0";
  options.tls = [this]() -> absl::StatusOr<TlsFrontMaterial> {
    return Material(rs_.certificate_pem, mk_.private_key_pem,
                    ca_.certificate_pem, 1);
  };
  front = TlsFront::Start(server_.get(), options);
  EXPECT_EQ(front.status().code(), absl::StatusCode::kFailedPrecondition)
      << front.status();
}

}  // namespace
}  // namespace cbx::node
