#include "core/logcheck/checkpoint_verifier.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

namespace cbx::logcheck {
namespace {

std::string Num(uint64_t n) { return std::to_string(n); }

absl::Status WithPrefix(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), prefix + std::string(status.message()));
}

std::string VersionLabel(const LogKeys& keys) {
  return "directory version " + Num(keys.directory_version);
}

// "XX" if `name` is "cbx/XX/<suffix>" with XX two upper-case letters.
std::optional<std::string> MemberOfName(std::string_view name,
                                        std::string_view suffix) {
  const std::string_view prefix = "cbx/";
  if (name.size() != prefix.size() + 3 + suffix.size() ||
      name.substr(0, prefix.size()) != prefix ||
      name.substr(prefix.size() + 2, 1) != "/" ||
      name.substr(prefix.size() + 3) != suffix) {
    return std::nullopt;
  }
  std::string code(name.substr(prefix.size(), 2));
  if (!directory::IsMemberCode(code)) return std::nullopt;
  return code;
}

// Why no key of `keys` checks `sig`.
std::string IgnoredReason(const LogKeys& keys, const note::Signature& sig) {
  const std::string id = KeyIdHex(sig.key_id);
  if (sig.name == keys.origin) {
    return "no node key of " + keys.member + " in " + VersionLabel(keys) +
           " has key ID " + id;
  }
  if (std::optional<std::string> wc = MemberOfName(sig.name, "witness")) {
    if (*wc == keys.member) {
      return "a log cannot be witnessed by its own member";
    }
    if (std::find(keys.members.begin(), keys.members.end(), *wc) ==
        keys.members.end()) {
      return *wc + " is not a member of " + VersionLabel(keys);
    }
    return "no node key of " + *wc + " in " + VersionLabel(keys) +
           " has key ID " + id;
  }
  if (MemberOfName(sig.name, "audit")) {
    return "a log signature for another origin";
  }
  return "not a cbx log or witness key name";
}

const note::Verifier* FindLogKey(const LogKeys& keys,
                                 const note::Signature& sig) {
  for (const note::Verifier& v : keys.log_keys) {
    if (v.name() == sig.name && v.key_id() == sig.key_id) return &v;
  }
  return nullptr;
}

const WitnessKey* FindWitnessKey(const LogKeys& keys,
                                 const note::Signature& sig) {
  for (const WitnessKey& k : keys.witness_keys) {
    if (k.verifier.name() == sig.name && k.verifier.key_id() == sig.key_id) {
      return &k;
    }
  }
  return nullptr;
}

absl::Status CosignatureFails(const note::Signature& sig,
                              const std::string& member) {
  return absl::UnauthenticatedError(
      "the cosignature by " + sig.name + " (key ID " + KeyIdHex(sig.key_id) +
      ", a node key of " + member +
      ") does not verify: the checkpoint or the cosignature was altered");
}

// The UNAUTHENTICATED error for a note without a valid log signature,
// naming a line that looks like one.
absl::Status NotSignedByTheLog(const LogKeys& keys,
                               const std::vector<IgnoredSignature>& ignored) {
  std::string message = "the checkpoint is not signed by a node key of " +
                        keys.member + " in " + VersionLabel(keys);
  for (const IgnoredSignature& ig : ignored) {
    if (ig.name == keys.origin) {
      message += " (a signature named " + ig.name + " has key ID " +
                 KeyIdHex(ig.key_id) + ", which is no node key of " +
                 keys.member + ")";
      break;
    }
  }
  return absl::UnauthenticatedError(message);
}

// Checks every signature line of `parsed` (see the header's rules) into
// `out`: the log key ID, the cosignatures and the ignored lines. Returns
// whether a log key signed it.
absl::StatusOr<bool> CheckSignatureLines(const LogKeys& keys,
                                         const note::Note& parsed,
                                         VerifiedCheckpoint& out) {
  bool log_signed = false;
  for (const note::Signature& sig : parsed.signatures) {
    if (const note::Verifier* log_key = FindLogKey(keys, sig)) {
      if (!log_key->Verify(parsed.text, sig).ok()) {
        return absl::UnauthenticatedError(
            "the signature by " + sig.name + " (key ID " +
            KeyIdHex(sig.key_id) + ", a node key of " + keys.member +
            ") does not verify: the checkpoint was altered after signing");
      }
      if (!log_signed) out.log_key_id = sig.key_id;
      log_signed = true;
    } else if (const WitnessKey* witness = FindWitnessKey(keys, sig)) {
      auto verified = witness->verifier.Verify(parsed.text, sig);
      if (!verified.ok()) return CosignatureFails(sig, witness->member);
      out.cosignatures.push_back(Cosignature{witness->member, sig.name,
                                             sig.key_id,
                                             verified->timestamp.value_or(0)});
    } else {
      out.ignored.push_back(
          IgnoredSignature{sig.name, sig.key_id, IgnoredReason(keys, sig)});
    }
  }
  return log_signed;
}

