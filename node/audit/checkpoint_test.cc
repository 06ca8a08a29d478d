// Checkpoints the log signs, and the cosignatures it keeps for them, checked
// with core/note as a witness or auditor would.
#include "core/note/checkpoint.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/ed25519.h"
#include "core/merkle/hash.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signature.h"
#include "core/note/verifier.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/testing/backends.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

using ::cbx::node::audit::testing::SampleEntry;
using ::cbx::node::audit::testing::ScopedTempDir;

constexpr char kOrigin[] = "cbx/XK/audit";

// Runs on each store (testing/backends.h).
template <typename Backend>
class AuditCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = tmp_.path() + "/audit.db";
    CBX_AUDIT_BACKEND_SETUP_OR_SKIP(backend_, tmp_.path());
    log_ = Open();
  }

  std::unique_ptr<AuditLog> Open() {
    absl::StatusOr<std::unique_ptr<AuditLog>> log =
        backend_.Open(AuditLogOptions());
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  note::Verifier LogVerifier() const {
    return note::Verifier::Create(kOrigin, note::SignatureType::kEd25519,
                                  key_.public_key())
        .value();
  }

  void Append(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(log_->Append(SampleEntry(i)).ok());
  }

  ScopedTempDir tmp_;
  std::string db_path_;
  crypto::Ed25519PrivateKey key_ = crypto::Ed25519PrivateKey::Generate();
  std::unique_ptr<AuditLog> log_;
  Backend backend_;
};

TYPED_TEST_SUITE(AuditCheckpointTest, testing::AuditBackends,
                 testing::AuditBackendNames);

TYPED_TEST(AuditCheckpointTest, EmptyLog) {
  ASSERT_NE(this->log_, nullptr);
  EXPECT_EQ(this->log_->LatestCheckpoint().status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::string> note = this->log_->SignCheckpoint(this->key_, kOrigin);
  ASSERT_TRUE(note.ok()) << note.status();
  absl::StatusOr<note::SignedCheckpoint> opened =
      note::OpenCheckpoint(*note, kOrigin, this->LogVerifier());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->checkpoint.size, 0u);
  EXPECT_EQ(opened->checkpoint.root_hash, merkle::EmptyRoot());
}

TYPED_TEST(AuditCheckpointTest, SignsTheCommittedTree) {
  ASSERT_NE(this->log_, nullptr);
  this->Append(7);
  absl::StatusOr<std::string> note = this->log_->SignCheckpoint(this->key_, kOrigin);
  ASSERT_TRUE(note.ok()) << note.status();
  absl::StatusOr<note::SignedCheckpoint> opened =
      note::OpenCheckpoint(*note, kOrigin, this->LogVerifier());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->checkpoint.size, 7u);
  EXPECT_EQ(opened->checkpoint.root_hash, this->log_->Root());
  EXPECT_TRUE(opened->checkpoint.extensions.empty());
  EXPECT_EQ(opened->text,
            absl::StrCat(kOrigin, "\n7\n", Base64Encode(this->log_->Root()), "\n"));

  EXPECT_EQ(this->log_->LatestCheckpoint().value(), *note);
  EXPECT_EQ(this->log_->CheckpointAt(7).value(), *note);
  EXPECT_EQ(this->log_->CheckpointAt(6).status().code(), absl::StatusCode::kNotFound);
  // Same size: the stored one again.
  EXPECT_EQ(this->log_->SignCheckpoint(this->key_, kOrigin).value(), *note);

  this->Append(5);
  absl::StatusOr<std::string> later = this->log_->SignCheckpoint(this->key_, kOrigin);
  ASSERT_TRUE(later.ok());
  absl::StatusOr<note::SignedCheckpoint> opened_later =
      note::OpenCheckpoint(*later, kOrigin, this->LogVerifier());
  ASSERT_TRUE(opened_later.ok());
  EXPECT_EQ(opened_later->checkpoint.size, 12u);
  EXPECT_EQ(this->log_->LatestCheckpoint().value(), *later);
  EXPECT_EQ(this->log_->CheckpointAt(7).value(), *note);
  EXPECT_TRUE(this->log_->Verify().ok());

  // Kept across a restart.
  this->log_.reset();
  this->log_ = this->Open();
  ASSERT_NE(this->log_, nullptr);
  EXPECT_EQ(this->log_->LatestCheckpoint().value(), *later);
}

