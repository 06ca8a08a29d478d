// A real cbx-node whose node signing key lives in a PKCS#11 token
// (softhsm2, core/crypto/pkcs11_signer.h): MK's config names the key by a
// PKCS#11 URI, the directory lists the token's public key, and everything
// MK signs is signed in the token: its index sync requests verify at RS and
// BA (they send MK their indexes), and its checkpoints verify against the
// directory. Skipped, saying so, where softhsm2 is not installed.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cbx/v1/office.grpc.pb.h"
#include "core/crypto/pkcs11_signer.h"
#include "core/crypto/testing/softhsm_token.h"
#include "core/directory/directory.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_keys.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

using crypto::testing::SoftHsmToken;

TEST(TokenNodeTest, NodeSigningKeyInSoftHsm) {
  if (!SoftHsmToken::Installed()) GTEST_SKIP() << SoftHsmToken::SkipReason();
  // The token (SOFTHSM2_CONF is set for this process and the nodes it
  // starts) and MK's node key in it.
  auto token = SoftHsmToken::Create("cbx-MK");
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE((*token)->GenerateKey("node-signing", "01").ok());
  const std::string uri = (*token)->Uri("node-signing");
  std::string public_hex;
  {
    auto key = crypto::Pkcs11Signer::Open(uri);
    ASSERT_TRUE(key.ok()) << key.status();
    public_hex = HexEncode((*key)->public_key().bytes());
  }

  FederationOptions options;
  options.countries = {"MK", "RS", "BA"};
  options.edit_spec = [&](nlohmann::json& spec) {
    for (nlohmann::json& m : spec["members"]) {
      if (m["code"] != "MK") continue;
      m.erase("node_signing_key");
      m["node_signing_key_public"] = public_hex;
    }
  };
  options.edit_config = [&](const std::string& cc, nlohmann::json& config) {
    if (cc == "MK") config["keys"]["node_signing_key"] = uri;
  };
  auto fed = Federation::Create(options);
  ASSERT_TRUE(fed.ok()) << fed.status();
  absl::Status started = (*fed)->StartAll();
  if (!started.ok()) (*fed)->DumpLogs();
  ASSERT_TRUE(started.ok()) << started;

  // RS and BA answer MK's SyncIndex only if the envelope the token signed
  // verifies with the key the directory lists for MK.
  absl::Status synced = (*fed)->WaitForIndex("MK", {{"RS", 0}, {"BA", 0}});
  if (!synced.ok()) (*fed)->DumpLogs();
  ASSERT_TRUE(synced.ok()) << synced;

  // MK's checkpoint, signed in the token, verifies as MK's log; wait until
  // RS and BA cosigned it too.
  auto genesis_bytes = Slurp((*fed)->dir() + "/genesis.pb");
  v1::SignedDirectory genesis;
  ASSERT_TRUE(genesis.ParseFromString(genesis_bytes));
  auto dir = directory::Directory::FromGenesis(genesis);
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto keys = logcheck::KeysOfLog(**dir, "MK");
  ASSERT_TRUE(keys.ok()) << keys.status();
  absl::StatusOr<logcheck::VerifiedCheckpoint> verified =
      absl::UnknownError("not fetched");
  const auto deadline =
      std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(5)));
    v1::AuditCheckpointResponse resp;
    grpc::Status s =
        (*fed)
            ->Office("MK", "auditor")
            ->AuditCheckpoint(&ctx, v1::AuditCheckpointRequest(), &resp);
    if (s.ok()) {
      verified = logcheck::VerifyCheckpoint(*keys, resp.checkpoint());
      if (verified.ok() && verified->witnessed) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!verified.ok() || !verified->witnessed) (*fed)->DumpLogs();
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->witnessed) << logcheck::DescribeWitnesses(*verified);
  EXPECT_GT(verified->checkpoint.size, 0u);
}

}  // namespace
}  // namespace cbx::testing
