#include "admin/directory_ops.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/directory/directory.h"
#include "core/logcheck/log_generation.h"
#include "core/util/bytes.h"
#include "core/util/status_macros.h"

namespace cbx::admin {
namespace {

const v1::Member* FindMember(const v1::Directory& d, const std::string& code) {
  for (const v1::Member& m : d.members()) {
    if (m.code() == code) return &m;
  }
  return nullptr;
}

std::string MemberCodes(const v1::Directory& d) {
  std::vector<std::string> codes;
  for (const v1::Member& m : d.members()) codes.push_back(m.code());
  return absl::StrJoin(codes, ", ");
}

absl::Status Prefixed(const std::string& source, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(source, ": ", status.message()));
}

}  // namespace

absl::Status CheckSuccessor(const v1::Directory& previous,
                            const v1::Directory& next) {
  if (next.version() != previous.version() + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("version ", next.version(), " does not follow version ",
                     previous.version(),
                     " (an update is exactly the previous version + 1)"));
  }
  if (next.federation() != previous.federation()) {
    return absl::InvalidArgumentError(
        absl::StrCat("federation \"", next.federation(), "\" differs from \"",
                     previous.federation(), "\" in version ",
                     previous.version(), "; the name never changes"));
  }
  if (next.issued_at_ms() < previous.issued_at_ms()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "issued_at_ms ", next.issued_at_ms(), " is earlier than version ",
        previous.version(), "'s ", previous.issued_at_ms()));
  }
  // A member's new audit log generation names a witnessed predecessor
  // (spec/directory.md §5.2, spec/audit-log.md §12).
  RETURN_IF_ERROR(logcheck::CheckGenerationSuccessor(previous, next));
  for (const v1::Member& m : next.members()) {
    const v1::Member* before = FindMember(previous, m.code());
    if (before == nullptr) continue;  // a new member starts at any epoch
    const v1::OprfKey& was = before->oprf_key();
    const v1::OprfKey& now = m.oprf_key();
    if (now.public_key() == was.public_key() && now.epoch() != was.epoch()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "member ", m.code(), ": OPRF epoch changed from ", was.epoch(),
          " to ", now.epoch(), " without a new OPRF key"));
    }
    if (now.public_key() != was.public_key() &&
        static_cast<uint64_t>(now.epoch()) !=
            static_cast<uint64_t>(was.epoch()) + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("member ", m.code(), ": a new OPRF key must have epoch ",
                       static_cast<uint64_t>(was.epoch()) + 1, " (version ",
                       previous.version(), " has epoch ", was.epoch(),
                       "), not ", now.epoch()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SignedDirectory> BuildUnsigned(const v1::Directory& d) {
  RETURN_IF_ERROR(directory::ValidateStructure(d));
  v1::SignedDirectory out;
  if (!d.SerializeToString(out.mutable_directory())) {
    return absl::InternalError("cannot serialize the directory");
  }
  return out;
}

absl::StatusOr<v1::Directory> InnerDirectory(
    const v1::SignedDirectory& signed_dir) {
  v1::Directory d;
  if (!d.ParseFromString(signed_dir.directory())) {
    return absl::InvalidArgumentError(
        "the signed bytes are not a serialized cbx.v1.Directory");
  }
  return d;
}

const char* OutcomeName(SignatureCheck::Outcome outcome) {
  switch (outcome) {
    case SignatureCheck::Outcome::kValid:
      return "valid";
    case SignatureCheck::Outcome::kInvalid:
      return "invalid";
    case SignatureCheck::Outcome::kUnknownMember:
      return "unknown member";
    case SignatureCheck::Outcome::kDuplicate:
      return "duplicate (ignored)";
  }
  return "?";
}

std::vector<SignatureCheck> CheckSignatures(
    const v1::SignedDirectory& signed_dir,
    const v1::Directory& signing_version) {
  const Bytes input = directory::DirectorySigningInput(signed_dir.directory());
  std::vector<SignatureCheck> out;
  std::set<std::string> seen;
  for (const v1::GovernanceSignature& sig : signed_dir.signatures()) {
    SignatureCheck check{sig.member(), SignatureCheck::Outcome::kInvalid};
    const v1::Member* member = FindMember(signing_version, sig.member());
    if (!seen.insert(sig.member()).second) {
      // Receivers consider only the first entry naming a member.
      check.outcome = SignatureCheck::Outcome::kDuplicate;
    } else if (member == nullptr) {
      check.outcome = SignatureCheck::Outcome::kUnknownMember;
    } else {
      absl::StatusOr<crypto::Ed25519PublicKey> key =
          crypto::Ed25519PublicKey::FromBytes(member->governance_key());
      if (key.ok() && key->Verify(input, sig.signature())) {
        check.outcome = SignatureCheck::Outcome::kValid;
      }
    }
    out.push_back(std::move(check));
  }
  return out;
}

size_t CountValid(const std::vector<SignatureCheck>& checks) {
  size_t n = 0;
  for (const SignatureCheck& c : checks) {
    if (c.outcome == SignatureCheck::Outcome::kValid) ++n;
  }
  return n;
}

absl::StatusOr<SignResult> SignAsMember(v1::SignedDirectory& signed_dir,
                                        const std::string& member,
                                        const crypto::Ed25519PrivateKey& key,
                                        const v1::SignedDirectory* previous) {
  return SignAsMember(signed_dir, member, crypto::Ed25519Signer(key), previous);
}

absl::StatusOr<SignResult> SignAsMember(v1::SignedDirectory& signed_dir,
                                        const std::string& member,
                                        const crypto::Signer& key,
                                        const v1::SignedDirectory* previous) {
  ASSIGN_OR_RETURN(v1::Directory d, InnerDirectory(signed_dir));
  absl::Status structure = directory::ValidateStructure(d);
  if (!structure.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to sign a directory that breaks the rules: ",
                     structure.message()));
  }
  v1::Directory signing_version;
  std::string signing_name;
  if (d.version() == 1) {
    if (previous != nullptr) {
      return absl::InvalidArgumentError(
          "this directory is version 1, a genesis, signed with the keys it "
          "lists itself; it has no previous version");
    }
    signing_version = d;
    signing_name = "this genesis directory";
  } else {
    if (previous == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "this directory is version ", d.version(),
          ", an update: it must be signed with governance keys listed in "
          "version ",
          d.version() - 1, "; pass --previous FILE with version ",
          d.version() - 1, " so the key can be checked"));
    }
    ASSIGN_OR_RETURN(signing_version, InnerDirectory(*previous));
    if (signing_version.version() + 1 != d.version()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--previous is version ", signing_version.version(),
                       ", but the directory being signed is version ",
                       d.version(), " and needs version ", d.version() - 1));
    }
    absl::Status successor = CheckSuccessor(signing_version, d);
    if (!successor.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("refusing to sign an update nodes would refuse: ",
                       successor.message()));
    }
    signing_name = absl::StrCat("version ", signing_version.version());
  }
  const v1::Member* m = FindMember(signing_version, member);
  if (m == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(member, " is not a member of ", signing_name,
                     " (members: ", MemberCodes(signing_version), ")"));
  }
  const Bytes& public_key = key.public_key().bytes();
  if (public_key != m->governance_key()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "this key is not ", member, "'s governance key in ", signing_name,
        ": the key's public part is ", HexEncode(public_key), ", ",
        signing_name, " lists ", HexEncode(m->governance_key())));
  }
  RETURN_IF_ERROR(directory::AddGovernanceSignature(signed_dir, member, key));
  SignResult result;
  result.version = d.version();
  result.valid_signatures =
      CountValid(CheckSignatures(signed_dir, signing_version));
  result.threshold = signing_version.policy().governance_threshold();
  return result;
}

