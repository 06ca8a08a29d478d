#include "admin/test_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "admin/federation_spec.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"

namespace cbx::admin::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr && *base ? base : "/tmp",
                                  "/cbx-admin-test-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(const std::string& name) const {
  return absl::StrCat(path_, "/", name);
}

void WriteTextFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) {
    ADD_FAILURE() << "cannot write " << path;
    std::abort();
  }
}

std::string TestCaPath() {
  return absl::StrCat(CBX_ADMIN_TESTDATA_DIR, "/test-ca.crt");
}
std::string TestCa2Path() {
  return absl::StrCat(CBX_ADMIN_TESTDATA_DIR, "/test-ca-2.crt");
}

std::vector<TestMember> MakeMembers(const std::vector<std::string>& codes) {
  std::vector<TestMember> out;
  for (const std::string& code : codes) {
    out.push_back(TestMember{code, crypto::Ed25519PrivateKey::Generate(),
                             crypto::Ed25519PrivateKey::Generate(),
                             GenerateKey(KeyKind::kOprf)});
  }
  return out;
}

nlohmann::json SpecFor(const std::vector<TestMember>& members,
                       unsigned governance_threshold) {
  nlohmann::json spec;
  spec["federation"] = "cbx-test";
  spec["version"] = 1;
  spec["issued_at_ms"] = 1750000000000;
  spec["policy"] = {{"governance_threshold", governance_threshold}};
  nlohmann::json list = nlohmann::json::array();
  int port = 7101;
  for (const TestMember& m : members) {
    list.push_back({
        {"code", m.code},
        {"display_name", absl::StrCat("Prosecution service ", m.code)},
        {"endpoint", absl::StrCat("localhost:", port++)},
        {"ca_certificate", TestCaPath()},
        {"node_signing_key_public", HexEncode(m.node.public_key().bytes())},
        {"oprf_key_public", HexEncode(m.oprf.public_key)},
        {"governance_key_public", HexEncode(m.governance.public_key().bytes())},
    });
  }
  spec["members"] = list;
  return spec;
}

v1::Directory DirectoryFor(const std::vector<TestMember>& members,
                           unsigned governance_threshold) {
  absl::StatusOr<v1::Directory> d =
      DirectoryFromSpec(SpecFor(members, governance_threshold), SpecContext{});
  if (!d.ok()) {
    ADD_FAILURE() << d.status();
    std::abort();
  }
  return *std::move(d);
}

}  // namespace cbx::admin::testing
