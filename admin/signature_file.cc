#include "admin/signature_file.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "admin/directory_ops.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {
namespace {

using nlohmann::json;

std::string DirectorySha256(const v1::SignedDirectory& d) {
  return HexEncode(crypto::Sha256(d.directory()));
}

absl::Status FileError(absl::StatusCode code, const std::string& source,
                       const std::string& problem) {
  return absl::Status(code, absl::StrCat(source, ": ", problem));
}

}  // namespace

std::string SignatureFileText(const DetachedSignature& s) {
  json j = {{"format", kSignatureFormat},
            {"member", s.member},
            {"version", s.version},
            {"directory_sha256", s.directory_sha256},
            {"signature", HexEncode(s.signature)}};
  return j.dump(2) + "\n";
}

absl::StatusOr<DetachedSignature> ParseSignatureFile(
    std::string_view text, const std::string& source) {
  const auto bad = [&](const std::string& problem) {
    return FileError(absl::StatusCode::kInvalidArgument, source,
                     "not a cbx directory signature file: " + problem);
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("format", "") != kSignatureFormat) {
    return bad(absl::StrCat("\"format\" is not \"", kSignatureFormat, "\""));
  }
  DetachedSignature s;
  if (!j.contains("member") || !j["member"].is_string()) {
    return bad("\"member\" missing");
  }
  s.member = j["member"].get<std::string>();
  if (!j.contains("version") || !j["version"].is_number_unsigned()) {
    return bad("\"version\" missing");
  }
  s.version = j["version"].get<uint64_t>();
  if (!j.contains("directory_sha256") || !j["directory_sha256"].is_string()) {
    return bad("\"directory_sha256\" missing");
  }
  s.directory_sha256 = j["directory_sha256"].get<std::string>();
  if (!j.contains("signature") || !j["signature"].is_string()) {
    return bad("\"signature\" missing");
  }
  absl::StatusOr<Bytes> sig = HexDecode(j["signature"].get<std::string>());
  if (!sig.ok() || sig->size() != crypto::kEd25519SignatureSize) {
    return bad("\"signature\" is not 64 bytes of hex");
  }
  s.signature = *std::move(sig);
  return s;
}

absl::StatusOr<DetachedSignature> Cosign(const v1::SignedDirectory& proposal,
                                         const std::string& member,
                                         const crypto::Ed25519PrivateKey& key,
                                         const v1::SignedDirectory* previous) {
  v1::SignedDirectory alone;
  alone.set_directory(proposal.directory());
  ASSIGN_OR_RETURN(SignResult result,
                   SignAsMember(alone, member, key, previous));
  DetachedSignature s;
  s.member = member;
  s.version = result.version;
  s.directory_sha256 = DirectorySha256(proposal);
  s.signature = alone.signatures(0).signature();
  return s;
}

// Over 80 lines on purpose: one check per refusal, in the order the
// governance guide lists them, reads as that list.
absl::StatusOr<CombineResult> CombineSignatures(
    const v1::SignedDirectory& proposal,
    const std::vector<NamedSignature>& signatures,
    const v1::SignedDirectory* previous) {
  ASSIGN_OR_RETURN(v1::Directory d, InnerDirectory(proposal));
  v1::Directory signing = d;
  std::string signing_name = "this genesis directory";
  if (d.version() > 1) {
    if (previous == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("version ", d.version(),
                       " is an update signed with the keys of "
                       "version ",
                       d.version() - 1, "; pass --previous with that version"));
    }
    ASSIGN_OR_RETURN(signing, InnerDirectory(*previous));
    if (signing.version() + 1 != d.version()) {
      return absl::InvalidArgumentError(absl::StrCat("--previous is version ",
                                                     signing.version(),
                                                     ", but the proposal is "
                                                     "version ",
                                                     d.version()));
    }
    RETURN_IF_ERROR(CheckSuccessor(signing, d));
    signing_name = absl::StrCat("version ", signing.version());
  }
  const std::string digest = DirectorySha256(proposal);
  const Bytes input = directory::DirectorySigningInput(proposal.directory());
  CombineResult out;
  out.combined = proposal;
  std::map<std::string, std::string> seen;  // member -> source
  for (const v1::GovernanceSignature& g : proposal.signatures()) {
    seen.emplace(g.member(), "the proposal");
  }
  for (const NamedSignature& named : signatures) {
    const DetachedSignature& s = named.signature;
    if (s.version != d.version() || s.directory_sha256 != digest) {
      return FileError(
          absl::StatusCode::kInvalidArgument, named.source,
          absl::StrCat(s.member, " signed other bytes: version ", s.version,
                       ", directory sha256 ", s.directory_sha256.substr(0, 16),
                       "…; the proposal is version ", d.version(), ", sha256 ",
                       digest.substr(0, 16), "…"));
    }
    const v1::Member* m = nullptr;
    for (const v1::Member& candidate : signing.members()) {
      if (candidate.code() == s.member) m = &candidate;
    }
    if (m == nullptr) {
      return FileError(absl::StatusCode::kNotFound, named.source,
                       absl::StrCat(s.member, " is not a member of ",
                                    signing_name, ", whose keys sign it"));
    }
    auto [it, fresh] = seen.emplace(s.member, named.source);
    if (!fresh) {
      return FileError(absl::StatusCode::kAlreadyExists, named.source,
                       absl::StrCat("a second signature of ", s.member,
                                    " (the first is in ", it->second, ")"));
    }
    absl::StatusOr<crypto::Ed25519PublicKey> pub =
        crypto::Ed25519PublicKey::FromBytes(m->governance_key());
    if (!pub.ok() || !pub->Verify(input, s.signature)) {
      return FileError(
          absl::StatusCode::kPermissionDenied, named.source,
          absl::StrCat(s.member, "'s signature does not verify with ", s.member,
                       "'s governance key in ", signing_name,
                       " (signed with another key, or over other bytes)"));
    }
    v1::GovernanceSignature* g = out.combined.add_signatures();
    g->set_member(s.member);
    g->set_signature(s.signature);
  }
  out.version = d.version();
  out.threshold = signing.policy().governance_threshold();
  out.signing_members = static_cast<size_t>(signing.members_size());
  out.valid_signatures = CountValid(CheckSignatures(out.combined, signing));
  if (out.valid_signatures < out.threshold) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only ", out.valid_signatures, " valid signature(s) of the ",
        out.threshold, " of ", out.signing_members, " needed (", signing_name,
        "'s governance_threshold); nothing written"));
  }
  if (d.version() == 1) {
    RETURN_IF_ERROR(directory::Directory::FromGenesis(out.combined).status());
  }
  return out;
}

}  // namespace cbx::admin
