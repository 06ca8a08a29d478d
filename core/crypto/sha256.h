// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface.
#ifndef CBX_CORE_CRYPTO_SHA256_H_
#define CBX_CORE_CRYPTO_SHA256_H_

#include <initializer_list>
#include <memory>
#include <string_view>

#include "core/util/bytes.h"

namespace cbx::crypto {

inline constexpr size_t kSha256Size = 32;

// SHA-256 of `data`: 32 bytes.
Bytes Sha256(std::string_view data);

// SHA-256 of the concatenation of `parts`, without building it.
Bytes Sha256Concat(std::initializer_list<std::string_view> parts);

// Incremental SHA-256. Not thread-safe; one instance per computation.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // Returns the digest; the hasher is then reset for reuse.
  Bytes Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_SHA256_H_
