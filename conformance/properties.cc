// The response properties a case may name (spec/conformance/README.md).
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "cbx/v1/audit.pb.h"
#include "conformance/exchange.h"
#include "core/crypto/sha256.h"
#include "core/crypto/voprf.h"
#include "core/envelope/envelope.h"
#include "core/identifiers/identifiers.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_keys.h"
#include "core/merkle/hash.h"
#include "core/merkle/verify.h"
#include "core/util/clock.h"
#include "core/util/status_macros.h"

namespace cbx::conformance {
namespace {

using Check =
    std::function<absl::Status(const Kit&, const Exchange&, Runner::Seen&)>;

absl::Status Fail(std::string why) {
  return absl::FailedPreconditionError(std::move(why));
}

// Opens a reply as its receiver would: envelope checks 1-5 and 7a with the
// runner as receiver and the node under test as the authenticated sender.
absl::StatusOr<v1::Message> OpenReply(const Kit& kit, const Exchange& ex,
                                      const v1::Envelope& reply,
                                      v1::Message::KindCase kind) {
  envelope::InMemoryReplayCache cache;
  envelope::OpenOptions options;
  options.directory = &kit.directory();
  options.receiver = ex.as;
  options.authenticated_member = kit.target().member;
  options.accepted_kinds = {kind};
  options.clock = &SystemClock::Get();
  options.replay_cache = &cache;
  auto opened = envelope::Open(reply, options);
  if (!opened.ok()) {
    return Fail(
        absl::StrCat("the reply does not open: ", opened.status().message()));
  }
  return opened->message;
}

v1::Message::KindCase ReplyKind(const Exchange& ex) {
  switch (ex.request.kind_case()) {
    case v1::Message::kEvaluateRequest:
      return v1::Message::kEvaluateResponse;
    case v1::Message::kResolveRequest:
      return v1::Message::kResolveResponse;
    default:
      return v1::Message::kIndexManifest;
  }
}

absl::StatusOr<v1::Message> Reply(const Kit& kit, const Exchange& ex) {
  if (ex.request.kind_case() == v1::Message::kIndexRequest) {
    if (ex.parts.empty() || !ex.parts[0].has_manifest()) {
      return Fail("the stream does not open with a manifest");
    }
    return OpenReply(kit, ex, ex.parts[0].manifest(),
                     v1::Message::kIndexManifest);
  }
  return OpenReply(kit, ex, ex.reply, ReplyKind(ex));
}

absl::Status ReplyOpens(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  return Reply(kit, ex).status();
}

absl::Status ReplyAnswers(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  if (m.header().in_reply_to() != ex.request.header().message_id()) {
    return Fail("in_reply_to is not the request's message_id");
  }
  return absl::OkStatus();
}

absl::Status EvaluateCount(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  const int want = ex.request.evaluate_request().blinded_elements_size();
  const int got = m.evaluate_response().evaluated_elements_size();
  if (got != want) {
    return Fail(
        absl::StrCat(got, " evaluated elements for ", want, " blinded ones"));
  }
  return absl::OkStatus();
}

absl::Status EvaluateEpoch(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  if (m.evaluate_response().oprf_epoch() !=
      ex.request.evaluate_request().oprf_epoch()) {
    return Fail("the response's oprf_epoch is not the request's");
  }
  return absl::OkStatus();
}

// The DLEQ proof verifies against the target's pkS in the directory, and the
// finalized outputs are the target's OPRF of the inputs.
absl::Status EvaluateProof(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  const v1::EvaluateResponse& r = m.evaluate_response();
  const v1::Member* member = kit.directory().FindMember(kit.target().member);
  std::vector<Bytes> evaluated(r.evaluated_elements().begin(),
                               r.evaluated_elements().end());
  auto outputs =
      crypto::OprfFinalize(ex.inputs, ex.blinds, ex.blinded, evaluated,
                           r.proof(), member->oprf_key().public_key());
  if (!outputs.ok()) {
    return Fail(absl::StrCat("the proof does not verify against pkS: ",
                             outputs.status().message()));
  }
  for (size_t i = 0; i < outputs->size(); ++i) {
    auto want = kit.TargetOprfKey().Evaluate(ex.inputs[i]);
    if (!want.ok() || *want != (*outputs)[i]) {
      return Fail(absl::StrCat("output ", i, " is not the OPRF of its input"));
    }
  }
  return absl::OkStatus();
}

// The responder takes either wire form (spec/oprf.md §1) and says so; its
// elements are in the request's form (the form is checked by
// evaluate.proof's Finalize).
absl::Status EvaluateUncompressedAccepted(const Kit& kit, const Exchange& ex,
                                          Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  if (!m.evaluate_response().uncompressed_accepted()) {
    return Fail("the response does not set uncompressed_accepted");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ResolveResponse> Resolved(const Kit& kit,
                                             const Exchange& ex) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  return m.resolve_response();
}

// Every reference is the target's, each matched entry points at an output
// the runner labelled "kit" (the seeded case's y), and every "kit" output
// is matched.
absl::Status ResolveHit(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::ResolveResponse r, Resolved(kit, ex));
  if (r.references_size() == 0) return Fail("no reference for the kit case");
  std::set<uint32_t> matched;
  for (const v1::CaseReference& ref : r.references()) {
    if (ref.member() != kit.target().member) {
      return Fail("a reference names member " + ref.member());
    }
    if (ref.status() != v1::CASE_STATUS_OPEN) {
      return Fail("the kit case's reference is not OPEN");
    }
    for (const v1::MatchedIdentifier& mi : ref.matched()) {
      if (mi.input_index() >= ex.output_labels.size() ||
          ex.output_labels[mi.input_index()] != "kit") {
        return Fail(absl::StrCat("matched input_index ", mi.input_index(),
                                 " is not a kit output"));
      }
      matched.insert(mi.input_index());
    }
  }
  for (size_t i = 0; i < ex.output_labels.size(); ++i) {
    if (ex.output_labels[i] == "kit" && !matched.count(i)) {
      return Fail(absl::StrCat("output ", i, " (the kit case) is not matched"));
    }
  }
  return absl::OkStatus();
}

absl::Status ResolveMiss(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::ResolveResponse r, Resolved(kit, ex));
  if (r.references_size() != 0) {
    return Fail(absl::StrCat(r.references_size(),
                             " references for outputs no case holds"));
  }
  return absl::OkStatus();
}

absl::Status ResolveNoRepeats(const Kit& kit, const Exchange& ex,
                              Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::ResolveResponse r, Resolved(kit, ex));
  for (const v1::CaseReference& ref : r.references()) {
    std::set<uint32_t> seen;
    for (const v1::MatchedIdentifier& mi : ref.matched()) {
      if (!seen.insert(mi.input_index()).second) {
        return Fail(
            absl::StrCat("matched repeats input_index ", mi.input_index()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ResolveIndexVersion(const Kit& kit, const Exchange& ex,
                                 Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::ResolveResponse r, Resolved(kit, ex));
  if (r.index_version() == 0) return Fail("index_version is 0");
  return absl::OkStatus();
}

absl::StatusOr<v1::IndexManifest> Manifest(const Kit& kit, const Exchange& ex) {
  ASSIGN_OR_RETURN(v1::Message m, Reply(kit, ex));
  return m.index_manifest();
}

absl::Status ManifestMember(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::IndexManifest man, Manifest(kit, ex));
  if (man.member() != kit.target().member) {
    return Fail("the manifest names member " + man.member());
  }
  if (man.oprf_epoch() != ex.request.index_request().oprf_epoch()) {
    return Fail("the manifest's epoch is not the request's");
  }
  return absl::OkStatus();
}

// The tags of a full copy, sorted.
absl::StatusOr<std::vector<Bytes>> Tags(const Exchange& ex) {
  std::vector<Bytes> tags;
  for (size_t i = 1; i < ex.parts.size(); ++i) {
    if (!ex.parts[i].has_chunk()) return Fail("a second manifest");
    const std::string& added = ex.parts[i].chunk().added_tags();
    if (added.size() % 8 != 0) return Fail("a chunk not a multiple of 8");
    for (size_t at = 0; at < added.size(); at += 8) {
      tags.push_back(added.substr(at, 8));
    }
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

absl::Status IndexMatches(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(v1::IndexManifest man, Manifest(kit, ex));
  if (!man.full()) return Fail("a copy from version 0 is not full");
  ASSIGN_OR_RETURN(std::vector<Bytes> tags, Tags(ex));
  if (tags.size() != man.count()) {
    return Fail(
        absl::StrCat(tags.size(), " tags, the manifest says ", man.count()));
  }
  Bytes all;
  for (const Bytes& t : tags) all += t;
  if (crypto::Sha256(all) != man.digest()) {
    return Fail("SHA-256 of the sorted tags is not the manifest's digest");
  }
  return absl::OkStatus();
}

absl::Status IndexHasKitTag(const Kit& kit, const Exchange& ex, Runner::Seen&) {
  ASSIGN_OR_RETURN(std::vector<Bytes> tags, Tags(ex));
  Bytes tag = identifiers::TagBytes(identifiers::TagOf(KitOutput(kit)));
  if (!std::binary_search(tags.begin(), tags.end(), tag)) {
    return Fail("the kit case's tag is not in the index");
  }
  return absl::OkStatus();
}

absl::Status ChainFromGenesis(
    const Kit& kit,
    const google::protobuf::RepeatedPtrField<v1::SignedDirectory>& versions) {
  if (versions.empty()) return Fail("no directory version");
  // The directory bytes as signed; the signatures may come in any order.
  if (versions[0].directory() != kit.genesis().directory()) {
    return Fail("the first version is not the kit genesis");
  }
  std::shared_ptr<const directory::Directory> at;
  ASSIGN_OR_RETURN(at, directory::Directory::FromGenesis(versions[0]));
  for (int i = 1; i < versions.size(); ++i) {
    auto next = at->Adopt(versions[i]);
    if (!next.ok()) {
      return Fail(absl::StrCat("version ", i + 1,
                               " does not adopt: ", next.status().message()));
    }
    at = *next;
  }
  return absl::OkStatus();
}

absl::Status DirectoryGenesis(const Kit& kit, const Exchange& ex,
                              Runner::Seen&) {
  return ChainFromGenesis(kit, ex.directory.versions());
}

absl::Status DirectoryEmpty(const Kit&, const Exchange& ex, Runner::Seen&) {
  if (ex.directory.versions_size() != 0) {
    return Fail("versions after the current one were returned");
  }
  return absl::OkStatus();
}

absl::StatusOr<logcheck::VerifiedCheckpoint> Verified(const Kit& kit,
                                                      const std::string& note) {
  ASSIGN_OR_RETURN(logcheck::LogKeys keys,
                   logcheck::KeysOfLog(kit.directory(), kit.target().member));
  auto verified = logcheck::VerifyCheckpoint(keys, note);
  if (!verified.ok()) {
    return Fail(absl::StrCat("the checkpoint does not verify: ",
                             verified.status().message()));
  }
  return verified;
}

// Signed by the target's node key with origin cbx/<target>/audit, no
// cosignature; remembered for the later cases.
absl::Status CheckpointSigned(const Kit& kit, const Exchange& ex,
                              Runner::Seen& seen) {
  ASSIGN_OR_RETURN(logcheck::VerifiedCheckpoint v,
                   Verified(kit, ex.checkpoint.checkpoint()));
  if (!v.cosignatures.empty()) return Fail("served with cosignatures");
  if (v.checkpoint.size == 0) return Fail("an empty log's checkpoint");
  seen.checkpoint = v.checkpoint;
  seen.checkpoint_text = v.text;
  return absl::OkStatus();
}

// The consistency proof leads from the checkpoint seen before (size1 of the
// request) to the one served.
absl::Status CheckpointConsistent(const Kit& kit, const Exchange& ex,
                                  Runner::Seen& seen) {
  if (!seen.checkpoint.has_value()) return Fail("no earlier checkpoint seen");
  const note::Checkpoint before = *seen.checkpoint;
  RETURN_IF_ERROR(CheckpointSigned(kit, ex, seen));
  std::vector<Bytes> proof(ex.checkpoint.consistency_proof().begin(),
                           ex.checkpoint.consistency_proof().end());
  absl::Status ok =
      merkle::VerifyConsistency(before.size, seen.checkpoint->size, proof,
                                before.root_hash, seen.checkpoint->root_hash);
  if (!ok.ok()) return Fail(std::string(ok.message()));
  return absl::OkStatus();
}

absl::Status CosignaturesCounted(const Kit&, const Exchange& ex,
                                 Runner::Seen&) {
  if (ex.cosignatures.cosignatures() < 1) return Fail("cosignatures is 0");
  return absl::OkStatus();
}

absl::Status AuditWitnessed(const Kit& kit, const Exchange& ex,
                            Runner::Seen& seen) {
  ASSIGN_OR_RETURN(logcheck::VerifiedCheckpoint v,
                   Verified(kit, ex.audit_checkpoint.checkpoint()));
  if (!v.witnessed) {
    return Fail(absl::StrCat("not witnessed: ", v.witnesses, " of ",
                             v.threshold, " cosignatures"));
  }
  if (ex.audit_checkpoint.member() != kit.target().member) {
    return Fail("member is " + ex.audit_checkpoint.member());
  }
  if (ex.audit_checkpoint.witness_threshold() !=
      kit.directory().policy().witness_threshold()) {
    return Fail("witness_threshold is not the directory's");
  }
  seen.audited = v.checkpoint;
  return absl::OkStatus();
}

absl::Status AuditDirectoryChain(const Kit& kit, const Exchange& ex,
                                 Runner::Seen&) {
  return ChainFromGenesis(kit, ex.audit_directory.versions());
}

absl::Status AuditConsistency(const Kit&, const Exchange& ex,
                              Runner::Seen& seen) {
  if (!seen.checkpoint || !seen.audited) return Fail("no checkpoints seen");
  std::vector<Bytes> proof(ex.proof.proof().begin(), ex.proof.proof().end());
  absl::Status ok = merkle::VerifyConsistency(
      seen.checkpoint->size, seen.audited->size, proof,
      seen.checkpoint->root_hash, seen.audited->root_hash);
  if (!ok.ok()) return Fail(std::string(ok.message()));
  return absl::OkStatus();
}

absl::Status LeafIs(const Runner::Seen& seen, uint64_t index,
                    const std::string& leaf,
                    const google::protobuf::RepeatedPtrField<std::string>& p) {
  std::vector<Bytes> proof(p.begin(), p.end());
  absl::Status ok =
      merkle::VerifyInclusion(index, seen.audited->size, merkle::LeafHash(leaf),
                              proof, seen.audited->root_hash);
  if (!ok.ok()) {
    return Fail(absl::StrCat("entry ", index, ": ", ok.message()));
  }
  v1::AuditEntry entry;
  if (!entry.ParseFromString(leaf) || entry.sequence() != index) {
    return Fail(absl::StrCat("leaf ", index, " is not entry ", index));
  }
  return absl::OkStatus();
}

absl::Status AuditInclusion(const Kit&, const Exchange& ex,
                            Runner::Seen& seen) {
  if (!seen.audited) return Fail("no audited checkpoint seen");
  return LeafIs(seen, ex.index, ex.proof.leaf(), ex.proof.proof());
}

absl::Status AuditExport(const Kit& kit, const Exchange& ex,
                         Runner::Seen& seen) {
  if (!seen.audited) return Fail("no audited checkpoint seen");
  if (ex.chunks.empty()) return Fail("no chunk");
  ASSIGN_OR_RETURN(logcheck::VerifiedCheckpoint v,
                   Verified(kit, ex.chunks[0].checkpoint()));
  if (v.checkpoint.size != seen.audited->size) {
    return Fail("the export's checkpoint is not of the size asked");
  }
  uint64_t next = ex.begin;
  for (const v1::AuditExportChunk& chunk : ex.chunks) {
    for (const v1::AuditExportedEntry& e : chunk.entries()) {
      if (e.index() != next) return Fail("entries out of order");
      RETURN_IF_ERROR(LeafIs(seen, e.index(), e.leaf(), e.inclusion_proof()));
      ++next;
    }
  }
  if (next != ex.end) return Fail(absl::StrCat("export ends at ", next));
  return absl::OkStatus();
}

const std::map<std::string, Check>& Checks() {
  static const auto* checks = new std::map<std::string, Check>{
      {"reply.opens", ReplyOpens},
      {"reply.answers-request", ReplyAnswers},
      {"evaluate.count", EvaluateCount},
      {"evaluate.epoch", EvaluateEpoch},
      {"evaluate.proof", EvaluateProof},
      {"evaluate.uncompressed-accepted", EvaluateUncompressedAccepted},
      {"resolve.hit", ResolveHit},
      {"resolve.miss", ResolveMiss},
      {"resolve.matched-no-repeats", ResolveNoRepeats},
      {"resolve.index-version", ResolveIndexVersion},
      {"index.manifest-member-epoch", ManifestMember},
      {"index.matches-manifest", IndexMatches},
      {"index.has-kit-tag", IndexHasKitTag},
      {"directory.from-genesis", DirectoryGenesis},
      {"directory.empty", DirectoryEmpty},
      {"checkpoint.signed", CheckpointSigned},
      {"checkpoint.consistent", CheckpointConsistent},
      {"cosignatures.counted", CosignaturesCounted},
      {"audit.checkpoint-witnessed", AuditWitnessed},
      {"audit.directory-from-genesis", AuditDirectoryChain},
      {"audit.consistency-verifies", AuditConsistency},
      {"audit.inclusion-verifies", AuditInclusion},
      {"audit.export-verifies", AuditExport},
  };
  return *checks;
}

}  // namespace

Bytes KitOutput(const Kit& kit) {
  Bytes input = identifiers::OprfInput(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
                                       kKitUsername);
  auto y = kit.TargetOprfKey().Evaluate(input);
  return y.ok() ? *y : Bytes();
}

absl::Status CheckProperty(const std::string& name, const Kit& kit,
                           const Exchange& ex, Runner::Seen& seen) {
  auto it = Checks().find(name);
  if (it == Checks().end()) {
    return absl::InvalidArgumentError("unknown property " + name);
  }
  return it->second(kit, ex, seen);
}

}  // namespace cbx::conformance