TYPED_TEST(AuditCheckpointTest, OneOriginPerLog) {
  ASSERT_NE(this->log_, nullptr);
  this->Append(1);
  ASSERT_TRUE(this->log_->SignCheckpoint(this->key_, kOrigin).ok());
  this->Append(1);
  EXPECT_EQ(this->log_->SignCheckpoint(this->key_, "cbx/RS/audit").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->log_->SignCheckpoint(this->key_, "cbx/XK audit").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->log_->SignCheckpoint(this->key_, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(AuditCheckpointTest, KeepsCosignatures) {
  ASSERT_NE(this->log_, nullptr);
  this->Append(9);
  const std::string note = this->log_->SignCheckpoint(this->key_, kOrigin).value();
  const std::string text = note::ParseNote(note).value().text;

  const crypto::Ed25519PrivateKey witness_key =
      crypto::Ed25519PrivateKey::Generate();
  const note::Cosigner witness =
      note::Cosigner::Create("cbx/AL/witness", witness_key).value();
  const std::string line =
      note::FormatSignatureLine(witness.Cosign(text, 1767225600).value());
  ASSERT_TRUE(this->log_->AddCosignature(9, line).ok());
  // The same line again is fine; another by the same key is not.
  EXPECT_TRUE(this->log_->AddCosignature(9, line).ok());
  const std::string later_line =
      note::FormatSignatureLine(witness.Cosign(text, 1767225700).value());
  EXPECT_EQ(this->log_->AddCosignature(9, later_line).code(),
            absl::StatusCode::kAlreadyExists);

  const note::Cosigner second =
      note::Cosigner::Create("cbx/RS/witness",
                             crypto::Ed25519PrivateKey::Generate())
          .value();
  // Without its newline, too.
  std::string second_line =
      note::FormatSignatureLine(second.Cosign(text, 1767225601).value());
  second_line.pop_back();
  ASSERT_TRUE(this->log_->AddCosignature(9, second_line).ok());

  const std::string cosigned = this->log_->LatestCheckpoint().value();
  EXPECT_EQ(cosigned, note + line + second_line + "\n");
  std::vector<note::Verifier> witnesses = {witness.verifier(),
                                           second.verifier()};
  absl::StatusOr<note::SignedCheckpoint> opened =
      note::OpenCheckpoint(cosigned, kOrigin, this->LogVerifier(), witnesses);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->other_signatures.size(), 2u);
  EXPECT_EQ(opened->other_signatures[0].name, "cbx/AL/witness");
  EXPECT_EQ(opened->other_signatures[0].timestamp, 1767225600u);
  EXPECT_EQ(this->log_->CheckpointAt(9).value(), cosigned);

  EXPECT_EQ(this->log_->AddCosignature(8, line).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->log_->AddCosignature(9, "not a signature line").code(),
            absl::StatusCode::kInvalidArgument);
  // A line by the log's own key name and ID cannot be added.
  const std::string own_line =
      note.substr(note::ParseNote(note).value().text.size() + 1);
  EXPECT_EQ(this->log_->AddCosignature(9, own_line).code(),
            absl::StatusCode::kAlreadyExists);

  this->log_.reset();
  this->log_ = this->Open();
  ASSERT_NE(this->log_, nullptr);
  EXPECT_EQ(this->log_->LatestCheckpoint().value(), cosigned);
  EXPECT_TRUE(this->log_->Verify().ok());
}

}  // namespace
}  // namespace cbx::node::audit
