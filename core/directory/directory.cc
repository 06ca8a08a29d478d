#include "core/directory/directory.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/sha256.h"
#include "core/util/status_macros.h"

namespace cbx::directory {
namespace {

constexpr std::string_view kNodeKeyLabel = "cbx/v1/node-key";
constexpr std::string_view kDirectoryLabel = "cbx/v1/directory";
constexpr std::string_view kMemberUriPrefix = "spiffe://cbx/member/";
constexpr std::string_view kPemCertificateBegin = "-----BEGIN CERTIFICATE-----";

// Domain-separated input: label || 0x00 || data.
Bytes Labeled(std::string_view label, std::string_view data) {
  Bytes out;
  out.reserve(label.size() + 1 + data.size());
  out.append(label);
  out.push_back('\0');
  out.append(data);
  return out;
}

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("directory: ", absl::string_view(what.data(), what.size())));
}

// "member 2 (AL)" for error messages; the code is printed only if well
// formed, so that messages never carry arbitrary bytes.
std::string MemberLabel(int index, const v1::Member& m) {
  if (IsMemberCode(m.code())) {
    return absl::StrCat("member ", index, " (", m.code(), ")");
  }
  return absl::StrCat("member ", index);
}

absl::Status ValidatePolicy(const v1::Directory& d) {
  if (!d.has_policy()) return Malformed("policy is missing");
  const v1::Policy& p = d.policy();
  const auto n = static_cast<uint32_t>(d.members_size());
  if (p.governance_threshold() < 1 || p.governance_threshold() > n) {
    return Malformed(
        absl::StrCat("policy.governance_threshold ", p.governance_threshold(),
                     " must be between 1 and the ", n, " members"));
  }
  if (p.max_message_lifetime_s() == 0) {
    return Malformed("policy.max_message_lifetime_s must be > 0");
  }
  if (p.max_clock_skew_s() == 0) {
    return Malformed("policy.max_clock_skew_s must be > 0");
  }
  if (p.evaluations_per_peer_per_day() == 0) {
    return Malformed("policy.evaluations_per_peer_per_day must be > 0");
  }
  if (p.peer_deadline_ms() == 0) {
    return Malformed("policy.peer_deadline_ms must be > 0");
  }
  if (p.witness_threshold() > n) {
    return Malformed(absl::StrCat("policy.witness_threshold ",
                                  p.witness_threshold(),
                                  " exceeds the number of members ", n));
  }
  return absl::OkStatus();
}

