// A throwaway softhsm2 token for tests: its own token folder and
// SOFTHSM2_CONF in a temporary folder (removed with the object), a token
// initialized with `softhsm2-util --init-token --free`, a PIN file, and
// Ed25519 keys generated in it with `pkcs11-tool` (opensc). Tests skip
// (GTEST_SKIP) when Installed() is false, saying so; scripts/install-deps.sh
// installs both packages, so CI runs them.
//
// Not thread-safe: it sets SOFTHSM2_CONF for the whole process, which the
// module reads at C_Initialize (when no signer of it is open).
#ifndef CBX_CORE_CRYPTO_TESTING_SOFTHSM_TOKEN_H_
#define CBX_CORE_CRYPTO_TESTING_SOFTHSM_TOKEN_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::crypto::testing {

// Debian's softhsm2 module.
inline constexpr char kSoftHsmModule[] = "/usr/lib/softhsm/libsofthsm2.so";

class SoftHsmToken {
 public:
  // True if the module, softhsm2-util and pkcs11-tool are all installed.
  static bool Installed();
  // What a skipped test says.
  static const char* SkipReason();

  // A fresh token labelled `label` with user PIN `pin`. UNAVAILABLE with
  // the command's output if softhsm2-util fails.
  static absl::StatusOr<std::unique_ptr<SoftHsmToken>> Create(
      const std::string& label = "cbx", const std::string& pin = "5678");
  ~SoftHsmToken();

  // Generates an Ed25519 key pair (CKK_EC_EDWARDS) labelled `object` with
  // CKA_ID `id_hex` in the token. UNAVAILABLE if pkcs11-tool fails.
  absl::Status GenerateKey(const std::string& object,
                           const std::string& id_hex);

  // "pkcs11:token=<label>;object=<object>?module-path=...&pin-source=file:..."
  std::string Uri(const std::string& object) const;
  // A file holding `pin` (for a wrong-PIN test), in the token's folder.
  std::string WritePinFile(const std::string& name,
                           const std::string& pin) const;

  const std::string& dir() const { return dir_; }
  const std::string& pin_file() const { return pin_file_; }
  const std::string& label() const { return label_; }

 private:
  SoftHsmToken() = default;
  std::string dir_;
  std::string label_;
  std::string pin_;
  std::string pin_file_;
};

}  // namespace cbx::crypto::testing

#endif  // CBX_CORE_CRYPTO_TESTING_SOFTHSM_TOKEN_H_
