#include "node/witness.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/log.h"

namespace cbx::node {
namespace {

constexpr int64_t kWitnessDeadlineMs = 5000;
// The size of the newest checkpoint of this node's log that is witnessed.
constexpr char kWitnessedKey[] = "audit/witnessed-size";

std::string StateKey(const std::string& member) { return "witness/" + member; }

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

absl::Status Witness::WitnessPeer(const std::string& member) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const std::string origin = AuditOrigin(member);
  std::vector<note::Verifier> log_keys =
      MemberVerifiers(*dir, member, origin, note::SignatureType::kEd25519);
  if (log_keys.empty()) {
    return absl::NotFoundError(member + " has no node key in the directory");
  }
  // The last checkpoint of this log we cosigned.
  ASSIGN_OR_RETURN(auto stored, ctx_->storage->GetSetting(StateKey(member)));
  std::optional<note::Checkpoint> last;
  if (stored.has_value()) {
    ASSIGN_OR_RETURN(last, note::ParseCheckpoint(*stored));
  }
  auto stub = peers_->Stub(member);
  if (!stub.ok()) return stub.status();
  v1::GetCheckpointRequest req;
  req.set_since_size(last.has_value() ? last->size : 0);
  v1::GetCheckpointResponse resp;
  grpc::Status call;
  {
    grpc::ClientContext cctx;
    cctx.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(kWitnessDeadlineMs));
    call = (*stub)->GetCheckpoint(&cctx, req, &resp);
  }
  RETURN_IF_ERROR(Logged(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.GetCheckpoint", "get_checkpoint",
      "", static_cast<absl::StatusCode>(call.error_code()))));
  if (!call.ok()) return FromGrpc(call);

  absl::StatusOr<note::SignedCheckpoint> opened = absl::UnauthenticatedError(
      member + "'s checkpoint is not signed by " + "any of its node keys");
  for (const note::Verifier& key : log_keys) {
    opened = note::OpenCheckpoint(resp.checkpoint(), origin, key);
    if (opened.ok()) break;
  }
  if (!opened.ok()) return opened.status();
  const note::Checkpoint& now = opened->checkpoint;

  absl::Status consistent = absl::OkStatus();
  if (last.has_value()) {
    if (now.size < last->size) {
      consistent = absl::DataLossError(absl::StrCat(
          member, "'s log shrank from ", last->size, " to ", now.size));
    } else if (now.size == last->size) {
      if (now.root_hash != last->root_hash) {
        consistent = absl::DataLossError(absl::StrCat(
            member, "'s log has two different roots at size ", now.size));
      } else {
        return absl::OkStatus();  // nothing new to cosign
      }
    } else {
      std::vector<Bytes> proof(resp.consistency_proof().begin(),
                               resp.consistency_proof().end());
      absl::Status v = merkle::VerifyConsistency(
          last->size, now.size, proof, last->root_hash, now.root_hash);
      if (!v.ok()) {
        consistent = absl::DataLossError(
            absl::StrCat(member, "'s checkpoint ", now.size,
                         " is not consistent with the one of size ", last->size,
                         " this node cosigned: ", v.message()));
      }
    }
  }
  if (!consistent.ok()) {
    // Evidence: the signed checkpoint and the proof that fails.
    std::string evidence = resp.checkpoint();
    for (const std::string& h : resp.consistency_proof()) {
      evidence += "proof " + HexEncode(h) + "\n";
    }
    RETURN_IF_ERROR(ctx_->storage->PutSetting(
        absl::StrCat("witness-evidence/", member, "/", ctx_->clock->NowMs()),
        evidence));
    LogEvent(ctx_->self(), "error", "ALERT-inconsistent-checkpoint",
             {{"peer", member}, {"reason", std::string(consistent.message())}});
    return consistent;
  }

  // Cosign and hand the cosignature back.
  ASSIGN_OR_RETURN(
      note::Cosigner cosigner,
      note::Cosigner::Create(WitnessName(ctx_->self()), *ctx_->signing_key));
  ASSIGN_OR_RETURN(
      note::Signature cosig,
      cosigner.Cosign(opened->text,
                      static_cast<uint64_t>(ctx_->clock->NowMs() / 1000)));
  v1::AddCosignatureRequest add;
  add.set_cosigned_checkpoint(opened->text + "\n" +
                              note::FormatSignatureLine(cosig));
  v1::AddCosignatureResponse added;
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
  RETURN_IF_ERROR(ctx_->storage->PutSetting(StateKey(member), opened->text));
  return absl::OkStatus();
}

void Witness::RoundAll() {
  std::lock_guard<std::mutex> lock(round_mu_);
  for (const std::string& member :
       ctx_->directory->Current()->ActiveMemberCodes()) {
    if (member == ctx_->self()) continue;
    absl::Status s = WitnessPeer(member);
    if (!s.ok() && s.code() != absl::StatusCode::kUnavailable &&
        s.code() != absl::StatusCode::kNotFound &&
        s.code() != absl::StatusCode::kDeadlineExceeded &&
        s.code() != absl::StatusCode::kDataLoss) {
      LogEvent(ctx_->self(), "warn", "witness-failed",
               {{"peer", member}, {"reason", std::string(s.message())}});
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
    return ctx_->audit->CheckpointAt(std::stoull(*witnessed));
  }
  auto latest = ctx_->audit->LatestCheckpoint();
  if (latest.status().code() == absl::StatusCode::kNotFound) {
    RETURN_IF_ERROR(MaybeCheckpoint(/*force=*/true));
    return ctx_->audit->LatestCheckpoint();
  }
  return latest;
}

}  // namespace cbx::node
