#include "core/crypto/ed25519.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/status/status.h"
#include "core/crypto/random.h"

namespace cbx::crypto {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

struct Ed25519PublicKey::Impl {
  PkeyPtr pkey;
};

struct Ed25519PrivateKey::Impl {
  PkeyPtr pkey;
};

Ed25519PublicKey::Ed25519PublicKey(std::shared_ptr<const Impl> impl, Bytes raw)
    : impl_(std::move(impl)), raw_(std::move(raw)) {}

absl::StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromBytes(
    std::string_view raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, U8(raw),
                                           raw.size()));
  if (!pkey) {
    return absl::InvalidArgumentError("Ed25519 public key is not valid");
  }
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return Ed25519PublicKey(std::move(impl), Bytes(raw));
}

bool Ed25519PublicKey::Verify(std::string_view message,
                              std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                                   impl_->pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), U8(signature), signature.size(),
                          U8(message), message.size()) == 1;
}

Ed25519PrivateKey::Ed25519PrivateKey(std::shared_ptr<const Impl> impl,
                                     Ed25519PublicKey public_key)
    : impl_(std::move(impl)), public_key_(std::move(public_key)) {}

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  auto key = FromSeed(RandomBytes(kEd25519SeedSize));
  if (!key.ok()) std::abort();
  return *std::move(key);
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(
    std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, U8(seed),
                                            seed.size()));
  if (!pkey) return absl::InternalError("OpenSSL refused the Ed25519 seed");
  Bytes pub(kEd25519PublicKeySize, '\0');
  size_t pub_len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(),
                                  reinterpret_cast<unsigned char*>(pub.data()),
                                  &pub_len) != 1) {
    return absl::InternalError("cannot derive Ed25519 public key");
  }
  auto public_key = Ed25519PublicKey::FromBytes(pub);
  if (!public_key.ok()) return public_key.status();
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return Ed25519PrivateKey(std::move(impl), *std::move(public_key));
}

Bytes Ed25519PrivateKey::Sign(std::string_view message) const {
  Bytes sig(kEd25519SignatureSize, '\0');
  size_t sig_len = sig.size();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &sig_len, U8(message), message.size()) != 1) {
    std::abort();  // Signing with a valid key cannot fail but for OOM.
  }
  return sig;
}

Bytes Ed25519PrivateKey::Seed() const {
  Bytes seed(kEd25519SeedSize, '\0');
  size_t len = seed.size();
  EVP_PKEY_get_raw_private_key(
      impl_->pkey.get(), reinterpret_cast<unsigned char*>(seed.data()), &len);
  return seed;
}

}  // namespace cbx::crypto
