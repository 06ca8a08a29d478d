#include "node/checkpoints.h"

#include "absl/strings/str_cat.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "core/util/status_macros.h"
#include "node/data_consistency.h"
#include "node/log.h"

namespace cbx::node {

absl::Status Checkpoints::MaybeCheckpoint(bool force) {
  RETURN_IF_ERROR(ctx_->audit_trail->Health());
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  audit::AuditLog& log = *ctx_->audit;
  const uint64_t size = log.Size();
  if (size == 0) return absl::OkStatus();
  uint64_t last_size = 0;
  auto latest = log.LatestCheckpoint();
  if (latest.ok()) {
    auto note = note::ParseNote(*latest);
    if (note.ok()) {
      auto cp = note::ParseCheckpoint(note->text);
      if (cp.ok()) last_size = cp->size;
    }
  } else if (latest.status().code() != absl::StatusCode::kNotFound) {
    return latest.status();
  }
  // Every key valid now signs (node/node_signing_keys.h); none: refused
  // when a checkpoint is due (the keys logged the alert).
  absl::StatusOr<std::vector<std::shared_ptr<const crypto::Signer>>> valid =
      ctx_->signing_keys->AllValid();
  const bool due =
      size != last_size &&
      (force || size - last_size >= static_cast<uint64_t>(
                                        ctx_->config.checkpoint_every_entries));
  if (!valid.ok()) return due ? valid.status() : absl::OkStatus();
  const std::vector<std::shared_ptr<const crypto::Signer>>& signers = *valid;
  if (!due) {
    // Nothing new to sign; but after a key switch the checkpoints auditors
    // are shown must carry the new key's signature too, or they stop
    // verifying once a directory version drops the old key.
    if (last_size > 0)
      RETURN_IF_ERROR(AddMissingSignatures(last_size, signers));
    ASSIGN_OR_RETURN(auto witnessed,
                     ctx_->storage->GetSetting(kWitnessedSizeSetting));
    if (witnessed.has_value() && std::stoull(*witnessed) != last_size) {
      absl::Status added =
          AddMissingSignatures(std::stoull(*witnessed), signers);
      if (!added.ok() && added.code() != absl::StatusCode::kNotFound) {
        return added;
      }
    }
    return absl::OkStatus();
  }
  auto signed_note = log.SignCheckpoint(
      signers, logcheck::LogOrigin(ctx_->self(), ctx_->audit_generation));
  if (!signed_note.ok()) return signed_note.status();
  // node.db remembers the log it belongs with, so that a node.db restored
  // without it refuses to start (node/data_consistency.h).
  ASSIGN_OR_RETURN(note::Note signed_text, note::ParseNote(*signed_note));
  ASSIGN_OR_RETURN(note::Checkpoint cp,
                   note::ParseCheckpoint(signed_text.text));
  return RecordCheckpoint(*ctx_->storage, cp.size, cp.root_hash);
}

absl::Status Checkpoints::AddMissingSignatures(
    uint64_t size,
    const std::vector<std::shared_ptr<const crypto::Signer>>& signers) {
  ASSIGN_OR_RETURN(std::string stored, ctx_->audit->CheckpointAt(size));
  ASSIGN_OR_RETURN(note::Note note, note::ParseNote(stored));
  const std::string origin =
      logcheck::LogOrigin(ctx_->self(), ctx_->audit_generation);
  for (const auto& signer : signers) {
    ASSIGN_OR_RETURN(note::NoteSigner ns,
                     note::NoteSigner::Create(origin, signer));
    bool present = false;
    for (const note::Signature& sig : note.signatures) {
      present = present || (sig.name == origin && sig.key_id == ns.key_id());
    }
    if (present) continue;
    ASSIGN_OR_RETURN(note::Signature sig, ns.Sign(note.text));
    // Stored beside the cosignatures: the log keeps the signed text as it
    // was and returns every line with it (the line's form is all it
    // checks).
    RETURN_IF_ERROR(
        ctx_->audit->AddCosignature(size, note::FormatSignatureLine(sig)));
    LogEvent(ctx_->self(), "info", "checkpoint-resigned",
             {{"size", std::to_string(size)},
              {"key_id", logcheck::KeyIdHex(ns.key_id())}});
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Checkpoints::AcceptCosignature(
    const std::string& witness, const std::string& note_text, bool* changed) {
  if (changed != nullptr) *changed = false;
  RETURN_IF_ERROR(ctx_->audit_trail->Health());
  ASSIGN_OR_RETURN(note::Note note, note::ParseNote(note_text));
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpoint(note.text));
  if (cp.origin != logcheck::LogOrigin(ctx_->self(), ctx_->audit_generation)) {
    return absl::InvalidArgumentError("not a checkpoint of this node's log");
  }
  // It must be one of our own stored checkpoints, word for word.
  auto stored = ctx_->audit->CheckpointAt(cp.size);
  if (!stored.ok()) {
    return absl::Status(stored.status().code(),
                        absl::StrCat("no checkpoint of size ", cp.size, ": ",
                                     stored.status().message()));
  }
  ASSIGN_OR_RETURN(note::Note ours, note::ParseNote(*stored));
  if (ours.text != note.text) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the cosigned text differs from this node's checkpoint of size ",
        cp.size));
  }
  // One verifier for the witness, this side and the auditor
  // (core/logcheck): witnesses count as distinct members, so a member's two
  // keys (during a rotation) count once.
  ASSIGN_OR_RETURN(logcheck::LogKeys keys,
                   logcheck::KeysOfLog(*ctx_->directory->Current(),
                                       ctx_->self(), ctx_->audit_generation));
  ASSIGN_OR_RETURN(std::vector<note::Signature> lines,
                   logcheck::VerifyCosignaturesBy(keys, witness, note));
  for (const note::Signature& sig : lines) {
    RETURN_IF_ERROR(
        ctx_->audit->AddCosignature(cp.size, note::FormatSignatureLine(sig)));
  }
  ASSIGN_OR_RETURN(std::string now, ctx_->audit->CheckpointAt(cp.size));
  if (changed != nullptr) *changed = now != *stored;
  ASSIGN_OR_RETURN(logcheck::VerifiedCheckpoint with,
                   logcheck::VerifyCheckpoint(keys, now));
  const uint32_t count = static_cast<uint32_t>(with.witnesses);
  if (with.witnessed) {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    ASSIGN_OR_RETURN(auto previous,
                     ctx_->storage->GetSetting(kWitnessedSizeSetting));
    if (!previous.has_value() || std::stoull(*previous) < cp.size) {
      RETURN_IF_ERROR(ctx_->storage->PutSetting(kWitnessedSizeSetting,
                                                std::to_string(cp.size)));
    }
  }
  return count;
}

