#include "client/connection.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

namespace fs = std::filesystem;

constexpr char kCertPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cbx_connection_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    Write("office.pem", kCertPem);
    Write("office.key", kKeyPem);
    Write("ca.pem", kCertPem);
    Write("notes.txt", "not a certificate\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
    return Path(name);
  }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  ConnectionFlags Flags() {
    ConnectionFlags f;
    f.node = "127.0.0.1:7443";
    f.cert = Path("office.pem");
    f.key = Path("office.key");
    f.ca = Path("ca.pem");
    return f;
  }

  EnvLookup Env() {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }

  std::string Error(const ConnectionFlags& f) {
    auto s = ResolveConnection(f, Env());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.status().message());
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConnectionTest, OfficeMemberComesFromTheOfficeCertificate) {
  using crypto::testing::IssueTestCertificate;
  using crypto::testing::MakeTestCa;
  const int64_t now = 1'780'000'000;
  auto ca = MakeTestCa("cbx test office CA AL", now - 86400, now + 86400);
  auto office = IssueTestCertificate(ca, 7, "AL/SPAK-Tirana",
                                     "spiffe://cbx/office/AL/SPAK-Tirana",
                                     now - 86400, now + 86400);
  ConnectionFlags f = Flags();
  f.cert = Write("al-office.pem", office.certificate_pem);
  EXPECT_EQ(OfficeMemberOfCertificate(f, Env()), "AL");
  // From the environment, as ResolveConnection reads it.
  f.cert.clear();
  env_["CBX_CERT"] = Path("al-office.pem");
  EXPECT_EQ(OfficeMemberOfCertificate(f, Env()), "AL");
  // Nothing to go by: no certificate, one that does not parse, a node's.
  env_.clear();
  EXPECT_EQ(OfficeMemberOfCertificate(f, Env()), "");
  f.cert = Path("office.pem");
  EXPECT_EQ(OfficeMemberOfCertificate(f, Env()), "");
  auto node = IssueTestCertificate(
      ca, 8, "cbx-node AL", "spiffe://cbx/member/AL", now - 86400, now + 86400);
  f.cert = Write("node.pem", node.certificate_pem);
  EXPECT_EQ(OfficeMemberOfCertificate(f, Env()), "");
}

TEST_F(ConnectionTest, ReadsFlagsAndFiles) {
  ConnectionFlags f = Flags();
  f.server_name = "cbx-node.pps.mk";
  f.timeout_s = 2.5;
  auto s = ResolveConnection(f, Env());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->target, "127.0.0.1:7443");
  EXPECT_EQ(s->server_name, "cbx-node.pps.mk");
  EXPECT_EQ(s->cert_pem, kCertPem);
  EXPECT_EQ(s->key_pem, kKeyPem);
  EXPECT_EQ(s->ca_pem, kCertPem);
  EXPECT_EQ(s->timeout, std::chrono::milliseconds(2500));
}

TEST_F(ConnectionTest, FallsBackToTheEnvironment) {
  env_ = {{"CBX_NODE", "cbx-node.pps.mk:7443"},
          {"CBX_CERT", Path("office.pem")},
          {"CBX_KEY", Path("office.key")},
          {"CBX_CA", Path("ca.pem")}};
  auto s = ResolveConnection(ConnectionFlags(), Env());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->target, "cbx-node.pps.mk:7443");
  EXPECT_EQ(s->cert_path, Path("office.pem"));
  // A flag wins over the environment.
  ConnectionFlags f;
  f.node = "10.0.0.1:9000";
  s = ResolveConnection(f, Env());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->target, "10.0.0.1:9000");
}

TEST_F(ConnectionTest, MissingOptionsNameFlagAndVariable) {
  ConnectionFlags f = Flags();
  f.node = "";
  EXPECT_EQ(Error(f), "no node address: pass --node HOST:PORT or set CBX_NODE");
  f = Flags();
  f.cert = "";
  EXPECT_EQ(Error(f),
            "no client certificate: pass --cert FILE or set CBX_CERT");
  f = Flags();
  f.key = "";
  EXPECT_EQ(Error(f), "no client private key: pass --key FILE or set CBX_KEY");
  f = Flags();
  f.ca = "";
  EXPECT_EQ(Error(f), "no CA certificate: pass --ca FILE or set CBX_CA");
}

