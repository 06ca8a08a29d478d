// Ed25519 (RFC 8032) keys, signatures and verification over OpenSSL 3.0.
//
// Keys are held in EVP_PKEY behind a private Impl; no OpenSSL type leaves
// core/crypto. Both classes are immutable after construction and safe to use
// from several threads at once.
#ifndef CBX_CORE_CRYPTO_ED25519_H_
#define CBX_CORE_CRYPTO_ED25519_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519PublicKey {
 public:
  // Parses a 32-byte encoded public key. INVALID_ARGUMENT if the length is
  // wrong or the bytes are not a valid point encoding.
  static absl::StatusOr<Ed25519PublicKey> FromBytes(std::string_view raw);

  // True if `signature` is a valid Ed25519 signature of `message`.
  bool Verify(std::string_view message, std::string_view signature) const;

  // The 32-byte encoded key.
  const Bytes& bytes() const { return raw_; }

 private:
  struct Impl;
  Ed25519PublicKey(std::shared_ptr<const Impl> impl, Bytes raw);
  std::shared_ptr<const Impl> impl_;
  Bytes raw_;
};

class Ed25519PrivateKey {
 public:
  // A fresh key from the system's secure random source.
  static Ed25519PrivateKey Generate();
  // The key whose 32-byte seed (RFC 8032 "secret key") is `seed`.
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(std::string_view seed);

  // The 64-byte signature of `message`. Deterministic (RFC 8032).
  Bytes Sign(std::string_view message) const;

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The 32-byte seed. Secret: store it only in a file readable by the node.
  Bytes Seed() const;

 private:
  struct Impl;
  Ed25519PrivateKey(std::shared_ptr<const Impl> impl,
                    Ed25519PublicKey public_key);
  std::shared_ptr<const Impl> impl_;
  Ed25519PublicKey public_key_;
};

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_ED25519_H_
