#include "client/audit/test_log.h"

#include <cstdlib>
#include <utility>

#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "core/merkle/hash.h"
#include "core/merkle/proof_builder.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signer.h"

namespace cbx::client::audit::testing {
namespace {

template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) std::abort();  // Test fixture misuse.
  return *std::move(v);
}

std::string AddLine(std::string_view note, std::string_view text,
                    note::Signature sig) {
  note::Note n;
  if (note.empty()) {
    n.text = std::string(text);
  } else {
    n = Must(note::ParseNote(note));
  }
  n.signatures.push_back(std::move(sig));
  return Must(note::FormatNote(n));
}

}  // namespace

TestCosigner Witness(std::string_view code) {
  return TestCosigner{"cbx/" + std::string(code) + "/witness",
                      std::string(code) + "/node/1", kTestNowMs / 1000};
}

v1::AuditEntry MakeEntry(v1::AuditDirection direction, std::string_view peer,
                         std::string_view envelope, int64_t time_ms,
                         int32_t status_code) {
  v1::AuditEntry e;
  e.set_time_ms(time_ms);
  e.set_direction(direction);
  e.set_peer(std::string(peer));
  e.set_rpc(direction == v1::AUDIT_DIRECTION_LOCAL ? "Office.Query"
                                                   : "Peer.Evaluate");
  e.set_kind("evaluate_request");
  if (!envelope.empty()) e.set_envelope_sha256(crypto::Sha256(envelope));
  e.mutable_outcome()->set_status_code(status_code);
  e.mutable_outcome()->set_elements(2);
  e.set_office(direction == v1::AUDIT_DIRECTION_RECEIVED ? "" : "PPO");
  return e;
}

std::string AddNoteSignature(std::string_view note, std::string_view text,
                             std::string_view name,
                             std::string_view key_label) {
  note::NoteSigner signer = Must(
      note::NoteSigner::Create(name, directory::testing::TestKey(key_label)));
  return AddLine(note, text, Must(signer.Sign(text)));
}

std::string AddCosignature(std::string_view note, std::string_view text,
                           const TestCosigner& cosigner) {
  note::Cosigner c = Must(note::Cosigner::Create(
      cosigner.name, directory::testing::TestKey(cosigner.key_label)));
  return AddLine(note, text, Must(c.Cosign(text, cosigner.timestamp)));
}

TestLog::TestLog(std::string member, std::string key_label)
    : member_(std::move(member)),
      key_label_(key_label.empty() ? member_ + "/node/1"
                                   : std::move(key_label)) {}

uint64_t TestLog::Append(v1::AuditEntry entry) {
  entry.set_sequence(leaves_.size());
  return AppendLeaf(entry.SerializeAsString());
}

uint64_t TestLog::AppendLeaf(std::string leaf) {
  tree_.AppendLeaf(leaf);
  leaves_.push_back(std::move(leaf));
  return leaves_.size() - 1;
}

Bytes TestLog::Root(uint64_t size) const {
  return Must(merkle::RootHash(tree_, size));
}

std::vector<Bytes> TestLog::InclusionProof(uint64_t index,
                                           uint64_t size) const {
  return Must(merkle::InclusionProof(tree_, index, size));
}

std::vector<Bytes> TestLog::ConsistencyProof(uint64_t size1,
                                             uint64_t size2) const {
  return Must(merkle::ConsistencyProof(tree_, size1, size2));
}

std::string TestLog::CheckpointText(uint64_t size) const {
  note::Checkpoint cp;
  cp.origin = "cbx/" + member_ + "/audit";
  cp.size = size;
  cp.root_hash = Root(size);
  return Must(note::FormatCheckpoint(cp));
}

std::string TestLog::Checkpoint(
    uint64_t size, const std::vector<TestCosigner>& cosigners) const {
  const std::string text = CheckpointText(size);
  std::string note =
      AddNoteSignature("", text, "cbx/" + member_ + "/audit", key_label_);
  for (const TestCosigner& c : cosigners) {
    note = AddCosignature(note, text, c);
  }
  return note;
}

AuditExport TestLog::Export(
    uint64_t begin, uint64_t end, uint64_t size, const std::string& checkpoint,
    std::vector<v1::SignedDirectory> directory_versions) const {
  AuditExport e;
  e.member = member_;
  e.checkpoint = checkpoint;
  e.directory_versions = std::move(directory_versions);
  for (uint64_t i = begin; i < end; ++i) {
    e.entries.push_back(ExportedEntry{i, leaves_[i], InclusionProof(i, size)});
  }
  return e;
}

}  // namespace cbx::client::audit::testing
