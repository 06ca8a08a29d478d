#include "core/crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "core/crypto/openssl_x509_util.h"

namespace cbx::crypto {
namespace {

using internal::BioPtr;
using internal::GeneralNamesDeleter;
using internal::MemBio;
using internal::X509Ptr;

struct StoreDeleter {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};

X509Ptr ParsePem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CertificateUriSans(
    std::string_view pem) {
  X509Ptr cert = ParsePem(pem);
  if (!cert) return absl::InvalidArgumentError("certificate does not parse");
  std::vector<std::string> uris;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
          cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      ASN1_STRING_length(uri));
  }
  return uris;
}

absl::Status VerifyCertificateIssuedBy(
    std::string_view leaf_pem, const std::vector<std::string>& ca_pems) {
  X509Ptr leaf = ParsePem(leaf_pem);
  if (!leaf) return absl::UnauthenticatedError("certificate does not parse");
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  if (!store) return absl::InternalError("out of memory");
  int loaded = 0;
  for (const std::string& pem : ca_pems) {
    BioPtr bio = MemBio(pem);
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store.get(), ca);
      X509_free(ca);
      ++loaded;
    }
    ERR_clear_error();  // End of the PEM stream is reported as an error.
  }
  if (loaded == 0) {
    return absl::UnauthenticatedError("no CA certificate to verify against");
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (!ctx ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1) {
    return absl::InternalError("cannot set up certificate verification");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return absl::UnauthenticatedError(
        std::string("certificate not issued by the expected CA: ") +
        X509_verify_cert_error_string(err));
  }
  return absl::OkStatus();
}

}  // namespace cbx::crypto