// Rule 6.9: the other nodes of a member's active/standby pair.
absl::Status ValidateStandbyEndpoints(const std::string& who,
                                      const v1::Member& m) {
  if (m.standby_endpoints_size() > kMaxStandbyEndpoints) {
    return Malformed(absl::StrCat(who, ": ", m.standby_endpoints_size(),
                                  " standby endpoints (at most ",
                                  kMaxStandbyEndpoints, ")"));
  }
  std::set<std::string> seen{m.endpoint()};
  for (int i = 0; i < m.standby_endpoints_size(); ++i) {
    const std::string& ep = m.standby_endpoints(i);
    const std::string problem = HostPortProblem(ep);
    if (!problem.empty()) {
      return Malformed(
          absl::StrCat(who, ": standby endpoint ", i, " ", problem));
    }
    if (ep == m.endpoint()) {
      return Malformed(absl::StrCat(who, ": standby endpoint ", i, " \"", ep,
                                    "\" is the member's endpoint"));
    }
    if (!seen.insert(ep).second) {
      return Malformed(absl::StrCat(who, ": standby endpoint ", i, " \"", ep,
                                    "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMember(int index, const v1::Member& m,
                            std::set<Bytes>& key_ids,
                            std::set<Bytes>& governance_keys) {
  const std::string who = MemberLabel(index, m);
  if (!IsMemberCode(m.code())) {
    return Malformed(
        absl::StrCat(who, ": code must be two upper-case letters A-Z"));
  }
  if (m.endpoint().empty()) {
    return Malformed(absl::StrCat(who, ": endpoint is empty"));
  }
  if (m.ca_certificates_pem_size() == 0) {
    return Malformed(absl::StrCat(who, ": no CA certificate"));
  }
  for (int i = 0; i < m.ca_certificates_pem_size(); ++i) {
    if (!std::string_view(m.ca_certificates_pem(i))
             .starts_with(kPemCertificateBegin)) {
      return Malformed(
          absl::StrCat(who, ": CA certificate ", i,
                       " does not begin with \"-----BEGIN CERTIFICATE-----\""));
    }
  }
  if (m.node_keys_size() == 0) {
    return Malformed(absl::StrCat(who, ": no node key"));
  }
  for (int i = 0; i < m.node_keys_size(); ++i) {
    const v1::NodeKey& k = m.node_keys(i);
    const std::string key = absl::StrCat(who, ": node key ", i);
    if (!crypto::Ed25519PublicKey::FromBytes(k.public_key()).ok()) {
      return Malformed(
          absl::StrCat(key, ": public key is not a 32-byte Ed25519 key"));
    }
    if (k.not_before_ms() < 0) {
      return Malformed(absl::StrCat(key, ": not_before_ms is negative"));
    }
    if (k.not_after_ms() != 0 && k.not_after_ms() <= k.not_before_ms()) {
      return Malformed(
          absl::StrCat(key, ": not_after_ms must be 0 or after not_before_ms"));
    }
    if (!key_ids.insert(NodeKeyId(k.public_key())).second) {
      return Malformed(absl::StrCat(key, ": key id ",
                                    HexEncode(NodeKeyId(k.public_key())),
                                    " is already used in this directory"));
    }
  }
  if (!m.has_oprf_key() ||
      m.oprf_key().public_key().size() != kOprfPublicKeySize) {
    return Malformed(absl::StrCat(who, ": OPRF public key must be 33 bytes"));
  }
  const char prefix = m.oprf_key().public_key()[0];
  if (prefix != 0x02 && prefix != 0x03) {
    return Malformed(absl::StrCat(
        who, ": OPRF public key is not a compressed point (0x02/0x03)"));
  }
  if (m.status() != v1::MEMBER_STATUS_ACTIVE &&
      m.status() != v1::MEMBER_STATUS_SUSPENDED) {
    return Malformed(absl::StrCat(who, ": status must be ACTIVE or SUSPENDED"));
  }
  if (!crypto::Ed25519PublicKey::FromBytes(m.governance_key()).ok()) {
    return Malformed(
        absl::StrCat(who, ": governance key is not a 32-byte Ed25519 key"));
  }
  if (!governance_keys.insert(m.governance_key()).second) {
    return Malformed(absl::StrCat(
        who, ": governance key is also another member's governance key"));
  }
  return ValidateStandbyEndpoints(who, m);
}

}  // namespace

Bytes NodeKeyId(std::string_view ed25519_public_key) {
  return crypto::Sha256(Labeled(kNodeKeyLabel, ed25519_public_key))
      .substr(0, kNodeKeyIdSize);
}

Bytes DirectorySigningInput(std::string_view directory_bytes) {
  return Labeled(kDirectoryLabel, directory_bytes);
}

std::string MemberUri(std::string_view member_code) {
  return absl::StrCat(
      absl::string_view(kMemberUriPrefix.data(), kMemberUriPrefix.size()),
      absl::string_view(member_code.data(), member_code.size()));
}

bool IsMemberCode(std::string_view code) {
  return code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' &&
         code[1] >= 'A' && code[1] <= 'Z';
}

std::string HostPortProblem(std::string_view endpoint) {
  const std::string ep(endpoint);
  // Printed only when it is safe to: a bad endpoint may hold any bytes.
  auto quoted = [&] {
    for (char c : ep) {
      if (static_cast<unsigned char>(c) < 0x20 ||
          static_cast<unsigned char>(c) >= 0x7f) {
        return std::string("(not printable)");
      }
    }
    return absl::StrCat("\"", ep, "\"");
  };
  const size_t colon = ep.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::StrCat(quoted(), " is not host:port");
  }
  const std::string host = ep.substr(0, colon);
  const std::string port = ep.substr(colon + 1);
  if (host.front() == '[' ? host.back() != ']' || host.size() < 3
                          : host.find(':') != std::string::npos) {
    return absl::StrCat(quoted(),
                        " is not host:port (an IPv6 address is [addr]:port)");
  }
  for (char c : host) {
    if (c == '/' || static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return absl::StrCat(quoted(), " has a bad host");
    }
  }
  const bool digits = !port.empty() && port.size() <= 5 &&
                      std::all_of(port.begin(), port.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return absl::StrCat(quoted(), " has no valid port (1-65535)");
  }
  return "";
}

v1::SignedDirectory SignDirectory(
    const v1::Directory& d,
    const std::vector<std::pair<std::string, const crypto::Ed25519PrivateKey*>>&
        signers) {
  v1::SignedDirectory out;
  out.set_directory(d.SerializeAsString());
  const Bytes input = DirectorySigningInput(out.directory());
  for (const auto& [member, key] : signers) {
    v1::GovernanceSignature* sig = out.add_signatures();
    sig->set_member(member);
    sig->set_signature(key->Sign(input));
  }
  return out;
}

absl::Status AddGovernanceSignature(v1::SignedDirectory& signed_dir,
                                    const std::string& member,
                                    const crypto::Ed25519PrivateKey& key) {
  return AddGovernanceSignature(signed_dir, member, crypto::Ed25519Signer(key));
}

absl::Status AddGovernanceSignature(v1::SignedDirectory& signed_dir,
                                    const std::string& member,
                                    const crypto::Signer& signer) {
  if (!IsMemberCode(member)) {
    return absl::InvalidArgumentError(
        "governance signature: member must be two upper-case letters");
  }
  for (const v1::GovernanceSignature& s : signed_dir.signatures()) {
    if (s.member() == member) {
      return absl::AlreadyExistsError(absl::StrCat(
          "governance signature: ", member, " has already signed"));
    }
  }
  absl::StatusOr<Bytes> signature =
      signer.Sign(DirectorySigningInput(signed_dir.directory()));
  if (!signature.ok()) return signature.status();
  v1::GovernanceSignature* sig = signed_dir.add_signatures();
  sig->set_member(member);
  sig->set_signature(*std::move(signature));
  return absl::OkStatus();
}

absl::Status ValidateStructure(const v1::Directory& d) {
  if (d.federation().empty()) return Malformed("federation is empty");
  if (d.version() < 1) return Malformed("version must be >= 1");
  if (d.issued_at_ms() <= 0) return Malformed("issued_at_ms must be > 0");
  if (d.members_size() == 0) return Malformed("no members");
  RETURN_IF_ERROR(ValidatePolicy(d));
  std::set<std::string> codes;
  std::set<Bytes> key_ids;
  std::set<Bytes> governance_keys;
  for (int i = 0; i < d.members_size(); ++i) {
    const v1::Member& m = d.members(i);
    RETURN_IF_ERROR(ValidateMember(i, m, key_ids, governance_keys));
    if (!codes.insert(m.code()).second) {
      return Malformed(
          absl::StrCat("member code ", m.code(), " appears twice"));
    }
  }
  return absl::OkStatus();
}

Directory::Directory(v1::SignedDirectory signed_dir, v1::Directory proto)
    : signed_(std::move(signed_dir)), proto_(std::move(proto)) {}

absl::Status Directory::Index() {
  for (const v1::Member& m : proto_.members()) {
    members_.emplace(m.code(), &m);
    ASSIGN_OR_RETURN(auto gov,
                     crypto::Ed25519PublicKey::FromBytes(m.governance_key()));
    governance_keys_.emplace(m.code(), std::move(gov));
    for (const v1::NodeKey& k : m.node_keys()) {
      ASSIGN_OR_RETURN(auto pub,
                       crypto::Ed25519PublicKey::FromBytes(k.public_key()));
      node_keys_.emplace(NodeKeyId(k.public_key()),
                         NodeKeyEntry{&m, &k, std::move(pub)});
    }
  }
  return absl::OkStatus();
}

absl::Status Directory::CheckGovernanceSignatures(
    const v1::SignedDirectory& signed_dir) const {
  const Bytes input = DirectorySigningInput(signed_dir.directory());
  const uint32_t threshold = policy().governance_threshold();
  std::set<std::string, std::less<>> considered;
  uint32_t valid = 0;
  for (const v1::GovernanceSignature& sig : signed_dir.signatures()) {
    auto key = governance_keys_.find(sig.member());
    // Entries naming no member of this version are ignored, and so is every
    // entry after the first one naming a given member: each member counts at
    // most once, and verification work is bounded by the member count.
    if (key == governance_keys_.end()) continue;
    if (!considered.insert(sig.member()).second) continue;
    if (key->second.Verify(input, sig.signature())) {
      if (++valid >= threshold) return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(
      absl::StrCat("directory: ", valid,
                   " valid governance signature(s) of distinct "
                   "members of version ",
                   version(), ", need ", threshold));
}

absl::StatusOr<std::shared_ptr<const Directory>> Directory::FromGenesis(
    const v1::SignedDirectory& genesis) {
  v1::Directory d;
  if (!d.ParseFromString(genesis.directory())) {
    return Malformed("genesis bytes do not parse as cbx.v1.Directory");
  }
  if (d.version() != 1) {
    return Malformed(
        absl::StrCat("a genesis has version 1, not ", d.version()));
  }
  RETURN_IF_ERROR(ValidateStructure(d));
  std::shared_ptr<Directory> dir(new Directory(genesis, std::move(d)));
  RETURN_IF_ERROR(dir->Index());
  RETURN_IF_ERROR(dir->CheckGovernanceSignatures(genesis));
  return std::shared_ptr<const Directory>(std::move(dir));
}

absl::StatusOr<std::shared_ptr<const Directory>> Directory::Adopt(
    const v1::SignedDirectory& next) const {
  v1::Directory d;
  if (!d.ParseFromString(next.directory())) {
    return Malformed("directory bytes do not parse as cbx.v1.Directory");
  }
  if (d.version() <= version()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "directory version ", d.version(), " is not newer than version ",
        version(), ": directory versions never go back"));
  }
  if (d.version() - version() != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "directory version ", d.version(), " does not follow version ",
        version(), " (gap: adopt the versions in between first)"));
  }
  // Authenticate before interpreting the content: only the version above was
  // read from bytes that a threshold of members may not have signed.
  RETURN_IF_ERROR(CheckGovernanceSignatures(next));
  RETURN_IF_ERROR(ValidateStructure(d));
  if (d.federation() != proto_.federation()) {
    return Malformed("the federation name cannot change");
  }
  if (d.issued_at_ms() < proto_.issued_at_ms()) {
    return Malformed("issued_at_ms is earlier than the previous version's");
  }
  RETURN_IF_ERROR(CheckOprfEpochs(d));
  std::shared_ptr<Directory> dir(new Directory(next, std::move(d)));
  RETURN_IF_ERROR(dir->Index());
  return std::shared_ptr<const Directory>(std::move(dir));
}

