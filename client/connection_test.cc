#include "client/connection.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "client/credentials_check.h"
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

// An active/standby pair's two nodes (spec/active-standby.md §7): each
// endpoint checked as one, the first in use until ActiveTarget picks.
TEST_F(ConnectionTest, APairsEndpointsAreSeparatedByACommaAndEachChecked) {
  ConnectionFlags f = Flags();
  f.node = "cbx-a.pps.mk:7443,cbx-b.pps.mk:7443";
  auto s = ResolveConnection(f, Env());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->targets, (std::vector<std::string>{"cbx-a.pps.mk:7443",
                                                  "cbx-b.pps.mk:7443"}));
  EXPECT_EQ(s->target, "cbx-a.pps.mk:7443");
  // With one endpoint nothing is probed.
  f.node = "127.0.0.1:7443";
  s = ResolveConnection(f, Env());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->targets.size(), 1u);
  EXPECT_NE(ActiveChannel(*s), nullptr);
  EXPECT_EQ(s->target, "127.0.0.1:7443");
  // A target URI is one endpoint, commas and all.
  f.node = "ipv4:127.0.0.1:7443,127.0.0.2:7443";
  s = ResolveConnection(f, Env());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->targets.size(), 1u);

  f.node = "cbx-a.pps.mk:7443,nohost";
  EXPECT_EQ(Error(f), "--node 'nohost': expected HOST:PORT, e.g. "
                      "cbx-node.pps.mk:7443");
  f.node = "cbx-a.pps.mk:7443,cbx-a.pps.mk:7443";
  EXPECT_EQ(Error(f), "--node 'cbx-a.pps.mk:7443': given twice");
  f.node = "a:1,b:2,c:3,d:4,e:5";
  EXPECT_EQ(Error(f),
            "--node: at most 4 endpoints, separated by commas (the nodes of "
            "an active/standby pair)");
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

ConnectionSettings Settings() {
  ConnectionSettings s;
  s.target = "127.0.0.1:7443";
  s.ca_path = "/etc/cbx/ca.pem";
  s.cert_path = "/etc/cbx/office.pem";
  s.timeout = std::chrono::milliseconds(30000);
  return s;
}

TEST(DescribeRpcErrorTest, WhatHappenedAndWhatToDoWithoutTheCode) {
  const ConnectionSettings s = Settings();
  EXPECT_EQ(DescribeRpcError("listing peers",
                             grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                          "role auditor may not call "
                                          "ListPeers"),
                             s),
            "cbx: listing peers: your certificate may not do this: role "
            "auditor may not call ListPeers\n"
            "what to do: cases, query, hits and inbox need a prosecutor "
            "certificate; peers a prosecutor or operator certificate\n");
  EXPECT_EQ(DescribeRpcError("adding case MK-1",
                             grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                          "phone: '070' has no country code"),
                             s),
            "cbx: adding case MK-1: the node refused the request: phone: "
            "'070' has no country code\n"
            "what to do: correct what the message names and run the command "
            "again; nothing was changed\n");
  EXPECT_NE(DescribeRpcError("x",
                             grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                          "Deadline Exceeded"),
                             s)
                .find("did not answer within 30000 ms"),
            std::string::npos);
  // No code name and no "(no message)" for an empty message.
  EXPECT_EQ(
      DescribeRpcError("x", grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""),
                       s),
      "cbx: x: the node does not offer this command (it may run an older "
      "cbx-node)\n"
      "what to do: ask your node's operator which version the node runs\n");
  for (auto code : {grpc::StatusCode::INTERNAL, grpc::StatusCode::UNKNOWN,
                    grpc::StatusCode::DATA_LOSS}) {
    std::string text = DescribeRpcError("x", grpc::Status(code, ""), s);
    EXPECT_EQ(text.find("INTERNAL"), std::string::npos) << text;
    EXPECT_EQ(text.find("(no message)"), std::string::npos) << text;
    EXPECT_EQ(text.rfind("cbx: x: the node failed while doing this\n", 0), 0u)
        << text;
  }
}

