#include "core/crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace cbx::crypto {
namespace {

// The SHA-256 implementation, fetched from the default provider once.
// EVP_sha256() would have OpenSSL 3 look it up again (with its locks) on
// every digest; the Merkle tree hashes millions of small inputs.
const EVP_MD* Md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // no default provider: broken
    return fetched;
  }();
  return md;
}

}  // namespace

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
  void Init() {
    // An allocation or init failure here is a broken process, not bad input.
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, Md(), nullptr) != 1) {
      std::abort();
    }
  }
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->Init();
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

Bytes Sha256Hasher::Finish() {
  Bytes out(kSha256Size, '\0');
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, reinterpret_cast<unsigned char*>(out.data()),
                     &len);
  impl_->Init();
  return out;
}

Bytes Sha256(std::string_view data) {
  Bytes out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(),
                 reinterpret_cast<unsigned char*>(out.data()), &len, Md(),
                 nullptr) != 1) {
    std::abort();
  }
  return out;
}

Bytes Sha256Concat(std::initializer_list<std::string_view> parts) {
  Sha256Hasher hasher;
  for (std::string_view p : parts) hasher.Update(p);
  return hasher.Finish();
}

}  // namespace cbx::crypto
