#include "node/witness.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "node/log.h"

namespace cbx::node {
namespace {

constexpr int64_t kWitnessDeadlineMs = 5000;
// The size of the newest checkpoint of this node's log that is witnessed.
constexpr char kWitnessedKey[] = "audit/witnessed-size";

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

std::string AuditOrigin(const std::string& member) {
  return "cbx/" + member + "/audit";
}

std::string WitnessName(const std::string& member) {
  return "cbx/" + member + "/witness";
}

std::vector<note::Verifier> MemberVerifiers(const directory::Directory& dir,
                                            const std::string& member,
                                            const std::string& name,
                                            note::SignatureType type) {
  std::vector<note::Verifier> out;
  const v1::Member* m = dir.FindMember(member);
  if (m == nullptr) return out;
  for (const v1::NodeKey& key : m->node_keys()) {
    auto pub = crypto::Ed25519PublicKey::FromBytes(key.public_key());
    if (!pub.ok()) continue;
    auto v = note::Verifier::Create(name, type, *pub);
    if (v.ok()) out.push_back(*std::move(v));
  }
  return out;
}

absl::Status Witness::MaybeCheckpoint(bool force) {
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
  if (size == last_size) return absl::OkStatus();
  if (!force && size - last_size < static_cast<uint64_t>(
                                       ctx_->config.checkpoint_every_entries)) {
    return absl::OkStatus();
  }
  auto signed_note =
      log.SignCheckpoint(*ctx_->signing_key, AuditOrigin(ctx_->self()));
  return signed_note.ok() ? absl::OkStatus() : signed_note.status();
}

absl::StatusOr<std::optional<Witness::Cosigned>> Witness::LoadCosigned(
    const std::string& member) {
  ASSIGN_OR_RETURN(auto stored, ctx_->storage->GetSetting(CosignedKey(member)));
  if (!stored.has_value()) return std::nullopt;
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

absl::StatusOr<std::optional<Witness::Alert>> Witness::LoadAlert(
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

absl::StatusOr<v1::GetCheckpointResponse> Witness::FetchCheckpoint(
    v1::Peer::Stub& stub, const std::string& member, uint64_t since_size) {
  v1::GetCheckpointRequest req;
  req.set_since_size(since_size);
  v1::GetCheckpointResponse resp;
  grpc::Status call;
  {
    grpc::ClientContext cctx;
    cctx.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(kWitnessDeadlineMs));
    call = stub.GetCheckpoint(&cctx, req, &resp);
  }
  RETURN_IF_ERROR(Logged(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.GetCheckpoint", "get_checkpoint",
      "", static_cast<absl::StatusCode>(call.error_code()))));
  if (!call.ok()) return FromGrpc(call);
  return resp;
}

absl::Status Witness::WitnessPeer(const std::string& member) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const std::string origin = AuditOrigin(member);
  std::vector<note::Verifier> log_keys =
      MemberVerifiers(*dir, member, origin, note::SignatureType::kEd25519);
  if (log_keys.empty()) {
    return absl::NotFoundError(member + " has no node key in the directory");
  }
  ASSIGN_OR_RETURN(std::optional<Cosigned> last, LoadCosigned(member));
  auto stub = peers_->Stub(member);
  if (!stub.ok()) return stub.status();
  uint64_t asked = last.has_value() ? last->checkpoint.size : 0;
  absl::StatusOr<v1::GetCheckpointResponse> resp =
      FetchCheckpoint(**stub, member, asked);
  if (resp.status().code() == absl::StatusCode::kFailedPrecondition &&
      asked > 0) {
    // The peer says its latest checkpoint is smaller than the one this node
    // cosigned. Its word is no evidence, its signed checkpoint is: ask for
    // that one, without a proof, and measure it like any other.
    asked = 0;
    resp = FetchCheckpoint(**stub, member, asked);
  }
  if (!resp.ok()) return resp.status();

  absl::StatusOr<note::SignedCheckpoint> opened = absl::UnauthenticatedError(
      member + "'s checkpoint is not signed by " + "any of its node keys");
  for (const note::Verifier& key : log_keys) {
    opened = note::OpenCheckpoint(resp->checkpoint(), origin, key);
    if (opened.ok()) break;
  }
  if (!opened.ok()) return opened.status();
  const note::Checkpoint& now = opened->checkpoint;

  absl::Status consistent = absl::OkStatus();
  if (last.has_value()) {
    const note::Checkpoint& before = last->checkpoint;
    if (now.size < before.size) {
      consistent = absl::DataLossError(absl::StrCat(
          member, "'s log shrank from ", before.size, " to ", now.size));
    } else if (now.size == before.size) {
      if (now.root_hash != before.root_hash) {
        consistent = absl::DataLossError(absl::StrCat(
            member, "'s log has two different roots at size ", now.size));
      } else {
        // Nothing new to cosign, and nothing wrong (any more).
        return CloseAlert(member);
      }
    } else if (asked != before.size) {
      // The peer signed a larger checkpoint between the two calls above; the
      // proof for it comes next round.
      return absl::UnavailableError(absl::StrCat(
          member, "'s latest checkpoint changed while it was fetched"));
    } else {
      std::vector<Bytes> proof(resp->consistency_proof().begin(),
                               resp->consistency_proof().end());
      absl::Status v = merkle::VerifyConsistency(
          before.size, now.size, proof, before.root_hash, now.root_hash);
      if (!v.ok()) {
        consistent = absl::DataLossError(
            absl::StrCat(member, "'s checkpoint ", now.size,
                         " is not consistent with the one of size ",
                         before.size, " this node cosigned: ", v.message()));
      }
    }
  }
  if (!consistent.ok()) return Refuse(member, *last, *resp, now, consistent);

