// Ed25519 keys in a PKCS#11 token (PKCS#11 v2.40 §2.3.6 / v3.0 "EdDSA"):
// the private key never leaves the token, every signature is a C_Sign with
// CKM_EDDSA (no parameters: pure Ed25519, RFC 8032). The token's module is
// loaded with dlopen from the URI's module-path; tests use Debian's
// softhsm2.
//
// A key is named by a PKCS#11 URI (RFC 7512):
//
//   pkcs11:token=cbx;object=node-signing?module-path=/usr/lib/softhsm/
//       libsofthsm2.so&pin-source=file:/etc/cbx/token.pin
//
// Path attributes: token, manufacturer, serial, model (which token: the one
// token matching all given; any single token if none is given), object
// (the key's CKA_LABEL), id (its CKA_ID, percent-encoded bytes), type
// (must be "private" if given). Query attributes: module-path (required),
// pin-source (a file holding the user PIN, "file:" optional; required).
// pin-value is refused: a PIN is never written in a config or a command
// line. Values are percent-decoded.
//
// Threading model: a Pkcs11Signer owns one logged-in session; Sign
// serializes C_SignInit/C_Sign on it with a mutex, so one signer may be
// used from any thread. A module is initialized once per process while
// signers from it exist (C_Initialize with CKF_OS_LOCKING_OK) and
// finalized with the last one.
#ifndef CBX_CORE_CRYPTO_PKCS11_SIGNER_H_
#define CBX_CORE_CRYPTO_PKCS11_SIGNER_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/crypto/signer.h"

namespace cbx::crypto {

// True if `s` names a key in a token ("pkcs11:..."), not a file.
bool IsPkcs11Uri(std::string_view s);

// The attributes of a PKCS#11 URI, percent-decoded.
struct Pkcs11Uri {
  std::map<std::string, std::string> path;   // token, object, id, ...
  std::map<std::string, std::string> query;  // module-path, pin-source
};

// Parses `uri` by RFC 7512. INVALID_ARGUMENT saying what is wrong: not
// starting with "pkcs11:", a bad percent escape, an attribute given twice,
// an unknown path attribute, pin-value.
absl::StatusOr<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri);

class Pkcs11Signer final : public Signer {
 public:
  // Opens the Ed25519 private key `uri` names: loads the module, finds the
  // token, logs in with the PIN from pin-source, finds exactly one private
  // key of type CKK_EC_EDWARDS and its public key (CKA_EC_POINT, a DER
  // OCTET STRING or the raw 32 bytes; CKA_EC_PARAMS "edwards25519" or OID
  // 1.3.101.112), and checks with one signature that the two belong
  // together. Errors say which step failed, in words an operator can act
  // on: INVALID_ARGUMENT (the URI), NOT_FOUND (module file, token, key,
  // PIN file), PERMISSION_DENIED (wrong or locked PIN), FAILED_PRECONDITION
  // (not an Ed25519 key, keys that do not match), UNAVAILABLE (the module
  // failed).
  static absl::StatusOr<std::unique_ptr<Pkcs11Signer>> Open(
      std::string_view uri);

  ~Pkcs11Signer() override;
  Pkcs11Signer(const Pkcs11Signer&) = delete;
  Pkcs11Signer& operator=(const Pkcs11Signer&) = delete;

  // C_SignInit(CKM_EDDSA) and C_Sign in the token. UNAVAILABLE naming the
  // URI and the PKCS#11 return value if the token fails.
  absl::StatusOr<Bytes> Sign(std::string_view message) const override;
  const Ed25519PublicKey& public_key() const override { return public_key_; }
  // The URI, as given (it holds no secret: pin-value is refused).
  const std::string& location() const override { return location_; }

 private:
  struct Module;
  Pkcs11Signer(std::shared_ptr<Module> module, unsigned long session,
               unsigned long key, Ed25519PublicKey public_key,
               std::string location);

  std::shared_ptr<Module> module_;
  const unsigned long session_;
  const unsigned long key_;
  const Ed25519PublicKey public_key_;
  const std::string location_;
  mutable std::mutex mu_;  // one operation at a time on session_
};

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_PKCS11_SIGNER_H_
