#include "admin/commands.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "admin/directory_change.h"
#include "admin/directory_ops.h"
#include "admin/directory_view.h"
#include "admin/federation_spec.h"
#include "admin/file_io.h"
#include "admin/key_file.h"
#include "admin/signature_file.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/pkcs11_signer.h"
#include "core/crypto/sha256.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"

namespace cbx::admin {
namespace {

absl::StatusOr<LoadedKey> LoadKeyWarning(KeyKind kind, const std::string& path,
                                         std::ostream& err) {
  ASSIGN_OR_RETURN(LoadedKey key, LoadKeyFile(kind, path));
  if (key.readable_by_others) {
    // Not refused: a key on removable media (FAT) cannot carry mode 0600.
    err << "warning: " << path << " has mode 0" << std::oct << key.mode
        << std::dec << "; a secret key file should be 0600 (chmod 600 " << path
        << ")\n";
  }
  return key;
}

// A directory file and the SHA-256 of its bytes (what operators compare
// when they pin a genesis, spec/directory.md §5.1).
absl::StatusOr<NamedDirectory> ReadNamedDirectory(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, Env::Default()->ReadFile(path));
  NamedDirectory out;
  out.source = path;
  ASSIGN_OR_RETURN(out.signed_dir, ParseSignedDirectory(bytes, path));
  out.file_sha256 = HexEncode(crypto::Sha256(bytes));
  return out;
}

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(path, ": ", status.message()));
}

}  // namespace

absl::Status KeyGenerate(const KeyGenerateArgs& args, std::ostream& out,
                         std::ostream&) {
  ASSIGN_OR_RETURN(KeyKind kind, ParseKeyKind(args.kind));
  ASSIGN_OR_RETURN(KeyMaterial key, GenerateKeyFile(kind, args.out));
  out << (args.json ? KeyJson(key, args.out).dump(2) + "\n" : KeyText(key));
  return absl::OkStatus();
}

absl::Status KeyPublic(const KeyPublicArgs& args, std::ostream& out,
                       std::ostream& err) {
  ASSIGN_OR_RETURN(KeyKind kind, ParseKeyKind(args.kind));
  ASSIGN_OR_RETURN(LoadedKey loaded, LoadKeyWarning(kind, args.in, err));
  out << (args.json ? KeyJson(loaded.key, args.in).dump(2) + "\n"
                    : KeyText(loaded.key));
  return absl::OkStatus();
}

absl::Status DirectoryBuild(const DirectoryBuildArgs& args, std::ostream& out,
                            std::ostream& err) {
  SpecContext context;
  context.now_ms = args.now_ms;
  std::optional<v1::Directory> previous;
  if (!args.previous.empty()) {
    ASSIGN_OR_RETURN(v1::SignedDirectory prev,
                     ReadSignedDirectory(args.previous));
    ASSIGN_OR_RETURN(previous, InnerDirectory(prev));
    context.default_version = previous->version() + 1;
  }
  ASSIGN_OR_RETURN(v1::Directory d, DirectoryFromSpecFile(args.spec, context));
  absl::StatusOr<v1::SignedDirectory> unsigned_dir = BuildUnsigned(d);
  if (!unsigned_dir.ok()) return WithPath(args.spec, unsigned_dir.status());
  if (previous.has_value()) {
    absl::Status successor = CheckSuccessor(*previous, d);
    if (!successor.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(args.spec, ": not a valid update of ", args.previous,
                       ": ", successor.message()));
    }
  } else if (d.version() > 1) {
    err << "note: version " << d.version()
        << " is an update; pass --previous with version " << d.version() - 1
        << " to check it against that version before it is circulated\n";
  }
  RETURN_IF_ERROR(WriteSignedDirectory(args.out, *unsigned_dir));
  out << "wrote " << args.out << ": version " << d.version() << " of "
      << d.federation() << ", " << d.members_size()
      << " members, unsigned; it needs "
      << (d.version() == 1
              ? absl::StrCat(d.policy().governance_threshold(),
                             " governance signatures of its own members")
              : absl::StrCat("the governance threshold of version ",
                             d.version() - 1, " in signatures"))
      << " (cbx-admin directory sign)\n";
  return absl::OkStatus();
}

