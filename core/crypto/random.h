// Cryptographically secure random bytes (OpenSSL's DRBG). Thread-safe.
#ifndef CBX_CORE_CRYPTO_RANDOM_H_
#define CBX_CORE_CRYPTO_RANDOM_H_

#include <cstddef>

#include "core/util/bytes.h"

namespace cbx::crypto {

// `n` random bytes. Aborts if the system's entropy source fails: no protocol
// step can proceed safely without it.
Bytes RandomBytes(size_t n);

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_RANDOM_H_
