#include "admin/directory_view.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"
#include "core/directory/policy.h"
#include "core/logcheck/log_generation.h"
#include "core/util/bytes.h"
#include "core/util/status_macros.h"

namespace cbx::admin {
namespace {

using nlohmann::json;

const char* StatusName(v1::MemberStatus status) {
  switch (status) {
    case v1::MEMBER_STATUS_ACTIVE:
      return "active";
    case v1::MEMBER_STATUS_SUSPENDED:
      return "suspended";
    default:
      return "unspecified";
  }
}

std::string WindowText(int64_t not_before_ms, int64_t not_after_ms) {
  if (not_before_ms == 0 && not_after_ms == 0) return "no time limit";
  if (not_after_ms == 0) return "valid from " + FormatTimeMs(not_before_ms);
  if (not_before_ms == 0) return "valid until " + FormatTimeMs(not_after_ms);
  return absl::StrCat("valid from ", FormatTimeMs(not_before_ms), " until ",
                      FormatTimeMs(not_after_ms));
}

json SignaturesJson(const std::vector<SignatureCheck>& checks) {
  json out = json::array();
  for (const SignatureCheck& c : checks) {
    out.push_back({{"member", c.member}, {"status", OutcomeName(c.outcome)}});
  }
  return out;
}

}  // namespace

// SHA-256 of the DER inside a PEM certificate, as `openssl x509 -fingerprint
// -sha256` shows it (without colons): what operators compare by phone.
std::string PemFingerprint(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t begin = pem.find(kBegin);
  size_t end = pem.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos ||
      end < begin) {
    return "not a PEM certificate";
  }
  std::string body;
  for (char c :
       pem.substr(begin + kBegin.size(), end - begin - kBegin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body.push_back(c);
  }
  absl::StatusOr<Bytes> der = Base64Decode(body);
  if (!der.ok()) return "not a PEM certificate";
  return HexEncode(crypto::Sha256(*der));
}

std::string FormatTimeMs(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

absl::StatusOr<json> DirectoryJson(const v1::SignedDirectory& signed_dir,
                                   const v1::Directory* signing_version) {
  ASSIGN_OR_RETURN(v1::Directory d, InnerDirectory(signed_dir));
  json out;
  out["federation"] = d.federation();
  out["version"] = d.version();
  out["issued_at_ms"] = d.issued_at_ms();
  out["issued_at"] = FormatTimeMs(d.issued_at_ms());
  const v1::Policy& p = d.policy();
  out["policy"] = {
      {"governance_threshold", p.governance_threshold()},
      {"max_message_lifetime_s", p.max_message_lifetime_s()},
      {"max_clock_skew_s", p.max_clock_skew_s()},
      {"evaluations_per_peer_per_day", p.evaluations_per_peer_per_day()},
      {"peer_deadline_ms", p.peer_deadline_ms()},
      {"witness_threshold", p.witness_threshold()},
      // The caps as they apply (0 on the wire: the default).
      {"max_index_tags", directory::MaxIndexTags(p)},
      {"max_index_growth_per_day", directory::MaxIndexGrowthPerDay(p)},
      {"resolves_per_peer_per_day", directory::ResolvesPerPeerPerDay(p)},
  };
  json members = json::array();
  for (const v1::Member& m : d.members()) {
    json member;
    member["code"] = m.code();
    member["display_name"] = m.display_name();
    member["endpoint"] = m.endpoint();
    // Only when set, as the field itself (spec/directory.md §2).
    for (const std::string& ep : m.standby_endpoints()) {
      member["standby_endpoints"].push_back(ep);
    }
    member["status"] = StatusName(m.status());
    json cas = json::array();
    for (const std::string& pem : m.ca_certificates_pem()) {
      cas.push_back({{"sha256", PemFingerprint(pem)}});
    }
    member["ca_certificates"] = cas;
    json keys = json::array();
    for (const v1::NodeKey& k : m.node_keys()) {
      keys.push_back(
          {{"key_id", HexEncode(directory::NodeKeyId(k.public_key()))},
           {"public_key", HexEncode(k.public_key())},
           {"not_before_ms", k.not_before_ms()},
           {"not_after_ms", k.not_after_ms()}});
    }
    member["node_keys"] = keys;
    member["oprf_key"] = {{"public_key", HexEncode(m.oprf_key().public_key())},
                          {"epoch", m.oprf_key().epoch()}};
    member["governance_key"] = HexEncode(m.governance_key());
    // The audit log generation (spec/audit-log.md §12): 1 and today's
    // origin unless a recovery announced a later one.
    const uint32_t generation = logcheck::GenerationOf(m);
    json log = {{"generation", generation},
                {"origin", logcheck::LogOrigin(m.code(), generation)}};
    if (generation > 1) {
      log["predecessor"] = {
          {"origin", m.audit_log().predecessor_origin()},
          {"size", m.audit_log().predecessor_size()},
          {"root_hash", HexEncode(m.audit_log().predecessor_root_hash())}};
    }
    member["audit_log"] = log;
    members.push_back(std::move(member));
  }
  out["members"] = members;

  const v1::Directory* keys = signing_version;
  if (keys == nullptr && d.version() == 1) keys = &d;
  if (keys != nullptr) {
    std::vector<SignatureCheck> checks = CheckSignatures(signed_dir, *keys);
    out["signatures"] = SignaturesJson(checks);
    out["signatures_checked_against_version"] = keys->version();
    out["valid_signatures"] = CountValid(checks);
    out["signatures_needed"] = keys->policy().governance_threshold();
  } else {
    json sigs = json::array();
    for (const v1::GovernanceSignature& s : signed_dir.signatures()) {
      sigs.push_back({{"member", s.member()}, {"status", "unchecked"}});
    }
    out["signatures"] = sigs;
  }
  return out;
}

namespace {

// One member's lines of DirectoryText.
std::string MemberText(const json& m) {
  std::string out;
  absl::StrAppend(&out, "  ", m["code"].get<std::string>(), "  ",
                  m["display_name"].get<std::string>(), "  [",
                  m["status"].get<std::string>(), "]\n");
  absl::StrAppend(&out, "      endpoint        ",
                  m["endpoint"].get<std::string>(), "\n");
  if (m.contains("standby_endpoints")) {
    for (const json& ep : m["standby_endpoints"]) {
      absl::StrAppend(&out, "      standby         ", ep.get<std::string>(),
                      "\n");
    }
  }
  for (const json& ca : m["ca_certificates"]) {
    absl::StrAppend(&out, "      CA sha256       ",
                    ca["sha256"].get<std::string>(), "\n");
  }
  for (const json& k : m["node_keys"]) {
    absl::StrAppend(&out, "      node key        id ",
                    k["key_id"].get<std::string>(), ", ",
                    WindowText(k["not_before_ms"].get<int64_t>(),
                               k["not_after_ms"].get<int64_t>()),
                    "\n");
    // The whole key, not only its id: reviewers compare it read out.
    absl::StrAppend(&out, "                      public key ",
                    k["public_key"].get<std::string>(), "\n");
  }
  absl::StrAppend(&out, "      OPRF key        epoch ",
                  m["oprf_key"]["epoch"].get<uint32_t>(), ", ",
                  m["oprf_key"]["public_key"].get<std::string>(), "\n");
  absl::StrAppend(&out, "      governance key  ",
                  m["governance_key"].get<std::string>(), "\n");
  const json& log = m["audit_log"];
  absl::StrAppend(&out, "      audit log       generation ",
                  log["generation"].get<uint32_t>(), ", origin ",
                  log["origin"].get<std::string>(), "\n");
  if (log.contains("predecessor")) {
    const json& p = log["predecessor"];
    absl::StrAppend(&out, "                      follows ",
                    p["origin"].get<std::string>(),
                    " at its witnessed checkpoint ", p["size"].get<uint64_t>(),
                    ", root ", p["root_hash"].get<std::string>(), "\n");
  }
  return out;
}

}  // namespace

std::string DirectoryText(const json& s) {
  std::string out;
  absl::StrAppend(&out, "federation ", s["federation"].get<std::string>(),
                  ", version ", s["version"].get<uint64_t>(), ", issued ",
                  s["issued_at"].get<std::string>(), "\n");
  if (s.contains("file_sha256")) {
    absl::StrAppend(&out, "file sha256 ", s["file_sha256"].get<std::string>(),
                    "\n");
  }
  const json& p = s["policy"];
  absl::StrAppend(
      &out, "policy: governance threshold ",
      p["governance_threshold"].get<uint32_t>(), " of ", s["members"].size(),
      ", message lifetime ", p["max_message_lifetime_s"].get<uint32_t>(),
      " s, clock skew ", p["max_clock_skew_s"].get<uint32_t>(), " s, ",
      p["evaluations_per_peer_per_day"].get<uint32_t>(),
      " evaluations/peer/day, peer deadline ",
      p["peer_deadline_ms"].get<uint32_t>(), " ms, witness threshold ",
      p["witness_threshold"].get<uint32_t>(), "\n");
  absl::StrAppend(&out, "caps: index ", p["max_index_tags"].get<uint32_t>(),
                  " tags, growth ",
                  p["max_index_growth_per_day"].get<uint32_t>(), " tags/day, ",
                  p["resolves_per_peer_per_day"].get<uint32_t>(),
                  " resolves/peer/day\n");
  absl::StrAppend(&out, "members (", s["members"].size(), "):\n");
  for (const json& m : s["members"]) out += MemberText(m);
  const json& sigs = s["signatures"];
  if (s.contains("valid_signatures")) {
    absl::StrAppend(&out, "signatures: ", s["valid_signatures"].get<size_t>(),
                    " valid of ", s["signatures_needed"].get<uint32_t>(),
                    " needed (checked against version ",
                    s["signatures_checked_against_version"].get<uint64_t>(),
                    ")\n");
  } else {
    absl::StrAppend(&out, "signatures: ", sigs.size(),
                    ", unchecked (an update's signatures are checked against "
                    "the previous version: pass --previous)\n");
  }
  for (const json& sig : sigs) {
    absl::StrAppend(&out, "  ", sig["member"].get<std::string>(), "  ",
                    sig["status"].get<std::string>(), "\n");
  }
  if (s.contains("changes")) {
    absl::StrAppend(&out, "changes from the previous version:\n");
    for (const json& line : s["changes"]) {
      absl::StrAppend(&out, "  ", line.get<std::string>(), "\n");
    }
  }
  return out;
}

json ChainJson(const ChainReport& report) {
  json out;
  out["ok"] = report.status.ok();
  if (!report.status.ok()) {
    out["error"] = std::string(report.status.message());
  }
  json versions = json::array();
  for (const VersionReport& v : report.versions) {
    versions.push_back({{"file", v.source},
                        {"file_sha256", v.file_sha256},
                        {"version", v.version},
                        {"federation", v.federation},
                        {"issued_at_ms", v.issued_at_ms},
                        {"issued_at", FormatTimeMs(v.issued_at_ms)},
                        {"signatures_needed", v.threshold},
                        {"valid_signatures", CountValid(v.signatures)},
                        {"signatures", SignaturesJson(v.signatures)},
                        {"adopted", v.adopted}});
  }
  out["versions"] = versions;
  return out;
}

std::string ChainText(const ChainReport& report) {
  std::string out;
  for (const VersionReport& v : report.versions) {
    std::vector<std::string> valid, other;
    for (const SignatureCheck& c : v.signatures) {
      if (c.outcome == SignatureCheck::Outcome::kValid) {
        valid.push_back(c.member);
      } else {
        other.push_back(
            absl::StrCat(c.member, " (", OutcomeName(c.outcome), ")"));
      }
    }
    absl::StrAppend(&out, v.adopted ? "OK    " : "FAIL  ", v.source,
                    ": version ", v.version, " of ", v.federation, ", issued ",
                    FormatTimeMs(v.issued_at_ms), "; ", valid.size(), " of ",
                    v.threshold,
                    " signatures needed: ", absl::StrJoin(valid, " "));
    if (!other.empty()) {
      absl::StrAppend(&out, "; not counted: ", absl::StrJoin(other, ", "));
    }
    absl::StrAppend(&out, "\n");
    if (!v.file_sha256.empty()) {
      absl::StrAppend(&out, "      file sha256 ", v.file_sha256, "\n");
    }
  }
  if (report.status.ok()) {
    absl::StrAppend(&out, "chain verified: current version ",
                    report.versions.back().version, "\n");
  } else {
    absl::StrAppend(&out, "verification failed: ", report.status.message(),
                    "\n");
  }
  return out;
}

json KeyJson(const KeyMaterial& key, const std::string& file) {
  json out = {{"kind", std::string(KeyKindName(key.kind))},
              {"file", file},
              {"public_key", HexEncode(key.public_key)}};
  if (key.key_id.has_value()) out["key_id"] = HexEncode(*key.key_id);
  return out;
}

std::string KeyText(const KeyMaterial& key) {
  return HexEncode(key.public_key) + "\n";
}

}  // namespace cbx::admin
