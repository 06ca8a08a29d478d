// AuditLog's checkpoints and the cosignatures kept with them
// (spec/audit-log.md §7, §8); the rest of the class is in audit_log.cc.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "core/util/status_macros.h"
#include "node/audit/audit_log.h"
#include "node/audit/audit_store.h"

namespace cbx::node::audit {
namespace {

// A signed note with the cosignature lines appended (each without its
// newline, as stored).
std::string WithCosignatures(const std::string& note,
                             const std::vector<std::string>& lines) {
  std::string out = note;
  for (const std::string& line : lines) absl::StrAppend(&out, line, "\n");
  return out;
}

absl::StatusOr<std::string> CheckpointNoteFrom(AuditStore& store,
                                               const CheckpointRow& row) {
  ASSIGN_OR_RETURN(std::vector<std::string> lines,
                   store.ReadCosignatures(row.size));
  return WithCosignatures(row.note, lines);
}

}  // namespace

absl::StatusOr<std::string> AuditLog::SignCheckpoint(
    const crypto::Ed25519PrivateKey& key, const std::string& origin) {
  return SignCheckpoint({std::make_shared<crypto::Ed25519Signer>(key)}, origin);
}

absl::StatusOr<std::string> AuditLog::SignCheckpoint(
    const std::vector<std::shared_ptr<const crypto::Signer>>& signers,
    const std::string& origin) {
  RETURN_IF_ERROR(ReadableStatus());
  if (signers.empty()) {
    return absl::InvalidArgumentError("a checkpoint needs a signer");
  }
  std::vector<note::NoteSigner> note_signers;
  for (const auto& signer : signers) {
    ASSIGN_OR_RETURN(note::NoteSigner s,
                     note::NoteSigner::Create(origin, signer));
    note_signers.push_back(std::move(s));
  }
  // Under write_mu_ no batch is half-committed: the current state is the
  // one on disk, and checkpoints are stored in size order.
  std::lock_guard<std::mutex> lock(write_mu_);
  const Snapshot current = Current();
  ASSIGN_OR_RETURN(std::optional<CheckpointRow> latest,
                   writer_->LatestCheckpoint());
  if (latest.has_value()) {
    absl::StatusOr<note::Note> parsed = note::ParseNote(latest->note);
    absl::StatusOr<note::Checkpoint> checkpoint =
        parsed.ok() ? note::ParseCheckpoint(parsed->text)
                    : absl::StatusOr<note::Checkpoint>(parsed.status());
    if (!checkpoint.ok()) {
      return Fail(absl::DataLossError(absl::StrCat(
          "the stored checkpoint of size ", latest->size,
          " is not a checkpoint: ", checkpoint.status().message())));
    }
    if (checkpoint->origin != origin) {
      return absl::FailedPreconditionError(
          absl::StrCat("the audit log's checkpoints are of origin ",
                       checkpoint->origin, ", not ", origin));
    }
    if (latest->size == current.size) {
      return CheckpointNoteFrom(*writer_, *latest);
    }
  }
  note::Checkpoint checkpoint;
  checkpoint.origin = origin;
  checkpoint.size = current.size;
  checkpoint.root_hash = current.root;
  ASSIGN_OR_RETURN(std::string text, note::FormatCheckpoint(checkpoint));
  note::Note signed_checkpoint{text, {}};
  for (const note::NoteSigner& signer : note_signers) {
    ASSIGN_OR_RETURN(note::Signature signature, signer.Sign(text));
    signed_checkpoint.signatures.push_back(std::move(signature));
  }
  ASSIGN_OR_RETURN(std::string signed_note,
                   note::FormatNote(signed_checkpoint));
  RETURN_IF_ERROR(writer_->InsertCheckpoint(
      CheckpointRow{current.size, current.root, signed_note, clock_.NowMs()}));
  return signed_note;
}

absl::StatusOr<std::string> AuditLog::LatestCheckpoint() {
  RETURN_IF_ERROR(ReadableStatus());
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(std::optional<CheckpointRow> row,
                   reader_->LatestCheckpoint());
  if (!row.has_value()) {
    return absl::NotFoundError("the audit log has no checkpoint yet");
  }
  return CheckpointNoteFrom(*reader_, *row);
}

absl::StatusOr<AuditLog::CheckpointSummary>
AuditLog::LatestCheckpointSummary() {
  RETURN_IF_ERROR(ReadableStatus());
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(std::optional<CheckpointRow> row,
                   reader_->LatestCheckpoint());
  if (!row.has_value()) {
    return absl::NotFoundError("the audit log has no checkpoint yet");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> lines,
                   reader_->ReadCosignatures(row->size));
  return CheckpointSummary{row->size, row->signed_ms, lines.size()};
}

absl::StatusOr<std::string> AuditLog::CheckpointAt(uint64_t size) {
  RETURN_IF_ERROR(ReadableStatus());
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(std::optional<CheckpointRow> row,
                   reader_->ReadCheckpoint(size));
  if (!row.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("the audit log has no checkpoint of size ", size));
  }
  return CheckpointNoteFrom(*reader_, *row);
}

absl::Status AuditLog::AddCosignature(uint64_t size, const std::string& line) {
  RETURN_IF_ERROR(ReadableStatus());
  std::string_view bare = line;
  if (!bare.empty() && bare.back() == '\n') bare.remove_suffix(1);
  ASSIGN_OR_RETURN(note::Signature signature, note::ParseSignatureLine(bare));

  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(std::optional<CheckpointRow> row,
                   writer_->ReadCheckpoint(size));
  if (!row.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("the audit log has no checkpoint of size ", size));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> lines,
                   writer_->ReadCosignatures(size));
  for (const std::string& stored : lines) {
    if (stored == bare) return absl::OkStatus();
  }
  // The note parser rejects repeated (name, key ID) pairs, the log's own
  // signature included, and notes past the size and signature limits.
  std::vector<std::string> all = lines;
  all.emplace_back(bare);
  absl::StatusOr<note::Note> note =
      note::ParseNote(WithCosignatures(row->note, all));
  if (!note.ok()) {
    absl::StatusOr<note::Note> before =
        note::ParseNote(WithCosignatures(row->note, lines));
    bool repeated = false;
    if (before.ok()) {
      for (const note::Signature& s : before->signatures) {
        repeated |= s.name == signature.name && s.key_id == signature.key_id;
      }
    }
    if (repeated) {
      return absl::AlreadyExistsError(absl::StrCat(
          "the checkpoint of size ", size, " already carries a signature by ",
          signature.name, " with that key"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("cannot add this cosignature to the checkpoint of size ",
                     size, ": ", note.status().message()));
  }
  return writer_->InsertCosignature(size, signature.name, signature.key_id,
                                    bare);
}

}  // namespace cbx::node::audit
