#include "core/note/witness.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/crypto/ed25519.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;

crypto::Ed25519PrivateKey Key(char fill) {
  return crypto::Ed25519PrivateKey::FromSeed(Bytes(32, fill)).value();
}

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (char c : {'1', '2', '3'}) {
      witnesses_.push_back(
          Cosigner::Create(std::string("cbx/W") + c + "/witness", Key(c))
              .value());
      policy_.witnesses.push_back(witnesses_.back().verifier());
    }
    policy_.threshold = 2;
  }

  // The checkpoint signed by the log and cosigned by witnesses `who`.
  std::string Note(const std::vector<int>& who) {
    ::cbx::note::Note note{text_, {log_.Sign(text_).value()}};
    for (int i : who) {
      note.signatures.push_back(witnesses_[i].Cosign(text_, 1000 + i).value());
    }
    return FormatNote(note).value();
  }

  NoteSigner log_ = NoteSigner::Create("cbx/DE/audit", Key('l')).value();
  std::vector<Cosigner> witnesses_;
  WitnessPolicy policy_;
  const std::string text_ =
      FormatCheckpoint({"cbx/DE/audit", 99, Bytes(32, '\x07'), {}}).value();
};

TEST_F(WitnessTest, ThresholdMet) {
  auto cp = OpenWitnessedCheckpoint(Note({0, 2}), "cbx/DE/audit",
                                    log_.verifier(), policy_);
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_EQ(cp->other_signatures.size(), 2u);
  EXPECT_EQ(cp->other_signatures[0].name, "cbx/W1/witness");
  EXPECT_EQ(cp->other_signatures[0].timestamp, 1000u);
  EXPECT_EQ(cp->other_signatures[1].timestamp, 1002u);
  EXPECT_TRUE(OpenWitnessedCheckpoint(Note({0, 1, 2}), "cbx/DE/audit",
                                      log_.verifier(), policy_)
                  .ok());
}

TEST_F(WitnessTest, TooFewCosignaturesIsUnauthenticated) {
  EXPECT_EQ(OpenWitnessedCheckpoint(Note({1}), "cbx/DE/audit", log_.verifier(),
                                    policy_)
                .status()
                .code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenWitnessedCheckpoint(Note({}), "cbx/DE/audit", log_.verifier(),
                                    policy_)
                .status()
                .code(),
            StatusCode::kUnauthenticated);
  policy_.threshold = 0;
  EXPECT_TRUE(OpenWitnessedCheckpoint(Note({}), "cbx/DE/audit", log_.verifier(),
                                      policy_)
                  .ok());
}

TEST_F(WitnessTest, UnknownCosignersDoNotCount) {
  Cosigner stranger = Cosigner::Create("cbx/XX/witness", Key('x')).value();
  ::cbx::note::Note note{text_, {log_.Sign(text_).value()}};
  note.signatures.push_back(witnesses_[0].Cosign(text_, 5).value());
  note.signatures.push_back(stranger.Cosign(text_, 5).value());
  EXPECT_EQ(OpenWitnessedCheckpoint(FormatNote(note).value(), "cbx/DE/audit",
                                    log_.verifier(), policy_)
                .status()
                .code(),
            StatusCode::kUnauthenticated);
}

