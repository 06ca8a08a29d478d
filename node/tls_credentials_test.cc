// The reload decision for the node's own certificate and key, and the CRL
// rules (node/revocation.h), on certificates made in-test.
#include "node/tls_credentials.h"

#include <ctime>

#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"
#include "node/revocation.h"

namespace cbx::node {
namespace {

using crypto::testing::IssueTestCertificate;
using crypto::testing::MakeTestCa;
using crypto::testing::MakeTestCrl;
using crypto::testing::TestKeyPair;

constexpr int64_t kDay = 86'400;

class TlsReloadTest : public ::testing::Test {
 protected:
  const int64_t now_ = static_cast<int64_t>(std::time(nullptr));
  TestKeyPair mk_ca_ =
      MakeTestCa("cbx test CA MK", now_ - kDay, now_ + 90 * kDay);
  TestKeyPair rs_ca_ =
      MakeTestCa("cbx test CA RS", now_ - kDay, now_ + 90 * kDay);
  TestKeyPair office_ca_ =
      MakeTestCa("cbx test office CA MK", now_ - kDay, now_ + 90 * kDay);
  TestKeyPair node_ = Issue(mk_ca_, 0x10, "spiffe://cbx/member/MK");
  TestKeyPair renewed_ = Issue(mk_ca_, 0x11, "spiffe://cbx/member/MK");

  TestKeyPair Issue(const TestKeyPair& ca, uint64_t serial,
                    const std::string& uri) {
    return IssueTestCertificate(ca, serial, "cbx-node", uri, now_ - kDay,
                                now_ + 30 * kDay);
  }
  absl::StatusOr<crypto::CertificateSummary> Check(
      const TestKeyPair& pair, const RevocationSet& revoked = {}) {
    return CheckNodeIdentity(pair.certificate_pem, pair.private_key_pem, "MK",
                             {mk_ca_.certificate_pem}, revoked);
  }
  RevocationSet Load(const std::map<std::string, std::string>& files,
                     const RevocationSet& previous = {},
                     std::vector<RevocationEvent>* events = nullptr) {
    return LoadRevocations(files,
                           {mk_ca_.certificate_pem, rs_ca_.certificate_pem,
                            office_ca_.certificate_pem},
                           previous, now_, events);
  }
  static crypto::CertificateSummary Summary(const TestKeyPair& pair) {
    return *crypto::SummarizeCertificate(pair.certificate_pem);
  }
};

TEST_F(TlsReloadTest, AcceptsRenewedNodeCertificate) {
  auto summary = Check(renewed_);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->serial_hex, "11");
}

TEST_F(TlsReloadTest, RefusesKeyOfAnotherCertificate) {
  TestKeyPair mixed{renewed_.certificate_pem, node_.private_key_pem};
  auto summary = Check(mixed);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(),
            "the private key does not match the certificate");
}

TEST_F(TlsReloadTest, RefusesAnotherMembersCertificate) {
  auto summary = Check(Issue(mk_ca_, 0x12, "spiffe://cbx/member/RS"));
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(summary.status().message().find("not MK's node certificate"),
            std::string::npos);
}

TEST_F(TlsReloadTest, RefusesOfficeCertificate) {
  auto summary = Check(
      Issue(mk_ca_, 0x13, "spiffe://cbx/office/MK/PPO-Skopje/prosecutor"));
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TlsReloadTest, RefusesCertificateFromAnotherCa) {
  auto summary = Check(Issue(rs_ca_, 0x14, "spiffe://cbx/member/MK"));
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(summary.status().message().find("does not chain"),
            std::string::npos);
}