absl::Status DirectorySign(const DirectorySignArgs& args, std::ostream& out,
                           std::ostream& err) {
  ASSIGN_OR_RETURN(v1::SignedDirectory signed_dir,
                   ReadSignedDirectory(args.in));
  std::optional<v1::SignedDirectory> previous;
  if (!args.previous.empty()) {
    ASSIGN_OR_RETURN(previous, ReadSignedDirectory(args.previous));
  }
  // --key is a key file or a PKCS#11 URI: a key in a token signs there
  // (C_Sign) and never leaves it.
  std::unique_ptr<crypto::Signer> key;
  if (crypto::IsPkcs11Uri(args.key)) {
    absl::StatusOr<std::unique_ptr<crypto::Pkcs11Signer>> token =
        crypto::Pkcs11Signer::Open(args.key);
    if (!token.ok()) {
      return absl::Status(token.status().code(),
                          absl::StrCat("--key: ", token.status().message()));
    }
    key = *std::move(token);
  } else {
    ASSIGN_OR_RETURN(LoadedKey loaded,
                     LoadKeyWarning(KeyKind::kGovernance, args.key, err));
    ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey seed_key,
                     crypto::Ed25519PrivateKey::FromSeed(loaded.key.secret));
    key =
        std::make_unique<crypto::Ed25519Signer>(std::move(seed_key), args.key);
  }
  absl::StatusOr<SignResult> result =
      SignAsMember(signed_dir, args.member, *key,
                   previous.has_value() ? &*previous : nullptr);
  if (!result.ok()) return WithPath(args.in, result.status());
  RETURN_IF_ERROR(WriteSignedDirectory(args.out, signed_dir));
  out << args.member << " signed version " << result->version << "; "
      << result->valid_signatures << " of " << result->threshold
      << " signatures needed are present";
  if (result->valid_signatures >= result->threshold) {
    out << " (threshold reached: run cbx-admin directory verify)";
  }
  out << "; wrote " << args.out << "\n";
  return absl::OkStatus();
}

absl::Status DirectoryPropose(const DirectoryProposeArgs& args,
                              std::ostream& out, std::ostream&) {
  ASSIGN_OR_RETURN(v1::SignedDirectory current_file,
                   ReadSignedDirectory(args.current));
  ASSIGN_OR_RETURN(v1::Directory current, InnerDirectory(current_file));
  ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(args.changes));
  nlohmann::json changes =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (changes.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(args.changes, ": not valid JSON"));
  }
  SpecContext context;
  context.base_dir = DirName(args.changes);
  context.now_ms = args.now_ms;
  absl::StatusOr<v1::Directory> next = ApplyChanges(current, changes, context);
  if (!next.ok()) return WithPath(args.changes, next.status());
  ASSIGN_OR_RETURN(v1::SignedDirectory proposal, BuildUnsigned(*next));
  RETURN_IF_ERROR(WriteSignedDirectory(args.out, proposal));
  for (const std::string& line : DescribeDiff(current, *next)) {
    out << line << "\n";
  }
  out << "wrote " << args.out << ": version " << next->version()
      << ", unsigned, directory sha256 "
      << HexEncode(crypto::Sha256(proposal.directory())) << "; it needs "
      << current.policy().governance_threshold() << " of "
      << current.members_size() << " governance signatures of version "
      << current.version()
      << " (each holder: cbx-admin directory cosign, then directory "
         "combine)\n";
  return absl::OkStatus();
}

absl::Status DirectoryCosign(const DirectoryCosignArgs& args, std::ostream& out,
                             std::ostream& err) {
  ASSIGN_OR_RETURN(v1::SignedDirectory proposal, ReadSignedDirectory(args.in));
  std::optional<v1::SignedDirectory> previous;
  if (!args.previous.empty()) {
    ASSIGN_OR_RETURN(previous, ReadSignedDirectory(args.previous));
  }
  ASSIGN_OR_RETURN(LoadedKey loaded,
                   LoadKeyWarning(KeyKind::kGovernance, args.key, err));
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                   crypto::Ed25519PrivateKey::FromSeed(loaded.key.secret));
  absl::StatusOr<DetachedSignature> sig = Cosign(
      proposal, args.member, key, previous.has_value() ? &*previous : nullptr);
  if (!sig.ok()) return WithPath(args.in, sig.status());
  // A signature file is not secret, but one signer's file must never be
  // overwritten by another's: created once, like a key file.
  RETURN_IF_ERROR(Env::Default()->WriteNewFile(
      args.out, SignatureFileText(*sig), {.mode = 0644}));
  out << args.member << " signed version " << sig->version
      << " (directory sha256 " << sig->directory_sha256 << "); wrote "
      << args.out << "\n";
  return absl::OkStatus();
}

