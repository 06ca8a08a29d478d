#include "core/note/signer.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"

namespace cbx::note {

absl::StatusOr<NoteSigner> NoteSigner::Create(std::string_view name,
                                              crypto::Ed25519PrivateKey key) {
  return Create(name, std::make_shared<crypto::Ed25519Signer>(std::move(key)));
}

absl::StatusOr<NoteSigner> NoteSigner::Create(
    std::string_view name, std::shared_ptr<const crypto::Signer> signer) {
  ASSIGN_OR_RETURN(
      Verifier verifier,
      Verifier::Create(name, SignatureType::kEd25519, signer->public_key()));
  return NoteSigner(std::move(signer), std::move(verifier));
}

absl::StatusOr<NoteSigner> NoteSigner::FromGoPrivateKey(std::string_view skey) {
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (!skey.starts_with(kPrefix)) {
    return absl::InvalidArgumentError(
        "private key does not start with PRIVATE+KEY+");
  }
  skey.remove_prefix(kPrefix.size());
  // What remains has the shape of a verifier key: name+id+base64(alg||seed).
  // (The name holds no '+'; the base64 key may.)
  const size_t plus1 = skey.find('+');
  const size_t plus2 =
      plus1 == std::string_view::npos ? plus1 : skey.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "private key is not PRIVATE+KEY+<name>+<key ID>+<key>");
  }
  const std::string_view name = skey.substr(0, plus1);
  const std::string_view id_hex = skey.substr(plus1 + 1, plus2 - plus1 - 1);
  auto material = Base64Decode(skey.substr(plus2 + 1));
  if (!material.ok() || material->empty()) {
    return absl::InvalidArgumentError("private key is not canonical base64");
  }
  if ((*material)[0] != static_cast<char>(SignatureType::kEd25519)) {
    return absl::UnimplementedError("private key algorithm is not Ed25519");
  }
  ASSIGN_OR_RETURN(auto key,
                   crypto::Ed25519PrivateKey::FromSeed(material->substr(1)));
  ASSIGN_OR_RETURN(const uint32_t id, ParseKeyIdHex(id_hex));
  ASSIGN_OR_RETURN(NoteSigner signer, Create(name, std::move(key)));
  if (id != signer.key_id()) {
    return absl::InvalidArgumentError(
        "private key ID does not match its name and key");
  }
  return signer;
}

std::string NoteSigner::EncodeGoPrivateKey() const {
  const auto* in_memory =
      dynamic_cast<const crypto::Ed25519Signer*>(signer_.get());
  if (in_memory == nullptr) return "";
  Bytes material(1, static_cast<char>(SignatureType::kEd25519));
  material += in_memory->key().Seed();
  return absl::StrFormat("PRIVATE+KEY+%s+%08x+%s", name(), key_id(),
                         Base64Encode(material));
}

absl::StatusOr<Signature> NoteSigner::Sign(std::string_view text) const {
  RETURN_IF_ERROR(CheckNoteText(text));
  ASSIGN_OR_RETURN(Bytes signature, signer_->Sign(text));
  return Signature{name(), key_id(), std::move(signature)};
}

}  // namespace cbx::note
