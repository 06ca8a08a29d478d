// The operator's key files (spec/keys.md): a node signing key and a
// governance key are a 32-byte Ed25519 seed, an OPRF key a 32-byte P-256
// scalar; each is stored as 64 lower-case hex digits and a newline, in a file
// of mode 0600.
//
// Stateless functions; thread-safe.
#ifndef CBX_ADMIN_KEY_FILE_H_
#define CBX_ADMIN_KEY_FILE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::admin {

enum class KeyKind { kNode, kGovernance, kOprf };

// "node", "governance", "oprf".
std::string_view KeyKindName(KeyKind kind);
// The inverse of KeyKindName; INVALID_ARGUMENT listing the kinds otherwise.
absl::StatusOr<KeyKind> ParseKeyKind(std::string_view name);

// A secret key and what may be published of it.
struct KeyMaterial {
  KeyKind kind;
  Bytes secret;      // 32 bytes: Ed25519 seed or P-256 scalar
  Bytes public_key;  // 32-byte Ed25519 key or 33-byte compressed P-256 point
  // For node keys, the key id that envelopes carry (core/directory).
  std::optional<Bytes> key_id;
};

// A fresh key of `kind` from the system's secure random source.
KeyMaterial GenerateKey(KeyKind kind);

// The key of `kind` whose secret is `secret` (32 bytes). INVALID_ARGUMENT if
// the secret is not a valid key of that kind (e.g. an OPRF scalar of zero or
// not below the group order).
absl::StatusOr<KeyMaterial> KeyFromSecret(KeyKind kind,
                                          std::string_view secret);

// The file format: hex(secret) + "\n".
std::string EncodeKeyFile(const KeyMaterial& key);

// Parses a key file's contents: 64 hex digits of either case, then an
// optional line feed, nothing else. INVALID_ARGUMENT saying what is wrong
// otherwise; never echoes the content, which may be a secret.
absl::StatusOr<KeyMaterial> DecodeKeyFile(KeyKind kind,
                                          std::string_view contents);

// Generates a key and writes it to `path` (created with mode 0600).
// ALREADY_EXISTS if `path` exists: key files are never overwritten.
absl::StatusOr<KeyMaterial> GenerateKeyFile(KeyKind kind,
                                            const std::string& path);

// A key read from a file, and whether the file's permissions let others read
// it (the caller warns: a key on a FAT-formatted USB stick cannot be 0600, so
// this is not refused).
struct LoadedKey {
  KeyMaterial key;
  bool readable_by_others = false;
  unsigned mode = 0;
};

// Reads the key of `kind` stored in `path`. Errors name the path.
absl::StatusOr<LoadedKey> LoadKeyFile(KeyKind kind, const std::string& path);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_KEY_FILE_H_