std::string JoinedWitnesses(const VerifiedCheckpoint& checkpoint) {
  const std::vector<std::string> names = checkpoint.WitnessMembers();
  if (names.empty()) return "";
  std::string out = " (";
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : ", ") + names[i];
  }
  return out + ")";
}

}  // namespace

std::vector<std::string> VerifiedCheckpoint::WitnessMembers() const {
  std::vector<std::string> names;
  for (const Cosignature& c : cosignatures) {
    if (std::find(names.begin(), names.end(), c.witness) == names.end()) {
      names.push_back(c.witness);
    }
  }
  return names;
}

absl::StatusOr<VerifiedCheckpoint> VerifyCheckpoint(const LogKeys& keys,
                                                    std::string_view note) {
  auto parsed = note::ParseNote(note);
  if (!parsed.ok()) {
    return WithPrefix(parsed.status(),
                      "the checkpoint is not a valid signed note: ");
  }
  VerifiedCheckpoint out;
  out.member = keys.member;
  out.origin = keys.origin;
  out.directory_version = keys.directory_version;
  out.threshold = keys.threshold;
  out.eligible_witnesses = keys.eligible_witnesses();
  auto log_signed = CheckSignatureLines(keys, *parsed, out);
  if (!log_signed.ok()) return log_signed.status();
  if (!*log_signed) return NotSignedByTheLog(keys, out.ignored);
  auto checkpoint = note::ParseCheckpoint(parsed->text);
  if (!checkpoint.ok()) {
    return WithPrefix(checkpoint.status(),
                      "the checkpoint text is malformed: ");
  }
  if (checkpoint->origin != keys.origin) {
    return absl::InvalidArgumentError("the checkpoint is for origin '" +
                                      checkpoint->origin + "', not '" +
                                      keys.origin + "'");
  }
  out.checkpoint = *std::move(checkpoint);
  out.text = std::move(parsed->text);
  out.witnesses = out.WitnessMembers().size();
  out.witnessed = out.witnesses >= out.threshold;
  return out;
}

std::string DescribeWitnesses(const VerifiedCheckpoint& checkpoint) {
  return Num(checkpoint.witnesses) + " of the " + Num(checkpoint.threshold) +
         " needed" + JoinedWitnesses(checkpoint);
}

absl::Status RequireWitnessed(const VerifiedCheckpoint& checkpoint) {
  if (checkpoint.witnessed) return absl::OkStatus();
  std::string message =
      "checkpoint " + Num(checkpoint.checkpoint.size) + " of " +
      checkpoint.origin + " is not witnessed: " + Num(checkpoint.witnesses) +
      (checkpoint.witnesses == 1 ? " witness" : " witnesses") + " cosigned it" +
      JoinedWitnesses(checkpoint) + ", directory version " +
      Num(checkpoint.directory_version) + " requires " +
      Num(checkpoint.threshold) + " (witness_threshold)";
  for (const IgnoredSignature& ig : checkpoint.ignored) {
    message +=
        "; ignored " + ig.name + "+" + KeyIdHex(ig.key_id) + ": " + ig.reason;
  }
  return absl::UnauthenticatedError(message);
}

absl::StatusOr<std::vector<note::Signature>> VerifyCosignaturesBy(
    const LogKeys& keys, std::string_view witness, const note::Note& note) {
  const std::string name = WitnessName(witness);
  std::vector<note::Signature> out;
  for (const note::Signature& sig : note.signatures) {
    if (sig.name != name) continue;
    const WitnessKey* key = FindWitnessKey(keys, sig);
    if (key == nullptr || key->member != witness) continue;
    if (!key->verifier.Verify(note.text, sig).ok()) {
      return CosignatureFails(sig, key->member);
    }
    out.push_back(sig);
  }
  if (out.empty()) {
    return absl::UnauthenticatedError("no cosignature by " + name +
                                      " on the note");
  }
  return out;
}

}  // namespace cbx::logcheck
