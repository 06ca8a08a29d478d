#include "core/crypto/ed25519.h"

#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::crypto {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

// RFC 8032 section 7.1 (tests/vectors/ed25519.json).
TEST(Ed25519Test, Rfc8032Vectors) {
  auto doc = LoadJson(std::string(CBX_VECTORS_DIR) + "/ed25519.json");
  ASSERT_GE(doc["vectors"].size(), 4u);
  for (const auto& v : doc["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    auto key = Ed25519PrivateKey::FromSeed(Unhex(v["secret_key"]));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(HexEncode(key->public_key().bytes()),
              v["public_key"].get<std::string>());
    Bytes message = Unhex(v["message"]);
    Bytes signature = key->Sign(message);
    EXPECT_EQ(HexEncode(signature), v["signature"].get<std::string>());
    auto pub = Ed25519PublicKey::FromBytes(Unhex(v["public_key"]));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->Verify(message, signature));
    EXPECT_EQ(key->Seed(), Unhex(v["secret_key"]));
  }
}

TEST(Ed25519Test, RejectsTamperedMessageAndSignature) {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  Bytes sig = key.Sign("cbx");
  EXPECT_TRUE(key.public_key().Verify("cbx", sig));
  EXPECT_FALSE(key.public_key().Verify("cbX", sig));
  Bytes flipped = sig;
  flipped[10] ^= 1;
  EXPECT_FALSE(key.public_key().Verify("cbx", flipped));
  EXPECT_FALSE(key.public_key().Verify("cbx", sig.substr(0, 63)));
  Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  EXPECT_FALSE(other.public_key().Verify("cbx", sig));
}

TEST(Ed25519Test, RejectsMalformedKeys) {
  EXPECT_EQ(Ed25519PublicKey::FromBytes("short").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PrivateKey::FromSeed("short").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::crypto
