#include "admin/key_file.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "admin/file_io.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/directory/directory.h"
#include "core/util/env.h"
#include "core/util/key_file.h"
#include "core/util/status_macros.h"

namespace cbx::admin {
namespace {

constexpr size_t kSecretSize = kKeyFileSecretBytes;

KeyMaterial FromEd25519(KeyKind kind, const crypto::Ed25519PrivateKey& key) {
  KeyMaterial out{kind, key.Seed(), key.public_key().bytes(), std::nullopt};
  if (kind == KeyKind::kNode) {
    out.key_id = directory::NodeKeyId(out.public_key);
  }
  return out;
}

KeyMaterial FromOprf(const crypto::OprfServerKey& key) {
  return KeyMaterial{KeyKind::kOprf, key.PrivateBytes(), key.public_key(),
                     std::nullopt};
}

}  // namespace

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kNode:
      return "node";
    case KeyKind::kGovernance:
      return "governance";
    case KeyKind::kOprf:
      return "oprf";
  }
  return "unknown";
}

absl::StatusOr<KeyKind> ParseKeyKind(std::string_view name) {
  for (KeyKind kind : {KeyKind::kNode, KeyKind::kGovernance, KeyKind::kOprf}) {
    if (name == KeyKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown key kind \"", absl::string_view(name.data(), name.size()),
      "\"; expected node, governance or oprf"));
}

KeyMaterial GenerateKey(KeyKind kind) {
  if (kind == KeyKind::kOprf)
    return FromOprf(crypto::OprfServerKey::Generate());
  return FromEd25519(kind, crypto::Ed25519PrivateKey::Generate());
}

absl::StatusOr<KeyMaterial> KeyFromSecret(KeyKind kind,
                                          std::string_view secret) {
  if (secret.size() != kSecretSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", std::string(KeyKindName(kind)), " key is ",
                     kSecretSize, " bytes, got ", secret.size()));
  }
  if (kind == KeyKind::kOprf) {
    ASSIGN_OR_RETURN(crypto::OprfServerKey key,
                     crypto::OprfServerKey::FromPrivateBytes(secret));
    return FromOprf(key);
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                   crypto::Ed25519PrivateKey::FromSeed(secret));
  return FromEd25519(kind, key);
}

std::string EncodeKeyFile(const KeyMaterial& key) {
  return HexEncode(key.secret) + "\n";
}

absl::StatusOr<KeyMaterial> DecodeKeyFile(KeyKind kind,
                                          std::string_view contents) {
  // The one key-file parser (core/util/key_file.h): writers write lower
  // case; readers accept either (spec/keys.md §3).
  ASSIGN_OR_RETURN(Bytes secret, ParseKeyFile(contents));
  return KeyFromSecret(kind, secret);
}

absl::StatusOr<KeyMaterial> GenerateKeyFile(KeyKind kind,
                                            const std::string& path) {
  KeyMaterial key = GenerateKey(kind);
  RETURN_IF_ERROR(WriteNewSecretFile(path, EncodeKeyFile(key)));
  return key;
}

absl::StatusOr<LoadedKey> LoadKeyFile(KeyKind kind, const std::string& path) {
  const std::string what = "a " + std::string(KeyKindName(kind)) + " key";
  // Any mode: the caller warns about a loose one (a key on removable media
  // cannot always be 0600); the node refuses it (node/node.cc).
  ASSIGN_OR_RETURN(KeyFile file, ReadKeyFile(Env::Default(), path, what,
                                             KeyFileAccess::kAnyMode));
  absl::StatusOr<KeyMaterial> key = KeyFromSecret(kind, file.secret);
  if (!key.ok()) {
    return absl::Status(
        key.status().code(),
        absl::StrCat(path, ": not ", what, " file: ", key.status().message()));
  }
  return LoadedKey{*std::move(key), (file.mode & 077) != 0, file.mode};
}

}  // namespace cbx::admin
