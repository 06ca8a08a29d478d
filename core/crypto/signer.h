// What signs with an Ed25519 key, wherever the private key is kept: in
// memory (Ed25519Signer, read from a key file) or in a PKCS#11 token
// (core/crypto/pkcs11_signer.h), where it never leaves the token.
//
// The node's envelopes, checkpoints and cosignatures and cbx-admin's
// governance signatures go through this interface, so that the code that
// signs does not know where the key lives. Implementations are immutable
// after construction (a token's session is serialized inside) and safe to
// use from several threads at once.
#ifndef CBX_CORE_CRYPTO_SIGNER_H_
#define CBX_CORE_CRYPTO_SIGNER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/crypto/ed25519.h"
#include "core/util/bytes.h"

namespace cbx::crypto {

class Signer {
 public:
  virtual ~Signer() = default;

  // The 64-byte Ed25519 signature (RFC 8032, pure Ed25519) of `message`.
  // Never fails for a key in memory; for a token, the token's error
  // (UNAVAILABLE if it is gone, ...) naming where the key is.
  virtual absl::StatusOr<Bytes> Sign(std::string_view message) const = 0;

  // The public half of the key.
  virtual const Ed25519PublicKey& public_key() const = 0;

  // Where the key is, for messages and logs: a file path or a PKCS#11 URI
  // (without any secret). Never the key itself.
  virtual const std::string& location() const = 0;
};

// A key held in memory.
class Ed25519Signer final : public Signer {
 public:
  // `location` says where the key came from (e.g. its file's path).
  explicit Ed25519Signer(Ed25519PrivateKey key, std::string location = "")
      : key_(std::move(key)), location_(std::move(location)) {}

  absl::StatusOr<Bytes> Sign(std::string_view message) const override {
    return key_.Sign(message);
  }
  const Ed25519PublicKey& public_key() const override {
    return key_.public_key();
  }
  const std::string& location() const override { return location_; }

  const Ed25519PrivateKey& key() const { return key_; }

 private:
  Ed25519PrivateKey key_;
  std::string location_;
};

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_SIGNER_H_
