#include "core/crypto/testing/test_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <memory>

namespace cbx::crypto::testing {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct CrlDeleter {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct TimeDeleter {
  void operator()(ASN1_TIME* p) const { ASN1_TIME_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

void Check(bool ok) {
  if (!ok) std::abort();
}

PkeyPtr NewKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  Check(key != nullptr);
  return key;
}

PkeyPtr ReadKey(const std::string& pem) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Check(key != nullptr);
  return key;
}

X509Ptr ReadCert(const std::string& pem) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  Check(cert != nullptr);
  return cert;
}

std::string KeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string CertPem(X509* cert) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

void SetTime(ASN1_TIME* t, int64_t unix_s) {
  Check(ASN1_TIME_set(t, static_cast<time_t>(unix_s)) != nullptr);
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr);
  Check(X509_add_ext(cert, ext, -1) == 1);
  X509_EXTENSION_free(ext);
}

X509Ptr NewCert(uint64_t serial, const std::string& cn, EVP_PKEY* key,
                int64_t not_before_s, int64_t not_after_s) {
  X509Ptr cert(X509_new());
  Check(cert != nullptr);
  Check(X509_set_version(cert.get(), 2) == 1);
  Check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) ==
        1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  Check(X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
            0) == 1);
  SetTime(X509_getm_notBefore(cert.get()), not_before_s);
  SetTime(X509_getm_notAfter(cert.get()), not_after_s);
  Check(X509_set_pubkey(cert.get(), key) == 1);
  return cert;
}

}  // namespace

TestKeyPair MakeTestCa(const std::string& common_name, int64_t not_before_s,
                       int64_t not_after_s) {
  PkeyPtr key = NewKey();
  X509Ptr cert = NewCert(1, common_name, key.get(), not_before_s, not_after_s);
  Check(X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) ==
        1);
  AddExtension(cert.get(), cert.get(), NID_basic_constraints,
               "critical,CA:TRUE");
  AddExtension(cert.get(), cert.get(), NID_key_usage,
               "critical,keyCertSign,cRLSign");
  AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  Check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  return {CertPem(cert.get()), KeyPem(key.get())};
}

TestKeyPair IssueTestCertificate(const TestKeyPair& ca, uint64_t serial,
                                 const std::string& common_name,
                                 const std::string& uri, int64_t not_before_s,
                                 int64_t not_after_s) {
  X509Ptr ca_cert = ReadCert(ca.certificate_pem);
  PkeyPtr ca_key = ReadKey(ca.private_key_pem);
  PkeyPtr key = NewKey();
  X509Ptr cert =
      NewCert(serial, common_name, key.get(), not_before_s, not_after_s);
  Check(X509_set_issuer_name(cert.get(),
                             X509_get_subject_name(ca_cert.get())) == 1);
  AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints,
               "critical,CA:FALSE");
  AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage,
               "serverAuth,clientAuth");
  if (!uri.empty()) {
    AddExtension(cert.get(), ca_cert.get(), NID_subject_alt_name, "URI:" + uri);
  }
  Check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0);
  return {CertPem(cert.get()), KeyPem(key.get())};
}

std::string MakeTestCrl(const TestKeyPair& ca,
                        const std::vector<uint64_t>& serials,
                        int64_t this_update_s, int64_t next_update_s) {
  X509Ptr ca_cert = ReadCert(ca.certificate_pem);
  PkeyPtr ca_key = ReadKey(ca.private_key_pem);
  std::unique_ptr<X509_CRL, CrlDeleter> crl(X509_CRL_new());
  Check(crl != nullptr);
  Check(X509_CRL_set_version(crl.get(), 1) == 1);
  Check(X509_CRL_set_issuer_name(crl.get(),
                                 X509_get_subject_name(ca_cert.get())) == 1);
  std::unique_ptr<ASN1_TIME, TimeDeleter> t(ASN1_TIME_new());
  SetTime(t.get(), this_update_s);
  Check(X509_CRL_set1_lastUpdate(crl.get(), t.get()) == 1);
  if (next_update_s != 0) {
    SetTime(t.get(), next_update_s);
    Check(X509_CRL_set1_nextUpdate(crl.get(), t.get()) == 1);
  }
  for (uint64_t serial : serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* n = ASN1_INTEGER_new();
    Check(ASN1_INTEGER_set_uint64(n, serial) == 1);
    Check(X509_REVOKED_set_serialNumber(r, n) == 1);
    ASN1_INTEGER_free(n);
    SetTime(t.get(), this_update_s);
    Check(X509_REVOKED_set_revocationDate(r, t.get()) == 1);
    Check(X509_CRL_add0_revoked(crl.get(), r) == 1);
  }
  Check(X509_CRL_sort(crl.get()) == 1);
  Check(X509_CRL_sign(crl.get(), ca_key.get(), EVP_sha256()) > 0);
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509_CRL(bio.get(), crl.get()) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace cbx::crypto::testing