absl::Status Directory::CheckOprfEpochs(const v1::Directory& next) const {
  for (const v1::Member& m : next.members()) {
    const v1::Member* before = FindMember(m.code());
    if (before == nullptr) continue;  // a new member starts at any epoch
    const v1::OprfKey& was = before->oprf_key();
    const v1::OprfKey& now = m.oprf_key();
    if (now.public_key() == was.public_key() && now.epoch() != was.epoch()) {
      return Malformed(absl::StrCat("member ", m.code(),
                                    ": OPRF epoch changed without a new key"));
    }
    if (now.public_key() != was.public_key() &&
        static_cast<uint64_t>(now.epoch()) !=
            static_cast<uint64_t>(was.epoch()) + 1) {
      return Malformed(absl::StrCat("member ", m.code(),
                                    ": a new OPRF key must have epoch ",
                                    static_cast<uint64_t>(was.epoch()) + 1));
    }
  }
  return absl::OkStatus();
}

const v1::Member* Directory::FindMember(std::string_view code) const {
  auto it = members_.find(code);
  return it == members_.end() ? nullptr : it->second;
}

const v1::Member* Directory::FindMemberByUri(std::string_view uri_san) const {
  if (!uri_san.starts_with(kMemberUriPrefix)) return nullptr;
  std::string_view code = uri_san.substr(kMemberUriPrefix.size());
  if (!IsMemberCode(code)) return nullptr;
  return FindMember(code);
}

