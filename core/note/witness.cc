#include "core/note/witness.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::note {

absl::Status ValidateWitnessPolicy(const WitnessPolicy& policy) {
  std::set<std::string> names;
  for (size_t i = 0; i < policy.witnesses.size(); ++i) {
    const Verifier& w = policy.witnesses[i];
    if (w.type() != SignatureType::kCosignatureV1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "witness ", w.name(), " is not a cosignature/v1 key (type 0x04)"));
    }
    names.insert(w.name());
    for (size_t j = i + 1; j < policy.witnesses.size(); ++j) {
      if (policy.witnesses[j].public_key().bytes() == w.public_key().bytes()) {
        return absl::InvalidArgumentError(
            absl::StrCat("witnesses ", w.name(), " and ",
                         policy.witnesses[j].name(), " share a public key"));
      }
    }
  }
  if (policy.threshold > names.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("witness threshold ", policy.threshold, " exceeds the ",
                     names.size(), " witnesses"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SignedCheckpoint> OpenWitnessedCheckpoint(
    std::string_view msg, std::string_view origin, const Verifier& log_key,
    const WitnessPolicy& policy) {
  RETURN_IF_ERROR(ValidateWitnessPolicy(policy));
  ASSIGN_OR_RETURN(SignedCheckpoint checkpoint,
                   OpenCheckpoint(msg, origin, log_key, policy.witnesses));
  // other_signatures holds only policy witnesses' verified cosignatures.
  // Count names, not lines: two keys of one witness count once.
  std::set<std::string> cosigners;
  for (const VerifiedSignature& sig : checkpoint.other_signatures) {
    cosigners.insert(sig.name);
  }
  const size_t cosigned = cosigners.size();
  if (cosigned < policy.threshold) {
    return absl::UnauthenticatedError(
        absl::StrCat("checkpoint has ", cosigned, " witness cosignatures, ",
                     policy.threshold, " needed"));
  }
  return checkpoint;
}

}  // namespace cbx::note
