#include "core/note/verifier.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/note/cosignature.h"
#include "core/note/text_rules.h"
#include "core/util/status_macros.h"

namespace cbx::note {
namespace {

// Splits "<name>+<id>+<key>" at its first two '+'. The name cannot hold a
// '+'; the base64 key may.
bool SplitKey(std::string_view s, std::string_view* name, std::string_view* id,
              std::string_view* key) {
  const size_t plus1 = s.find('+');
  if (plus1 == std::string_view::npos) return false;
  const size_t plus2 = s.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) return false;
  *name = s.substr(0, plus1);
  *id = s.substr(plus1 + 1, plus2 - plus1 - 1);
  *key = s.substr(plus2 + 1);
  return true;
}

}  // namespace

Verifier::Verifier(std::string name, SignatureType type,
                   crypto::Ed25519PublicKey key)
    : name_(std::move(name)),
      type_(type),
      key_(std::move(key)),
      key_id_(KeyId(name_, type_, key_.bytes())) {}

absl::StatusOr<Verifier> Verifier::Parse(std::string_view vkey) {
  std::string_view name, id_hex, key64;
  if (!SplitKey(vkey, &name, &id_hex, &key64)) {
    return absl::InvalidArgumentError(
        "verifier key is not <name>+<key ID>+<key>");
  }
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError("verifier key has an invalid name");
  }
  ASSIGN_OR_RETURN(const uint32_t id, ParseKeyIdHex(id_hex));
  auto raw = Base64Decode(key64);
  if (!raw.ok() || raw->empty()) {
    return absl::InvalidArgumentError(
        "verifier key material is not canonical base64");
  }
  const uint8_t type = static_cast<uint8_t>((*raw)[0]);
  if (type != static_cast<uint8_t>(SignatureType::kEd25519) &&
      type != static_cast<uint8_t>(SignatureType::kCosignatureV1)) {
    return absl::UnimplementedError(
        absl::StrCat("unsupported signature type ", type));
  }
  ASSIGN_OR_RETURN(auto key,
                   crypto::Ed25519PublicKey::FromBytes(raw->substr(1)));
  Verifier verifier(std::string(name), static_cast<SignatureType>(type),
                    std::move(key));
  if (verifier.key_id() != id) {
    return absl::InvalidArgumentError(
        "verifier key ID does not match its name and key");
  }
  return verifier;
}

absl::StatusOr<Verifier> Verifier::Create(std::string_view name,
                                          SignatureType type,
                                          const crypto::Ed25519PublicKey& key) {
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid key name \"", std::string(name), "\""));
  }
  return Verifier(std::string(name), type, key);
}

std::string Verifier::Encode() const {
  Bytes material(1, static_cast<char>(type_));
  material += key_.bytes();
  return absl::StrFormat("%s+%08x+%s", name_, key_id_, Base64Encode(material));
}

absl::StatusOr<VerifiedSignature> Verifier::Verify(
    std::string_view text, const Signature& signature) const {
  if (signature.name != name_ || signature.key_id != key_id_) {
    return absl::InvalidArgumentError(
        "signature is not from this verifier's key");
  }
  VerifiedSignature verified{name_, key_id_, type_, std::nullopt};
  const auto fail = [&] {
    return absl::UnauthenticatedError(
        absl::StrFormat("invalid signature from key %s+%08x", name_, key_id_));
  };
  switch (type_) {
    case SignatureType::kEd25519:
      if (!key_.Verify(text, signature.signature)) return fail();
      return verified;
    case SignatureType::kCosignatureV1: {
      if (signature.signature.size() !=
          kCosignatureTimestampSize + crypto::kEd25519SignatureSize) {
        return fail();
      }
      const uint64_t timestamp = ReadUint64BE(signature.signature);
      if (timestamp > kMaxCosignatureTimestamp) return fail();
      const std::string_view sig = std::string_view(signature.signature)
                                       .substr(kCosignatureTimestampSize);
      if (!key_.Verify(CosignatureMessage(timestamp, text), sig)) {
        return fail();
      }
      verified.timestamp = timestamp;
      return verified;
    }
  }
  return fail();
}

}  // namespace cbx::note