TEST(DescribeRpcErrorTest, TechnicalDetailOnlyWhenAsked) {
  grpc::Status refused(grpc::StatusCode::FAILED_PRECONDITION,
                       "purpose.case_number: case MK-1 is closed");
  std::string plain = DescribeRpcError("querying", refused, Settings());
  EXPECT_EQ(plain.find("FAILED_PRECONDITION"), std::string::npos) << plain;
  std::string technical =
      DescribeRpcError("querying", refused, Settings(), /*technical=*/true);
  EXPECT_EQ(technical.substr(0, plain.size()), plain);
  EXPECT_EQ(technical.substr(plain.size()),
            "details: FAILED_PRECONDITION: purpose.case_number: case MK-1 is "
            "closed\n");
}

// gRPC's own texts for the failed steps of a connection: each is told in
// words naming the address, the CA or the certificate, never shown bare.
TEST(DescribeRpcErrorTest, ConnectionFailuresNameWhatToCheck) {
  ConnectionSettings s = Settings();
  const auto unavailable = [&](const std::string& text) {
    return DescribeRpcError("listing cases",
                            grpc::Status(grpc::StatusCode::UNAVAILABLE, text),
                            s);
  };
  struct Case {
    std::string grpc_text;
    std::string says;
  };
  s.target = "cbx-node.nosuch.invalid:7443";
  std::string dns = unavailable(
      "DNS resolution failed for cbx-node.nosuch.invalid:7443: C-ares "
      "status is not ARES_SUCCESS qtype=A name=cbx-node.nosuch.invalid "
      "is_balancer=0: Domain name not found");
  EXPECT_EQ(dns,
            "cbx: listing cases: the address cbx-node.nosuch.invalid given "
            "with --node could not be found (the name does not resolve)\n"
            "what to do: check the host name in --node (or CBX_NODE)\n");
  EXPECT_NE(unavailable("empty address list: ").find("could not be found"),
            std::string::npos);
  s.target = "127.0.0.1:7443";
  std::string refused = unavailable(
      "failed to connect to all addresses; last error: UNKNOWN: "
      "ipv4:127.0.0.1:7443: Failed to connect to remote host: Connection "
      "refused");
  EXPECT_EQ(refused,
            "cbx: listing cases: nothing answers at 127.0.0.1:7443: the "
            "connection was refused\n"
            "what to do: check the port in --node (or CBX_NODE) and ask your "
            "node's operator whether the node is running\n");
  std::string untrusted = unavailable(
      "failed to connect to all addresses; last error: UNKNOWN: "
      "ipv4:127.0.0.1:7443: Ssl handshake failed: SSL_ERROR_SSL: "
      "error:0A000086:SSL routines::certificate verify failed");
  EXPECT_NE(untrusted.find("the node's certificate is not trusted: it is "
                           "not issued by the CA in --ca '/etc/cbx/ca.pem' "
                           "for the name 127.0.0.1"),
            std::string::npos)
      << untrusted;
  std::string ours = unavailable("Socket closed");
  EXPECT_NE(ours.find("did not accept your certificate --cert "
                      "'/etc/cbx/office.pem'"),
            std::string::npos)
      << ours;
  for (const std::string& text : {dns, refused, untrusted, ours}) {
    for (const char* library : {"UNAVAILABLE", "C-ares", "Socket closed",
                                "SSL_ERROR", "empty address list"}) {
      EXPECT_EQ(text.find(library), std::string::npos) << text;
    }
  }
  // The node's own UNAVAILABLE keeps its words.
  EXPECT_NE(unavailable("storage failing: audit.db: disk full")
                .find("the node cannot do this now: storage failing"),
            std::string::npos);
}