TEST_F(ConnectionTest, UnreadableFilesNameFlagAndPath) {
  ConnectionFlags f = Flags();
  f.cert = Path("missing.pem");
  EXPECT_EQ(Error(f), "--cert '" + Path("missing.pem") +
                          "': cannot read the file: No such file or directory");
  f = Flags();
  f.key = dir_.string();  // a directory
  EXPECT_NE(Error(f).find("--key '" + dir_.string() + "'"), std::string::npos);

  env_["CBX_CA"] = Path("gone.pem");
  f = Flags();
  f.ca = "";
  EXPECT_EQ(Error(f), "--ca '" + Path("gone.pem") +
                          "' (from CBX_CA): cannot read the file: No such "
                          "file or directory");
}

TEST_F(ConnectionTest, FilesMustBePem) {
  ConnectionFlags f = Flags();
  f.ca = Path("notes.txt");
  EXPECT_EQ(Error(f), "--ca '" + Path("notes.txt") +
                          "': not a PEM CA certificate (no '-----BEGIN "
                          "CERTIFICATE-----')");
  f = Flags();
  f.key = Path("office.pem");  // a certificate where the key should be
  EXPECT_NE(Error(f).find("not a PEM private key"), std::string::npos);
}

TEST_F(ConnectionTest, ValidatesNodeAndTimeout) {
  for (std::string bad : {"localhost", "localhost:", ":7443", "host:port",
                          "host:7443x", "host:123456"}) {
    ConnectionFlags f = Flags();
    f.node = bad;
    EXPECT_NE(Error(f).find("expected HOST:PORT"), std::string::npos) << bad;
  }
  for (std::string good :
       {"[::1]:7443", "dns:///cbx.pps.mk:7443", "cbx-node:1"}) {
    ConnectionFlags f = Flags();
    f.node = good;
    EXPECT_TRUE(ResolveConnection(f, Env()).ok()) << good;
  }
  for (double bad : {0.0, -1.0, 86401.0}) {
    ConnectionFlags f = Flags();
    f.timeout_s = bad;
    EXPECT_NE(Error(f).find("--timeout"), std::string::npos) << bad;
  }
}

TEST(DescribeRpcErrorTest, OneLinePlusAHint) {
  ConnectionSettings s;
  s.target = "127.0.0.1:7443";
  s.ca_path = "/etc/cbx/ca.pem";
  s.cert_path = "/etc/cbx/office.pem";
  s.timeout = std::chrono::milliseconds(30000);
  EXPECT_EQ(
      DescribeRpcError(
          "listing cases",
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"), s),
      "cbx: listing cases: UNAVAILABLE: connection refused\n"
      "hint: is the node running at 127.0.0.1:7443? If it is, check "
      "that its certificate is issued by the CA in /etc/cbx/ca.pem for "
      "the name 127.0.0.1 and that it accepts your certificate\n");
  EXPECT_EQ(DescribeRpcError("listing peers",
                             grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                          "role auditor may not call "
                                          "ListPeers"),
                             s),
            "cbx: listing peers: PERMISSION_DENIED: role auditor may not call "
            "ListPeers\n"
            "hint: your certificate's role may not do this: cases, query, "
            "hits and inbox need a prosecutor certificate; peers a prosecutor "
            "or operator certificate\n");
  std::string invalid =
      DescribeRpcError("adding case MK-1",
                       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "phone: '070' has no country code"),
                       s);
  EXPECT_EQ(invalid.substr(0, invalid.find('\n')),
            "cbx: adding case MK-1: INVALID_ARGUMENT: phone: '070' has no "
            "country code");
  EXPECT_NE(invalid.find("hint: the node refused"), std::string::npos);
  EXPECT_NE(DescribeRpcError("x",
                             grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                          "Deadline Exceeded"),
                             s)
                .find("within 30000 ms"),
            std::string::npos);
  EXPECT_EQ(
      DescribeRpcError("x", grpc::Status(grpc::StatusCode::INTERNAL, ""), s),
      "cbx: x: INTERNAL: (no message)\n");
}

}  // namespace
}  // namespace cbx::client
