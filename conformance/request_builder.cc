#include "conformance/request_builder.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/crypto/random.h"
#include "core/crypto/voprf.h"
#include "core/envelope/envelope.h"
#include "core/identifiers/identifiers.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signature.h"
#include "core/util/clock.h"
#include "core/util/status_macros.h"

namespace cbx::conformance {
namespace {

using nlohmann::json;

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

std::string DefaultKind(const std::string& rpc) {
  if (rpc == "Peer.Evaluate") return "evaluate_request";
  if (rpc == "Peer.Resolve") return "resolve_request";
  return "index_request";
}

// The purpose every request carries unless the recipe says otherwise
// ("purpose": null sends none).
absl::Status SetPurpose(const json& spec, v1::Purpose* purpose, bool* present) {
  json p = {{"case_number", "KIT-QUERY-0001"},
            {"legal_basis", "cbx conformance kit"},
            {"offence", 1}};
  if (spec.contains("purpose")) {
    if (spec["purpose"].is_null()) {
      *present = false;
      return absl::OkStatus();
    }
    p = spec["purpose"];
  }
  *present = true;
  purpose->set_case_number(p.value("case_number", ""));
  purpose->set_legal_basis(p.value("legal_basis", ""));
  purpose->set_offence(static_cast<v1::OffenceCode>(p.value("offence", 0)));
  return absl::OkStatus();
}

uint32_t Epoch(const Kit& kit, const json& spec) {
  const v1::Member* m = kit.directory().FindMember(kit.target().member);
  return spec.value("epoch", m->oprf_key().epoch());
}

absl::Status EvaluateBody(const Kit& kit, const json& spec,
                          v1::EvaluateRequest* req, Exchange& ex) {
  req->set_oprf_epoch(Epoch(kit, spec));
  const int n = spec.value("elements", 1);
  for (int i = 0; i < n; ++i) {
    // Past 16 elements one blinded input is repeated: a batch-size or quota
    // case needs the count, not 1024 fresh blinds.
    if (i < 16) {
      Bytes input =
          identifiers::OprfInput(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
                                 absl::StrCat("cbx_kit_probe_", i));
      ASSIGN_OR_RETURN(crypto::BlindedInput b, crypto::OprfBlind(input));
      ex.inputs.push_back(input);
      ex.blinds.push_back(b.blind);
      // `uncompressed`: the 65-byte form (spec/oprf.md §1).
      ex.blinded.push_back(spec.value("uncompressed", false)
                               ? b.blinded_point
                               : b.blinded_element);
    } else {
      ex.inputs.push_back(ex.inputs[0]);
      ex.blinds.push_back(ex.blinds[0]);
      ex.blinded.push_back(ex.blinded[0]);
    }
    req->add_blinded_elements(ex.blinded.back());
  }
  if (spec.value("mixed_forms", false) && n > 1) {
    // Element 1 in the other form than element 0: a batch is in one form.
    ASSIGN_OR_RETURN(crypto::BlindedInput b, crypto::OprfBlind(ex.inputs[1]));
    ex.blinds[1] = b.blind;
    ex.blinded[1] = ex.blinded[0].size() == crypto::kP256ElementSize
                        ? b.blinded_point
                        : b.blinded_element;
    req->set_blinded_elements(1, ex.blinded[1]);
  }
  if (spec.value("invalid_element", false) && n > 0) {
    // x = 2^256 - 1 is not below the field prime: no point.
    req->set_blinded_elements(0, "\x02" + std::string(32, '\xff'));
  }
  bool present = false;
  RETURN_IF_ERROR(SetPurpose(spec, req->mutable_purpose(), &present));
  if (!present) req->clear_purpose();
  return absl::OkStatus();
}

absl::Status ResolveBody(const Kit& kit, const json& spec,
                         v1::ResolveRequest* req, Exchange& ex) {
  req->set_oprf_epoch(Epoch(kit, spec));
  std::vector<std::string> labels;
  for (const json& o : spec.value("outputs", json::array({"kit"}))) {
    labels.push_back(o);
  }
  for (int i = 0; i < spec.value("random_outputs", 0); ++i) {
    labels.push_back("random");
  }
  const Bytes kit_y = KitOutput(kit);
  for (const std::string& label : labels) {
    if (label == "kit") {
      req->add_outputs(kit_y);
    } else if (label == "random") {
      req->add_outputs(crypto::RandomBytes(32));
    } else if (label == "tag") {
      req->add_outputs(identifiers::TagBytes(identifiers::TagOf(kit_y)));
    } else {
      return absl::InvalidArgumentError("unknown output label " + label);
    }
  }
  ex.output_labels = labels;
  bool present = false;
  RETURN_IF_ERROR(SetPurpose(spec, req->mutable_purpose(), &present));
  if (!present) req->clear_purpose();
  return absl::OkStatus();
}

uint64_t Size(const json& v, const Runner::Seen& seen) {
  if (v.is_number()) return v.get<uint64_t>();
  if (v == "seen" && seen.checkpoint) return seen.checkpoint->size;
  if (v == "audited" && seen.audited) return seen.audited->size;
  if (v == "beyond") return uint64_t{1} << 40;
  return 0;
}

}  // namespace

absl::Status RequestBuilder::Body(const std::string& kind, const json& spec,
                                  v1::Message& msg, Exchange& ex) const {
  if (kind == "evaluate_request") {
    return EvaluateBody(*kit_, spec, msg.mutable_evaluate_request(), ex);
  }
  if (kind == "resolve_request") {
    return ResolveBody(*kit_, spec, msg.mutable_resolve_request(), ex);
  }
  if (kind == "index_request") {
    msg.mutable_index_request()->set_oprf_epoch(Epoch(*kit_, spec));
    msg.mutable_index_request()->set_since_version(
        spec.value("since_version", 0));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown message kind " + kind);
}

absl::StatusOr<v1::Envelope> RequestBuilder::Envelope(const json& c,
                                                      Exchange& ex) const {
  const json env = c.value("envelope", json::object());
  const json spec = c.value("message", json::object());
  std::string kind = DefaultKind(c["rpc"]);
  if (!spec.empty()) kind = spec.begin().key();
  const std::string sender = env.value("sender", ex.as);
  const std::string signer = env.value("signer", sender);
  const crypto::Ed25519PrivateKey* key = kit_->NodeKey(signer);
  if (key == nullptr) {
    return absl::InvalidArgumentError("the kit has no node key for " + signer);
  }
  v1::Message msg;
  if (!env.value("no_header", false)) {
    v1::Header* h = msg.mutable_header();
    h->set_sender(sender);
    for (const json& a : env.value("audience", json::array({"$target"}))) {
      h->add_audience(a == "$target" ? kit_->target().member
                                     : a.get<std::string>());
    }
    h->set_message_id(crypto::RandomBytes(env.value("message_id_bytes", 16)));
    const int64_t now = SystemClock::Get().NowMs();
    h->set_issued_at_ms(now + env.value("issued_offset_s", 0) * 1000);
    h->set_expires_at_ms(h->issued_at_ms() +
                         env.value("lifetime_s", 60) * 1000);
    h->set_in_reply_to(crypto::RandomBytes(env.value("in_reply_to_bytes", 0)));
    h->set_office(env.value("office", sender + "/Kit-Office"));
  }
  ex.inputs.clear();
  ex.blinds.clear();
  ex.blinded.clear();
  RETURN_IF_ERROR(Body(kind, spec.value(kind, json::object()), msg, ex));
  ex.request = msg;
  v1::Envelope sealed = envelope::Seal(msg, *key);
  const std::string tamper = env.value("tamper", "");
  if (tamper == "signature") {
    sealed.mutable_signature()->at(0) ^= 0x01;
  } else if (tamper == "key_id") {
    sealed.set_key_id(std::string(8, '\xee'));
  } else if (tamper == "body") {
    // Not a Message (field 1 announcing 5 bytes, carrying 2), signed.
    v1::Envelope resealed;
    resealed.set_body(
        std::string("\x0a\x05"
                    "ab",
                    4));
    resealed.set_key_id(sealed.key_id());
    resealed.set_signature(
        key->Sign(envelope::EnvelopeSigningInput(resealed.body())));
    sealed = resealed;
  } else if (!tamper.empty()) {
    return absl::InvalidArgumentError("unknown tamper " + tamper);
  }
  return sealed;
}

absl::StatusOr<std::string> RequestBuilder::Cosigned(
    v1::Peer::Stub& stub, const json& c, const std::string& as) const {
  const std::string how = c["add_cosignature"].value("cosign", "latest");
  if (how == "again") return seen_->last_cosignature;
  if (how == "not-a-note") return std::string("cbx conformance kit\n");
  std::string text = seen_->checkpoint_text;
  if (how != "later" || text.empty()) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetCheckpointResponse resp;
    grpc::Status got = stub.GetCheckpoint(&ctx, {}, &resp);
    if (!got.ok()) {
      return absl::FailedPreconditionError("GetCheckpoint failed: " +
                                           got.error_message());
    }
    ASSIGN_OR_RETURN(note::Note note, note::ParseNote(resp.checkpoint()));
    text = note.text;
  }
  if (how == "other-origin") {
    text.replace(0, text.find('\n'), logcheck::LogOrigin(as));
  } else if (how == "altered-text") {
    // The same origin and size, another root hash.
    size_t root = text.find('\n', text.find('\n') + 1) + 1;
    text[root] = text[root] == 'A' ? 'B' : 'A';
  }
  const std::string signer = how == "bad-signature" ? "QB" : as;
  ASSIGN_OR_RETURN(note::Cosigner cosigner,
                   note::Cosigner::Create(logcheck::WitnessName(as),
                                          *kit_->NodeKey(signer)));
  uint64_t now = static_cast<uint64_t>(SystemClock::Get().NowMs() / 1000);
  if (how == "later") now += 7;
  ASSIGN_OR_RETURN(note::Signature sig, cosigner.Cosign(text, now));
  std::string request = text + "\n" + note::FormatSignatureLine(sig);
  if (how == "latest") {
    seen_->last_cosignature = request;
    seen_->checkpoint_text = text;
  }
  return request;
}

absl::Status SendPeerPlain(v1::Peer::Stub& stub, const RequestBuilder& build,
                           const json& c, Exchange& ex) {
  const std::string rpc = c["rpc"];
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  if (rpc == "Peer.GetDirectory") {
    v1::GetDirectoryRequest req;
    const json spec = c.value("get_directory", json::object());
    req.set_since_version(spec.value("since_version", 0));
    if (spec.value("since", "") == "current") {
      req.set_since_version(build.kit().directory().version());
    }
    ex.status = stub.GetDirectory(&ctx, req, &ex.directory);
    return absl::OkStatus();
  }
  if (rpc == "Peer.GetCheckpoint") {
    v1::GetCheckpointRequest req;
    const json spec = c.value("get_checkpoint", json::object());
    req.set_since_size(Size(spec.value("since_size", json(0)), build.seen()));
    ex.status = stub.GetCheckpoint(&ctx, req, &ex.checkpoint);
    return absl::OkStatus();
  }
  if (rpc == "Peer.AddCosignature") {
    v1::AddCosignatureRequest req;
    ASSIGN_OR_RETURN(*req.mutable_cosigned_checkpoint(),
                     build.Cosigned(stub, c, ex.as));
    ex.status = stub.AddCosignature(&ctx, req, &ex.cosignatures);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown RPC " + rpc);
}

absl::Status SendOffice(v1::Office::Stub& stub, const RequestBuilder& build,
                        const json& c, Exchange& ex) {
  const std::string rpc = c["rpc"];
  const Runner::Seen& seen = build.seen();
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  if (rpc == "Office.AddCase") {
    v1::AddCaseRequest req;
    v1::Case* kase = req.mutable_case_();
    kase->set_case_number(kKitCaseNumber);
    v1::Identifier* id = kase->add_identifiers();
    id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    id->set_value(kKitUsername);
    kase->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
    kase->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
    kase->set_contact_point("+000 000 000 (cbx conformance kit, 24/7)");
    v1::Case added;
    ex.status = stub.AddCase(&ctx, req, &added);
    return absl::OkStatus();
  }
  if (rpc == "Office.AuditCheckpoint") {
    ex.status = stub.AuditCheckpoint(&ctx, {}, &ex.audit_checkpoint);
    return absl::OkStatus();
  }
  if (rpc == "Office.AuditDirectory") {
    ex.status = stub.AuditDirectory(&ctx, {}, &ex.audit_directory);
    return absl::OkStatus();
  }
  const json spec = c.value("audit", json::object());
  if (rpc == "Office.AuditConsistency") {
    v1::AuditConsistencyRequest req;
    req.set_size1(ex.size1 = Size(spec.value("size1", json(0)), seen));
    req.set_size2(ex.size2 = Size(spec.value("size2", json(0)), seen));
    ex.status = stub.AuditConsistency(&ctx, req, &ex.proof);
    return absl::OkStatus();
  }
  if (rpc == "Office.AuditInclusion") {
    v1::AuditInclusionRequest req;
    req.set_index(ex.index = Size(spec.value("index", json(0)), seen));
    req.set_size(ex.size2 = Size(spec.value("size", json(0)), seen));
    ex.status = stub.AuditInclusion(&ctx, req, &ex.proof);
    return absl::OkStatus();
  }
  if (rpc == "Office.AuditExport") {
    v1::AuditExportRequest req;
    req.set_begin(ex.begin = Size(spec.value("begin", json(0)), seen));
    req.set_end(ex.end = Size(spec.value("end", json(0)), seen));
    req.set_size(ex.size2 = Size(spec.value("size", json(0)), seen));
    auto reader = stub.AuditExport(&ctx, req);
    v1::AuditExportChunk chunk;
    while (reader->Read(&chunk)) ex.chunks.push_back(chunk);
    ex.status = reader->Finish();
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown RPC " + rpc);
}

}  // namespace cbx::conformance
