// Owning pointers and PEM reading for OpenSSL's X.509 objects, shared by
// core/crypto's certificate (x509.cc) and CRL (x509_crl.cc) code. Internal
// to core/crypto: nothing outside it sees an OpenSSL type.
#ifndef CBX_CORE_CRYPTO_OPENSSL_X509_UTIL_H_
#define CBX_CORE_CRYPTO_OPENSSL_X509_UTIL_H_

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>
#include <vector>

namespace cbx::crypto::internal {

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// A read-only memory BIO over `pem` (which must outlive it); null if out
// of memory.
inline BioPtr MemBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate in `pem`, in order (none if it holds none).
inline std::vector<X509Ptr> ParseAllCertificates(std::string_view pem) {
  std::vector<X509Ptr> out;
  BioPtr bio = MemBio(pem);
  if (!bio) return out;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(cert);
  }
  ERR_clear_error();  // The end of the PEM stream is reported as an error.
  return out;
}

}  // namespace cbx::crypto::internal

#endif  // CBX_CORE_CRYPTO_OPENSSL_X509_UTIL_H_
