#include "core/note/verifier.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "core/crypto/ed25519.h"
#include "core/note/cosignature.h"
#include "core/note/key_id.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;

// The C2SP spec's example key.
constexpr char kVkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

crypto::Ed25519PrivateKey Key(char fill) {
  return crypto::Ed25519PrivateKey::FromSeed(Bytes(32, fill)).value();
}

TEST(VerifierTest, ParsesAndEncodes) {
  auto v = Verifier::Parse(kVkey);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->name(), "example.com/foo");
  EXPECT_EQ(v->key_id(), 0x530d903au);
  EXPECT_EQ(v->type(), SignatureType::kEd25519);
  EXPECT_EQ(v->Encode(), kVkey);
}

TEST(VerifierTest, KeyIdDependsOnNameTypeAndKey) {
  const Bytes pub = Key('a').public_key().bytes();
  const uint32_t id = KeyId("n", SignatureType::kEd25519, pub);
  EXPECT_NE(id, KeyId("m", SignatureType::kEd25519, pub));
  EXPECT_NE(id, KeyId("n", SignatureType::kCosignatureV1, pub));
  EXPECT_NE(id,
            KeyId("n", SignatureType::kEd25519, Key('b').public_key().bytes()));
  auto v =
      Verifier::Create("n", SignatureType::kEd25519, Key('a').public_key());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->key_id(), id);
}

TEST(VerifierTest, UpperCaseKeyIdIsAccepted) {
  auto v = Verifier::Parse(
      "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Encode(), kVkey);
}

TEST(VerifierTest, RejectsMalformedKeys) {
  for (const char* bad : {
           "",
           "example.com/foo",
           "example.com/foo+530d903a",
           "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
           "example.com/"
           "foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x",
           "example.com/"
           "foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
           "example.com/"
           "foo+530d903az+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
           "example.com/"
           "foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
           // Key ID of another key.
           "example.com/"
           "foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
           // Same key under another name: the ID no longer matches.
           "example.com/"
           "bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
           // Key material: unpadded/non-canonical base64, short key, empty.
           "example.com/"
           "foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
           "example.com/"
           "foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U",
           "example.com/foo+530d903a+",
           "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
       }) {
    EXPECT_EQ(Verifier::Parse(bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(VerifierTest, UnknownTypeIsUnimplemented) {
  // The example key with type byte 0x02 (ECDSA) instead of 0x01.
  Bytes material(1, '\x02');
  material += Verifier::Parse(kVkey)->public_key().bytes();
  const std::string vkey = absl::StrFormat("example.com/foo+%08x+%s",
                                           0x530d903a, Base64Encode(material));
  EXPECT_EQ(Verifier::Parse(vkey).status().code(), StatusCode::kUnimplemented);
}

TEST(VerifierTest, CreateRejectsBadName) {
  EXPECT_EQ(
      Verifier::Create("a b", SignatureType::kEd25519, Key('a').public_key())
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST(VerifierTest, VerifyChecksKeyAndSignature) {
  auto signer = NoteSigner::Create("cbx/DE/audit", Key('k')).value();
  const Verifier& v = signer.verifier();
  auto sig = signer.Sign("hello\n").value();
  EXPECT_TRUE(v.Verify("hello\n", sig).ok());
  EXPECT_EQ(v.Verify("hellO\n", sig).status().code(),
            StatusCode::kUnauthenticated);
  Signature flipped = sig;
  flipped.signature[10] ^= 0x04;
  EXPECT_EQ(v.Verify("hello\n", flipped).status().code(),
            StatusCode::kUnauthenticated);
  Signature shortened = sig;
  shortened.signature.pop_back();
  EXPECT_EQ(v.Verify("hello\n", shortened).status().code(),
            StatusCode::kUnauthenticated);
  Signature other_name = sig;
  other_name.name = "cbx/FR/audit";
  EXPECT_EQ(v.Verify("hello\n", other_name).status().code(),
            StatusCode::kInvalidArgument);
  // A different key's verifier under the same name has another ID.
  auto other = NoteSigner::Create("cbx/DE/audit", Key('z')).value();
  EXPECT_NE(other.key_id(), signer.key_id());
  EXPECT_EQ(other.verifier().Verify("hello\n", sig).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SignerTest, GoPrivateKeyRoundTrip) {
  auto signer = NoteSigner::Create("cbx/DE/audit", Key('q')).value();
  const std::string skey = signer.EncodeGoPrivateKey();
  EXPECT_TRUE(skey.starts_with("PRIVATE+KEY+cbx/DE/audit+"));
  auto parsed = NoteSigner::FromGoPrivateKey(skey);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->verifier().Encode(), signer.verifier().Encode());
}

TEST(SignerTest, RejectsMalformedGoPrivateKeys) {
  auto signer = NoteSigner::Create("n", Key('q')).value();
  const std::string good = signer.EncodeGoPrivateKey();
  const std::string id = absl::StrFormat("%08x", signer.key_id());
  const std::string b64 = good.substr(good.rfind('+') + 1);
  for (const std::string& bad : {
           std::string("PRIVATE+KEY+n+") + id,
           "PRIVATE+KEX+n+" + id + "+" + b64,
           "n+" + id + "+" + b64,
           "PRIVATE+KEY+n+" + id + "+" + b64 + "+",
           "PRIVATE+KEY+m+" + id + "+" + b64,  // wrong ID for this name
           "PRIVATE+KEY+n+0000000+" + b64,
           "PRIVATE+KEY+n+" + id + "+" + b64.substr(1),
           "PRIVATE+KEY+n+" + id + "+" + Base64Encode(std::string(1, '\x01')),
       }) {
    EXPECT_EQ(NoteSigner::FromGoPrivateKey(bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  Bytes ecdsa(1, '\x02');
  ecdsa += Bytes(32, 'q');
  EXPECT_EQ(NoteSigner::FromGoPrivateKey("PRIVATE+KEY+n+" + id + "+" +
                                         Base64Encode(ecdsa))
                .status()
                .code(),
            StatusCode::kUnimplemented);
}

TEST(SignerTest, SignRejectsInvalidText) {
  auto signer = NoteSigner::Create("n", Key('q')).value();
  EXPECT_EQ(signer.Sign("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(signer.Sign("no newline").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(signer.Sign("tab\there\n").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(signer.Sign("bad \xFF utf8\n").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(signer.Sign("\n").ok());
}

}  // namespace
}  // namespace cbx::note