absl::Status DirectoryCombine(const DirectoryCombineArgs& args,
                              std::ostream& out, std::ostream&) {
  ASSIGN_OR_RETURN(v1::SignedDirectory proposal, ReadSignedDirectory(args.in));
  std::optional<v1::SignedDirectory> previous;
  if (!args.previous.empty()) {
    ASSIGN_OR_RETURN(previous, ReadSignedDirectory(args.previous));
  }
  std::vector<NamedSignature> signatures;
  for (const std::string& path : args.signatures) {
    ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(path));
    ASSIGN_OR_RETURN(DetachedSignature sig, ParseSignatureFile(text, path));
    signatures.push_back({path, std::move(sig)});
  }
  ASSIGN_OR_RETURN(
      CombineResult result,
      CombineSignatures(proposal, signatures,
                        previous.has_value() ? &*previous : nullptr));
  RETURN_IF_ERROR(WriteSignedDirectory(args.out, result.combined));
  out << "version " << result.version << ": " << result.valid_signatures
      << " valid governance signatures, " << result.threshold << " of "
      << result.signing_members << " needed: threshold reached; wrote "
      << args.out
      << " (install it on each node: cbx-node --config node.json "
         "--install-directory "
      << args.out << ")\n";
  return absl::OkStatus();
}

absl::Status DirectoryVerify(const DirectoryVerifyArgs& args, std::ostream& out,
                             std::ostream&) {
  ASSIGN_OR_RETURN(NamedDirectory genesis, ReadNamedDirectory(args.genesis));
  std::vector<NamedDirectory> updates;
  for (const std::string& path : args.updates) {
    ASSIGN_OR_RETURN(NamedDirectory update, ReadNamedDirectory(path));
    updates.push_back(std::move(update));
  }
  ChainReport report = VerifyChain(genesis, updates);
  out << (args.json ? ChainJson(report).dump(2) + "\n" : ChainText(report));
  return report.status;
}

absl::Status DirectoryShow(const DirectoryShowArgs& args, std::ostream& out,
                           std::ostream&) {
  ASSIGN_OR_RETURN(NamedDirectory file, ReadNamedDirectory(args.in));
  const v1::SignedDirectory& signed_dir = file.signed_dir;
  std::optional<v1::Directory> previous;
  if (!args.previous.empty()) {
    ASSIGN_OR_RETURN(v1::SignedDirectory prev,
                     ReadSignedDirectory(args.previous));
    ASSIGN_OR_RETURN(previous, InnerDirectory(prev));
    ASSIGN_OR_RETURN(v1::Directory d, InnerDirectory(signed_dir));
    if (previous->version() + 1 != d.version()) {
      return absl::InvalidArgumentError(absl::StrCat(
          args.previous, " is version ", previous->version(), ", but ", args.in,
          " is version ", d.version(),
          " and is signed with the keys of version ", d.version() - 1));
    }
  }
  absl::StatusOr<nlohmann::json> summary =
      DirectoryJson(signed_dir, previous.has_value() ? &*previous : nullptr);
  if (!summary.ok()) return WithPath(args.in, summary.status());
  (*summary)["file_sha256"] = file.file_sha256;
  if (previous.has_value()) {
    // What changed, for the governance members who sign or check it.
    ASSIGN_OR_RETURN(v1::Directory d, InnerDirectory(signed_dir));
    (*summary)["changes"] = DescribeDiff(*previous, d);
  }
  out << (args.json ? summary->dump(2) + "\n" : DirectoryText(*summary));
  return absl::OkStatus();
}

}  // namespace cbx::admin
