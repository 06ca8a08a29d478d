#include "core/crypto/x509.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace cbx::crypto {
namespace {

std::string ReadVector(const std::string& name) {
  std::ifstream in(std::string(CBX_VECTORS_DIR) + "/x509/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(X509Test, ReadsUriSans) {
  auto uris = CertificateUriSans(ReadVector("leaf_mk_from_a.crt"));
  ASSERT_TRUE(uris.ok()) << uris.status();
  ASSERT_EQ(uris->size(), 1u);
  EXPECT_EQ((*uris)[0], "spiffe://cbx/member/MK");
  auto ca_uris = CertificateUriSans(ReadVector("ca_a.crt"));
  ASSERT_TRUE(ca_uris.ok());
  EXPECT_TRUE(ca_uris->empty());
}

TEST(X509Test, RejectsGarbage) {
  EXPECT_EQ(CertificateUriSans("not a certificate").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCertificateIssuedBy("junk", {ReadVector("ca_a.crt")}).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(X509Test, VerifiesIssuer) {
  std::string leaf = ReadVector("leaf_mk_from_a.crt");
  EXPECT_TRUE(VerifyCertificateIssuedBy(leaf, {ReadVector("ca_a.crt")}).ok());
  // Either CA of a member may have issued it.
  EXPECT_TRUE(VerifyCertificateIssuedBy(
                  leaf, {ReadVector("ca_b.crt"), ReadVector("ca_a.crt")})
                  .ok());
  absl::Status wrong =
      VerifyCertificateIssuedBy(leaf, {ReadVector("ca_b.crt")});
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyCertificateIssuedBy(leaf, {}).code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace cbx::crypto
