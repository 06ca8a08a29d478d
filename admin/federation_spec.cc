#include "admin/federation_spec.h"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/file_io.h"
#include "admin/key_file.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/x509.h"
#include "core/directory/directory.h"
#include "core/directory/policy.h"
#include "core/util/bytes.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"

namespace cbx::admin {
namespace {

using nlohmann::json;

// Debian's Abseil has its own string_view type.
absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

absl::Status FieldError(const std::string& path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", AV(key));
}

std::string Index(const std::string& path, size_t i) {
  return absl::StrCat(path, "[", i, "]");
}

std::string TypeName(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

// Refuses keys outside `allowed`: a misspelt optional field would otherwise
// be silently ignored and its default used.
absl::Status CheckObject(const json& value, const std::string& path,
                         std::initializer_list<std::string_view> allowed) {
  if (!value.is_object()) {
    return FieldError(
        path.empty() ? "(top level)" : path,
        absl::StrCat("must be an object, found ", TypeName(value)));
  }
  for (const auto& [key, unused] : value.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return FieldError(Join(path, key),
                        absl::StrCat("unknown field (expected one of: ",
                                     absl::StrJoin(names, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

const json* Find(const json& object, std::string_view key) {
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

absl::StatusOr<std::optional<std::string>> OptionalString(
    const json& object, const std::string& path, std::string_view key) {
  const json* value = Find(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    return FieldError(Join(path, key), absl::StrCat("must be a string, found ",
                                                    TypeName(*value)));
  }
  std::string s = value->get<std::string>();
  if (s.empty()) return FieldError(Join(path, key), "must not be empty");
  return s;
}

absl::StatusOr<std::string> RequiredString(const json& object,
                                           const std::string& path,
                                           std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> s,
                   OptionalString(object, path, key));
  if (!s.has_value()) return FieldError(Join(path, key), "missing");
  return *std::move(s);
}

absl::StatusOr<std::optional<uint64_t>> OptionalUint(const json& object,
                                                     const std::string& path,
                                                     std::string_view key,
                                                     uint64_t max) {
  const json* value = Find(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer() ||
      (value->is_number_integer() && !value->is_number_unsigned() &&
       value->get<int64_t>() < 0)) {
    return FieldError(
        Join(path, key),
        absl::StrCat("must be a non-negative integer, found ",
                     value->is_number_integer() ? "a negative integer"
                                                : TypeName(*value)));
  }
  uint64_t n = value->get<uint64_t>();
  if (n > max) {
    return FieldError(Join(path, key),
                      absl::StrCat(n, " is larger than the maximum ", max));
  }
  return n;
}

// A file named by the spec, relative to the spec's folder unless absolute.
std::string Resolve(const SpecContext& context, const std::string& file) {
  if (!file.empty() && file.front() == '/') return file;
  return absl::StrCat(context.base_dir, "/", file);
}

// "host:port", "[v6]:port"; port 1..65535.
absl::Status CheckEndpoint(const std::string& path, const std::string& ep) {
  size_t colon = ep.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return FieldError(path, absl::StrCat("\"", ep, "\" is not host:port"));
  }
  std::string host = ep.substr(0, colon);
  std::string port = ep.substr(colon + 1);
  if (host.front() == '[' ? host.back() != ']' || host.size() < 3
                          : host.find(':') != std::string::npos) {
    return FieldError(path, absl::StrCat("\"", ep,
                                         "\" is not host:port (write an IPv6 "
                                         "address as [addr]:port)"));
  }
  for (char c : host) {
    if (c == ' ' || c == '/' || static_cast<unsigned char>(c) < 0x21) {
      return FieldError(path, absl::StrCat("\"", ep, "\" has a bad host"));
    }
  }
  bool digits = !port.empty() && port.size() <= 5 &&
                std::all_of(port.begin(), port.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return FieldError(path,
                      absl::StrCat("\"", ep, "\" has no valid port (1-65535)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> DecodeHexField(const std::string& path,
                                     const std::string& hex, size_t size) {
  absl::StatusOr<Bytes> raw = HexDecode(hex);
  if (!raw.ok()) return FieldError(path, raw.status().message());
  if (raw->size() != size) {
    return FieldError(
        path, absl::StrCat("must be ", size, " bytes (", 2 * size,
                           " hex digits), found ", raw->size(), " bytes"));
  }
  return *std::move(raw);
}

// The public key given either as hex in `public_field` or derived from the
// key file named in `file_field`; exactly one must be present. `public_size`
// is the length of the public key in bytes.
absl::StatusOr<Bytes> PublicKeyFromHexOrFile(const json& object,
                                             const std::string& path,
                                             std::string_view public_field,
                                             std::string_view file_field,
                                             KeyKind kind, size_t public_size,
                                             const SpecContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> hex,
                   OptionalString(object, path, public_field));
  ASSIGN_OR_RETURN(std::optional<std::string> file,
                   OptionalString(object, path, file_field));
  if (hex.has_value() && file.has_value()) {
    return FieldError(Join(path, public_field),
                      absl::StrCat("give either ", AV(public_field), " or ",
                                   AV(file_field), ", not both"));
  }
  if (hex.has_value()) {
    std::string field = Join(path, public_field);
    ASSIGN_OR_RETURN(Bytes raw, DecodeHexField(field, *hex, public_size));
    if (kind == KeyKind::kOprf) {
      if (raw[0] != 0x02 && raw[0] != 0x03) {
        return FieldError(field,
                          "not a compressed P-256 point (must start with 02 "
                          "or 03)");
      }
    } else if (!crypto::Ed25519PublicKey::FromBytes(raw).ok()) {
      return FieldError(field, "not a valid Ed25519 public key");
    }
    return raw;
  }
  if (file.has_value()) {
    absl::StatusOr<LoadedKey> key = LoadKeyFile(kind, Resolve(context, *file));
    if (!key.ok())
      return FieldError(Join(path, file_field), key.status().message());
    return key->key.public_key;
  }
  return FieldError(
      Join(path, public_field),
      absl::StrCat("missing (give ", AV(public_field), " as hex or ",
                   AV(file_field), " as the path of the key file)"));
}

absl::StatusOr<v1::NodeKey> NodeKeyWindow(const json& object,
                                          const std::string& path,
                                          std::string_view not_before_field,
                                          std::string_view not_after_field,
                                          Bytes public_key) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  ASSIGN_OR_RETURN(std::optional<uint64_t> not_before,
                   OptionalUint(object, path, not_before_field, kMax));
  ASSIGN_OR_RETURN(std::optional<uint64_t> not_after,
                   OptionalUint(object, path, not_after_field, kMax));
  v1::NodeKey key;
  key.set_public_key(std::move(public_key));
  key.set_not_before_ms(static_cast<int64_t>(not_before.value_or(0)));
  key.set_not_after_ms(static_cast<int64_t>(not_after.value_or(0)));
  if (key.not_after_ms() != 0 && key.not_after_ms() <= key.not_before_ms()) {
    return FieldError(Join(path, not_after_field),
                      absl::StrCat("must be after ", AV(not_before_field),
                                   " (or 0 for open-ended)"));
  }
  return key;
}

absl::Status ParseNodeKeys(const json& m, const std::string& path,
                           const SpecContext& context, v1::Member& member) {
  const json* list = Find(m, "node_keys");
  bool shorthand = Find(m, "node_signing_key") != nullptr ||
                   Find(m, "node_signing_key_public") != nullptr ||
                   Find(m, "node_key_not_before_ms") != nullptr ||
                   Find(m, "node_key_not_after_ms") != nullptr;
  if (list == nullptr) {
    ASSIGN_OR_RETURN(
        Bytes pub, PublicKeyFromHexOrFile(
                       m, path, "node_signing_key_public", "node_signing_key",
                       KeyKind::kNode, crypto::kEd25519PublicKeySize, context));
    ASSIGN_OR_RETURN(*member.add_node_keys(),
                     NodeKeyWindow(m, path, "node_key_not_before_ms",
                                   "node_key_not_after_ms", std::move(pub)));
    return absl::OkStatus();
  }
  std::string list_path = Join(path, "node_keys");
  if (shorthand) {
    return FieldError(list_path,
                      "give either node_keys or node_signing_key[_public] "
                      "with node_key_not_before_ms/node_key_not_after_ms, "
                      "not both");
  }
  if (!list->is_array() || list->empty()) {
    return FieldError(list_path, "must be a non-empty array");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    std::string entry_path = Index(list_path, i);
    RETURN_IF_ERROR(
        CheckObject(entry, entry_path,
                    {"public_key", "key", "not_before_ms", "not_after_ms"}));
    ASSIGN_OR_RETURN(Bytes pub,
                     PublicKeyFromHexOrFile(
                         entry, entry_path, "public_key", "key", KeyKind::kNode,
                         crypto::kEd25519PublicKeySize, context));
    ASSIGN_OR_RETURN(*member.add_node_keys(),
                     NodeKeyWindow(entry, entry_path, "not_before_ms",
                                   "not_after_ms", std::move(pub)));
  }
  return absl::OkStatus();
}

absl::Status ParseCaCertificates(const json& m, const std::string& path,
                                 const SpecContext& context,
                                 v1::Member& member) {
  const json* one = Find(m, "ca_certificate");
  const json* many = Find(m, "ca_certificates");
  if (one != nullptr && many != nullptr) {
    return FieldError(
        Join(path, "ca_certificate"),
        "give either ca_certificate or ca_certificates, not both");
  }
  std::vector<std::pair<std::string, std::string>> files;  // field path, file
  if (one != nullptr) {
    ASSIGN_OR_RETURN(std::string file,
                     RequiredString(m, path, "ca_certificate"));
    files.emplace_back(Join(path, "ca_certificate"), file);
  } else if (many != nullptr) {
    std::string list_path = Join(path, "ca_certificates");
    if (!many->is_array() || many->empty()) {
      return FieldError(list_path, "must be a non-empty array of file paths");
    }
    for (size_t i = 0; i < many->size(); ++i) {
      const json& entry = (*many)[i];
      if (!entry.is_string() || entry.get<std::string>().empty()) {
        return FieldError(Index(list_path, i), "must be a file path");
      }
      files.emplace_back(Index(list_path, i), entry.get<std::string>());
    }
  } else {
    return FieldError(Join(path, "ca_certificate"),
                      "missing (the path of the national CA certificate, PEM)");
  }
  for (const auto& [field, file] : files) {
    absl::StatusOr<std::string> pem =
        Env::Default()->ReadFile(Resolve(context, file));
    if (!pem.ok()) return FieldError(field, pem.status().message());
    absl::StatusOr<std::vector<std::string>> certs = SplitPemCertificates(*pem);
    if (!certs.ok()) {
      return FieldError(field,
                        absl::StrCat(file, ": ", certs.status().message()));
    }
    for (std::string& cert : *certs) {
      member.add_ca_certificates_pem(std::move(cert));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Member> ParseMember(const json& m, const std::string& path,
                                       const SpecContext& context) {
  RETURN_IF_ERROR(CheckObject(
      m, path,
      {"code", "display_name", "endpoint", "ca_certificate", "ca_certificates",
       "node_signing_key", "node_signing_key_public", "node_key_not_before_ms",
       "node_key_not_after_ms", "node_keys", "oprf_key", "oprf_key_public",
       "oprf_epoch", "governance_key", "governance_key_public", "status",
       "standby_endpoints"}));
  v1::Member member;
  ASSIGN_OR_RETURN(std::string code, RequiredString(m, path, "code"));
  if (code.size() != 2 || !std::all_of(code.begin(), code.end(), [](char c) {
        return c >= 'A' && c <= 'Z';
      })) {
    return FieldError(Join(path, "code"),
                      absl::StrCat("\"", code,
                                   "\" is not an ISO 3166-1 alpha-2 code (two "
                                   "upper-case letters, XK for Kosovo)"));
  }
  member.set_code(code);
  ASSIGN_OR_RETURN(*member.mutable_display_name(),
                   RequiredString(m, path, "display_name"));
  ASSIGN_OR_RETURN(std::string endpoint, RequiredString(m, path, "endpoint"));
  RETURN_IF_ERROR(CheckEndpoint(Join(path, "endpoint"), endpoint));
  member.set_endpoint(endpoint);
  if (m.contains("standby_endpoints")) {
    RETURN_IF_ERROR(StandbyEndpointsFromSpec(
        m["standby_endpoints"], Join(path, "standby_endpoints"), member));
  }
  RETURN_IF_ERROR(ParseCaCertificates(m, path, context, member));
  RETURN_IF_ERROR(ParseNodeKeys(m, path, context, member));

  ASSIGN_OR_RETURN(
      Bytes oprf_public,
      PublicKeyFromHexOrFile(m, path, "oprf_key_public", "oprf_key",
                             KeyKind::kOprf, 33, context));
  member.mutable_oprf_key()->set_public_key(std::move(oprf_public));
  ASSIGN_OR_RETURN(std::optional<uint64_t> epoch,
                   OptionalUint(m, path, "oprf_epoch",
                                std::numeric_limits<uint32_t>::max()));
  if (epoch.has_value() && *epoch == 0) {
    return FieldError(Join(path, "oprf_epoch"),
                      "must be at least 1 (epochs count from 1)");
  }
  member.mutable_oprf_key()->set_epoch(
      static_cast<uint32_t>(epoch.value_or(kDefaultOprfEpoch)));

  ASSIGN_OR_RETURN(
      *member.mutable_governance_key(),
      PublicKeyFromHexOrFile(m, path, "governance_key_public", "governance_key",
                             KeyKind::kGovernance,
                             crypto::kEd25519PublicKeySize, context));

  ASSIGN_OR_RETURN(std::optional<std::string> status,
                   OptionalString(m, path, "status"));
  if (!status.has_value() || *status == "active") {
    member.set_status(v1::MEMBER_STATUS_ACTIVE);
  } else if (*status == "suspended") {
    member.set_status(v1::MEMBER_STATUS_SUSPENDED);
  } else {
    return FieldError(Join(path, "status"),
                      absl::StrCat("\"", *status,
                                   "\" is not a status (active or suspended)"));
  }
  return member;
}

// Keys that must not be shared between members: a governance key listed
// twice would let one holder count twice towards the threshold.
absl::Status CheckDistinctKeys(const v1::Directory& d) {
  std::map<std::string, size_t> governance, node, oprf;
  for (int i = 0; i < d.members_size(); ++i) {
    const v1::Member& m = d.members(i);
    std::string path = Index("members", static_cast<size_t>(i));
    auto [g, g_new] = governance.emplace(m.governance_key(), i);
    if (!g_new) {
      return FieldError(Join(path, "governance_key"),
                        absl::StrCat("same key as members[", g->second, "]"));
    }
    auto [o, o_new] = oprf.emplace(m.oprf_key().public_key(), i);
    if (!o_new) {
      return FieldError(Join(path, "oprf_key"),
                        absl::StrCat("same key as members[", o->second, "]"));
    }
    for (const v1::NodeKey& k : m.node_keys()) {
      auto [n, n_new] = node.emplace(k.public_key(), i);
      if (!n_new) {
        return FieldError(
            Join(path, "node_signing_key"),
            absl::StrCat("a node key is listed twice (also in members[",
                         n->second, "])"));
      }
    }
  }
  return absl::OkStatus();
}

// The policy's fields as the spec gives them: each optional, a whole
// number in uint32 range, refused when 0 where 0 means nothing.
class PolicyFields {
 public:
  explicit PolicyFields(const json& obj) : obj_(obj) {}

  // `key`'s value, or `fallback` when absent; with `positive`, 0 is
  // refused ("must be at least 1").
  absl::StatusOr<uint32_t> Get(std::string_view key, uint32_t fallback,
                               bool positive) const {
    ASSIGN_OR_RETURN(
        std::optional<uint64_t> v,
        OptionalUint(obj_, kPath, key, std::numeric_limits<uint32_t>::max()));
    if (positive && v.has_value() && *v == 0) {
      return FieldError(Join(kPath, key), "must be at least 1");
    }
    return static_cast<uint32_t>(v.value_or(fallback));
  }
  // A Unix time in ms (uint64), 0 when absent.
  absl::StatusOr<uint64_t> Time(std::string_view key) const {
    ASSIGN_OR_RETURN(
        std::optional<uint64_t> v,
        OptionalUint(obj_, kPath, key, std::numeric_limits<uint64_t>::max()));
    return v.value_or(0);
  }

  static constexpr char kPath[] = "policy";

 private:
  const json& obj_;
};

// Governance, envelopes and witnessing (spec/directory.md): written
// explicitly, with the defaults for the member count.
absl::Status ParseProtocolPolicy(const PolicyFields& f, size_t members,
                                 v1::Policy& policy) {
  const std::string path = PolicyFields::kPath;
  ASSIGN_OR_RETURN(
      uint32_t k,
      f.Get("governance_threshold", DefaultGovernanceThreshold(members), true));
  if (k > members) {
    return FieldError(Join(path, "governance_threshold"),
                      absl::StrCat(k, " is more than the ", members,
                                   " members who could sign"));
  }
  policy.set_governance_threshold(k);
  ASSIGN_OR_RETURN(uint32_t lifetime, f.Get("max_message_lifetime_s",
                                            kDefaultMaxMessageLifetimeS, true));
  policy.set_max_message_lifetime_s(lifetime);
  ASSIGN_OR_RETURN(uint32_t skew,
                   f.Get("max_clock_skew_s", kDefaultMaxClockSkewS, true));
  policy.set_max_clock_skew_s(skew);
  ASSIGN_OR_RETURN(uint32_t evaluations,
                   f.Get("evaluations_per_peer_per_day",
                         kDefaultEvaluationsPerPeerPerDay, true));
  policy.set_evaluations_per_peer_per_day(evaluations);
  ASSIGN_OR_RETURN(uint32_t deadline,
                   f.Get("peer_deadline_ms", kDefaultPeerDeadlineMs, true));
  policy.set_peer_deadline_ms(deadline);
  // Only the other n-1 members can cosign a node's checkpoint.
  uint32_t peers = static_cast<uint32_t>(members - 1);
  ASSIGN_OR_RETURN(uint32_t witnesses,
                   f.Get("witness_threshold",
                         std::min(kDefaultWitnessThreshold, peers), false));
  if (witnesses > peers) {
    return FieldError(Join(path, "witness_threshold"),
                      absl::StrCat(witnesses, " is more than the ", peers,
                                   " peers who could cosign a checkpoint"));
  }
  policy.set_witness_threshold(witnesses);
  return absl::OkStatus();
}

// The caps on a member (spec/threats.md). Written explicitly, so that the
// directory says what applies; 0 (the wire's "default") is refused here.
absl::Status ParseCapsPolicy(const PolicyFields& f, v1::Policy& policy) {
  ASSIGN_OR_RETURN(
      uint32_t max_tags,
      f.Get("max_index_tags", directory::kDefaultMaxIndexTags, true));
  policy.set_max_index_tags(max_tags);
  ASSIGN_OR_RETURN(uint32_t growth,
                   f.Get("max_index_growth_per_day",
                         directory::kDefaultMaxIndexGrowthPerDay, true));
  policy.set_max_index_growth_per_day(growth);
  ASSIGN_OR_RETURN(uint32_t resolves,
                   f.Get("resolves_per_peer_per_day",
                         directory::kDefaultResolvesPerPeerPerDay, true));
  policy.set_resolves_per_peer_per_day(resolves);
  return absl::OkStatus();
}

// Cooperation, watches, withdrawal, the report and the acting person
// (spec/cooperation.md §3, §5, §7; Policy fields 10-19): written only when
// given, so that a directory without them keeps its bytes; 0 on the wire
// is the default.
absl::Status ParseCooperationPolicy(const PolicyFields& f, v1::Policy& policy) {
  ASSIGN_OR_RETURN(uint32_t information,
                   f.Get("information_response_s", 0, true));
  policy.set_information_response_s(information);
  ASSIGN_OR_RETURN(uint32_t receipt, f.Get("preservation_receipt_s", 0, true));
  policy.set_preservation_receipt_s(receipt);
  ASSIGN_OR_RETURN(uint32_t preservation,
                   f.Get("preservation_response_s", 0, true));
  policy.set_preservation_response_s(preservation);
  ASSIGN_OR_RETURN(uint32_t jit, f.Get("jit_response_s", 0, true));
  policy.set_jit_response_s(jit);
  ASSIGN_OR_RETURN(uint32_t requests,
                   f.Get("cooperation_requests_per_peer_per_day", 0, true));
  policy.set_cooperation_requests_per_peer_per_day(requests);
  ASSIGN_OR_RETURN(uint32_t watch_max, f.Get("watch_max_s", 0, true));
  policy.set_watch_max_s(watch_max);
  // 0 is a policy here, and the default: withdrawn references are deleted
  // at once.
  ASSIGN_OR_RETURN(uint32_t kept,
                   f.Get("withdrawn_reference_retention_s", 0, false));
  policy.set_withdrawn_reference_retention_s(kept);
  ASSIGN_OR_RETURN(uint32_t retry, f.Get("withdrawal_retry_s", 0, true));
  policy.set_withdrawal_retry_s(retry);
  ASSIGN_OR_RETURN(uint32_t min_cell, f.Get("report_min_cell", 0, true));
  policy.set_report_min_cell(min_cell);
  // Unix ms from which office certificates must name the person; absent or
  // 0: never.
  ASSIGN_OR_RETURN(uint64_t persons,
                   f.Time("person_certificates_required_from_ms"));
  policy.set_person_certificates_required_from_ms(persons);
  return absl::OkStatus();
}

absl::Status ParsePolicy(const json* p, size_t members, v1::Policy& policy) {
  static const json kEmpty = json::object();
  const json& obj = p == nullptr ? kEmpty : *p;
  RETURN_IF_ERROR(CheckObject(
      obj, PolicyFields::kPath,
      {"governance_threshold", "max_message_lifetime_s", "max_clock_skew_s",
       "evaluations_per_peer_per_day", "peer_deadline_ms", "witness_threshold",
       "max_index_tags", "max_index_growth_per_day",
       "resolves_per_peer_per_day", "information_response_s",
       "preservation_receipt_s", "preservation_response_s", "jit_response_s",
       "cooperation_requests_per_peer_per_day", "watch_max_s",
       "withdrawn_reference_retention_s", "withdrawal_retry_s",
       "report_min_cell", "person_certificates_required_from_ms"}));
  const PolicyFields fields(obj);
  RETURN_IF_ERROR(ParseProtocolPolicy(fields, members, policy));
  RETURN_IF_ERROR(ParseCapsPolicy(fields, policy));
  return ParseCooperationPolicy(fields, policy);
}

}  // namespace

absl::Status StandbyEndpointsFromSpec(const json& list, const std::string& path,
                                      v1::Member& member) {
  if (!list.is_array()) {
    return FieldError(path,
                      "must be an array of host:port strings (empty: none)");
  }
  if (list.size() > static_cast<size_t>(directory::kMaxStandbyEndpoints)) {
    return FieldError(
        path, absl::StrCat("lists ", list.size(), " endpoints; at most ",
                           directory::kMaxStandbyEndpoints));
  }
  std::set<std::string> seen;
  member.clear_standby_endpoints();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = absl::StrCat(path, "[", i, "]");
    if (!list[i].is_string()) return FieldError(at, "must be host:port");
    const std::string ep = list[i].get<std::string>();
    const std::string problem = directory::HostPortProblem(ep);
    if (!problem.empty()) return FieldError(at, problem);
    if (ep == member.endpoint()) {
      return FieldError(at, absl::StrCat("\"", ep, "\" is ", member.code(),
                                         "'s endpoint already"));
    }
    if (!seen.insert(ep).second) {
      return FieldError(at, absl::StrCat("\"", ep, "\" is listed twice"));
    }
    member.add_standby_endpoints(ep);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Member> MemberFromSpec(const json& m,
                                          const std::string& path,
                                          const SpecContext& context) {
  return ParseMember(m, path, context);
}

absl::Status NodeKeysFromSpec(const json& m, const std::string& path,
                              const SpecContext& context, v1::Member& member) {
  return ParseNodeKeys(m, path, context, member);
}

absl::Status CaCertificatesFromSpec(const json& m, const std::string& path,
                                    const SpecContext& context,
                                    v1::Member& member) {
  return ParseCaCertificates(m, path, context, member);
}

absl::StatusOr<Bytes> PublicKeyFromSpec(const json& object,
                                        const std::string& path,
                                        std::string_view hex_field,
                                        std::string_view file_field,
                                        KeyKind kind, size_t public_size,
                                        const SpecContext& context) {
  return PublicKeyFromHexOrFile(object, path, hex_field, file_field, kind,
                                public_size, context);
}

absl::Status PolicyFromSpec(const json* policy, size_t members,
                            v1::Policy& out) {
  return ParsePolicy(policy, members, out);
}

absl::Status CheckDistinctMemberKeys(const v1::Directory& d) {
  return CheckDistinctKeys(d);
}

uint32_t DefaultGovernanceThreshold(size_t members) {
  return static_cast<uint32_t>(members / 2 + 1);
}

absl::StatusOr<std::vector<std::string>> SplitPemCertificates(
    std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "holds a private key; give the CA certificate only (and keep the "
        "CA's key away from this machine)");
  }
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t begin = pem.find(kBegin, pos);
    if (begin == std::string_view::npos) break;
    size_t end = pem.find(kEnd, begin);
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError("a PEM certificate has no END line");
    }
    end += kEnd.size();
    std::string block(pem.substr(begin, end - begin));
    block += "\n";
    absl::StatusOr<std::vector<std::string>> parsed =
        crypto::CertificateUriSans(block);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate ", out.size() + 1,
                       " does not parse: ", parsed.status().message()));
    }
    out.push_back(std::move(block));
    pos = end;
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("no PEM certificate found");
  }
  return out;
}

absl::StatusOr<v1::Directory> DirectoryFromSpec(const json& spec,
                                                const SpecContext& context) {
  RETURN_IF_ERROR(CheckObject(
      spec, "",
      {"federation", "version", "issued_at_ms", "policy", "members"}));
  v1::Directory d;
  ASSIGN_OR_RETURN(*d.mutable_federation(),
                   RequiredString(spec, "", "federation"));
  ASSIGN_OR_RETURN(
      std::optional<uint64_t> version,
      OptionalUint(spec, "", "version", std::numeric_limits<int64_t>::max()));
  if (version.has_value() && *version == 0) {
    return FieldError("version", "must be at least 1 (1 is the genesis)");
  }
  d.set_version(version.value_or(context.default_version));
  ASSIGN_OR_RETURN(std::optional<uint64_t> issued_at,
                   OptionalUint(spec, "", "issued_at_ms",
                                std::numeric_limits<int64_t>::max()));
  d.set_issued_at_ms(issued_at.has_value() ? static_cast<int64_t>(*issued_at)
                                           : context.now_ms);

  const json* members = Find(spec, "members");
  if (members == nullptr) return FieldError("members", "missing");
  if (!members->is_array() || members->empty()) {
    return FieldError("members", "must be a non-empty array");
  }
  std::map<std::string, size_t> codes;
  for (size_t i = 0; i < members->size(); ++i) {
    std::string path = Index("members", i);
    ASSIGN_OR_RETURN(v1::Member member,
                     ParseMember((*members)[i], path, context));
    auto [it, inserted] = codes.emplace(member.code(), i);
    if (!inserted) {
      return FieldError(
          Join(path, "code"),
          absl::StrCat("\"", member.code(), "\" is already used by members[",
                       it->second, "]"));
    }
    *d.add_members() = std::move(member);
  }
  RETURN_IF_ERROR(CheckDistinctKeys(d));
  RETURN_IF_ERROR(
      ParsePolicy(Find(spec, "policy"), members->size(), *d.mutable_policy()));
  return d;
}

absl::StatusOr<v1::Directory> DirectoryFromSpecText(
    std::string_view text, const SpecContext& context) {
  json spec;
  // nlohmann reports where a syntax error is only through its exception; it
  // does not leave this function.
  try {
    spec = json::parse(text);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", e.what()));
  }
  return DirectoryFromSpec(spec, context);
}

absl::StatusOr<v1::Directory> DirectoryFromSpecFile(const std::string& path,
                                                    SpecContext context) {
  ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(path));
  size_t slash = path.rfind('/');
  context.base_dir = slash == std::string::npos ? "."
                     : slash == 0               ? "/"
                                                : path.substr(0, slash);
  absl::StatusOr<v1::Directory> d = DirectoryFromSpecText(text, context);
  if (!d.ok()) {
    return absl::Status(d.status().code(),
                        absl::StrCat(path, ": ", d.status().message()));
  }
  return d;
}

}  // namespace cbx::admin
