#include "core/logcheck/log_keys.h"

#include <cstdio>
#include <utility>

#include "core/crypto/ed25519.h"

namespace cbx::logcheck {

std::string LogOrigin(std::string_view member) {
  return "cbx/" + std::string(member) + "/audit";
}

std::string LogOrigin(std::string_view member, uint32_t generation) {
  if (generation <= 1) return LogOrigin(member);
  return LogOrigin(member) + "/" + std::to_string(generation);
}

uint32_t GenerationOf(const v1::Member& m) {
  return m.has_audit_log() && m.audit_log().generation() > 1
             ? m.audit_log().generation()
             : 1;
}

std::string WitnessName(std::string_view member) {
  return "cbx/" + std::string(member) + "/witness";
}

std::string KeyIdHex(uint32_t key_id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", key_id);
  return buf;
}

namespace {

// The node keys of `m` as note verifiers named `name` of `type`.
absl::StatusOr<std::vector<note::Verifier>> NodeKeyVerifiers(
    const v1::Member& m, const std::string& name, note::SignatureType type) {
  std::vector<note::Verifier> out;
  for (const v1::NodeKey& nk : m.node_keys()) {
    auto pk = crypto::Ed25519PublicKey::FromBytes(nk.public_key());
    if (!pk.ok()) {
      return absl::InvalidArgumentError("a node key of " + m.code() +
                                        " is not an Ed25519 key");
    }
    auto v = note::Verifier::Create(name, type, *pk);
    if (!v.ok()) return v.status();
    out.push_back(*std::move(v));
  }
  return out;
}

}  // namespace

absl::StatusOr<LogKeys> KeysOfLog(const directory::Directory& dir,
                                  std::string_view member,
                                  uint32_t generation) {
  return KeysOfLog(dir.proto(), member, generation);
}

absl::StatusOr<LogKeys> KeysOfLog(const v1::Directory& dir,
                                  std::string_view member,
                                  uint32_t generation) {
  const v1::Member* self = nullptr;
  for (const v1::Member& m : dir.members()) {
    if (m.code() == member) self = &m;
  }
  if (self == nullptr) {
    return absl::InvalidArgumentError(
        "the log's member '" + std::string(member) +
        "' is not in directory version " + std::to_string(dir.version()));
  }
  LogKeys keys;
  keys.member = std::string(member);
  keys.generation = generation != 0 ? generation : GenerationOf(*self);
  keys.origin = LogOrigin(member, keys.generation);
  keys.directory_version = dir.version();
  keys.threshold = dir.policy().witness_threshold();
  keys.max_clock_skew_s = dir.policy().max_clock_skew_s();
  auto log_keys =
      NodeKeyVerifiers(*self, keys.origin, note::SignatureType::kEd25519);
  if (!log_keys.ok()) return log_keys.status();
  keys.log_keys = *std::move(log_keys);
  for (const v1::Member& m : dir.members()) {
    keys.members.push_back(m.code());
    if (m.code() == member) continue;
    auto witness_keys = NodeKeyVerifiers(m, WitnessName(m.code()),
                                         note::SignatureType::kCosignatureV1);
    if (!witness_keys.ok()) return witness_keys.status();
    for (note::Verifier& v : *witness_keys) {
      keys.witness_keys.push_back(WitnessKey{m.code(), std::move(v)});
    }
  }
  return keys;
}

}  // namespace cbx::logcheck
