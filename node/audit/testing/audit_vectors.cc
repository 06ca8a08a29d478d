#include "node/audit/testing/audit_vectors.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/sha256.h"
#include "core/merkle/hash.h"
#include "core/note/verifier.h"
#include "core/util/clock.h"
#include "core/util/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "node/audit/audit_log.h"

namespace cbx::node::audit::testing {
namespace {

constexpr char kSeedHex[] =  // RFC 8032 §7.1 TEST 1
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kOrigin[] = "cbx/MK/audit";
constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01T00:00:00Z

Bytes MessageId(int i) {
  return crypto::Sha256(absl::StrCat("cbx audit vector message ", i))
      .substr(0, 16);
}

Bytes EnvelopeHash(int i) {
  return crypto::Sha256(absl::StrCat("cbx audit vector envelope ", i));
}

struct Named {
  std::string name;
  v1::AuditEntry entry;
};

std::vector<Named> Entries() {
  std::vector<Named> out;
  auto add = [&](std::string name, v1::AuditDirection direction,
                 std::string peer, std::string rpc, std::string kind) {
    v1::AuditEntry entry;
    entry.set_direction(direction);
    entry.set_peer(std::move(peer));
    entry.set_rpc(std::move(rpc));
    entry.set_kind(std::move(kind));
    out.push_back({std::move(name), std::move(entry)});
    return &out.back().entry;
  };
  v1::AuditEntry* e =
      add("MK asks RS: evaluate request sent", v1::AUDIT_DIRECTION_SENT, "RS",
          "Peer.Evaluate", "evaluate_request");
  e->set_envelope_sha256(EnvelopeHash(0));
  e->set_message_id(MessageId(0));
  e->mutable_outcome()->set_elements(2);
  e->set_office("MK/PPO-Skopje");
  e->set_user("prosecutor-1");

  e = add("RS answers: one of two elements is a hit",
          v1::AUDIT_DIRECTION_RECEIVED, "RS", "Peer.Evaluate",
          "evaluate_response");
  e->set_envelope_sha256(EnvelopeHash(1));
  e->set_message_id(MessageId(1));
  e->set_in_reply_to(MessageId(0));
  e->mutable_outcome()->set_elements(2);
  e->mutable_outcome()->set_hits(1);

  e = add("MK resolves the hit", v1::AUDIT_DIRECTION_SENT, "RS", "Peer.Resolve",
          "resolve_request");
  e->set_envelope_sha256(EnvelopeHash(2));
  e->set_message_id(MessageId(2));
  e->set_in_reply_to(MessageId(1));
  e->mutable_outcome()->set_elements(1);
  e->set_office("MK/PPO-Skopje");
  e->set_user("prosecutor-1");

  e = add("RS sends one case reference", v1::AUDIT_DIRECTION_RECEIVED, "RS",
          "Peer.Resolve", "resolve_response");
  e->set_envelope_sha256(EnvelopeHash(3));
  e->set_message_id(MessageId(3));
  e->set_in_reply_to(MessageId(2));
  e->mutable_outcome()->set_references(1);

  e = add("AL's evaluate request refused: quota (RESOURCE_EXHAUSTED = 8)",
          v1::AUDIT_DIRECTION_RECEIVED, "AL", "Peer.Evaluate",
          "evaluate_request");
  e->set_envelope_sha256(EnvelopeHash(4));
  e->set_message_id(MessageId(4));
  e->mutable_outcome()->set_status_code(8);
  e->mutable_outcome()->set_elements(3);
  e->set_office("AL/PP-Tirana");
  e->set_user("prokuror-2");

  e = add("the Skopje office's query, local", v1::AUDIT_DIRECTION_LOCAL, "",
          "Office.Query", "query");
  e->mutable_outcome()->set_elements(2);
  e->mutable_outcome()->set_hits(1);
  e->mutable_outcome()->set_references(1);
  e->set_office("MK/PPO-Skopje");
  e->set_user("prosecutor-1");

  e = add("an envelope from BA with a bad signature (UNAUTHENTICATED = 16)",
          v1::AUDIT_DIRECTION_RECEIVED, "BA", "Peer.Evaluate",
          "evaluate_request");
  e->set_envelope_sha256(EnvelopeHash(6));
  e->mutable_outcome()->set_status_code(16);

  // spec/audit-log.md §2.11: counts only, never which row.
  e = add("a retention sweep: rows deleted per category",
          v1::AUDIT_DIRECTION_LOCAL, "", "Node.RetentionSweep",
          "retention_sweep");
  v1::RetentionCounts* counts = e->mutable_outcome()->mutable_retention();
  counts->set_closed_cases(2);
  counts->set_received_references(3);
  counts->set_inbox_entries(1);
  counts->set_replay_entries(40);
  counts->set_index_changes(12);
  counts->set_withdrawn_references(4);
  counts->set_withdrawals(3);

  // spec/cooperation.md §8: the type (2 = PRESERVATION) and the receipt's
  // code (100 = ACCEPTED) in the outcome.
  e = add("MK asks RS to preserve an account's data", v1::AUDIT_DIRECTION_SENT,
          "RS", "Peer.Cooperate", "cooperation_request");
  e->set_envelope_sha256(EnvelopeHash(8));
  e->set_message_id(MessageId(8));
  e->mutable_outcome()->set_cooperation_type(2);
  e->mutable_outcome()->set_cooperation_code(100);
  e->set_office("MK/PPO-Skopje");
  e->set_user("prosecutor-1");

  e = add("RS's node accepts it with a signed receipt",
          v1::AUDIT_DIRECTION_RECEIVED, "RS", "Peer.Cooperate",
          "cooperation_receipt");
  e->set_envelope_sha256(EnvelopeHash(9));
  e->set_message_id(MessageId(9));
  e->set_in_reply_to(MessageId(8));
  e->mutable_outcome()->set_cooperation_type(2);
  e->mutable_outcome()->set_cooperation_code(100);
  return out;
}

nlohmann::json HexList(const std::vector<Bytes>& hashes) {
  nlohmann::json out = nlohmann::json::array();
  for (const Bytes& h : hashes) out.push_back(HexEncode(h));
  return out;
}

}  // namespace

absl::StatusOr<nlohmann::json> BuildAuditVectors(
    const std::string& scratch_dir) {
  ASSIGN_OR_RETURN(Bytes seed, HexDecode(kSeedHex));
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                   crypto::Ed25519PrivateKey::FromSeed(seed));
  ASSIGN_OR_RETURN(
      note::Verifier verifier,
      note::Verifier::Create(kOrigin, note::SignatureType::kEd25519,
                             key.public_key()));
  FakeClock clock(kStartMs);
  AuditLogOptions options;
  options.clock = &clock;
  ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log,
                   AuditLog::Open(scratch_dir + "/audit.db", options));

  nlohmann::json doc;
  doc["description"] =
      "cbx audit log (spec/audit-log.md section 2): AuditEntry leaves as a "
      "node writes them, their RFC 9162 leaf hashes, the roots of every "
      "size, inclusion and consistency proofs, and a checkpoint signed with "
      "the RFC 8032 section 7.1 TEST 1 key. 'entry' is a readable view "
      "(protobuf JSON with field names); 'leaf' is the authority: hash it "
      "as given.";
  doc["node_key_seed"] = kSeedHex;
  doc["origin"] = kOrigin;
  doc["verifier_key"] = verifier.Encode();

  google::protobuf::util::JsonPrintOptions json_options;
  json_options.preserve_proto_field_names = true;
  json_options.always_print_primitive_fields = true;
  nlohmann::json entries = nlohmann::json::array();
  for (Named& named : Entries()) {
    ASSIGN_OR_RETURN(uint64_t seq, log->Append(named.entry));
    clock.AdvanceMs(250);
    ASSIGN_OR_RETURN(std::string leaf, log->LeafData(seq));
    v1::AuditEntry stored;
    stored.ParseFromString(leaf);
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(stored, &json,
                                                     json_options)
             .ok()) {
      return absl::InternalError("cannot print an entry as JSON");
    }
    nlohmann::json item;
    item["name"] = named.name;
    item["entry"] = nlohmann::json::parse(json);
    item["leaf"] = HexEncode(leaf);
    item["leaf_hash"] = HexEncode(merkle::LeafHash(leaf));
    entries.push_back(std::move(item));
  }
  doc["entries"] = std::move(entries);

  const uint64_t n = log->Size();
  nlohmann::json roots = nlohmann::json::array();
  for (uint64_t size = 0; size <= n; ++size) {
    ASSIGN_OR_RETURN(Bytes root, log->RootAt(size));
    roots.push_back(HexEncode(root));
  }
  doc["roots"] = std::move(roots);

  nlohmann::json inclusion = nlohmann::json::array();
  for (auto [index, size] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 7}, {3, 7}, {4, 7}, {6, 7}, {2, 5}, {0, 1}, {7, 10}, {9, 10}}) {
    ASSIGN_OR_RETURN(std::vector<Bytes> proof,
                     log->InclusionProof(index, size));
    inclusion.push_back(
        {{"index", index}, {"size", size}, {"proof", HexList(proof)}});
  }
  doc["inclusion"] = std::move(inclusion);
  nlohmann::json consistency = nlohmann::json::array();
  for (auto [size1, size2] : std::vector<std::pair<uint64_t, uint64_t>>{
           {1, 7}, {3, 7}, {4, 7}, {6, 7}, {2, 5}, {7, 7}, {7, 10}, {3, 10}}) {
    ASSIGN_OR_RETURN(std::vector<Bytes> proof,
                     log->ConsistencyProof(size1, size2));
    consistency.push_back(
        {{"size1", size1}, {"size2", size2}, {"proof", HexList(proof)}});
  }
  doc["consistency"] = std::move(consistency);
  ASSIGN_OR_RETURN(std::string checkpoint, log->SignCheckpoint(key, kOrigin));
  doc["checkpoint"] = checkpoint;
  return doc;
}

}  // namespace cbx::node::audit::testing