  // Cosign and hand the cosignature back.
  ASSIGN_OR_RETURN(
      note::Cosigner cosigner,
      note::Cosigner::Create(WitnessName(ctx_->self()), *ctx_->signing_key));
  const int64_t cosigned_ms = ctx_->clock->NowMs();
  ASSIGN_OR_RETURN(
      note::Signature cosig,
      cosigner.Cosign(opened->text, static_cast<uint64_t>(cosigned_ms / 1000)));
  v1::AddCosignatureRequest add;
  add.set_cosigned_checkpoint(opened->text + "\n" +
                              note::FormatSignatureLine(cosig));
  v1::AddCosignatureResponse added;
  grpc::Status call;
  {
    grpc::ClientContext cctx;
    cctx.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(kWitnessDeadlineMs));
    call = (*stub)->AddCosignature(&cctx, add, &added);
  }
  RETURN_IF_ERROR(Logged(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.AddCosignature",
      "add_cosignature", "",
      static_cast<absl::StatusCode>(call.error_code()))));
  if (!call.ok()) return FromGrpc(call);
  // Keep the peer's signature with ours: if the peer's log is ever rewritten
  // below this checkpoint, this note is the half of the evidence only the
  // witnesses still hold.
  ASSIGN_OR_RETURN(note::Note cosigned, note::ParseNote(resp->checkpoint()));
  cosigned.signatures.push_back(cosig);
  ASSIGN_OR_RETURN(std::string cosigned_note, note::FormatNote(cosigned));
  RETURN_IF_ERROR(
      ctx_->storage->PutSetting(CosignedKey(member), cosigned_note));
  // Written second: a crash in between leaves the previous time beside the
  // new checkpoint, which the next cosignature corrects.
  RETURN_IF_ERROR(ctx_->storage->PutSetting(CosignedAtKey(member),
                                            std::to_string(cosigned_ms)));
  return CloseAlert(member);
}

absl::Status Witness::Refuse(const std::string& member, const Cosigned& last,
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
    doc["origin"] = AuditOrigin(member);
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

absl::Status Witness::CloseAlert(const std::string& member) {
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

absl::StatusOr<WitnessedPeer> Witness::Describe(const std::string& member) {
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

void Witness::RoundAll() {
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

absl::StatusOr<uint32_t> Witness::AcceptCosignature(
    const std::string& witness, const std::string& note_text) {
  RETURN_IF_ERROR(ctx_->audit_trail->Health());
  ASSIGN_OR_RETURN(note::Note note, note::ParseNote(note_text));
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpoint(note.text));
  if (cp.origin != AuditOrigin(ctx_->self())) {
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
  std::vector<note::Verifier> keys = MemberVerifiers(
      *ctx_->directory->Current(), witness, WitnessName(witness),
      note::SignatureType::kCosignatureV1);
  bool added = false;
  for (const note::Signature& sig : note.signatures) {
    if (sig.name != WitnessName(witness)) continue;
    for (const note::Verifier& key : keys) {
      if (key.key_id() != sig.key_id) continue;
      RETURN_IF_ERROR(key.Verify(note.text, sig).status());
      RETURN_IF_ERROR(
          ctx_->audit->AddCosignature(cp.size, note::FormatSignatureLine(sig)));
      added = true;
    }
  }
  if (!added) {
    return absl::UnauthenticatedError("no cosignature by " +
                                      WitnessName(witness) + " on the note");
  }
  ASSIGN_OR_RETURN(std::string now, ctx_->audit->CheckpointAt(cp.size));
  ASSIGN_OR_RETURN(note::Note with, note::ParseNote(now));
  const uint32_t count = static_cast<uint32_t>(with.signatures.size() - 1);
  if (count >= ctx_->directory->Current()->policy().witness_threshold()) {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    ASSIGN_OR_RETURN(auto previous, ctx_->storage->GetSetting(kWitnessedKey));
    if (!previous.has_value() || std::stoull(*previous) < cp.size) {
      RETURN_IF_ERROR(
          ctx_->storage->PutSetting(kWitnessedKey, std::to_string(cp.size)));
    }
  }
  return count;
}

absl::StatusOr<std::string> Witness::BestCheckpoint() {
  RETURN_IF_ERROR(ctx_->audit_trail->Health());
  ASSIGN_OR_RETURN(auto witnessed, ctx_->storage->GetSetting(kWitnessedKey));
  if (witnessed.has_value()) {
    // That size is kept in the node's database, the checkpoints in the audit
    // log's: with an older audit database put back, it may name no stored
    // checkpoint, or one of the new history that no witness cosigned.
    auto found = ctx_->audit->CheckpointAt(std::stoull(*witnessed));
    if (found.ok()) {
      ASSIGN_OR_RETURN(note::Note note, note::ParseNote(*found));
      if (note.signatures.size() - 1 >=
          ctx_->directory->Current()->policy().witness_threshold()) {
        return found;
      }
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