const v1::Member* Directory::FindMemberByKeyId(std::string_view key_id) const {
  auto it = node_keys_.find(key_id);
  return it == node_keys_.end() ? nullptr : it->second.member;
}

absl::StatusOr<crypto::Ed25519PublicKey> Directory::NodeKeyAt(
    std::string_view member, std::string_view key_id, int64_t at_ms) const {
  const v1::Member* m = FindMember(member);
  if (m == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrCat("unknown member \"",
                     absl::CHexEscape(absl::string_view(
                         member.data(), std::min<size_t>(member.size(), 16))),
                     "\" in directory version ", version()));
  }
  auto it = node_keys_.find(key_id);
  if (it == node_keys_.end() || it->second.member != m) {
    return absl::UnauthenticatedError(absl::StrCat(
        "unknown key id ",
        HexEncode(key_id.substr(0, 16)),  // bounded: key_id is untrusted
        " for member ", m->code(), " in directory version ", version()));
  }
  const v1::NodeKey& k = *it->second.key;
  if (at_ms < k.not_before_ms() ||
      (k.not_after_ms() != 0 && at_ms >= k.not_after_ms())) {
    return absl::UnauthenticatedError(absl::StrCat(
        "key ", HexEncode(key_id), " of member ", m->code(),
        " is not valid at ", at_ms, " (valid from ", k.not_before_ms(),
        k.not_after_ms() == 0 ? std::string(", open-ended")
                              : absl::StrCat(" to ", k.not_after_ms()),
        ")"));
  }
  return it->second.public_key;
}

bool Directory::IsActive(std::string_view member) const {
  const v1::Member* m = FindMember(member);
  return m != nullptr && m->status() == v1::MEMBER_STATUS_ACTIVE;
}

std::vector<std::string> Directory::ActiveMemberCodes() const {
  std::vector<std::string> out;
  for (const v1::Member& m : proto_.members()) {
    if (m.status() == v1::MEMBER_STATUS_ACTIVE) out.push_back(m.code());
  }
  return out;
}

}  // namespace cbx::directory
