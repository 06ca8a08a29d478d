#include "node/witnessing.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/consistency.h"
#include "core/logcheck/log_generation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "node/log.h"

namespace cbx::node {
namespace {

// The budget of each call to a peer.
constexpr int64_t kWitnessDeadlineMs = 5000;

// Storage settings of the witness, per peer `member`:
// the last checkpoint of its log this node cosigned (Cosigned::note),
std::string CosignedKey(const std::string& member) {
  return "witness/" + member;
}
// when this node cosigned it (Unix ms, decimal),
std::string CosignedAtKey(const std::string& member) {
  return "witness-cosigned-ms/" + member;
}
// the open alert (JSON; empty once closed),
std::string AlertKey(const std::string& member) {
  return "witness-alert/" + member;
}
// the last checkpoint cosigned of each earlier generation of its log
// (spec/audit-log.md §12), kept when the witness follows a new one,
std::string GenerationKey(const std::string& member,
                          const std::string& origin) {
  return "witness-generation/" + member + "/" + origin;
}
// and the evidence of each checkpoint refused, one key per distinct
// checkpoint (JSON).
std::string EvidenceKey(const std::string& member,
                        const note::Checkpoint& refused) {
  return absl::StrCat("witness-evidence/", member, "/", refused.size, "/",
                      HexEncode(refused.root_hash));
}

std::string UtcTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

absl::Status Logged(const absl::Status& logged) {
  return logged.ok() ? logged : AuditFailure(logged);
}

}  // namespace

absl::StatusOr<bool> CheckAgainstCosigned(const std::string& member,
                                          const note::Checkpoint* cosigned,
                                          const note::Checkpoint& now,
                                          uint64_t asked,
                                          const std::vector<Bytes>& proof) {
  if (cosigned == nullptr) return true;
  const note::Checkpoint& before = *cosigned;
  if (logcheck::NeedsConsistencyProof(before, now) && asked != before.size) {
    // The peer signed a larger checkpoint between the two fetches; the
    // proof for it comes next round.
    return absl::UnavailableError(absl::StrCat(
        member, "'s latest checkpoint changed while it was fetched"));
  }
  // The rule is core/logcheck's, shared with the auditor; the words name
  // the peer.
  const logcheck::ConsistencyVerdict verdict =
      logcheck::CompareCheckpoints(before, now, proof);
  switch (verdict.comparison) {
    case logcheck::Comparison::kSame:
      return false;  // nothing new to cosign, and nothing wrong
    case logcheck::Comparison::kFromEmpty:
    case logcheck::Comparison::kExtended:
      return true;
    case logcheck::Comparison::kShrank:
      return absl::DataLossError(absl::StrCat(member, "'s log shrank from ",
                                              before.size, " to ", now.size));
    case logcheck::Comparison::kForked:
      return absl::DataLossError(absl::StrCat(
          member, "'s log has two different roots at size ", now.size));
    case logcheck::Comparison::kProofFails:
    case logcheck::Comparison::kMalformedProof:
      // A malformed proof proves nothing, but the peer owes a proof for
      // the checkpoint it signed: refuse it as inconsistent.
      return absl::DataLossError(
          absl::StrCat(member, "'s checkpoint ", now.size,
                       " is not consistent with the one of size ", before.size,
                       " this node cosigned: ", verdict.proof_error));
    case logcheck::Comparison::kOtherLog:
      return absl::InvalidArgumentError(absl::StrCat(
          member, "'s checkpoint is of another log (", now.origin, ")"));
  }
  return absl::InternalError("unknown checkpoint comparison");
}

absl::StatusOr<v1::GetCheckpointResponse> Witnessing::FetchCheckpoint(
    const std::string& member, uint64_t since_size) {
  v1::GetCheckpointRequest req;
  req.set_since_size(since_size);
  absl::StatusOr<v1::GetCheckpointResponse> resp =
      transport_->GetCheckpoint(member, req, kWitnessDeadlineMs);
  RETURN_IF_ERROR(Logged(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.GetCheckpoint", "get_checkpoint",
      "", resp.status().code())));
  return resp;
}