absl::StatusOr<std::string> Checkpoints::BestCheckpoint() {
  RETURN_IF_ERROR(ctx_->audit_trail->Health());
  ASSIGN_OR_RETURN(auto witnessed,
                   ctx_->storage->GetSetting(kWitnessedSizeSetting));
  if (witnessed.has_value()) {
    // That size is kept in the node's database, the checkpoints in the audit
    // log's: with an older audit database put back, it may name no stored
    // checkpoint, or one of the new history that no witness cosigned.
    auto found = ctx_->audit->CheckpointAt(std::stoull(*witnessed));
    if (found.ok()) {
      ASSIGN_OR_RETURN(
          logcheck::LogKeys keys,
          logcheck::KeysOfLog(*ctx_->directory->Current(), ctx_->self(),
                              ctx_->audit_generation));
      // One signed only by a key the current directory dropped (before a
      // key switch was caught up) verifies no more: show the latest.
      absl::StatusOr<logcheck::VerifiedCheckpoint> verified =
          logcheck::VerifyCheckpoint(keys, *found);
      if (verified.ok() && verified->witnessed) return found;
    } else if (found.status().code() != absl::StatusCode::kNotFound) {
      return found.status();
    }
  }
  auto latest = ctx_->audit->LatestCheckpoint();
  if (latest.status().code() == absl::StatusCode::kNotFound) {
    RETURN_IF_ERROR(MaybeCheckpoint(/*force=*/true));
    return ctx_->audit->LatestCheckpoint();
  }
  return latest;
}

}  // namespace cbx::node
