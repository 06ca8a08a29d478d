// Helpers shared by the cbx-admin unit tests: a temporary folder and a small
// federation of freshly generated keys with its spec. Test-only.
#ifndef CBX_ADMIN_TEST_SUPPORT_H_
#define CBX_ADMIN_TEST_SUPPORT_H_

#include <string>
#include <vector>

#include "admin/key_file.h"
#include "cbx/v1/directory.pb.h"
#include "core/crypto/ed25519.h"
#include "nlohmann/json.hpp"

namespace cbx::admin::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with its content on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

// Writes `contents` to `path`, replacing it; aborts the test on failure.
void WriteTextFile(const std::string& path, const std::string& contents);

// The test CA certificates in admin/testdata.
std::string TestCaPath();
std::string TestCa2Path();

struct TestMember {
  std::string code;
  crypto::Ed25519PrivateKey governance;
  crypto::Ed25519PrivateKey node;
  KeyMaterial oprf;
};

// Members with the given codes and fresh keys.
std::vector<TestMember> MakeMembers(const std::vector<std::string>& codes);

// A spec for `members` with public keys as hex, the test CA for everyone,
// endpoints localhost:7101..., issued_at_ms 1750000000000, version 1, and
// the given governance threshold.
nlohmann::json SpecFor(const std::vector<TestMember>& members,
                       unsigned governance_threshold);

// The directory of SpecFor(...); aborts the test if it does not parse.
v1::Directory DirectoryFor(const std::vector<TestMember>& members,
                           unsigned governance_threshold);

}  // namespace cbx::admin::testing

#endif  // CBX_ADMIN_TEST_SUPPORT_H_
