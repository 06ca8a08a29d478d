#include "core/directory/testing/directory_vectors.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"
#include "core/directory/testing/test_federation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signer.h"

namespace cbx::directory::testing {
namespace {

struct Case {
  std::string name;
  // 0: the case is a genesis (FromGenesis). N >= 1: the receiver holds the
  // chain up to version N, then Adopt()s the case.
  uint64_t base_version;
  v1::SignedDirectory signed_dir;
  std::string expected;  // "OK" or an absl/gRPC status code name
};

v1::SignedDirectory ByMkRs(const v1::Directory& d) {
  return SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

v1::SignedDirectory ByRsAl(const v1::Directory& d) {
  return SignAs(d, {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

// MK's audit log checkpoint at `size` (root SHA-256("cbx vector root")),
// signed by `signer`'s key (MK's node key, unless a case forges it) and
// cosigned by each of `witnesses`: the predecessor a directory update names
// when MK's log is recovered (spec/audit-log.md §12). Aborts on a generator
// bug, never on input.
std::string MkCheckpointNote(uint64_t size,
                             const std::vector<std::string>& witnesses,
                             const std::string& signer = "MK/node/1") {
  const note::Checkpoint cp{
      "cbx/MK/audit", size, crypto::Sha256("cbx vector root"), {}};
  note::Note n;
  auto text = note::FormatCheckpoint(cp);
  auto note_signer = note::NoteSigner::Create(cp.origin, TestKey(signer));
  if (!text.ok() || !note_signer.ok()) std::abort();
  n.text = *text;
  auto own = note_signer->Sign(n.text);
  if (!own.ok()) std::abort();
  n.signatures.push_back(*own);
  for (const std::string& w : witnesses) {
    auto cosigner = note::Cosigner::Create(logcheck::WitnessName(w),
                                           TestKey(w + "/node/1"));
    if (!cosigner.ok()) std::abort();
    auto line = cosigner->Cosign(n.text, kNowMs / 1000);
    if (!line.ok()) std::abort();
    n.signatures.push_back(*line);
  }
  auto formatted = note::FormatNote(n);
  if (!formatted.ok()) std::abort();
  return *formatted;
}

}  // namespace

v1::Directory V2WithMkLogGeneration(uint32_t generation,
                                    const std::vector<std::string>& witnesses) {
  v1::Directory d = V2Directory();
  v1::AuditLogGeneration* g = d.mutable_members(0)->mutable_audit_log();
  g->set_generation(generation);
  g->set_predecessor_origin("cbx/MK/audit");
  g->set_predecessor_size(12);
  g->set_predecessor_root_hash(crypto::Sha256("cbx vector root"));
  g->set_predecessor_checkpoint(MkCheckpointNote(12, witnesses));
  return d;
}

namespace {

std::vector<Case> Cases() {
  std::vector<Case> c;
  const v1::Directory g = GenesisDirectory();
  c.push_back(
      {"genesis signed by MK and RS (2 of 3)", 0, SignedGenesis(), "OK"});
  c.push_back({"genesis signed by all three members", 0,
               SignAs(g, {{"AL", "AL/governance/1"},
                          {"MK", "MK/governance/1"},
                          {"RS", "RS/governance/1"}}),
               "OK"});
  c.push_back({"genesis signed by MK only", 0,
               SignAs(g, {{"MK", "MK/governance/1"}}), "UNAUTHENTICATED"});
  c.push_back(
      {"genesis signed twice by MK: one member counts once", 0,
       SignAs(g, {{"MK", "MK/governance/1"}, {"MK", "MK/governance/1"}}),
       "UNAUTHENTICATED"});
  c.push_back(
      {"genesis signed by MK and the non-member XK", 0,
       SignAs(g, {{"MK", "MK/governance/1"}, {"XK", "XK/governance/1"}}),
       "UNAUTHENTICATED"});
  c.push_back(
      {"genesis entry named RS but made with AL's governance key", 0,
       SignAs(g, {{"MK", "MK/governance/1"}, {"RS", "AL/governance/1"}}),
       "UNAUTHENTICATED"});
  {
    // Only the first entry naming a member is considered: MK's bad first
    // entry is not rescued by a good second one.
    v1::SignedDirectory s = SignAs(g, {{"MK", "MK/governance/1"},
                                       {"MK", "MK/governance/1"},
                                       {"RS", "RS/governance/1"}});
    (*s.mutable_signatures(0)->mutable_signature())[0] ^= 0x01;
    c.push_back(
        {"genesis whose first MK entry is corrupt, second MK entry "
         "valid, RS valid",
         0, s, "UNAUTHENTICATED"});
  }
  {
    v1::SignedDirectory s = SignedGenesis();
    (*s.mutable_signatures(1)->mutable_signature())[63] ^= 0x80;
    c.push_back(
        {"genesis with RS's signature corrupted", 0, s, "UNAUTHENTICATED"});
  }
  {
    v1::Directory d = g;
    d.set_version(2);
    c.push_back({"genesis with version 2", 0, ByMkRs(d), "INVALID_ARGUMENT"});
  }
  {
    v1::SignedDirectory s;
    s.set_directory("\xff\xff\xff");
    c.push_back({"genesis whose directory bytes do not parse", 0, s,
                 "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = g;
    d.mutable_policy()->set_governance_threshold(4);
    c.push_back({"genesis with governance threshold 4 of 3 members", 0,
                 ByMkRs(d), "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = g;
    d.mutable_members(2)->mutable_oprf_key()->set_public_key(Bytes(32, '\x02'));
    c.push_back({"genesis where AL's OPRF key has 32 bytes", 0, ByMkRs(d),
                 "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = g;
    *d.mutable_members(1)->add_node_keys() = d.members(0).node_keys(0);
    c.push_back({"genesis where RS also lists MK's node key", 0, ByMkRs(d),
                 "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = g;
    d.mutable_members(2)->set_governance_key(d.members(0).governance_key());
    c.push_back({"genesis where AL lists MK's governance key", 0, ByMkRs(d),
                 "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = g;
    d.mutable_members(2)->set_code("al");
    c.push_back({"genesis with a lower-case member code", 0, ByMkRs(d),
                 "INVALID_ARGUMENT"});
  }

  const v1::Directory v2 = V2Directory();
  const v1::Directory v3 = V3Directory();
  c.push_back({"v2 signed by RS and AL with v1's governance keys", 1,
               SignedV2(), "OK"});
  c.push_back({"v2 signed by RS only", 1,
               SignAs(v2, {{"RS", "RS/governance/1"}}), "UNAUTHENTICATED"});
  c.push_back(
      {"v2 signed by AL and by RS with the key v2 introduces", 1,
       SignAs(v2, {{"AL", "AL/governance/1"}, {"RS", "RS/governance/2"}}),
       "UNAUTHENTICATED"});
  c.push_back({"v3 offered to a holder of v1 (gap)", 1, SignedV3(),
               "FAILED_PRECONDITION"});
  c.push_back({"v1 offered to a holder of v1", 1, SignedGenesis(),
               "FAILED_PRECONDITION"});
  c.push_back({"v1 offered to a holder of v2 (never go back)", 2,
               SignedGenesis(), "FAILED_PRECONDITION"});
  {
    v1::Directory d = v2;
    d.set_federation("another-federation");
    c.push_back(
        {"v2 renaming the federation", 1, ByRsAl(d), "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = v2;
    d.set_issued_at_ms(kGenesisIssuedAtMs - 1);
    c.push_back({"v2 issued before v1", 1, ByRsAl(d), "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = v2;
    d.mutable_members(0)->mutable_oprf_key()->set_epoch(3);
    c.push_back({"v2 rotating MK's OPRF key from epoch 1 to epoch 3", 1,
                 ByRsAl(d), "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = v2;
    d.clear_members();
    c.push_back({"v2 without members", 1, ByRsAl(d), "INVALID_ARGUMENT"});
  }
  // Step 8, audit log generations (MK's witness threshold is 2).
  c.push_back(
      {"v2 announcing MK's audit log generation 2 after a checkpoint "
       "RS and AL cosigned",
       1, ByRsAl(V2WithMkLogGeneration(2, {"RS", "AL"})), "OK"});
  c.push_back(
      {"v2 announcing MK's audit log generation 2 after a checkpoint "
       "only RS cosigned",
       1, ByRsAl(V2WithMkLogGeneration(2, {"RS"})), "INVALID_ARGUMENT"});
  c.push_back({"v2 announcing MK's audit log generation 3 (skips 2)", 1,
               ByRsAl(V2WithMkLogGeneration(3, {"RS", "AL"})),
               "INVALID_ARGUMENT"});
  {
    v1::Directory d = V2WithMkLogGeneration(2, {"RS", "AL"});
    d.mutable_members(0)->mutable_audit_log()->set_predecessor_origin(
        "cbx/MK/audit/1");
    c.push_back(
        {"v2 announcing MK's audit log generation 2 with a "
         "predecessor_origin that is not generation 1's",
         1, ByRsAl(d), "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = V2WithMkLogGeneration(2, {"RS", "AL"});
    d.mutable_members(0)->mutable_audit_log()->set_predecessor_checkpoint(
        MkCheckpointNote(12, {"RS", "AL"}, "RS/node/1"));
    c.push_back(
        {"v2 announcing MK's audit log generation 2 after a "
         "checkpoint signed with RS's node key, not MK's",
         1, ByRsAl(d), "INVALID_ARGUMENT"});
  }
  {
    v1::Directory d = V2WithMkLogGeneration(2, {"RS", "AL"});
    d.mutable_members(0)->mutable_audit_log()->set_predecessor_size(13);
    c.push_back(
        {"v2 announcing MK's audit log generation 2 whose "
         "predecessor_size is not its checkpoint's",
         1, ByRsAl(d), "INVALID_ARGUMENT"});
  }
  // Rule 6.9, standby endpoints (spec/active-standby.md §7).
  auto v2_with_mk_standby = [&](std::vector<std::string> endpoints) {
    v1::Directory d = v2;
    for (std::string& ep : endpoints) {
      d.mutable_members(0)->add_standby_endpoints(std::move(ep));
    }
    return ByRsAl(d);
  };
  c.push_back({"v2 listing MK's standby endpoint", 1,
               v2_with_mk_standby({"cbx-b.mk.example:7443"}), "OK"});
  c.push_back({"v2 listing MK's endpoint again as its standby endpoint", 1,
               v2_with_mk_standby({v2.members(0).endpoint()}),
               "INVALID_ARGUMENT"});
  c.push_back(
      {"v2 listing one standby endpoint of MK twice", 1,
       v2_with_mk_standby({"cbx-b.mk.example:7443", "cbx-b.mk.example:7443"}),
       "INVALID_ARGUMENT"});
  c.push_back({"v2 listing a standby endpoint of MK without a port", 1,
               v2_with_mk_standby({"cbx-b.mk.example"}), "INVALID_ARGUMENT"});
  c.push_back({"v2 listing four standby endpoints of MK", 1,
               v2_with_mk_standby({"b.mk.example:7443", "c.mk.example:7443",
                                   "d.mk.example:7443", "e.mk.example:7443"}),
               "INVALID_ARGUMENT"});
  c.push_back({"v3 signed by MK and by RS with v2's governance key", 2,
               SignedV3(), "OK"});
  c.push_back(
      {"v3 signed by MK and by RS with its replaced v1 key", 2,
       SignAs(v3, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}}),
       "UNAUTHENTICATED"});
  c.push_back(
      {"v3 signed by MK and by the suspended AL", 2,
       SignAs(v3, {{"MK", "MK/governance/1"}, {"AL", "AL/governance/1"}}),
       "OK"});
  return c;
}

std::string Slug(const std::string& name) {
  std::string out;
  for (char ch : name) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      out.push_back(ch);
    } else if (ch >= 'A' && ch <= 'Z') {
      out.push_back(static_cast<char>(ch - 'A' + 'a'));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

const std::vector<std::string>& TestKeyLabels() {
  static const auto* labels = new std::vector<std::string>{
      "MK/governance/1", "RS/governance/1", "RS/governance/2",
      "AL/governance/1", "MK/node/1",       "MK/node/2",
      "RS/node/1",       "RS/node/2",       "AL/node/1",
  };
  return *labels;
}

nlohmann::json MakeDirectoryVectors() {
  nlohmann::json doc;
  doc["description"] =
      "cbx directory vectors (spec/directory.md). All byte strings are hex. "
      "Test keys are Ed25519 seeds SHA-256(\"cbx test seed\" || 0x00 || "
      "label); key_id = first 8 bytes of SHA-256(\"cbx/v1/node-key\" || 0x00 "
      "|| public_key). A case with base_version 0 is a genesis; otherwise the "
      "receiver first verifies the genesis and adopts chain[] up to "
      "base_version, then adopts the case, applying every rule of "
      "spec/directory.md section 5.2 (step 8, audit log generations, "
      "included). expected is OK or the gRPC status code name. Generated by "
      "cbx_gen_spec_vectors.";
  nlohmann::json keys = nlohmann::json::array();
  for (const std::string& label : TestKeyLabels()) {
    crypto::Ed25519PrivateKey key = TestKey(label);
    keys.push_back(
        {{"label", label},
         {"seed", HexEncode(TestSeed(label))},
         {"public_key", HexEncode(key.public_key().bytes())},
         {"key_id", HexEncode(NodeKeyId(key.public_key().bytes()))}});
  }
  doc["keys"] = keys;

  const v1::SignedDirectory genesis = SignedGenesis();
  doc["genesis"] = {
      {"signed_directory", HexEncode(genesis.SerializeAsString())},
      {"directory", HexEncode(genesis.directory())},
      {"signing_input", HexEncode(DirectorySigningInput(genesis.directory()))},
      {"signers", {"MK", "RS"}},
  };
  doc["chain"] = nlohmann::json::array(
      {{{"version", 2},
        {"signed_directory", HexEncode(SignedV2().SerializeAsString())}},
       {{"version", 3},
        {"signed_directory", HexEncode(SignedV3().SerializeAsString())}}});
  nlohmann::json cases = nlohmann::json::array();
  for (const Case& c : Cases()) {
    cases.push_back(
        {{"name", c.name},
         {"base_version", c.base_version},
         {"signed_directory", HexEncode(c.signed_dir.SerializeAsString())},
         {"expected", c.expected}});
  }
  doc["cases"] = cases;
  return doc;
}

std::vector<std::pair<std::string, Bytes>> DirectoryCorpusSeeds() {
  std::vector<std::pair<std::string, Bytes>> out;
  out.emplace_back("chain_v1", SignedGenesis().SerializeAsString());
  out.emplace_back("chain_v2", SignedV2().SerializeAsString());
  out.emplace_back("chain_v3", SignedV3().SerializeAsString());
  for (const Case& c : Cases()) {
    out.emplace_back(Slug(c.name), c.signed_dir.SerializeAsString());
  }
  return out;
}

}  // namespace cbx::directory::testing
