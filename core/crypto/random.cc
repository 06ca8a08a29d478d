#include "core/crypto/random.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace cbx::crypto {

Bytes RandomBytes(size_t n) {
  Bytes out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                          static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

}  // namespace cbx::crypto
