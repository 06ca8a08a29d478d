#include "core/note/checkpoint.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/crypto/ed25519.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;

const Bytes kRoot(32, '\x5a');
const std::string kRootB64 = Base64Encode(kRoot);

TEST(CheckpointTest, FormatAndParse) {
  const Checkpoint cp{"cbx/DE/audit", 20852163, kRoot, {}};
  auto text = FormatCheckpoint(cp);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "cbx/DE/audit\n20852163\n" + kRootB64 + "\n");
  auto parsed = ParseCheckpoint(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, cp);
}

TEST(CheckpointTest, ExtensionLinesAndEdgeSizes) {
  const Checkpoint cp{
      "o", 0, kRoot, {"ext one", "\xE2\x80\x94 looks like a sig"}};
  auto text = FormatCheckpoint(cp);
  ASSERT_TRUE(text.ok());
  auto parsed = ParseCheckpoint(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, cp);

  auto max = ParseCheckpoint("o\n18446744073709551615\n" + kRootB64 + "\n");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size, 18446744073709551615u);
}

TEST(CheckpointTest, ParseRejectsMalformedText) {
  const std::string r = kRootB64;
  const std::vector<std::string> bad_texts = {
      std::string(""),
      "o\n5\n" + r,           // no final newline
      std::string("o\n5\n"),  // two lines
      "\n5\n" + r + "\n",     // empty origin
      "o\n\n" + r + "\n",     // empty size
      "o\n05\n" + r + "\n",   // leading zero
      "o\n00\n" + r + "\n",
      "o\n+5\n" + r + "\n",
      "o\n-5\n" + r + "\n",
      "o\n 5\n" + r + "\n",
      "o\n5 \n" + r + "\n",
      "o\n0x5\n" + r + "\n",
      "o\n18446744073709551616\n" + r + "\n",  // 2^64
      "o\n99999999999999999999\n" + r + "\n",
      "o\n5\n" + r.substr(0, r.size() - 1) + "\n",  // bad padding
      "o\n5\n" + Base64Encode(Bytes(31, 'x')) + "\n",
      "o\n5\n" + Base64Encode(Bytes(33, 'x')) + "\n",
      "o\n5\n" + r + "\n\n",  // empty extension line
      "o\n5\n" + r + "\n\next\n",
      "o\r\n5\n" + r + "\n",    // control character
      "o\xFF\n5\n" + r + "\n",  // invalid UTF-8
  };
  for (const std::string& bad : bad_texts) {
    EXPECT_EQ(ParseCheckpoint(bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(CheckpointTest, FormatRejectsInvalidFields) {
  EXPECT_EQ(FormatCheckpoint({"", 1, kRoot, {}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCheckpoint({"a\nb", 1, kRoot, {}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCheckpoint({"o", 1, Bytes(31, 'x'), {}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCheckpoint({"o", 1, kRoot, {""}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCheckpoint({"o", 1, kRoot, {"a\tb"}}).status().code(),
            StatusCode::kInvalidArgument);
}

class OpenCheckpointTest : public ::testing::Test {
 protected:
  static NoteSigner MakeSigner(std::string_view name, char fill) {
    return NoteSigner::Create(
               name,
               crypto::Ed25519PrivateKey::FromSeed(Bytes(32, fill)).value())
        .value();
  }
  std::string SignedCheckpoint(const std::string& text,
                               const NoteSigner& signer) {
    return FormatNote({text, {signer.Sign(text).value()}}).value();
  }

  NoteSigner log_ = MakeSigner("cbx/DE/audit", 'l');
  const std::string text_ =
      FormatCheckpoint({"cbx/DE/audit", 42, kRoot, {}}).value();
};

TEST_F(OpenCheckpointTest, Verifies) {
  auto cp = OpenCheckpoint(SignedCheckpoint(text_, log_), "cbx/DE/audit",
                           log_.verifier());
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->checkpoint.size, 42u);
  EXPECT_EQ(cp->checkpoint.root_hash, kRoot);
  EXPECT_EQ(cp->text, text_);
  EXPECT_EQ(cp->log_signature.name, "cbx/DE/audit");
}

TEST_F(OpenCheckpointTest, WrongOriginIsInvalidArgument) {
  EXPECT_EQ(OpenCheckpoint(SignedCheckpoint(text_, log_), "cbx/FR/audit",
                           log_.verifier())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OpenCheckpointTest, OtherKeyIsUnauthenticated) {
  NoteSigner other = MakeSigner("cbx/DE/audit", 'm');
  EXPECT_EQ(OpenCheckpoint(SignedCheckpoint(text_, other), "cbx/DE/audit",
                           log_.verifier())
                .status()
                .code(),
            StatusCode::kUnauthenticated);
  // Known as an "other" key, it still does not stand in for the log key.
  NoteSigner witness = MakeSigner("w", 'w');
  const std::vector<Verifier> others = {witness.verifier()};
  EXPECT_EQ(OpenCheckpoint(SignedCheckpoint(text_, witness), "cbx/DE/audit",
                           log_.verifier(), others)
                .status()
                .code(),
            StatusCode::kUnauthenticated);
}

TEST_F(OpenCheckpointTest, TamperedCheckpointIsUnauthenticated) {
  std::string msg = SignedCheckpoint(text_, log_);
  const size_t at = msg.find("\n42\n");
  ASSERT_NE(at, std::string::npos);
  msg[at + 2] = '3';  // size 43
  EXPECT_EQ(
      OpenCheckpoint(msg, "cbx/DE/audit", log_.verifier()).status().code(),
      StatusCode::kUnauthenticated);
}

TEST_F(OpenCheckpointTest, SignedNonCheckpointIsInvalidArgument) {
  EXPECT_EQ(OpenCheckpoint(SignedCheckpoint("cbx/DE/audit\n42\n", log_),
                           "cbx/DE/audit", log_.verifier())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OpenCheckpointTest, LogKeyMustBeANoteKey) {
  auto cosigner_key = Verifier::Create(
      "cbx/DE/audit", SignatureType::kCosignatureV1,
      crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 'l'))->public_key());
  ASSERT_TRUE(cosigner_key.ok());
  EXPECT_EQ(OpenCheckpoint(SignedCheckpoint(text_, log_), "cbx/DE/audit",
                           *cosigner_key)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::note
