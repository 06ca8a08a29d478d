#include "core/note/cosignature.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/note/checkpoint.h"
#include "core/util/status_macros.h"

namespace cbx::note {

std::string CosignatureMessage(uint64_t timestamp, std::string_view text) {
  return absl::StrCat("cosignature/v1\ntime ", timestamp, "\n",
                      absl::string_view(text.data(), text.size()));
}

absl::StatusOr<Cosigner> Cosigner::Create(std::string_view name,
                                          crypto::Ed25519PrivateKey key) {
  return Create(name, std::make_shared<crypto::Ed25519Signer>(std::move(key)));
}

absl::StatusOr<Cosigner> Cosigner::Create(
    std::string_view name, std::shared_ptr<const crypto::Signer> signer) {
  ASSIGN_OR_RETURN(Verifier verifier,
                   Verifier::Create(name, SignatureType::kCosignatureV1,
                                    signer->public_key()));
  return Cosigner(std::move(signer), std::move(verifier));
}

absl::StatusOr<Signature> Cosigner::Cosign(std::string_view checkpoint_text,
                                           uint64_t timestamp) const {
  if (timestamp > kMaxCosignatureTimestamp) {
    return absl::InvalidArgumentError("cosignature timestamp exceeds 2^63-1");
  }
  RETURN_IF_ERROR(ParseCheckpoint(checkpoint_text).status());
  Bytes signature;
  AppendUint64BE(signature, timestamp);
  ASSIGN_OR_RETURN(Bytes signed_bytes, signer_->Sign(CosignatureMessage(
                                           timestamp, checkpoint_text)));
  signature += signed_bytes;
  return Signature{name(), key_id(), std::move(signature)};
}

}  // namespace cbx::note