TEST_F(WitnessTest, RepeatedCosignatureCannotCountTwice) {
  ::cbx::note::Note note{text_, {log_.Sign(text_).value()}};
  note.signatures.push_back(witnesses_[0].Cosign(text_, 5).value());
  const std::string once = FormatNote(note).value();
  const std::string twice =
      once + FormatSignatureLine(witnesses_[0].Cosign(text_, 6).value());
  EXPECT_EQ(
      OpenWitnessedCheckpoint(twice, "cbx/DE/audit", log_.verifier(), policy_)
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST_F(WitnessTest, BadCosignatureFromPolicyWitnessIsUnauthenticated) {
  ::cbx::note::Note note{text_, {log_.Sign(text_).value()}};
  for (int i = 0; i < 3; ++i) {
    note.signatures.push_back(witnesses_[i].Cosign(text_, 5).value());
  }
  note.signatures[2].signature[20] ^= 0x01;
  EXPECT_EQ(OpenWitnessedCheckpoint(FormatNote(note).value(), "cbx/DE/audit",
                                    log_.verifier(), policy_)
                .status()
                .code(),
            StatusCode::kUnauthenticated);
}

TEST_F(WitnessTest, CosignatureOfAnotherCheckpointIsUnauthenticated) {
  const std::string fork =
      FormatCheckpoint({"cbx/DE/audit", 99, Bytes(32, '\x08'), {}}).value();
  ::cbx::note::Note note{text_, {log_.Sign(text_).value()}};
  note.signatures.push_back(witnesses_[0].Cosign(text_, 5).value());
  note.signatures.push_back(witnesses_[1].Cosign(fork, 5).value());
  EXPECT_EQ(OpenWitnessedCheckpoint(FormatNote(note).value(), "cbx/DE/audit",
                                    log_.verifier(), policy_)
                .status()
                .code(),
            StatusCode::kUnauthenticated);
}

TEST_F(WitnessTest, TwoKeysOfOneWitnessCountOnce) {
  // Witness 1 rotates its key; both keys are in the policy.
  Cosigner rotated = Cosigner::Create("cbx/W1/witness", Key('r')).value();
  WitnessPolicy policy = policy_;
  policy.witnesses.push_back(rotated.verifier());
  ASSERT_TRUE(ValidateWitnessPolicy(policy).ok());
  ::cbx::note::Note note{text_, {log_.Sign(text_).value()}};
  note.signatures.push_back(witnesses_[0].Cosign(text_, 5).value());
  note.signatures.push_back(rotated.Cosign(text_, 6).value());
  const std::string msg = FormatNote(note).value();
  auto cp =
      OpenWitnessedCheckpoint(msg, "cbx/DE/audit", log_.verifier(), policy);
  EXPECT_EQ(cp.status().code(), StatusCode::kUnauthenticated);
  policy.threshold = 1;
  cp = OpenWitnessedCheckpoint(msg, "cbx/DE/audit", log_.verifier(), policy);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->other_signatures.size(), 2u);
  // Three names, so a threshold of 4 cannot be met even with four keys.
  policy.threshold = 4;
  EXPECT_EQ(ValidateWitnessPolicy(policy).code(), StatusCode::kInvalidArgument);
}

TEST_F(WitnessTest, EveryBitFlipIsRejected) {
  // Canonical base64, strict parsing and signatures over the whole text
  // leave no byte of a witnessed checkpoint that can change unnoticed.
  const std::string msg = Note({0, 1});
  ASSERT_TRUE(
      OpenWitnessedCheckpoint(msg, "cbx/DE/audit", log_.verifier(), policy_)
          .ok());
  for (size_t i = 0; i < msg.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = msg;
      bad[i] ^= static_cast<char>(1 << bit);
      const absl::Status s =
          OpenWitnessedCheckpoint(bad, "cbx/DE/audit", log_.verifier(), policy_)
              .status();
      ASSERT_TRUE(s.code() == StatusCode::kInvalidArgument ||
                  s.code() == StatusCode::kUnauthenticated)
          << "byte " << i << " bit " << bit << ": " << s;
    }
  }
}

TEST_F(WitnessTest, InvalidPolicies) {
  WitnessPolicy too_high = policy_;
  too_high.threshold = 4;
  EXPECT_EQ(ValidateWitnessPolicy(too_high).code(),
            StatusCode::kInvalidArgument);

  WitnessPolicy note_key = policy_;
  note_key.witnesses.push_back(
      NoteSigner::Create("cbx/W9/witness", Key('9')).value().verifier());
  EXPECT_EQ(ValidateWitnessPolicy(note_key).code(),
            StatusCode::kInvalidArgument);

  // One key under two names would let one operator count twice.
  WitnessPolicy shared = policy_;
  shared.witnesses.push_back(
      Cosigner::Create("cbx/W1bis/witness", Key('1')).value().verifier());
  EXPECT_EQ(ValidateWitnessPolicy(shared).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenWitnessedCheckpoint(Note({0, 1}), "cbx/DE/audit",
                                    log_.verifier(), shared)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateWitnessPolicy(policy_).ok());
}

}  // namespace
}  // namespace cbx::note
