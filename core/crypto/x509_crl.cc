#include "core/crypto/x509_crl.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "core/crypto/openssl_x509_util.h"

namespace cbx::crypto {
namespace {

using internal::BioPtr;
using internal::GeneralNamesDeleter;
using internal::MemBio;
using internal::X509Ptr;

struct CrlDeleter {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};

int64_t UnixSeconds(const ASN1_TIME* t) {
  if (t == nullptr) return 0;
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  std::unique_ptr<BIGNUM, BnDeleter> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return "";
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

std::string NameDer(const X509_NAME* name) {
  const unsigned char* der = nullptr;
  size_t len = 0;
  if (X509_NAME_get0_der(const_cast<X509_NAME*>(name), &der, &len) != 1) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(der), len);
}

std::string NameLine(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), name, 0,
                     XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

std::vector<std::string> UriSans(X509* cert) {
  std::vector<std::string> uris;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(
      static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
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

std::string Sha256Fingerprint(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return "";
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    if (i > 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

absl::StatusOr<CertificateSummary> SummarizeCertificate(std::string_view pem) {
  std::vector<X509Ptr> certs = internal::ParseAllCertificates(pem);
  if (certs.empty()) {
    return absl::InvalidArgumentError("no PEM certificate that parses");
  }
  X509* cert = certs.front().get();
  CertificateSummary s;
  s.serial_hex = SerialHex(X509_get0_serialNumber(cert));
  s.issuer_der = NameDer(X509_get_issuer_name(cert));
  s.issuer = NameLine(X509_get_issuer_name(cert));
  s.subject = NameLine(X509_get_subject_name(cert));
  s.not_before_s = UnixSeconds(X509_get0_notBefore(cert));
  s.not_after_s = UnixSeconds(X509_get0_notAfter(cert));
  s.uris = UriSans(cert);
  s.sha256_fingerprint = Sha256Fingerprint(cert);
  return s;
}

absl::Status CheckKeyMatchesCertificate(std::string_view key_pem,
                                        std::string_view cert_pem) {
  std::vector<X509Ptr> certs = internal::ParseAllCertificates(cert_pem);
  if (certs.empty()) {
    return absl::InvalidArgumentError("no PEM certificate that parses");
  }
  BioPtr bio = MemBio(key_pem);
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
          : nullptr);
  ERR_clear_error();
  if (!key) {
    return absl::InvalidArgumentError(
        "no unencrypted PEM private key that parses");
  }
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "the private key does not match the certificate");
  }
  return absl::OkStatus();
}

absl::StatusOr<RevocationList> ParseVerifiedCrl(
    std::string_view crl_pem, const std::vector<std::string>& ca_pems) {
  BioPtr bio = MemBio(crl_pem);
  std::unique_ptr<X509_CRL, CrlDeleter> crl(
      bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)
          : nullptr);
  ERR_clear_error();
  if (!crl) return absl::InvalidArgumentError("not a PEM CRL");
  const X509_NAME* issuer = X509_CRL_get_issuer(crl.get());
  bool named = false;
  bool verified = false;
  for (const std::string& pem : ca_pems) {
    for (const X509Ptr& ca : internal::ParseAllCertificates(pem)) {
      if (X509_NAME_cmp(X509_get_subject_name(ca.get()), issuer) != 0) continue;
      named = true;
      EVP_PKEY* key = X509_get0_pubkey(ca.get());
      if (key != nullptr && X509_CRL_verify(crl.get(), key) == 1) {
        verified = true;
        break;
      }
      ERR_clear_error();
    }
    if (verified) break;
  }
  if (!named) {
    return absl::UnauthenticatedError("no trusted CA is the CRL's issuer (" +
                                      NameLine(issuer) + ")");
  }
  if (!verified) {
    return absl::UnauthenticatedError(
        "the CRL's signature does not verify with its issuer's key (" +
        NameLine(issuer) + ")");
  }
  RevocationList list;
  list.issuer_der = NameDer(issuer);
  list.issuer = NameLine(issuer);
  list.this_update_s = UnixSeconds(X509_CRL_get0_lastUpdate(crl.get()));
  list.next_update_s = UnixSeconds(X509_CRL_get0_nextUpdate(crl.get()));
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
    list.revoked[SerialHex(X509_REVOKED_get0_serialNumber(r))] =
        UnixSeconds(X509_REVOKED_get0_revocationDate(r));
  }
  return list;
}

}  // namespace cbx::crypto
