#include "admin/directory_change.h"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/directory_ops.h"
#include "admin/directory_view.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/sha256.h"
#include "core/crypto/x509_crl.h"
#include "core/directory/directory.h"
#include "core/logcheck/log_generation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/bytes.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"

namespace cbx::admin {
namespace {

using nlohmann::json;

absl::Status ChangeError(const std::string& path, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", std::string(problem)));
}

// Refuses fields outside `allowed` (a misspelt field would be ignored).
absl::Status Allowed(const json& object, const std::string& path,
                     std::initializer_list<std::string_view> allowed) {
  if (!object.is_object()) return ChangeError(path, "must be an object");
  for (const auto& [key, unused] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return ChangeError(absl::StrCat(path, ".", key),
                         absl::StrCat("unknown field (expected one of: ",
                                      absl::StrJoin(names, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

bool Has(const json& object, std::string_view key) {
  return object.is_object() && object.contains(std::string(key));
}

absl::StatusOr<int> MemberIndex(const v1::Directory& d, const json& code,
                                const std::string& path) {
  if (!code.is_string()) return ChangeError(path, "must be a member code");
  const std::string c = code.get<std::string>();
  for (int i = 0; i < d.members_size(); ++i) {
    if (d.members(i).code() == c) return i;
  }
  return ChangeError(
      path, absl::StrCat("no member ", c, " in version ", d.version() - 1));
}

absl::Status SetStatus(v1::Directory& d, const json& code,
                       const std::string& path, v1::MemberStatus status) {
  ASSIGN_OR_RETURN(int i, MemberIndex(d, code, path));
  v1::Member& m = *d.mutable_members(i);
  if (m.status() == status) {
    return ChangeError(
        path, absl::StrCat(
                  m.code(), " is already ",
                  status == v1::MEMBER_STATUS_ACTIVE ? "active" : "suspended"));
  }
  m.set_status(status);
  return absl::OkStatus();
}

absl::Status ReplaceKeys(v1::Directory& d, const json& change,
                         const std::string& path, const SpecContext& context) {
  RETURN_IF_ERROR(Allowed(
      change, path,
      {"member", "governance_key_public", "governance_key", "node_keys",
       "node_signing_key_public", "node_signing_key", "node_key_not_before_ms",
       "node_key_not_after_ms", "oprf_key_public", "oprf_key", "oprf_epoch"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  v1::Member& m = *d.mutable_members(i);
  bool any = false;
  if (Has(change, "governance_key_public") || Has(change, "governance_key")) {
    ASSIGN_OR_RETURN(*m.mutable_governance_key(),
                     PublicKeyFromSpec(change, path, "governance_key_public",
                                       "governance_key", KeyKind::kGovernance,
                                       crypto::kEd25519PublicKeySize, context));
    any = true;
  }
  if (Has(change, "node_keys") || Has(change, "node_signing_key_public") ||
      Has(change, "node_signing_key")) {
    // The list replaces the member's node keys: to rotate, list the old key
    // (with its not_after_ms) and the new one (spec/keys.md).
    m.clear_node_keys();
    RETURN_IF_ERROR(NodeKeysFromSpec(change, path, context, m));
    any = true;
  }
  if (Has(change, "oprf_key_public") || Has(change, "oprf_key")) {
    ASSIGN_OR_RETURN(
        Bytes oprf, PublicKeyFromSpec(change, path, "oprf_key_public",
                                      "oprf_key", KeyKind::kOprf, 33, context));
    uint32_t epoch = m.oprf_key().epoch() + 1;  // the rotation rule
    if (Has(change, "oprf_epoch")) {
      const json& e = change["oprf_epoch"];
      if (!e.is_number_unsigned() ||
          e.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
        return ChangeError(path + ".oprf_epoch", "must be a positive integer");
      }
      epoch = e.get<uint32_t>();
    }
    m.mutable_oprf_key()->set_public_key(oprf);
    m.mutable_oprf_key()->set_epoch(epoch);
    any = true;
  } else if (Has(change, "oprf_epoch")) {
    return ChangeError(path + ".oprf_epoch",
                       "only with a new oprf_key_public or oprf_key");
  }
  if (!any) return ChangeError(path, "names no key to replace");
  return absl::OkStatus();
}

absl::Status AddCa(v1::Directory& d, const json& change,
                   const std::string& path, const SpecContext& context) {
  RETURN_IF_ERROR(
      Allowed(change, path, {"member", "ca_certificate", "ca_certificates"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  v1::Member& m = *d.mutable_members(i);
  std::set<std::string> held;
  for (const std::string& pem : m.ca_certificates_pem()) {
    held.insert(PemFingerprint(pem));
  }
  v1::Member added;
  RETURN_IF_ERROR(CaCertificatesFromSpec(change, path, context, added));
  for (const std::string& pem : added.ca_certificates_pem()) {
    if (!held.insert(PemFingerprint(pem)).second) {
      return ChangeError(path, absl::StrCat(m.code(), " lists CA ",
                                            PemFingerprint(pem), " already"));
    }
    m.add_ca_certificates_pem(pem);
  }
  return absl::OkStatus();
}

absl::Status RemoveCa(v1::Directory& d, const json& change,
                      const std::string& path) {
  RETURN_IF_ERROR(Allowed(change, path, {"member", "sha256"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  if (!Has(change, "sha256") || !change["sha256"].is_string()) {
    return ChangeError(path + ".sha256",
                       "missing (the CA certificate's SHA-256 fingerprint, "
                       "as `cbx-admin directory show` prints it)");
  }
  std::string want = change["sha256"].get<std::string>();
  want.erase(std::remove(want.begin(), want.end(), ':'), want.end());
  std::transform(want.begin(), want.end(), want.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  v1::Member& m = *d.mutable_members(i);
  auto* cas = m.mutable_ca_certificates_pem();
  for (int j = 0; j < cas->size(); ++j) {
    if (PemFingerprint(cas->Get(j)) == want) {
      cas->erase(cas->begin() + j);
      return absl::OkStatus();
    }
  }
  return ChangeError(
      path + ".sha256",
      absl::StrCat(m.code(), " lists no CA with fingerprint ", want));
}

// set_crls: the member's CRLs become the files listed (an empty list
// removes them); each must be a PEM CRL signed by one of the member's CAs
// (spec/keys.md §5.1), as every node checks before using it.
absl::Status SetCrls(v1::Directory& d, const json& change,
                     const std::string& path, const SpecContext& context) {
  RETURN_IF_ERROR(Allowed(change, path, {"member", "crls"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  if (!Has(change, "crls") || !change["crls"].is_array()) {
    return ChangeError(path + ".crls",
                       "must be an array of CRL file paths (PEM); empty "
                       "removes the member's CRLs");
  }
  v1::Member& m = *d.mutable_members(i);
  const std::vector<std::string> cas(m.ca_certificates_pem().begin(),
                                     m.ca_certificates_pem().end());
  std::vector<std::string> crls;
  const json& list = change["crls"];
  for (size_t j = 0; j < list.size(); ++j) {
    const std::string at = absl::StrCat(path, ".crls[", j, "]");
    if (!list[j].is_string() || list[j].get<std::string>().empty()) {
      return ChangeError(at, "must be a file path");
    }
    std::string file = list[j].get<std::string>();
    if (file.front() != '/') file = absl::StrCat(context.base_dir, "/", file);
    absl::StatusOr<std::string> pem = Env::Default()->ReadFile(file);
    if (!pem.ok()) return ChangeError(at, std::string(pem.status().message()));
    absl::StatusOr<crypto::RevocationList> crl =
        crypto::ParseVerifiedCrl(*pem, cas);
    if (!crl.ok()) {
      return ChangeError(at, absl::StrCat("not a CRL of a CA of ", m.code(),
                                          ": ", crl.status().message()));
    }
    crls.push_back(*std::move(pem));
  }
  m.clear_crls_pem();
  for (std::string& pem : crls) m.add_crls_pem(std::move(pem));
  return absl::OkStatus();
}

// set_standby_endpoints: the member's standby_endpoints become the list
// given (empty removes them): the other nodes of its active/standby pair,
// which peers try after its endpoint (spec/directory.md §7.1).
absl::Status SetStandbyEndpoints(v1::Directory& d, const json& change,
                                 const std::string& path) {
  RETURN_IF_ERROR(Allowed(change, path, {"member", "endpoints"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  if (!Has(change, "endpoints")) {
    return ChangeError(path + ".endpoints",
                       "missing (an array of host:port; empty removes the "
                       "member's standby endpoints)");
  }
  return StandbyEndpointsFromSpec(change["endpoints"], path + ".endpoints",
                                  *d.mutable_members(i));
}

// new_audit_log: the member lost its audit log (spec/audit-log.md §12);
// its next generation starts, after `predecessor_checkpoint`: a file
// holding the old log's last witnessed checkpoint as a signed note with its
// cosignatures (as a witness or an auditor keeps it). CheckSuccessor then
// verifies that it is a witnessed checkpoint of the old log.
absl::Status NewAuditLog(v1::Directory& d, const json& change,
                         const std::string& path, const SpecContext& context) {
  RETURN_IF_ERROR(Allowed(change, path, {"member", "predecessor_checkpoint"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  const std::string at = path + ".predecessor_checkpoint";
  const json* files = Has(change, "predecessor_checkpoint")
                          ? &change["predecessor_checkpoint"]
                          : nullptr;
  if (files == nullptr || !(files->is_string() || files->is_array()) ||
      (files->is_array() && files->empty())) {
    return ChangeError(at,
                       "missing (a file, or an array of files, holding the "
                       "old log's last witnessed checkpoint with its "
                       "cosignatures)");
  }
  // Several files (witnesses' notes of the same checkpoint) are merged:
  // the same text, every distinct signature line.
  note::Note merged;
  std::set<std::pair<std::string, uint32_t>> seen;
  const json list = files->is_string() ? json::array({*files}) : *files;
  for (size_t j = 0; j < list.size(); ++j) {
    const std::string where =
        files->is_string() ? at : absl::StrCat(at, "[", j, "]");
    if (!list[j].is_string() || list[j].get<std::string>().empty()) {
      return ChangeError(where, "must be a file path");
    }
    std::string file = list[j].get<std::string>();
    if (file.front() != '/') file = absl::StrCat(context.base_dir, "/", file);
    absl::StatusOr<std::string> text = Env::Default()->ReadFile(file);
    if (!text.ok()) {
      return ChangeError(where, std::string(text.status().message()));
    }
    absl::StatusOr<note::Note> n = note::ParseNote(*text);
    if (!n.ok()) {
      return ChangeError(
          where, absl::StrCat("not a signed note: ", n.status().message()));
    }
    if (j > 0 && n->text != merged.text) {
      return ChangeError(where, "is another checkpoint than the first file");
    }
    merged.text = n->text;
    for (note::Signature& sig : n->signatures) {
      if (seen.insert({sig.name, sig.key_id}).second) {
        merged.signatures.push_back(std::move(sig));
      }
    }
  }
  absl::StatusOr<note::Checkpoint> cp = note::ParseCheckpoint(merged.text);
  absl::StatusOr<std::string> text = note::FormatNote(merged);
  if (!cp.ok() || !text.ok()) {
    return ChangeError(
        at, absl::StrCat("not a checkpoint: ",
                         (cp.ok() ? text.status() : cp.status()).message()));
  }
  v1::Member& m = *d.mutable_members(i);
  const uint32_t generation = logcheck::GenerationOf(m) + 1;
  v1::AuditLogGeneration* g = m.mutable_audit_log();
  g->set_generation(generation);
  g->set_predecessor_origin(cp->origin);
  g->set_predecessor_size(cp->size);
  g->set_predecessor_root_hash(cp->root_hash);
  g->set_predecessor_checkpoint(*text);
  return absl::OkStatus();
}

absl::Status UpdateMember(v1::Directory& d, const json& change,
                          const std::string& path) {
  RETURN_IF_ERROR(
      Allowed(change, path, {"member", "display_name", "endpoint"}));
  if (!Has(change, "member")) return ChangeError(path + ".member", "missing");
  ASSIGN_OR_RETURN(int i, MemberIndex(d, change["member"], path + ".member"));
  v1::Member& m = *d.mutable_members(i);
  for (const char* field : {"display_name", "endpoint"}) {
    if (!Has(change, field)) continue;
    const json& v = change[field];
    if (!v.is_string() || v.get<std::string>().empty()) {
      return ChangeError(absl::StrCat(path, ".", field),
                         "must be a non-empty string");
    }
    if (std::string_view(field) == "endpoint") {
      m.set_endpoint(v.get<std::string>());
    } else {
      m.set_display_name(v.get<std::string>());
    }
  }
  return absl::OkStatus();
}

// The current policy as a spec "policy" object, with `change` laid over it.
json MergedPolicy(const v1::Policy& p, const json& change) {
  json merged = {
      {"governance_threshold", p.governance_threshold()},
      {"max_message_lifetime_s", p.max_message_lifetime_s()},
      {"max_clock_skew_s", p.max_clock_skew_s()},
      {"evaluations_per_peer_per_day", p.evaluations_per_peer_per_day()},
      {"peer_deadline_ms", p.peer_deadline_ms()},
      {"witness_threshold", p.witness_threshold()},
      {"max_index_tags", p.max_index_tags()},
      {"max_index_growth_per_day", p.max_index_growth_per_day()},
      {"resolves_per_peer_per_day", p.resolves_per_peer_per_day()}};
  // Fields a directory left at 0 (older versions) take the spec defaults.
  for (auto it = merged.begin(); it != merged.end();) {
    it = (*it == 0 && it.key() != "witness_threshold") ? merged.erase(it)
                                                       : std::next(it);
  }
  if (change.is_object()) {
    for (const auto& [key, value] : change.items()) merged[key] = value;
  }
  return merged;
}

// One change; `path` is "changes[i]".
absl::Status ApplyOne(v1::Directory& d, const json& change,
                      const std::string& path, const SpecContext& context) {
  if (!change.is_object() || change.size() != 1) {
    return ChangeError(
        path,
        "must be an object with one operation: add_member, "
        "remove, suspend, reactivate, replace_keys, add_ca, "
        "remove_ca, set_crls, set_standby_endpoints, update_member, "
        "new_audit_log or policy");
  }
  // References into `change` itself: items().begin() is a temporary, so a
  // binding to *change.items().begin() dangles (ASan: stack-use-after-scope).
  const std::string& op = change.begin().key();
  const json& arg = change.begin().value();
  const std::string at = absl::StrCat(path, ".", op);
  if (op == "add_member") {
    ASSIGN_OR_RETURN(v1::Member m, MemberFromSpec(arg, at, context));
    for (const v1::Member& other : d.members()) {
      if (other.code() == m.code()) {
        return ChangeError(at + ".code",
                           absl::StrCat(m.code(), " is a member already"));
      }
    }
    *d.add_members() = std::move(m);
    return absl::OkStatus();
  }
  if (op == "remove") {
    ASSIGN_OR_RETURN(int i, MemberIndex(d, arg, at));
    d.mutable_members()->erase(d.mutable_members()->begin() + i);
    return absl::OkStatus();
  }
  if (op == "suspend") {
    return SetStatus(d, arg, at, v1::MEMBER_STATUS_SUSPENDED);
  }
  if (op == "reactivate") {
    return SetStatus(d, arg, at, v1::MEMBER_STATUS_ACTIVE);
  }
  if (op == "replace_keys") return ReplaceKeys(d, arg, at, context);
  if (op == "add_ca") return AddCa(d, arg, at, context);
  if (op == "remove_ca") return RemoveCa(d, arg, at);
  if (op == "set_crls") return SetCrls(d, arg, at, context);
  if (op == "set_standby_endpoints") return SetStandbyEndpoints(d, arg, at);
  if (op == "update_member") return UpdateMember(d, arg, at);
  if (op == "new_audit_log") return NewAuditLog(d, arg, at, context);
  if (op == "policy") {
    if (!arg.is_object()) return ChangeError(at, "must be an object");
    json merged = MergedPolicy(d.policy(), arg);
    v1::Policy policy;
    absl::Status s =
        PolicyFromSpec(&merged, static_cast<size_t>(d.members_size()), policy);
    if (!s.ok()) return ChangeError(path, std::string(s.message()));
    *d.mutable_policy() = policy;
    return absl::OkStatus();
  }
  return ChangeError(path, absl::StrCat("unknown operation \"", op, "\""));
}

std::string Short(std::string_view bytes) {
  return HexEncode(bytes).substr(0, 16);
}

std::string StatusName(v1::MemberStatus s) {
  return s == v1::MEMBER_STATUS_ACTIVE      ? "active"
         : s == v1::MEMBER_STATUS_SUSPENDED ? "suspended"
                                            : "unspecified";
}

std::string NodeKeyText(const v1::NodeKey& k) {
  return absl::StrCat(
      HexEncode(directory::NodeKeyId(k.public_key())), " [",
      k.not_before_ms() == 0 ? "-" : FormatTimeMs(k.not_before_ms()), ", ",
      k.not_after_ms() == 0 ? "open" : FormatTimeMs(k.not_after_ms()),
      ") public key ", HexEncode(k.public_key()));
}

// A member's audit log predecessor as the diff names it: "none", or
// "<origin> at <size>, root <hex>" (checkpoint note bytes as a digest).
std::string PredecessorText(const v1::Member& m) {
  const v1::AuditLogGeneration& g = m.audit_log();
  if (g.predecessor_origin().empty() && g.predecessor_size() == 0 &&
      g.predecessor_root_hash().empty() && g.predecessor_checkpoint().empty()) {
    return "none";
  }
  return absl::StrCat(
      g.predecessor_origin(), " at ", g.predecessor_size(), ", root ",
      HexEncode(g.predecessor_root_hash()), ", checkpoint note sha256 ",
      HexEncode(crypto::Sha256(g.predecessor_checkpoint())).substr(0, 16));
}

// The diff lines of a member's audit log generation and its record, each
// starting with `who`.
void DiffAuditLog(const v1::Member& a, const v1::Member& b,
                  const std::string& who, std::vector<std::string>& out) {
  if (logcheck::GenerationOf(a) != logcheck::GenerationOf(b)) {
    const uint32_t g = logcheck::GenerationOf(b);
    auto p = logcheck::PredecessorOf(b);
    out.push_back(
        p.ok() ? absl::StrCat(who, "NEW AUDIT LOG: ",
                              logcheck::DescribeRecovery(b.code(), g, *p))
               : absl::StrCat(
                     who, "audit log generation: ", logcheck::GenerationOf(a),
                     " -> ", g, " (", p.status().message(), ")"));
  } else if (PredecessorText(a) != PredecessorText(b)) {
    // Refused by the successor rule, but shown: reviewers see what the
    // proposal tries to rewrite.
    out.push_back(absl::StrCat(
        who, "audit log generation ", logcheck::GenerationOf(b),
        ": its record changed (a generation's record never changes): ",
        PredecessorText(a), " -> ", PredecessorText(b)));
  }
}

// The diff lines of a member's node keys, CA certificates and CRLs: what
// was removed, then what was added.
void DiffKeysAndCertificates(const v1::Member& a, const v1::Member& b,
                             const std::string& who,
                             std::vector<std::string>& out) {
  std::set<std::string> old_keys, new_keys;
  for (const v1::NodeKey& k : a.node_keys()) old_keys.insert(NodeKeyText(k));
  for (const v1::NodeKey& k : b.node_keys()) new_keys.insert(NodeKeyText(k));
  for (const std::string& k : old_keys) {
    if (!new_keys.count(k)) out.push_back(who + "node key removed: " + k);
  }
  for (const std::string& k : new_keys) {
    if (!old_keys.count(k)) out.push_back(who + "node key added: " + k);
  }
  std::set<std::string> old_cas, new_cas;
  for (const std::string& p : a.ca_certificates_pem()) {
    old_cas.insert(PemFingerprint(p));
  }
  for (const std::string& p : b.ca_certificates_pem()) {
    new_cas.insert(PemFingerprint(p));
  }
  for (const std::string& f : old_cas) {
    if (!new_cas.count(f)) out.push_back(who + "CA removed: sha256 " + f);
  }
  for (const std::string& f : new_cas) {
    if (!old_cas.count(f)) out.push_back(who + "CA added: sha256 " + f);
  }
  const std::set<std::string> old_crls(a.crls_pem().begin(),
                                       a.crls_pem().end());
  const std::set<std::string> new_crls(b.crls_pem().begin(),
                                       b.crls_pem().end());
  const std::vector<std::string> cas(b.ca_certificates_pem().begin(),
                                     b.ca_certificates_pem().end());
  for (const std::string& pem : old_crls) {
    if (!new_crls.count(pem)) out.push_back(who + "CRL removed");
  }
  for (const std::string& pem : new_crls) {
    if (old_crls.count(pem)) continue;
    auto crl = crypto::ParseVerifiedCrl(pem, cas);
    out.push_back(
        !crl.ok() ? who + "CRL added (does not verify with its CAs)"
                  : absl::StrCat(who, "CRL added: ", crl->issuer, ", ",
                                 crl->revoked.size(), " revoked, thisUpdate ",
                                 FormatTimeMs(crl->this_update_s * 1000)));
  }
}

// "[a:1, b:2]", "none" for an empty list.
std::string StandbyText(const v1::Member& m) {
  if (m.standby_endpoints().empty()) return "none";
  return absl::StrCat("[", absl::StrJoin(m.standby_endpoints(), ", "), "]");
}

void DiffMember(const v1::Member& a, const v1::Member& b,
                std::vector<std::string>& out) {
  const std::string who = "~ " + b.code() + " ";
  if (a.display_name() != b.display_name()) {
    out.push_back(absl::StrCat(who, "display_name: \"", a.display_name(),
                               "\" -> \"", b.display_name(), "\""));
  }
  DiffAuditLog(a, b, who, out);
  if (a.endpoint() != b.endpoint()) {
    out.push_back(
        absl::StrCat(who, "endpoint: ", a.endpoint(), " -> ", b.endpoint()));
  }
  if (!std::equal(a.standby_endpoints().begin(), a.standby_endpoints().end(),
                  b.standby_endpoints().begin(), b.standby_endpoints().end())) {
    out.push_back(absl::StrCat(who, "standby endpoints: ", StandbyText(a),
                               " -> ", StandbyText(b)));
  }
  if (a.status() != b.status()) {
    out.push_back(absl::StrCat(who, "status: ", StatusName(a.status()), " -> ",
                               StatusName(b.status())));
  }
  if (a.governance_key() != b.governance_key()) {
    // Whole keys: reviewers compare them read out on a call.
    out.push_back(
        absl::StrCat(who, "governance key: ", HexEncode(a.governance_key()),
                     " -> ", HexEncode(b.governance_key())));
  }
  if (a.oprf_key().SerializeAsString() != b.oprf_key().SerializeAsString()) {
    out.push_back(absl::StrCat(
        who, "OPRF key: ", HexEncode(a.oprf_key().public_key()), " epoch ",
        a.oprf_key().epoch(), " -> ", HexEncode(b.oprf_key().public_key()),
        " epoch ", b.oprf_key().epoch()));
  }
  DiffKeysAndCertificates(a, b, who, out);
}

}  // namespace

absl::StatusOr<v1::Directory> ApplyChanges(const v1::Directory& current,
                                           const json& changes,
                                           const SpecContext& context) {
  RETURN_IF_ERROR(Allowed(changes, "(top level)", {"issued_at_ms", "changes"}));
  v1::Directory next = current;
  next.set_version(current.version() + 1);
  next.set_issued_at_ms(context.now_ms);
  if (Has(changes, "issued_at_ms")) {
    const json& at = changes["issued_at_ms"];
    if (!at.is_number_unsigned()) {
      return ChangeError("issued_at_ms", "must be ms since the Unix epoch");
    }
    next.set_issued_at_ms(at.get<int64_t>());
  }
  if (!Has(changes, "changes") || !changes["changes"].is_array() ||
      changes["changes"].empty()) {
    return ChangeError("changes", "must be a non-empty array of changes");
  }
  const json& list = changes["changes"];
  for (size_t i = 0; i < list.size(); ++i) {
    RETURN_IF_ERROR(
        ApplyOne(next, list[i], absl::StrCat("changes[", i, "]"), context));
  }
  RETURN_IF_ERROR(CheckDistinctMemberKeys(next));
  RETURN_IF_ERROR(directory::ValidateStructure(next));
  RETURN_IF_ERROR(CheckSuccessor(current, next));
  return next;
}

std::vector<std::string> DescribeDiff(const v1::Directory& before,
                                      const v1::Directory& after) {
  std::vector<std::string> out;
  out.push_back(absl::StrCat("version ", before.version(), " -> ",
                             after.version(), " of ", after.federation(),
                             ", issued ", FormatTimeMs(after.issued_at_ms())));
  // Policy: every uint32 field, by reflection, so new fields show too.
  const auto* desc = v1::Policy::descriptor();
  const auto* refl = v1::Policy::GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT32) {
      continue;
    }
    uint32_t a = refl->GetUInt32(before.policy(), f);
    uint32_t b = refl->GetUInt32(after.policy(), f);
    if (a != b) {
      out.push_back(absl::StrCat("~ policy.", f->name(), ": ", a, " -> ", b));
    }
  }
  std::map<std::string, const v1::Member*> old_members;
  for (const v1::Member& m : before.members()) old_members[m.code()] = &m;
  for (const v1::Member& m : after.members()) {
    auto it = old_members.find(m.code());
    if (it == old_members.end()) {
      out.push_back(absl::StrCat(
          "+ member ", m.code(), " (", m.display_name(), ") at ", m.endpoint(),
          ", ", StatusName(m.status()), ", governance key ",
          Short(m.governance_key()), "…, OPRF epoch ", m.oprf_key().epoch(),
          ", ", m.node_keys_size(), " node key(s), ",
          m.ca_certificates_pem_size(), " CA certificate(s)"));
      // Each key and CA in full on its own line, to compare on a call.
      const std::string who = "+ " + m.code() + " ";
      out.push_back(who + "governance key " + HexEncode(m.governance_key()));
      out.push_back(who + "OPRF key " + HexEncode(m.oprf_key().public_key()));
      for (const v1::NodeKey& k : m.node_keys()) {
        out.push_back(who + "node key " + NodeKeyText(k));
      }
      for (const std::string& pem : m.ca_certificates_pem()) {
        out.push_back(who + "CA sha256 " + PemFingerprint(pem));
      }
      if (!m.standby_endpoints().empty()) {
        out.push_back(who + "standby endpoints " + StandbyText(m));
      }
      continue;
    }
    DiffMember(*it->second, m, out);
    old_members.erase(it);
  }
  for (const auto& [code, m] : old_members) {
    out.push_back(
        absl::StrCat("- member ", code, " (", m->display_name(), ") removed"));
  }
  if (out.size() == 1) out.push_back("(no change)");
  return out;
}

}  // namespace cbx::admin