absl::Status Witnessing::WitnessPeer(const std::string& member) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  ASSIGN_OR_RETURN(logcheck::LogKeys keys, logcheck::KeysOfLog(*dir, member));
  if (keys.log_keys.empty()) {
    return absl::NotFoundError(member + " has no node key in the directory");
  }
  ASSIGN_OR_RETURN(std::optional<Cosigned> last, LoadCosigned(member));
  if (last.has_value() && last->checkpoint.origin != keys.origin &&
      keys.generation > 1) {
    // The directory announced a new generation of the peer's log: follow
    // it from empty instead of measuring it against the old one.
    RETURN_IF_ERROR(FollowNewGeneration(member, keys, *dir, *last));
    last.reset();
  }
  uint64_t asked = last.has_value() ? last->checkpoint.size : 0;
  absl::StatusOr<v1::GetCheckpointResponse> resp =
      FetchCheckpoint(member, asked);
  if (resp.status().code() == absl::StatusCode::kFailedPrecondition &&
      asked > 0) {
    // The peer says its latest checkpoint is smaller than the one this node
    // cosigned. Its word is no evidence, its signed checkpoint is: ask for
    // that one, without a proof, and measure it like any other.
    asked = 0;
    resp = FetchCheckpoint(member, asked);
  }
  if (!resp.ok()) return resp.status();

  ASSIGN_OR_RETURN(logcheck::VerifiedCheckpoint opened,
                   logcheck::VerifyCheckpoint(keys, resp->checkpoint()));

  const std::vector<Bytes> proof(resp->consistency_proof().begin(),
                                 resp->consistency_proof().end());
  absl::StatusOr<bool> fresh = CheckAgainstCosigned(
      member, last.has_value() ? &last->checkpoint : nullptr, opened.checkpoint,
      asked, proof);
  if (fresh.status().code() == absl::StatusCode::kDataLoss) {
    return Refuse(member, *last, *resp, opened.checkpoint, fresh.status());
  }
  if (!fresh.ok()) return fresh.status();
  if (*fresh) RETURN_IF_ERROR(Cosign(member, opened.text, resp->checkpoint()));
  return CloseAlert(member);
}

absl::Status Witnessing::Cosign(const std::string& member,
                                const std::string& text,
                                const std::string& served_note) {
  // Every node key valid now cosigns (node/node_signing_keys.h): during a
  // rotation the log's member finds a line it can check whichever of the
  // two directory versions it holds; the two count as one witness.
  ASSIGN_OR_RETURN(std::vector<std::shared_ptr<const crypto::Signer>> signers,
                   ctx_->signing_keys->AllValid());
  const int64_t cosigned_ms = ctx_->clock->NowMs();
  std::vector<note::Signature> cosigs;
  std::string lines;
  for (const auto& signer : signers) {
    ASSIGN_OR_RETURN(
        note::Cosigner cosigner,
        note::Cosigner::Create(logcheck::WitnessName(ctx_->self()), signer));
    ASSIGN_OR_RETURN(
        note::Signature cosig,
        cosigner.Cosign(text, static_cast<uint64_t>(cosigned_ms / 1000)));
    lines += note::FormatSignatureLine(cosig);
    cosigs.push_back(std::move(cosig));
  }
  v1::AddCosignatureRequest add;
  add.set_cosigned_checkpoint(text + "\n" + lines);
  absl::StatusOr<v1::AddCosignatureResponse> added =
      transport_->AddCosignature(member, add, kWitnessDeadlineMs);
  RETURN_IF_ERROR(Logged(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.AddCosignature",
      "add_cosignature", "", added.status().code())));
  if (!added.ok()) return added.status();
  // Keep the peer's signature with ours: if the peer's log is ever rewritten
  // below this checkpoint, this note is the half of the evidence only the
  // witnesses still hold.
  ASSIGN_OR_RETURN(note::Note cosigned, note::ParseNote(served_note));
  for (note::Signature& cosig : cosigs) {
    cosigned.signatures.push_back(std::move(cosig));
  }
  ASSIGN_OR_RETURN(std::string cosigned_note, note::FormatNote(cosigned));
  RETURN_IF_ERROR(
      ctx_->storage->PutSetting(CosignedKey(member), cosigned_note));
  // Written second: a crash in between leaves the previous time beside the
  // new checkpoint, which the next cosignature corrects.
  return ctx_->storage->PutSetting(CosignedAtKey(member),
                                   std::to_string(cosigned_ms));
}

