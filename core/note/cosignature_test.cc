#include "core/note/cosignature.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/crypto/ed25519.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;

crypto::Ed25519PrivateKey Key(char fill) {
  return crypto::Ed25519PrivateKey::FromSeed(Bytes(32, fill)).value();
}

class CosignatureTest : public ::testing::Test {
 protected:
  Cosigner witness_ = Cosigner::Create("cbx/FR/witness", Key('w')).value();
  const std::string text_ =
      FormatCheckpoint({"cbx/DE/audit", 7, Bytes(32, '\x01'), {}}).value();
};

TEST_F(CosignatureTest, MessageLayout) {
  EXPECT_EQ(CosignatureMessage(1679315147, "o\n1\nAA==\n"),
            "cosignature/v1\ntime 1679315147\no\n1\nAA==\n");
  EXPECT_EQ(CosignatureMessage(0, "x\n"), "cosignature/v1\ntime 0\nx\n");
}

TEST_F(CosignatureTest, CosignAndVerify) {
  auto sig = witness_.Cosign(text_, 1700000000);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->name, "cbx/FR/witness");
  EXPECT_EQ(sig->key_id, witness_.key_id());
  ASSERT_EQ(sig->signature.size(), 72u);
  EXPECT_EQ(ReadUint64BE(sig->signature), 1700000000u);
  auto verified = witness_.verifier().Verify(text_, *sig);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->type, SignatureType::kCosignatureV1);
  EXPECT_EQ(verified->timestamp, 1700000000u);
}

TEST_F(CosignatureTest, KeyIdUsesTypeByte4) {
  // The same key as a note signer has a different ID: a cosignature line can
  // never be taken for a log signature or the reverse.
  auto as_note_key = NoteSigner::Create("cbx/FR/witness", Key('w')).value();
  EXPECT_NE(as_note_key.key_id(), witness_.key_id());
  EXPECT_TRUE(witness_.verifier().Encode().find("+B") != std::string::npos);
}

TEST_F(CosignatureTest, TamperingIsUnauthenticated) {
  const Signature sig = witness_.Cosign(text_, 1700000000).value();
  const Verifier& v = witness_.verifier();
  // Another timestamp than the one signed.
  Signature later = sig;
  later.signature[7] ^= 0x01;
  EXPECT_EQ(v.Verify(text_, later).status().code(),
            StatusCode::kUnauthenticated);
  // A flipped signature byte.
  Signature flipped = sig;
  flipped.signature[40] ^= 0x80;
  EXPECT_EQ(v.Verify(text_, flipped).status().code(),
            StatusCode::kUnauthenticated);
  // Another checkpoint.
  const std::string other =
      FormatCheckpoint({"cbx/DE/audit", 8, Bytes(32, '\x01'), {}}).value();
  EXPECT_EQ(v.Verify(other, sig).status().code(), StatusCode::kUnauthenticated);
  // Wrong lengths.
  Signature no_timestamp = sig;
  no_timestamp.signature = sig.signature.substr(8);
  EXPECT_EQ(v.Verify(text_, no_timestamp).status().code(),
            StatusCode::kUnauthenticated);
  Signature longer = sig;
  longer.signature += "x";
  EXPECT_EQ(v.Verify(text_, longer).status().code(),
            StatusCode::kUnauthenticated);
  // A plain Ed25519 note signature by the same key is not a cosignature.
  Signature plain = sig;
  plain.signature = Key('w').Sign(text_);
  EXPECT_EQ(v.Verify(text_, plain).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(CosignatureTest, TimestampAboveTwoToThe63IsRejected) {
  EXPECT_EQ(
      witness_.Cosign(text_, kMaxCosignatureTimestamp + 1).status().code(),
      StatusCode::kInvalidArgument);
  auto max = witness_.Cosign(text_, kMaxCosignatureTimestamp);
  ASSERT_TRUE(max.ok());
  EXPECT_TRUE(witness_.verifier().Verify(text_, *max).ok());
  // A validly signed message with the top bit set still fails to verify.
  const uint64_t big = kMaxCosignatureTimestamp + 1;
  Signature forged{witness_.name(), witness_.key_id(), ""};
  AppendUint64BE(forged.signature, big);
  forged.signature += Key('w').Sign(CosignatureMessage(big, text_));
  EXPECT_EQ(witness_.verifier().Verify(text_, forged).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(CosignatureTest, CosignOnlyCheckpoints) {
  EXPECT_EQ(witness_.Cosign("not a checkpoint\n", 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(witness_.Cosign("", 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CosignatureTest, CreateRejectsBadName) {
  EXPECT_EQ(Cosigner::Create("", Key('w')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Cosigner::Create("a+b", Key('w')).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::note
