// TLS without restarts and revocation (issue 10; spec/keys.md §5), with real
// nodes on loopback: RS's certificate renewed by replacing its files while
// MK queries continuously; a pair that is not RS's refused; a directory
// version adding BA's new CA letting BA's new certificate in; MK's node
// certificate and an office certificate revoked by CRL.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/crypto/x509_crl.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"

namespace cbx::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

// openssl config for the certificates and CRLs this test makes, as an
// operator would (certs/README.md).
constexpr char kOpensslConfig[] = R"([ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $ENV::CBX_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = cadb
[ cadb ]
database = $ENV::CBX_CA_DB/index.txt
crlnumber = $ENV::CBX_CA_DB/crlnumber
default_md = sha256
default_crl_days = 7
)";

v1::Identifier Telegram(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

class TlsFederationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    options.edit_config = [](const std::string&, nlohmann::json& config) {
      config["tls"]["crl_dir"] = "crl";
    };
    auto created = Federation::Create(options);
    ASSERT_TRUE(created.ok()) << created.status();
    fed_ = created->release();
    for (const char* cc : {"MK", "RS", "BA"}) {
      std::filesystem::create_directories(fed_->NodeDir(cc) + "/crl");
    }
    std::ofstream(fed_->dir() + "/openssl.cnf") << kOpensslConfig;
    ASSERT_TRUE(fed_->StartAll().ok());
    AddCase("RS", "RS-2026-7", "tls_reload_target");
    // The case MK's queries name as their purpose (spec/office-api.md §4.5).
    AddCase("MK", "MK-2026-0142", "tls_reload_querier");
    ASSERT_TRUE(fed_->WaitForIndex("MK", {{"RS", 1}}).ok());
  }
  static void TearDownTestSuite() {
    delete fed_;
    fed_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure()) fed_->DumpLogs();
  }

  static void AddCase(const std::string& cc, const std::string& number,
                      const std::string& telegram) {
    v1::AddCaseRequest req;
    v1::Case* c = req.mutable_case_();
    c->set_case_number(number);
    *c->add_identifiers() = Telegram(telegram);
    c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
    c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
    c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    v1::Case out;
    grpc::Status s = fed_->Office(cc)->AddCase(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
  }

  // One query from MK's prosecutor: OK if the call succeeded and RS
  // answered with its hit.
  static bool QueryHitsRs() {
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram("tls_reload_target");
    req.mutable_purpose()->set_case_number("MK-2026-0142");
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(20));
    auto reader = fed_->Office("MK")->Query(&ctx, req);
    bool hit = false;
    v1::QueryEvent event;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().member() == "RS" &&
          event.answer().outcome() == v1::PEER_OUTCOME_HIT) {
        hit = true;
      }
    }
    return reader->Finish().ok() && hit;
  }

  static std::string Run(const std::string& command) {
    std::string out;
    int rc = RunCommand(command, &out);
    EXPECT_EQ(rc, 0) << command << "\n" << out;
    return out;
  }

  static std::string OpensslEnv(const std::string& san,
                                const std::string& ca_db = "") {
    return absl::StrCat("OPENSSL_CONF=", fed_->dir(), "/openssl.cnf CBX_SAN='",
                        san, "' CBX_CA_DB='", ca_db, "' ");
  }

  // A new node certificate for `cc` from the CA in `ca_dir` (key and
  // certificate at `out`.key / `out`.crt); returns its serial.
  static std::string IssueNodeCertificate(const std::string& cc,
                                          const std::string& ca_dir,
                                          const std::string& out) {
    Run(absl::StrCat(
        OpensslEnv("URI:spiffe://cbx/member/" + cc +
                   ",DNS:localhost,IP:127.0.0.1"),
        "openssl req -x509 -config ", fed_->dir(), "/openssl.cnf",
        " -extensions leaf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc",
        " -keyout ", out, ".key -CA ", ca_dir, "/ca.crt -CAkey ", ca_dir,
        "/ca.key -subj '/CN=cbx-node ", cc, " renewed' -days 30 -sha256 -out ",
        out, ".crt"));
    return Serial(out + ".crt");
  }

  static std::string Serial(const std::string& cert_file) {
    std::string out = Run("openssl x509 -noout -serial -in " + cert_file);
    return std::string(
        absl::StripAsciiWhitespace(absl::StripPrefix(out, "serial=")));
  }

  // The serial of the certificate `target`'s Peer port presents on a new
  // connection; "" if the call failed.
  static std::string PresentedSerial(const std::string& target) {
    auto stub = fed_->PeerAs(target, "BA");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(5));
    v1::GetDirectoryResponse resp;
    grpc::Status s = stub->GetDirectory(&ctx, v1::GetDirectoryRequest(), &resp);
    if (!s.ok()) return "";
    auto pems = ctx.auth_context()->FindPropertyValues("x509_pem_cert");
    if (pems.empty()) return "";
    auto summary = crypto::SummarizeCertificate(
        std::string(pems.front().data(), pems.front().size()));
    return summary.ok() ? summary->serial_hex : "";
  }

  static v1::ListPeersResponse ListPeersAt(const std::string& cc) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    v1::ListPeersResponse out;
    grpc::Status s =
        fed_->Office(cc)->ListPeers(&ctx, v1::ListPeersRequest(), &out);
    EXPECT_TRUE(s.ok()) << cc << " " << s.error_message();
    return out;
  }

  static const v1::PeerStatus* PeerIn(const v1::ListPeersResponse& peers,
                                      const std::string& member) {
    for (const v1::PeerStatus& p : peers.peers()) {
      if (p.member() == member) return &p;
    }
    return nullptr;
  }

  static grpc::Status GetDirectory(v1::Peer::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(5));
    v1::GetDirectoryResponse resp;
    return stub.GetDirectory(&ctx, v1::GetDirectoryRequest(), &resp);
  }

  // Waits up to `timeout` for `done`; its last value.
  template <typename F>
  static bool WaitFor(F done, seconds timeout = seconds(15)) {
    auto deadline = steady_clock::now() + timeout;
    while (!done()) {
      if (steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return true;
  }

  static std::string Log(const std::string& cc) {
    return Slurp(fed_->LogOf(cc));
  }

  static Federation* fed_;
};

Federation* TlsFederationTest::fed_ = nullptr;

TEST_F(TlsFederationTest, RenewedCertificateIsServedWithoutAFailedQuery) {
  const std::string old_serial = Serial(fed_->NodeDir("RS") + "/node.crt");
  ASSERT_EQ(PresentedSerial("RS"), old_serial);
  std::atomic<bool> stop{false};
  std::atomic<int> queries{0}, failures{0};
  std::thread querier([&] {
    while (!stop.load()) {
      ++queries;
      if (!QueryHitsRs()) ++failures;
    }
  });
  // The operator renews: a new key and certificate, each file replaced by
  // a rename, the certificate first (a poll may see the new certificate
  // beside the old key for a moment).
  const std::string staged = fed_->dir() + "/rs-renewed";
  const std::string serial =
      IssueNodeCertificate("RS", fed_->NodeDir("RS"), staged);
  ASSERT_NE(serial, old_serial);
  std::filesystem::rename(staged + ".crt", fed_->NodeDir("RS") + "/node.crt");
  std::this_thread::sleep_for(milliseconds(300));
  std::filesystem::rename(staged + ".key", fed_->NodeDir("RS") + "/node.key");
  EXPECT_TRUE(WaitFor([&] { return PresentedSerial("RS") == serial; }))
      << "RS still presents " << PresentedSerial("RS");
  // Queries keep going across the switch and after it.
  int before = queries.load();
  WaitFor([&] { return queries.load() >= before + 3; });
  stop = true;
  querier.join();
  EXPECT_GT(queries.load(), 3);
  std::cout << "queries from MK across RS's renewal: " << queries.load()
            << ", failed: " << failures.load() << "\n";
  EXPECT_EQ(failures.load(), 0) << "of " << queries.load() << " queries";
  const std::string log = Log("RS");
  EXPECT_NE(log.find("tls-reloaded"), std::string::npos);
  EXPECT_NE(log.find("serial=" + serial), std::string::npos) << log;
  EXPECT_EQ(log.find("tls-reload-refused"), std::string::npos) << log;

  // RS's own calls to MK now go out on new channels with the renewed
  // certificate, and MK accepts them.
  {
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram("nobody_has_this_one");
    req.mutable_purpose()->set_case_number("RS-2026-7");
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(20));
    auto reader = fed_->Office("RS")->Query(&ctx, req);
    v1::QueryEvent event;
    v1::PeerOutcome mk = v1::PEER_OUTCOME_UNSPECIFIED;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().member() == "MK") {
        mk = event.answer().outcome();
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(mk, v1::PEER_OUTCOME_MISS);
  }

  // Both sides can see the renewal in `cbx peers` (spec/keys.md §5.1): RS
  // presents the renewed certificate, and MK saw it on RS's call.
  {
    const std::string fingerprint = std::string(absl::StripAsciiWhitespace(
        absl::StripPrefix(Run("openssl x509 -noout -fingerprint -sha256 -in " +
                              fed_->NodeDir("RS") + "/node.crt"),
                          "sha256 Fingerprint=")));
    v1::ListPeersResponse at_rs = ListPeersAt("RS");
    EXPECT_EQ(at_rs.own_certificate().serial(), serial);
    EXPECT_EQ(at_rs.own_certificate().sha256_fingerprint(), fingerprint);
    v1::ListPeersResponse at_mk = ListPeersAt("MK");
    const v1::PeerStatus* rs_at_mk = PeerIn(at_mk, "RS");
    ASSERT_NE(rs_at_mk, nullptr);
    EXPECT_EQ(rs_at_mk->client_certificate().serial(), serial);
    EXPECT_EQ(rs_at_mk->client_certificate().sha256_fingerprint(), fingerprint);
    // And MK's Peer port, as RS's new channel saw it.
    const v1::PeerStatus* mk_at_rs = PeerIn(at_rs, "MK");
    ASSERT_NE(mk_at_rs, nullptr);
    EXPECT_EQ(mk_at_rs->server_certificate().serial(),
              Serial(fed_->NodeDir("MK") + "/node.crt"));
  }

  // Another member's pair in RS's files: refused, the renewed one stays.
  std::filesystem::copy_file(fed_->NodeDir("BA") + "/node.crt",
                             fed_->NodeDir("RS") + "/node.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(fed_->NodeDir("BA") + "/node.key",
                             fed_->NodeDir("RS") + "/node.key",
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(WaitFor([&] {
    return Log("RS").find("tls-reload-refused") != std::string::npos;
  }));
  EXPECT_NE(Log("RS").find("not RS's node certificate"), std::string::npos);
  EXPECT_EQ(PresentedSerial("RS"), serial);
  EXPECT_TRUE(QueryHitsRs());
}

TEST_F(TlsFederationTest, DirectoryAddingANewCaLetsItsCertificateIn) {
  // BA's new national CA and a node certificate from it.
  const std::string ca2 = fed_->dir() + "/ba-ca2";
  std::filesystem::create_directories(ca2);
  Run(absl::StrCat(OpensslEnv(""), "openssl req -x509 -config ", fed_->dir(),
                   "/openssl.cnf -extensions ca_ext -newkey ec -pkeyopt ",
                   "ec_paramgen_curve:P-256 -noenc -keyout ", ca2,
                   "/ca.key -subj '/C=BA/CN=cbx demo national CA BA 2' ",
                   "-days 30 -sha256 -out ", ca2, "/ca.crt"));
  IssueNodeCertificate("BA", ca2, ca2 + "/node");
  auto before = fed_->PeerWithFiles("RS", ca2 + "/node.crt", ca2 + "/node.key");
  grpc::Status refused = GetDirectory(*before);
  EXPECT_FALSE(refused.ok());  // the handshake: RS does not trust that CA

  // Version 2 lists both of BA's CAs; RS's operator installs it.
  nlohmann::json next = fed_->spec();
  next["version"] = 2;
  next.erase("issued_at_ms");
  for (auto& m : next["members"]) {
    if (m["code"] == "BA") {
      m.erase("ca_certificate");
      m["ca_certificates"] = {"BA/ca.crt", ca2 + "/ca.crt"};
    }
  }
  const std::string dir = fed_->dir();
  std::ofstream(dir + "/federation-v2.json") << next.dump(2);
  const std::string admin = AdminBinary();
  Run(admin + " directory build --spec " + dir + "/federation-v2.json --out " +
      dir + "/v2.pb --previous " + dir + "/genesis.pb");
  for (const char* cc : {"MK", "RS"}) {
    Run(admin + " directory sign --in " + dir + "/v2.pb --member " + cc +
        " --key " + dir + "/" + cc + "/governance.key --out " + dir +
        "/v2.pb --previous " + dir + "/genesis.pb");
  }
  Run(NodeBinary() + " --allow-root --config " + fed_->NodeDir("RS") +
      "/node.json --install-directory " + dir + "/v2.pb");
  // No restart: RS adopts it and trusts the new CA on new connections.
  EXPECT_TRUE(WaitFor([&] {
    auto stub = fed_->PeerWithFiles("RS", ca2 + "/node.crt", ca2 + "/node.key");
    return GetDirectory(*stub).ok();
  })) << "BA's certificate from its new CA is still refused";
  EXPECT_NE(Log("RS").find("tls-roots-updated"), std::string::npos);
}

TEST_F(TlsFederationTest, SighupRereadsTheFilesAndKeepsServing) {
  // SIGHUP's default action ends a process: the node must catch it.
  ASSERT_EQ(kill(fed_->Pid("BA"), SIGHUP), 0);
  EXPECT_TRUE(WaitFor(
      [] { return Log("BA").find("signal=SIGHUP") != std::string::npos; }));
  EXPECT_TRUE(GetDirectory(*fed_->PeerAs("BA", "MK")).ok());
  EXPECT_NE(fed_->Pid("BA"), 0);
}

TEST_F(TlsFederationTest,
       RevokedCertificatesAreRefusedOnNewAndOpenConnections) {
  // Connections opened before the revocation.
  auto mk_open = fed_->PeerAs("RS", "MK");
  auto ba_open = fed_->PeerAs("RS", "BA");
  ASSERT_TRUE(GetDirectory(*mk_open).ok());
  ASSERT_TRUE(GetDirectory(*ba_open).ok());
  auto office_open = fed_->Office("MK", "prosecutor");
  {
    grpc::ClientContext ctx;
    v1::ListCasesResponse resp;
    ASSERT_TRUE(
        office_open->ListCases(&ctx, v1::ListCasesRequest(), &resp).ok());
  }

  // MK's CA revokes MK's node certificate and the prosecutor's office
  // certificate, with `openssl ca` as an operator would.
  const std::string db = fed_->dir() + "/mk-ca-db";
  std::filesystem::create_directories(db);
  std::ofstream(db + "/index.txt").close();
  std::ofstream(db + "/crlnumber") << "01\n";
  const std::string ca = fed_->NodeDir("MK");
  const std::string office_cert = fed_->OfficeCertificate("MK", "prosecutor");
  const std::string openssl_ca = absl::StrCat(
      OpensslEnv("", db), "openssl ca -config ", fed_->dir(),
      "/openssl.cnf -keyfile ", ca, "/ca.key -cert ", ca, "/ca.crt ");
  Run(openssl_ca + "-revoke " + ca + "/node.crt");
  Run(openssl_ca + "-revoke " + office_cert);
  Run(openssl_ca + "-gencrl -out " + db + "/mk.crl");
  // RS holds MK's CRL for the Peer port, MK for its Office port.
  std::filesystem::copy_file(db + "/mk.crl",
                             fed_->NodeDir("RS") + "/crl/mk.crl");
  std::filesystem::copy_file(db + "/mk.crl",
                             fed_->NodeDir("MK") + "/crl/mk.crl");
  WaitFor([&] {
    return Log("RS").find("crl-loaded") != std::string::npos &&
           Log("MK").find("crl-loaded") != std::string::npos;
  });

  // The open connection and a new one: every call refused.
  grpc::Status open = GetDirectory(*mk_open);
  EXPECT_EQ(open.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << open.error_message();
  EXPECT_NE(open.error_message().find("is revoked by the CRL of"),
            std::string::npos)
      << open.error_message();
  grpc::Status fresh = GetDirectory(*fed_->PeerAs("RS", "MK"));
  EXPECT_EQ(fresh.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << fresh.error_message();
  // BA is unaffected, on its open connection and a new one.
  EXPECT_TRUE(GetDirectory(*ba_open).ok());
  EXPECT_TRUE(GetDirectory(*fed_->PeerAs("RS", "BA")).ok());

  // The revoked office: refused on its open connection and a new one; the
  // same office's auditor certificate is not revoked.
  auto office_new = fed_->Office("MK", "prosecutor");
  for (auto* stub : {office_open.get(), office_new.get()}) {
    grpc::ClientContext ctx;
    v1::ListCasesResponse resp;
    grpc::Status s = stub->ListCases(&ctx, v1::ListCasesRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    v1::AuditCheckpointResponse resp;
    grpc::Status s =
        fed_->Office("MK", "auditor")
            ->AuditCheckpoint(&ctx, v1::AuditCheckpointRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  // RS's own calls to MK (index and directory pulls): MK's Peer port
  // presents the revoked certificate, so RS refuses it at the handshake
  // and logs which member and serial (spec/keys.md §5.3, errors.md T7).
  const std::string serial = Serial(ca + "/node.crt");
  EXPECT_TRUE(WaitFor([&] {
    return Log("RS").find("peer-certificate-revoked member=MK serial=" +
                          serial) != std::string::npos;
  })) << "RS never refused MK's revoked server certificate";
}

}  // namespace
}  // namespace cbx::testing