ChainReport VerifyChain(const NamedDirectory& genesis,
                        const std::vector<NamedDirectory>& updates) {
  ChainReport report;
  auto describe = [](const NamedDirectory& named,
                     const v1::Directory* signing_version) {
    VersionReport r;
    r.source = named.source;
    r.file_sha256 = named.file_sha256;
    absl::StatusOr<v1::Directory> d = InnerDirectory(named.signed_dir);
    if (d.ok()) {
      r.version = d->version();
      r.federation = d->federation();
      r.issued_at_ms = d->issued_at_ms();
      const v1::Directory& keys = signing_version ? *signing_version : *d;
      r.threshold = keys.policy().governance_threshold();
      r.signatures = CheckSignatures(named.signed_dir, keys);
    }
    return r;
  };

  VersionReport first = describe(genesis, nullptr);
  absl::StatusOr<std::shared_ptr<const directory::Directory>> current =
      directory::Directory::FromGenesis(genesis.signed_dir);
  first.adopted = current.ok();
  report.versions.push_back(std::move(first));
  if (!current.ok()) {
    report.status = Prefixed(genesis.source, current.status());
    return report;
  }
  for (const NamedDirectory& update : updates) {
    VersionReport r = describe(update, &(*current)->proto());
    absl::StatusOr<std::shared_ptr<const directory::Directory>> next =
        (*current)->Adopt(update.signed_dir);
    r.adopted = next.ok();
    report.versions.push_back(std::move(r));
    if (!next.ok()) {
      report.status = Prefixed(update.source, next.status());
      return report;
    }
    current = std::move(next);
  }
  return report;
}

}  // namespace cbx::admin
