#include "client/credentials_check.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/strings.h"
#include "core/crypto/x509.h"

namespace cbx::client {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Bio MemoryBio(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Never asks for a password on the terminal: an encrypted key is reported.
int NoPassword(char*, int, int, void*) { return -1; }

Cert FirstCertificate(std::string_view pem) {
  Bio bio = MemoryBio(pem);
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// "--cert '/etc/cbx/office.pem'".
std::string File(std::string_view flag, const std::string& path) {
  return std::string(flag) + " " + Quoted(path);
}

// YYYY-MM-DD of an ASN.1 time.
std::string Day(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "an unreadable date";
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

absl::Status Wrong(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// The certificate's URI SANs name an office.
absl::Status CheckOffice(const ConnectionSettings& s) {
  absl::StatusOr<std::vector<std::string>> uris =
      crypto::CertificateUriSans(s.cert_pem);
  std::string named = "no cbx name";
  if (uris.ok()) {
    for (const std::string& uri : *uris) {
      if (uri.starts_with("spiffe://cbx/office/")) return absl::OkStatus();
    }
    if (!uris->empty()) named = "the name " + SanitizeForTerminal(uris->front());
  }
  return Wrong(absl::StrCat(
      "the certificate ", File("--cert", s.cert_path),
      " is not an office certificate (it carries ", named,
      ", not spiffe://cbx/office/...); give your office's certificate, "
      "which your node's operator issues"));
}

absl::Status CheckValidity(const ConnectionSettings& s, X509* cert,
                           int64_t now_s) {
  time_t now = static_cast<time_t>(now_s);
  if (X509_cmp_time(X509_get0_notAfter(cert), &now) < 0) {
    return Wrong(absl::StrCat(
        "the certificate ", File("--cert", s.cert_path), " expired on ",
        Day(X509_get0_notAfter(cert)),
        "; ask your node's operator for a renewed office certificate"));
  }
  if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0) {
    return Wrong(absl::StrCat(
        "the certificate ", File("--cert", s.cert_path),
        " is valid only from ", Day(X509_get0_notBefore(cert)),
        "; check this computer's date and clock, or wait until then"));
  }
  return absl::OkStatus();
}

absl::Status Check(const ConnectionSettings& s, int64_t now_s) {
  Cert cert = FirstCertificate(s.cert_pem);
  if (cert == nullptr) {
    return Wrong(absl::StrCat(
        "the certificate file ", File("--cert", s.cert_path),
        " is damaged: it holds no readable certificate; give the office "
        "certificate file your node's operator issued"));
  }
  Bio key_bio = MemoryBio(s.key_pem);
  Key key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &NoPassword,
                                  nullptr));
  if (key == nullptr) {
    return Wrong(absl::StrCat(
        "the key file ", File("--key", s.key_path),
        " holds no readable private key (it is damaged, or protected by a "
        "password, which cbx does not support); give the key made with your "
        "certificate"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Wrong(absl::StrCat(
        "the key ", File("--key", s.key_path),
        " does not belong to the certificate ", File("--cert", s.cert_path),
        "; give the key file that was made together with this certificate"));
  }
  if (FirstCertificate(s.ca_pem) == nullptr) {
    return Wrong(absl::StrCat(
        "the CA file ", File("--ca", s.ca_path),
        " is damaged: it holds no readable certificate; give your country's "
        "national CA certificate, as your node's operator gave it"));
  }
  if (absl::Status office = CheckOffice(s); !office.ok()) return office;
  return CheckValidity(s, cert.get(), now_s);
}

}  // namespace

absl::Status CheckCredentials(const ConnectionSettings& s, int64_t now_s) {
  absl::Status status = Check(s, now_s);
  // A failed parse leaves OpenSSL's per-thread error queue filled; the TLS
  // handshake that follows must not find it.
  ERR_clear_error();
  return status;
}

}  // namespace cbx::client
