// cbx-admin directory sign with a governance key in a PKCS#11 token
// (softhsm2): --key takes a PKCS#11 URI in place of a key file, and the
// key signs in the token.
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "admin/commands.h"
#include "admin/directory_ops.h"
#include "admin/file_io.h"
#include "admin/test_support.h"
#include "core/crypto/pkcs11_signer.h"
#include "core/crypto/testing/softhsm_token.h"
#include "core/directory/directory.h"
#include "core/util/env.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {
namespace {

using crypto::testing::SoftHsmToken;
using nlohmann::json;

class TokenSignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SoftHsmToken::Installed()) GTEST_SKIP() << SoftHsmToken::SkipReason();
    auto t = SoftHsmToken::Create("cbx-governance");
    ASSERT_TRUE(t.ok()) << t.status();
    token_ = *std::move(t);
    ASSERT_TRUE(token_->GenerateKey("BA-governance", "0b").ok());
    // BA lists the token's public key; MK and RS keep key files.
    auto in_token = crypto::Pkcs11Signer::Open(token_->Uri("BA-governance"));
    ASSERT_TRUE(in_token.ok()) << in_token.status();
    const std::string ba_public = HexEncode((*in_token)->public_key().bytes());
    json members = json::array();
    int port = 7201;
    for (const std::string code : {"MK", "RS", "BA"}) {
      json m = {{"code", code},
                {"display_name", "Public Prosecution " + code},
                {"endpoint", "localhost:" + std::to_string(port++)},
                {"ca_certificate", testing::TestCaPath()}};
      for (const char* kind : {"node", "governance", "oprf"}) {
        if (code == "BA" && std::string(kind) == "governance") continue;
        Run(KeyGenerate, KeyGenerateArgs{kind, dir_.File(code + "-" + kind)});
        m[std::string(kind) == "node" ? "node_signing_key"
                                      : std::string(kind) + "_key"] =
            code + "-" + kind;
      }
      if (code == "BA") m["governance_key_public"] = ba_public;
      members.push_back(m);
    }
    json spec = {{"federation", "cbx-test"},
                 {"policy", {{"governance_threshold", 2}}},
                 {"members", members}};
    testing::WriteTextFile(dir_.File("federation.json"), spec.dump(2));
    Run(DirectoryBuild,
        DirectoryBuildArgs{dir_.File("federation.json"),
                           dir_.File("genesis.pb"), 1750000000000, ""});
  }

  template <typename Args>
  std::string Run(absl::Status (*command)(const Args&, std::ostream&,
                                          std::ostream&),
                  const Args& args, absl::Status* status = nullptr) {
    std::ostringstream out, err;
    absl::Status s = command(args, out, err);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
    return out.str();
  }

  testing::TempDir dir_;
  std::unique_ptr<SoftHsmToken> token_;
};

TEST_F(TokenSignTest, GovernanceKeyInATokenSignsTheGenesis) {
  const std::string g = dir_.File("genesis.pb");
  Run(DirectorySign, DirectorySignArgs{g, "MK", dir_.File("MK-governance"), g});
  std::string out =
      Run(DirectorySign,
          DirectorySignArgs{g, "BA", token_->Uri("BA-governance"), g});
  EXPECT_NE(out.find("BA signed version 1; 2 of 2"), std::string::npos) << out;
  auto bytes = Env::Default()->ReadFile(g);
  ASSERT_TRUE(bytes.ok());
  v1::SignedDirectory signed_dir;
  ASSERT_TRUE(signed_dir.ParseFromString(*bytes));
  auto genesis = directory::Directory::FromGenesis(signed_dir);
  EXPECT_TRUE(genesis.ok()) << genesis.status();
}

TEST_F(TokenSignTest, WrongPinAndMissingKeyNameTheOption) {
  const std::string g = dir_.File("genesis.pb");
  absl::Status status;
  const std::string wrong_pin =
      "pkcs11:token=cbx-governance;object=BA-governance?module-path=" +
      std::string(crypto::testing::kSoftHsmModule) +
      "&pin-source=file:" + token_->WritePinFile("wrong.pin", "0000");
  Run(DirectorySign, DirectorySignArgs{g, "BA", wrong_pin, dir_.File("x.pb")},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(status.message().find("--key: "), std::string::npos) << status;
  Run(DirectorySign,
      DirectorySignArgs{g, "BA", token_->Uri("no-such-key"), dir_.File("x.pb")},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("object=no-such-key"), std::string::npos)
      << status;
  // The token's key is not MK's governance key: refused, nothing written.
  Run(DirectorySign,
      DirectorySignArgs{g, "MK", token_->Uri("BA-governance"),
                        dir_.File("x.pb")},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Env::Default()->ReadFile(dir_.File("x.pb")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cbx::admin