TEST_F(TlsReloadTest, RefusesExpiredCertificate) {
  TestKeyPair old =
      IssueTestCertificate(mk_ca_, 0x15, "cbx-node", "spiffe://cbx/member/MK",
                           now_ - 10 * kDay, now_ - kDay);
  EXPECT_EQ(Check(old).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TlsReloadTest, RefusesRevokedCertificate) {
  RevocationSet revoked =
      Load({{"mk.crl", MakeTestCrl(mk_ca_, {0x11}, now_ - 60, now_ + kDay)}});
  auto summary = Check(renewed_, revoked);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(summary.status().message().find("is revoked"), std::string::npos);
  EXPECT_TRUE(Check(node_, revoked).ok());
}

TEST_F(TlsReloadTest, CrlRevokesOnlyItsOwnCasSerials) {
  RevocationSet set =
      Load({{"mk.crl", MakeTestCrl(mk_ca_, {0x10}, now_ - 60, now_ + kDay)}});
  absl::Status s = set.Check(Summary(node_));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("certificate 10 "), std::string::npos);
  EXPECT_NE(s.message().find("is revoked by the CRL of"), std::string::npos);
  // Serial 0x10 of another CA is not revoked by MK's CRL.
  EXPECT_TRUE(
      set.Check(Summary(Issue(rs_ca_, 0x10, "spiffe://cbx/member/RS"))).ok());
  EXPECT_TRUE(set.Check(Summary(renewed_)).ok());
}

TEST_F(TlsReloadTest, OfficeCaCrlRevokesOfficeCertificate) {
  TestKeyPair office =
      Issue(office_ca_, 0x99, "spiffe://cbx/office/MK/PPO-Skopje/prosecutor");
  RevocationSet set =
      Load({{"office.crl",
             MakeTestCrl(office_ca_, {0x99}, now_ - 60, now_ + kDay)}});
  EXPECT_EQ(set.Check(Summary(office)).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsReloadTest, RefusesCrlOfUntrustedCaAndKeepsTheOneInUse) {
  std::vector<RevocationEvent> events;
  RevocationSet first =
      Load({{"mk.crl", MakeTestCrl(mk_ca_, {0x10}, now_ - 60, now_ + kDay)}},
           {}, &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "crl-loaded");
  // The same file now holds a CRL forged under MK's CA name: refused, and
  // serial 0x10 stays revoked.
  TestKeyPair impostor =
      MakeTestCa("cbx test CA MK", now_ - kDay, now_ + 90 * kDay);
  events.clear();
  RevocationSet second =
      Load({{"mk.crl", MakeTestCrl(impostor, {}, now_, now_ + kDay)}}, first,
           &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "crl-refused");
  EXPECT_EQ(second.Check(Summary(node_)).code(),
            absl::StatusCode::kUnauthenticated);
  // Garbage in the file: the same.
  RevocationSet third = Load({{"mk.crl", "junk"}}, first);
  EXPECT_EQ(third.Check(Summary(node_)).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsReloadTest, RefusesOlderCrlThanTheOneInUse) {
  RevocationSet newer =
      Load({{"mk.crl", MakeTestCrl(mk_ca_, {0x10}, now_ - 60, now_ + kDay)}});
  std::vector<RevocationEvent> events;
  // A replayed older CRL that did not list 0x10 yet.
  RevocationSet set =
      Load({{"mk.crl", MakeTestCrl(mk_ca_, {}, now_ - 3600, now_ + kDay)}},
           newer, &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "crl-refused");
  EXPECT_NE(events[0].detail.find("older than the CRL in use"),
            std::string::npos);
  EXPECT_EQ(set.Check(Summary(node_)).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsReloadTest, ExpiredCrlStaysInForceAndAlerts) {
  std::vector<RevocationEvent> events;
  RevocationSet set = Load(
      {{"mk.crl", MakeTestCrl(mk_ca_, {0x10}, now_ - 3 * kDay, now_ - kDay)}},
      {}, &events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event, "ALERT-crl-expired");
  EXPECT_EQ(set.Check(Summary(node_)).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(set.Check(Summary(renewed_)).ok());
}

TEST_F(TlsReloadTest, NewerCrlReplacesAndRemovedFileDrops) {
  RevocationSet first =
      Load({{"mk.crl", MakeTestCrl(mk_ca_, {0x10}, now_ - 60, now_ + kDay)}});
  RevocationSet second = Load(
      {{"mk.crl", MakeTestCrl(mk_ca_, {0x10, 0x11}, now_ - 30, now_ + kDay)}},
      first);
  EXPECT_EQ(second.Check(Summary(renewed_)).code(),
            absl::StatusCode::kUnauthenticated);
  std::vector<RevocationEvent> events;
  RevocationSet none = Load({}, second, &events);
  EXPECT_TRUE(none.empty());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "crl-removed");
}

}  // namespace
}  // namespace cbx::node
