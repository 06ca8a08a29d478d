#include "core/crypto/x509_crl.h"

#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"

namespace cbx::crypto {
namespace {

using testing::IssueTestCertificate;
using testing::MakeTestCa;
using testing::MakeTestCrl;
using testing::TestKeyPair;

constexpr int64_t kNow = 1'780'000'000;  // 2026
constexpr int64_t kDay = 86'400;

class X509CrlTest : public ::testing::Test {
 protected:
  TestKeyPair ca_ = MakeTestCa("cbx test CA MK", kNow - kDay, kNow + 30 * kDay);
  TestKeyPair other_ca_ =
      MakeTestCa("cbx test CA RS", kNow - kDay, kNow + 30 * kDay);
  TestKeyPair leaf_ =
      IssueTestCertificate(ca_, 0x1234, "cbx-node MK", "spiffe://cbx/member/MK",
                           kNow - kDay, kNow + 10 * kDay);
};

TEST_F(X509CrlTest, SummarizesCertificate) {
  auto s = SummarizeCertificate(leaf_.certificate_pem);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->serial_hex, "1234");
  EXPECT_EQ(s->not_before_s, kNow - kDay);
  EXPECT_EQ(s->not_after_s, kNow + 10 * kDay);
  ASSERT_EQ(s->uris.size(), 1u);
  EXPECT_EQ(s->uris[0], "spiffe://cbx/member/MK");
  EXPECT_NE(s->issuer.find("cbx test CA MK"), std::string::npos);
  EXPECT_EQ(SummarizeCertificate("junk").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// admin/testdata/test-ca.crt; the expected line is what
// `openssl x509 -noout -fingerprint -sha256` prints for it.
constexpr char kFixedCertificate[] = R"(-----BEGIN CERTIFICATE-----
MIIB3zCCAYWgAwIBAgIUKLMUOHwHY73T25SfPebMhcu/efQwCgYIKoZIzj0EAwIw
PDELMAkGA1UEBhMCTUsxETAPBgNVBAoMCGNieCB0ZXN0MRowGAYDVQQDDBFjYngt
YWRtaW4gdGVzdCBDQTAgFw0yNjExMjgxMTExMzFaGA8yMTI2MTEwNDExMTEzMVow
PDELMAkGA1UEBhMCTUsxETAPBgNVBAoMCGNieCB0ZXN0MRowGAYDVQQDDBFjYngt
YWRtaW4gdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABA1UVZSwdcv9
1wbeHbMM6J720aKQ13fcnsSQraKXyKk1PscHlYfX8xPVfo5/4WmZ47tIclqeW5Pc
pMRXSYZVqeajYzBhMB0GA1UdDgQWBBSl951lFJ0aXDObQOS3z8Xfs3GP2TAfBgNV
HSMEGDAWgBSl951lFJ0aXDObQOS3z8Xfs3GP2TAPBgNVHRMBAf8EBTADAQH/MA4G
A1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiEAsGQmvp7KVl1o1OJ6dm2R
viCURXkPwvfbEWlfh6zY4QoCIG5B9zJrFmfPM46yZ0JsDisfnt0lJc3flVs7D/Og
4Oft
-----END CERTIFICATE-----
)";

TEST(CertificateFingerprintTest, IsOpensslsSha256Fingerprint) {
  auto s = SummarizeCertificate(kFixedCertificate);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->sha256_fingerprint,
            "1A:99:53:70:7B:08:B3:B2:E9:87:69:B7:F3:50:FA:F3:74:10:10:A6:81:47:"
            "93:45:78:21:17:1F:5D:EE:88:E2");
  EXPECT_EQ(s->serial_hex, "28B314387C0763BDD3DB949F3DE6CC85CBBF79F4");
}

TEST_F(X509CrlTest, KeyMustMatchCertificate) {
  EXPECT_TRUE(
      CheckKeyMatchesCertificate(leaf_.private_key_pem, leaf_.certificate_pem)
          .ok());
  absl::Status mismatch =
      CheckKeyMatchesCertificate(ca_.private_key_pem, leaf_.certificate_pem);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mismatch.message(),
            "the private key does not match the certificate");
  EXPECT_EQ(CheckKeyMatchesCertificate("junk", leaf_.certificate_pem).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckKeyMatchesCertificate(leaf_.private_key_pem, "junk").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(X509CrlTest, ParsesCrlVerifiedByItsCa) {
  std::string crl = MakeTestCrl(ca_, {0x1234, 7}, kNow, kNow + 7 * kDay);
  auto list =
      ParseVerifiedCrl(crl, {other_ca_.certificate_pem, ca_.certificate_pem});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->this_update_s, kNow);
  EXPECT_EQ(list->next_update_s, kNow + 7 * kDay);
  EXPECT_EQ(list->revoked.size(), 2u);
  EXPECT_EQ(list->revoked.count("1234"), 1u);
  EXPECT_EQ(list->revoked.count("07"), 1u);
  auto leaf = SummarizeCertificate(leaf_.certificate_pem);
  EXPECT_EQ(list->issuer_der, leaf->issuer_der);
}

TEST_F(X509CrlTest, RefusesCrlOfUnknownCa) {
  std::string crl = MakeTestCrl(ca_, {1}, kNow, 0);
  EXPECT_EQ(ParseVerifiedCrl(crl, {other_ca_.certificate_pem}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParseVerifiedCrl("junk", {ca_.certificate_pem}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(X509CrlTest, RefusesCrlSignedByImpostorWithSameName) {
  // Another key under the very same CA name: the name matches, the
  // signature does not.
  TestKeyPair impostor =
      MakeTestCa("cbx test CA MK", kNow - kDay, kNow + 30 * kDay);
  std::string forged = MakeTestCrl(impostor, {0x1234}, kNow, 0);
  auto list = ParseVerifiedCrl(forged, {ca_.certificate_pem});
  EXPECT_EQ(list.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(list.status().message().find("does not verify"), std::string::npos);
}

}  // namespace
}  // namespace cbx::crypto
