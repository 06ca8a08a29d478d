#include "node/certificates_seen.h"

#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"

namespace cbx::node {
namespace {

using crypto::testing::IssueTestCertificate;
using crypto::testing::MakeTestCa;
using crypto::testing::TestKeyPair;
using Side = CertificatesSeen::Side;

constexpr int64_t kNow = 1'780'000'000;  // 2026, Unix seconds
constexpr int64_t kDay = 86'400;

class CertificatesSeenTest : public ::testing::Test {
 protected:
  TestKeyPair ca_ = MakeTestCa("cbx test CA RS", kNow - kDay, kNow + 90 * kDay);
  TestKeyPair old_ =
      IssueTestCertificate(ca_, 0x0101, "cbx-node RS", "spiffe://cbx/member/RS",
                           kNow - kDay, kNow + 10 * kDay);
  TestKeyPair renewed_ =
      IssueTestCertificate(ca_, 0x0202, "cbx-node RS", "spiffe://cbx/member/RS",
                           kNow, kNow + 60 * kDay);
  CertificatesSeen seen_;
};

TEST_F(CertificatesSeenTest, NothingUntilSeen) {
  EXPECT_FALSE(seen_.Describe("RS", Side::kClient).has_value());
  seen_.Record("RS", Side::kClient, old_.certificate_pem, 1000);
  EXPECT_TRUE(seen_.Describe("RS", Side::kClient).has_value());
  EXPECT_FALSE(seen_.Describe("RS", Side::kServer).has_value());
  EXPECT_FALSE(seen_.Describe("AL", Side::kClient).has_value());
}

TEST_F(CertificatesSeenTest, SameCertificateMovesLastSeenOnly) {
  seen_.Record("RS", Side::kServer, old_.certificate_pem, 1000);
  seen_.Record("RS", Side::kServer, old_.certificate_pem, 5000);
  auto c = seen_.Describe("RS", Side::kServer);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->serial(), "0101");
  EXPECT_EQ(c->not_after_ms(), (kNow + 10 * kDay) * 1000);
  EXPECT_EQ(c->sha256_fingerprint().size(), 95u);  // 32 bytes as AB:CD:...
  EXPECT_EQ(c->first_seen_ms(), 1000);
  EXPECT_EQ(c->last_seen_ms(), 5000);
}

TEST_F(CertificatesSeenTest, RenewedCertificateReplacesTheOld) {
  seen_.Record("RS", Side::kClient, old_.certificate_pem, 1000);
  seen_.Record("RS", Side::kClient, renewed_.certificate_pem, 7000);
  auto c = seen_.Describe("RS", Side::kClient);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->serial(), "0202");
  EXPECT_EQ(c->not_after_ms(), (kNow + 60 * kDay) * 1000);
  EXPECT_EQ(c->first_seen_ms(), 7000);
  auto old = crypto::SummarizeCertificate(old_.certificate_pem);
  ASSERT_TRUE(old.ok());
  EXPECT_NE(c->sha256_fingerprint(), old->sha256_fingerprint);
}

TEST_F(CertificatesSeenTest, TextThatIsNoCertificateIsIgnored) {
  seen_.Record("RS", Side::kClient, old_.certificate_pem, 1000);
  seen_.Record("RS", Side::kClient, "not a certificate", 2000);
  auto c = seen_.Describe("RS", Side::kClient);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->serial(), "0101");
  EXPECT_EQ(c->last_seen_ms(), 1000);
}

}  // namespace
}  // namespace cbx::node