absl::Status Witnessing::FollowNewGeneration(const std::string& member,
                                             const logcheck::LogKeys& keys,
                                             const directory::Directory& dir,
                                             const Cosigned& last) {
  const v1::Member* m = dir.FindMember(member);
  if (m == nullptr) return absl::NotFoundError(member + " is not a member");
  ASSIGN_OR_RETURN(logcheck::Predecessor p, logcheck::PredecessorOf(*m));
  // What this witness cosigned of the old log must be at or before the
  // predecessor (and the same checkpoint at its size): a checkpoint it
  // cosigned beyond it means the recovery dropped entries a witness saw.
  const note::Checkpoint& was = last.checkpoint;
  const bool beyond = was.origin == p.origin &&
                      (was.size > p.size ||
                       (was.size == p.size && was.root_hash != p.root_hash));
  RETURN_IF_ERROR(
      ctx_->storage->PutSetting(GenerationKey(member, was.origin), last.note));
  RETURN_IF_ERROR(ctx_->storage->PutSetting(CosignedKey(member), ""));
  RETURN_IF_ERROR(ctx_->storage->PutSetting(CosignedAtKey(member), ""));
  // An alert about the old log is settled by governance's announcement;
  // its evidence stays.
  RETURN_IF_ERROR(ctx_->storage->PutSetting(AlertKey(member), ""));
  // One event, no alert: after a crash the last checkpoints are rarely
  // witnessed by all, so a witness often cosigned beyond the predecessor.
  // It says so (level warn), and keeps the note as evidence.
  LogEvent(
      ctx_->self(), beyond ? "warn" : "info", "witness-log-recovered",
      {{"peer", member},
       {"generation", std::to_string(keys.generation)},
       {"origin", keys.origin},
       {"directory_version", std::to_string(dir.version())},
       {"recovery", logcheck::DescribeRecovery(member, keys.generation, p)},
       {"cosigned_size", std::to_string(was.size)},
       {"cosigned_beyond_predecessor", beyond ? "yes" : "no"},
       {"evidence", GenerationKey(member, was.origin)}});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Witnessing::Cosigned>> Witnessing::LoadCosigned(
    const std::string& member) {
  ASSIGN_OR_RETURN(auto stored, ctx_->storage->GetSetting(CosignedKey(member)));
  // Empty: none since the log's new generation (FollowNewGeneration).
  if (!stored.has_value() || stored->empty()) return std::nullopt;
  Cosigned last;
  last.note = *stored;
  // Older nodes stored the checkpoint text alone, which is no note.
  auto note = note::ParseNote(*stored);
  ASSIGN_OR_RETURN(last.checkpoint,
                   note::ParseCheckpoint(note.ok() ? note->text : *stored));
  ASSIGN_OR_RETURN(auto at, ctx_->storage->GetSetting(CosignedAtKey(member)));
  if (at.has_value() && !absl::SimpleAtoi(*at, &last.at_ms)) last.at_ms = 0;
  return last;
}

absl::StatusOr<std::optional<Witnessing::Alert>> Witnessing::LoadAlert(
    const std::string& member) {
  ASSIGN_OR_RETURN(auto stored, ctx_->storage->GetSetting(AlertKey(member)));
  if (!stored.has_value() || stored->empty()) return std::nullopt;
  auto doc =
      nlohmann::json::parse(*stored, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return absl::InternalError("the stored witness alert for " + member +
                               " does not parse");
  }
  Alert alert;
  alert.since_ms = doc.value("since_ms", int64_t{0});
  alert.reason = doc.value("reason", std::string());
  alert.refused = doc.value("refused", uint64_t{0});
  alert.latest_size = doc.value("latest_size", uint64_t{0});
  return alert;
}

absl::Status Witnessing::Refuse(const std::string& member, const Cosigned& last,
                                const v1::GetCheckpointResponse& served,
                                const note::Checkpoint& refused,
                                absl::Status reason) {
  // Every round asks again, and a peer that stays inconsistent serves the
  // same checkpoint until it signs the next one: keep and raise each
  // checkpoint once, not once a round.
  const std::string evidence_key = EvidenceKey(member, refused);
  ASSIGN_OR_RETURN(auto kept, ctx_->storage->GetSetting(evidence_key));
  ASSIGN_OR_RETURN(std::optional<Alert> alert, LoadAlert(member));
  if (kept.has_value() && alert.has_value()) return reason;
  const int64_t now_ms = ctx_->clock->NowMs();
  if (!kept.has_value()) {
    // The same members as an auditor's evidence file (audit-log.md §9.3).
    nlohmann::ordered_json doc;
    doc["origin"] = refused.origin;
    doc["recorded"] = UtcTime(now_ms);
    doc["reason"] = std::string(reason.message());
    doc["trusted_checkpoint"] = last.note;
    doc["new_checkpoint"] = served.checkpoint();
    nlohmann::ordered_json proof = nlohmann::ordered_json::array();
    for (const std::string& h : served.consistency_proof()) {
      proof.push_back(HexEncode(h));
    }
    doc["consistency_proof"] = std::move(proof);
    RETURN_IF_ERROR(ctx_->storage->PutSetting(
        evidence_key,
        doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
  Alert next = alert.value_or(
      Alert{.since_ms = now_ms, .reason = std::string(reason.message())});
  ++next.refused;
  next.latest_size = refused.size;
  nlohmann::json stored;
  stored["since_ms"] = next.since_ms;
  stored["reason"] = next.reason;
  stored["refused"] = next.refused;
  stored["latest_size"] = next.latest_size;
  RETURN_IF_ERROR(ctx_->storage->PutSetting(
      AlertKey(member),
      stored.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  LogEvent(ctx_->self(), "error", "ALERT-inconsistent-checkpoint",
           {{"peer", member},
            {"size", std::to_string(refused.size)},
            {"root", HexEncode(refused.root_hash)},
            {"cosigned_size", std::to_string(last.checkpoint.size)},
            {"evidence", evidence_key},
            {"reason", std::string(reason.message())}});
  return reason;
}

absl::Status Witnessing::CloseAlert(const std::string& member) {
  ASSIGN_OR_RETURN(std::optional<Alert> alert, LoadAlert(member));
  if (!alert.has_value()) return absl::OkStatus();
  RETURN_IF_ERROR(ctx_->storage->PutSetting(AlertKey(member), ""));
  // The evidence stays: a log that was inconsistent once is reported even
  // if its operator put the right one back.
  LogEvent(ctx_->self(), "warn", "witness-resumed",
           {{"peer", member},
            {"alert_since", UtcTime(alert->since_ms)},
            {"refused", std::to_string(alert->refused)}});
  return absl::OkStatus();
}

absl::StatusOr<WitnessedPeer> Witnessing::Describe(const std::string& member) {
  WitnessedPeer out;
  ASSIGN_OR_RETURN(std::optional<Cosigned> last, LoadCosigned(member));
  if (last.has_value()) {
    out.cosigned_size = last->checkpoint.size;
    out.cosigned_at_ms = last->at_ms;
  }
  ASSIGN_OR_RETURN(std::optional<Alert> alert, LoadAlert(member));
  if (alert.has_value()) {
    out.alert = absl::StrCat(
        "since ", UtcTime(alert->since_ms), ": ", alert->reason, " (",
        alert->refused, alert->refused == 1 ? " checkpoint" : " checkpoints",
        " refused, the latest of size ", alert->latest_size, ")");
  }
  return out;
}

void Witnessing::RoundAll() {
  std::lock_guard<std::mutex> lock(round_mu_);
  for (const std::string& member :
       ctx_->directory->Current()->ActiveMemberCodes()) {
    if (member == ctx_->self()) continue;
    absl::Status s = WitnessPeer(member);
    const bool worth_a_line = !s.ok() &&
                              s.code() != absl::StatusCode::kUnavailable &&
                              s.code() != absl::StatusCode::kNotFound &&
                              s.code() != absl::StatusCode::kDeadlineExceeded &&
                              s.code() != absl::StatusCode::kDataLoss;
    // One line when a failure starts or changes, not one per round (every
    // witness_interval_ms), and one when it ends.
    std::string& last = last_failure_[member];
    const std::string now = worth_a_line ? s.ToString() : "";
    if (now != last) {
      if (worth_a_line) {
        LogEvent(ctx_->self(), "warn", "witness-failed",
                 {{"peer", member}, {"reason", std::string(s.message())}});
      } else if (s.ok()) {
        LogEvent(ctx_->self(), "info", "witness-recovered", {{"peer", member}});
      }
      if (worth_a_line || s.ok()) last = now;
    }
  }
}

}  // namespace cbx::node