// The office's files, checked before connecting.
class CredentialsTest : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1'780'000'000;
  void SetUp() override {
    ca_ = crypto::testing::MakeTestCa("cbx test CA", kNow - 86400,
                                      kNow + 86400 * 365);
    office_ = Issue("spiffe://cbx/office/MK/PPO-Skopje/prosecutor",
                    kNow - 3600, kNow + 86400);
  }
  crypto::testing::TestKeyPair Issue(const std::string& uri, int64_t from,
                                     int64_t to) {
    return crypto::testing::IssueTestCertificate(ca_, ++serial_, "office",
                                                 uri, from, to);
  }
  ConnectionSettings With(const crypto::testing::TestKeyPair& cert) {
    ConnectionSettings s;
    s.target = "127.0.0.1:7443";
    s.cert_path = "office.pem";
    s.key_path = "office.key";
    s.ca_path = "ca.pem";
    s.cert_pem = cert.certificate_pem;
    s.key_pem = cert.private_key_pem;
    s.ca_pem = ca_.certificate_pem;
    return s;
  }
  static std::string Error(const ConnectionSettings& s) {
    absl::Status st = CheckCredentials(s, kNow);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    return std::string(st.message());
  }

  crypto::testing::TestKeyPair ca_, office_;
  uint64_t serial_ = 1;
};

TEST_F(CredentialsTest, AGoodOfficeCertificatePasses) {
  EXPECT_TRUE(CheckCredentials(With(office_), kNow).ok());
}

TEST_F(CredentialsTest, AKeyOfAnotherCertificateIsNamed) {
  ConnectionSettings s = With(office_);
  s.key_pem = Issue("spiffe://cbx/office/MK/PPO-Skopje/prosecutor", kNow - 1,
                    kNow + 1)
                  .private_key_pem;
  EXPECT_EQ(Error(s),
            "the key --key 'office.key' does not belong to the certificate "
            "--cert 'office.pem'; give the key file that was made together "
            "with this certificate");
}

TEST_F(CredentialsTest, DamagedFilesAreNamed) {
  ConnectionSettings s = With(office_);
  s.cert_pem = kCertPem;  // the markers, no certificate
  EXPECT_NE(Error(s).find("the certificate file --cert 'office.pem' is "
                          "damaged"),
            std::string::npos);
  s = With(office_);
  s.key_pem = kKeyPem;
  EXPECT_NE(Error(s).find("the key file --key 'office.key' holds no readable "
                          "private key"),
            std::string::npos);
  s = With(office_);
  s.ca_pem = kCertPem;
  EXPECT_NE(Error(s).find("the CA file --ca 'ca.pem' is damaged"),
            std::string::npos);
}

TEST_F(CredentialsTest, OnlyAnOfficeCertificateWillDo) {
  EXPECT_EQ(Error(With(Issue("spiffe://cbx/member/MK", kNow - 1, kNow + 99))),
            "the certificate --cert 'office.pem' is not an office certificate "
            "(it carries the name spiffe://cbx/member/MK, not "
            "spiffe://cbx/office/...); give your office's certificate, which "
            "your node's operator issues");
  EXPECT_NE(Error(With(Issue("", kNow - 1, kNow + 99)))
                .find("it carries no cbx name"),
            std::string::npos);
}

TEST_F(CredentialsTest, AnExpiredOrNotYetValidCertificateIsNamed) {
  const std::string uri = "spiffe://cbx/office/MK/PPO-Skopje/prosecutor";
  std::string expired = Error(With(Issue(uri, kNow - 7200, kNow - 3600)));
  EXPECT_EQ(expired.rfind("the certificate --cert 'office.pem' expired on ", 0),
            0u)
      << expired;
  EXPECT_NE(expired.find("ask your node's operator for a renewed"),
            std::string::npos);
  EXPECT_NE(Error(With(Issue(uri, kNow + 3600, kNow + 7200)))
                .find("is valid only from"),
            std::string::npos);
}

}  // namespace
}  // namespace cbx::client
