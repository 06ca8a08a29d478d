#include "core/crypto/pkcs11_signer.h"

#include <memory>
#include <string>

#include "core/crypto/testing/softhsm_token.h"
#include "gtest/gtest.h"

namespace cbx::crypto {
namespace {

using testing::SoftHsmToken;

TEST(Pkcs11UriTest, ParsesPathAndQueryAttributes) {
  auto uri = ParsePkcs11Uri(
      "pkcs11:token=cbx%20node;object=node-signing;id=%01%02"
      "?module-path=/usr/lib/x.so&pin-source=file:/etc/pin");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->path.at("token"), "cbx node");
  EXPECT_EQ(uri->path.at("object"), "node-signing");
  EXPECT_EQ(uri->path.at("id"), std::string("\x01\x02", 2));
  EXPECT_EQ(uri->query.at("module-path"), "/usr/lib/x.so");
  EXPECT_EQ(uri->query.at("pin-source"), "file:/etc/pin");
}

TEST(Pkcs11UriTest, RefusesPinValueAndMalformedUris) {
  EXPECT_EQ(ParsePkcs11Uri("pkcs11:object=k?pin-value=1234").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePkcs11Uri("file:/x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePkcs11Uri("pkcs11:object=a;object=b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePkcs11Uri("pkcs11:object=%zz").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePkcs11Uri("pkcs11:colour=blue").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsPkcs11Uri("pkcs11:object=x"));
  EXPECT_FALSE(IsPkcs11Uri("/etc/cbx/node-signing.key"));
}

TEST(Pkcs11SignerTest, MissingPinFileAndModuleAreNamed) {
  auto no_pin = Pkcs11Signer::Open(
      "pkcs11:object=k?module-path=/nonexistent/libnone.so"
      "&pin-source=file:/nonexistent/pin");
  EXPECT_EQ(no_pin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_pin.status().message().find("pin-source"), std::string::npos)
      << no_pin.status();
  if (!SoftHsmToken::Installed()) GTEST_SKIP() << SoftHsmToken::SkipReason();
  auto t = SoftHsmToken::Create();
  ASSERT_TRUE(t.ok()) << t.status();
  auto s = Pkcs11Signer::Open(
      "pkcs11:object=k?module-path=/nonexistent/libnone.so&pin-source=file:" +
      (*t)->pin_file());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("module-path"), std::string::npos)
      << s.status();
}

class SoftHsmSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SoftHsmToken::Installed()) GTEST_SKIP() << SoftHsmToken::SkipReason();
    auto t = SoftHsmToken::Create();
    ASSERT_TRUE(t.ok()) << t.status();
    token_ = *std::move(t);
    ASSERT_TRUE(token_->GenerateKey("node-signing", "01").ok());
  }
  std::unique_ptr<SoftHsmToken> token_;
};

TEST_F(SoftHsmSignerTest, SignatureVerifiesWithThePublicKey) {
  auto signer = Pkcs11Signer::Open(token_->Uri("node-signing"));
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto sig = (*signer)->Sign("cbx/v1/envelope test message");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->size(), kEd25519SignatureSize);
  EXPECT_TRUE(
      (*signer)->public_key().Verify("cbx/v1/envelope test message", *sig));
  EXPECT_FALSE((*signer)->public_key().Verify("another message", *sig));
  // Ed25519 is deterministic: the token computes RFC 8032 pure Ed25519.
  EXPECT_EQ(*(*signer)->Sign("cbx/v1/envelope test message"), *sig);
  EXPECT_EQ((*signer)->location(), token_->Uri("node-signing"));
}

TEST_F(SoftHsmSignerTest, TwoKeysOfOneTokenSignSideBySide) {
  ASSERT_TRUE(token_->GenerateKey("node-signing-next", "02").ok());
  auto a = Pkcs11Signer::Open(token_->Uri("node-signing"));
  auto b = Pkcs11Signer::Open(token_->Uri("node-signing-next"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE((*a)->public_key().bytes(), (*b)->public_key().bytes());
  EXPECT_TRUE((*b)->public_key().Verify("m", *(*b)->Sign("m")));
  a->reset();  // closing one leaves the other usable
  EXPECT_TRUE((*b)->public_key().Verify("n", *(*b)->Sign("n")));
}

TEST_F(SoftHsmSignerTest, WrongPinIsPermissionDenied) {
  const std::string wrong = token_->WritePinFile("wrong.pin", "0000");
  auto s = Pkcs11Signer::Open(
      "pkcs11:token=cbx;object=node-signing"
      "?module-path=" +
      std::string(testing::kSoftHsmModule) + "&pin-source=file:" + wrong);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.status().message().find("PIN"), std::string::npos) << s.status();
}

TEST_F(SoftHsmSignerTest, MissingObjectAndTokenAreNotFound) {
  auto s = Pkcs11Signer::Open(token_->Uri("no-such-key"));
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("object=no-such-key"), std::string::npos)
      << s.status();
  auto t = Pkcs11Signer::Open(
      "pkcs11:token=other;object=node-signing"
      "?module-path=" +
      std::string(testing::kSoftHsmModule) +
      "&pin-source=file:" + token_->pin_file());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("token=other"), std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace cbx::crypto
