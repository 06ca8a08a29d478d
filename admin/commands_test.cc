#include "admin/commands.h"

#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "admin/directory_ops.h"
#include "admin/file_io.h"
#include "admin/key_file.h"
#include "admin/test_support.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"
#include "core/util/env.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {
namespace {

using nlohmann::json;
using testing::TempDir;
using testing::TestCaPath;

// `openssl x509 -in admin/testdata/test-ca.crt -noout -fingerprint -sha256`.
constexpr char kTestCaSha256[] =
    "1a9953707b08b3b2e98769b7f350faf3741010a6814793457821171f5dee88e2";

std::set<std::string> Keys(const json& object) {
  std::set<std::string> out;
  for (const auto& [key, unused] : object.items()) out.insert(key);
  return out;
}

class CommandsTest : public ::testing::Test {
 protected:
  // Runs a command; returns its stdout, keeps its stderr in err_.
  template <typename Args>
  std::string Run(absl::Status (*command)(const Args&, std::ostream&,
                                          std::ostream&),
                  const Args& args, absl::Status* status = nullptr) {
    std::ostringstream out, err;
    absl::Status s = command(args, out, err);
    err_ = err.str();
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
    return out.str();
  }

  // Generates the keys of three members MK, RS, BA and a spec using them
  // (threshold 2), and builds dir_/genesis.pb.
  void MakeFederation() {
    json members = json::array();
    int port = 7101;
    for (const std::string code : {"MK", "RS", "BA"}) {
      for (const char* kind : {"node", "governance", "oprf"}) {
        Run(KeyGenerate, KeyGenerateArgs{kind, dir_.File(code + "-" + kind)});
      }
      members.push_back({{"code", code},
                         {"display_name", "Public Prosecution " + code},
                         {"endpoint", "localhost:" + std::to_string(port++)},
                         {"ca_certificate", TestCaPath()},
                         {"node_signing_key", code + "-node"},
                         {"oprf_key", code + "-oprf"},
                         {"governance_key", code + "-governance"}});
    }
    json spec = {{"federation", "cbx-test"},
                 {"policy", {{"governance_threshold", 2}}},
                 {"members", members}};
    testing::WriteTextFile(dir_.File("federation.json"), spec.dump(2));
    DirectoryBuildArgs build{dir_.File("federation.json"),
                             dir_.File("genesis.pb"), 1750000000000, ""};
    std::string out = Run(DirectoryBuild, build);
    EXPECT_NE(out.find("3 members, unsigned; it needs 2 governance signatures"),
              std::string::npos)
        << out;
  }

  void Sign(const std::string& code, const std::string& in,
            const std::string& out, const std::string& previous = "") {
    Run(DirectorySign,
        DirectorySignArgs{in, code, dir_.File(code + "-governance"), out,
                          previous});
  }

  TempDir dir_;
  std::string err_;
};

TEST_F(CommandsTest, KeyGenerateAndPublicJsonShape) {
  std::string out =
      Run(KeyGenerate, KeyGenerateArgs{"node", dir_.File("node.key"), true});
  json j = json::parse(out);
  EXPECT_EQ(Keys(j),
            (std::set<std::string>{"kind", "file", "public_key", "key_id"}));
  EXPECT_EQ(j["kind"], "node");
  EXPECT_EQ(j["file"], dir_.File("node.key"));
  absl::StatusOr<LoadedKey> key =
      LoadKeyFile(KeyKind::kNode, dir_.File("node.key"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(j["public_key"], HexEncode(key->key.public_key));
  EXPECT_EQ(j["key_id"], HexEncode(directory::NodeKeyId(key->key.public_key)));

  // Text: the public key alone.
  out = Run(KeyPublic, KeyPublicArgs{"node", dir_.File("node.key")});
  EXPECT_EQ(out, HexEncode(key->key.public_key) + "\n");
  EXPECT_EQ(err_, "");

  out = Run(KeyGenerate, KeyGenerateArgs{"oprf", dir_.File("oprf.key"), true});
  j = json::parse(out);
  EXPECT_EQ(Keys(j), (std::set<std::string>{"kind", "file", "public_key"}));
  EXPECT_EQ(j["public_key"].get<std::string>().size(), 66u);
  json again = json::parse(
      Run(KeyPublic, KeyPublicArgs{"oprf", dir_.File("oprf.key"), true}));
  EXPECT_EQ(again, j);
}

TEST_F(CommandsTest, KeyGenerateRefusesToOverwriteAndKeyPublicWarns) {
  Run(KeyGenerate, KeyGenerateArgs{"governance", dir_.File("g.key")});
  absl::Status status;
  Run(KeyGenerate, KeyGenerateArgs{"governance", dir_.File("g.key")}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  Run(KeyGenerate, KeyGenerateArgs{"tls", dir_.File("t.key")}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);

  ASSERT_EQ(::chmod(dir_.File("g.key").c_str(), 0640), 0);
  Run(KeyPublic, KeyPublicArgs{"governance", dir_.File("g.key")});
  EXPECT_NE(err_.find("has mode 0640"), std::string::npos) << err_;
}

TEST_F(CommandsTest, BuildSignVerifyShowJson) {
  MakeFederation();
  const std::string g = dir_.File("genesis.pb");

  absl::Status status;
  std::string out =
      Run(DirectoryVerify, DirectoryVerifyArgs{g, {}, true}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  json j = json::parse(out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(j["error"].get<std::string>().find("need 2"), std::string::npos);

  Sign("MK", g, g);
  Sign("BA", g, g);
  out = Run(DirectoryVerify, DirectoryVerifyArgs{g, {}, true});
  j = json::parse(out);
  EXPECT_EQ(Keys(j), (std::set<std::string>{"ok", "versions"}));
  EXPECT_EQ(j["ok"], true);
  ASSERT_EQ(j["versions"].size(), 1u);
  const json& v = j["versions"][0];
  EXPECT_EQ(Keys(v), (std::set<std::string>{
                         "file", "version", "federation", "issued_at_ms",
                         "issued_at", "signatures_needed", "valid_signatures",
                         "signatures", "adopted", "file_sha256"}));
  EXPECT_EQ(v["file"], g);
  EXPECT_EQ(v["file_sha256"],
            HexEncode(crypto::Sha256(*Env::Default()->ReadFile(g))));
  EXPECT_EQ(v["version"], 1);
  EXPECT_EQ(v["issued_at_ms"], 1750000000000);
  EXPECT_EQ(v["issued_at"], "2025-06-15T15:06:40.000Z");
  EXPECT_EQ(v["signatures_needed"], 2);
  EXPECT_EQ(v["valid_signatures"], 2);
  EXPECT_EQ(v["adopted"], true);
  EXPECT_EQ(v["signatures"], json::parse(R"([{"member":"MK","status":"valid"},
                            {"member":"BA","status":"valid"}])"));

  out = Run(DirectoryVerify, DirectoryVerifyArgs{g, {}});
  EXPECT_NE(out.find("version 1 of cbx-test"), std::string::npos) << out;
  EXPECT_NE(out.find("2 of 2 signatures needed: MK BA"), std::string::npos);
  EXPECT_NE(out.find("chain verified: current version 1"), std::string::npos);

  j = json::parse(Run(DirectoryShow, DirectoryShowArgs{g, "", true}));
  EXPECT_EQ(Keys(j),
            (std::set<std::string>{
                "federation", "version", "issued_at_ms", "issued_at", "policy",
                "members", "signatures", "signatures_checked_against_version",
                "valid_signatures", "signatures_needed", "file_sha256"}));
  EXPECT_EQ(j["policy"]["governance_threshold"], 2);
  EXPECT_EQ(j["policy"]["witness_threshold"], 2);
  EXPECT_EQ(j["policy"]["max_index_tags"], 1'048'576);
  EXPECT_EQ(j["policy"]["max_index_growth_per_day"], 65'536);
  EXPECT_EQ(j["policy"]["resolves_per_peer_per_day"], 10'000);
  ASSERT_EQ(j["members"].size(), 3u);
  const json& mk = j["members"][0];
  EXPECT_EQ(Keys(mk),
            (std::set<std::string>{"code", "display_name", "endpoint", "status",
                                   "ca_certificates", "node_keys", "oprf_key",
                                   "governance_key", "audit_log"}));
  EXPECT_EQ(mk["code"], "MK");
  EXPECT_EQ(mk["endpoint"], "localhost:7101");
  EXPECT_EQ(mk["status"], "active");
  EXPECT_EQ(mk["ca_certificates"][0]["sha256"], kTestCaSha256);
  absl::StatusOr<LoadedKey> node =
      LoadKeyFile(KeyKind::kNode, dir_.File("MK-node"));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(mk["node_keys"][0]["key_id"], HexEncode(*node->key.key_id));
  EXPECT_EQ(mk["node_keys"][0]["not_after_ms"], 0);
  EXPECT_EQ(mk["oprf_key"]["epoch"], 1);
  EXPECT_EQ(j["valid_signatures"], 2);

  out = Run(DirectoryShow, DirectoryShowArgs{g, "", false});
  EXPECT_NE(out.find("federation cbx-test, version 1"), std::string::npos)
      << out;
  EXPECT_NE(out.find("MK  Public Prosecution MK  [active]"), std::string::npos);
  EXPECT_NE(out.find(std::string("CA sha256       ") + kTestCaSha256),
            std::string::npos);
  EXPECT_NE(out.find("signatures: 2 valid of 2 needed"), std::string::npos);
  EXPECT_NE(out.find("caps: index 1048576 tags, growth 65536 tags/day, 10000 "
                     "resolves/peer/day\n"),
            std::string::npos)
      << out;
}

TEST_F(CommandsTest, SignRefusalWritesNothing) {
  MakeFederation();
  absl::Status status;
  Run(DirectorySign,
      DirectorySignArgs{dir_.File("genesis.pb"), "RS",
                        dir_.File("MK-governance"), dir_.File("signed.pb"), ""},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Env::Default()->ReadFile(dir_.File("signed.pb")).status().code(),
            absl::StatusCode::kNotFound);
  // A node key is refused where a governance key is asked for only if its
  // public part differs, which it does.
  Run(DirectorySign,
      DirectorySignArgs{dir_.File("genesis.pb"), "MK", dir_.File("MK-node"),
                        dir_.File("signed.pb"), ""},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(CommandsTest, UpdateNeedsPreviousAndShowChecksAgainstIt) {
  MakeFederation();
  const std::string g = dir_.File("genesis.pb");
  Sign("MK", g, g);
  Sign("RS", g, g);

  json spec =
      json::parse(*Env::Default()->ReadFile(dir_.File("federation.json")));
  spec["issued_at_ms"] = 1760000000000;
  spec["members"][2]["status"] = "suspended";
  testing::WriteTextFile(dir_.File("v2.json"), spec.dump());
  // Without a version in the spec, --previous makes it the next one.
  Run(DirectoryBuild,
      DirectoryBuildArgs{dir_.File("v2.json"), dir_.File("v2.pb"), 1, g});
  EXPECT_EQ(InnerDirectory(*ReadSignedDirectory(dir_.File("v2.pb")))->version(),
            2u);

  absl::Status status;
  Run(DirectorySign,
      DirectorySignArgs{dir_.File("v2.pb"), "MK", dir_.File("MK-governance"),
                        dir_.File("v2.pb"), ""},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("--previous"), std::string::npos);

  Sign("MK", dir_.File("v2.pb"), dir_.File("v2.pb"), g);
  json shown = json::parse(
      Run(DirectoryShow, DirectoryShowArgs{dir_.File("v2.pb"), "", true}));
  EXPECT_EQ(shown["signatures"],
            json::parse(R"([{"member":"MK","status":"unchecked"}])"));
  EXPECT_FALSE(shown.contains("valid_signatures"));
  shown = json::parse(
      Run(DirectoryShow, DirectoryShowArgs{dir_.File("v2.pb"), g, true}));
  EXPECT_EQ(shown["signatures"],
            json::parse(R"([{"member":"MK","status":"valid"}])"));
  EXPECT_EQ(shown["signatures_checked_against_version"], 1);
  EXPECT_EQ(shown["members"][2]["status"], "suspended");
  const std::string suspended = shown["members"][2]["code"];
  EXPECT_EQ(shown["changes"][1],
            "~ " + suspended + " status: active -> suspended")
      << shown["changes"].dump();
  // As text: every node key in full (not only its id), and what changed.
  const std::string text =
      Run(DirectoryShow, DirectoryShowArgs{dir_.File("v2.pb"), g, false});
  for (const json& m : shown["members"]) {
    for (const json& k : m["node_keys"]) {
      const std::string key = k["public_key"];
      EXPECT_EQ(key.size(), 64u);
      EXPECT_NE(text.find("public key " + key), std::string::npos) << text;
    }
  }
  EXPECT_NE(text.find("changes from the previous version:\n  version 1 -> 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  ~ " + suspended + " status: active -> suspended\n"),
            std::string::npos)
      << text;
  // Without --previous there is no diff to show.
  EXPECT_FALSE(json::parse(Run(DirectoryShow,
                               DirectoryShowArgs{dir_.File("v2.pb"), "", true}))
                   .contains("changes"));

  Run(DirectoryVerify, DirectoryVerifyArgs{g, {dir_.File("v2.pb")}}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  Sign("BA", dir_.File("v2.pb"), dir_.File("v2.pb"), g);
  json j = json::parse(
      Run(DirectoryVerify, DirectoryVerifyArgs{g, {dir_.File("v2.pb")}, true}));
  EXPECT_EQ(j["ok"], true);
  ASSERT_EQ(j["versions"].size(), 2u);
  EXPECT_EQ(j["versions"][1]["version"], 2);
  EXPECT_EQ(j["versions"][1]["file"], dir_.File("v2.pb"));

  Run(DirectoryShow, DirectoryShowArgs{g, dir_.File("v2.pb")}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CommandsTest, BuildChecksAnUpdateAgainstPrevious) {
  MakeFederation();
  const std::string g = dir_.File("genesis.pb");
  json spec =
      json::parse(*Env::Default()->ReadFile(dir_.File("federation.json")));
  spec["issued_at_ms"] = 1760000000000;
  // A new OPRF key for MK must come with epoch 2.
  Run(KeyGenerate, KeyGenerateArgs{"oprf", dir_.File("MK-oprf-2")});
  spec["members"][0]["oprf_key"] = "MK-oprf-2";
  testing::WriteTextFile(dir_.File("v2.json"), spec.dump());
  absl::Status status;
  Run(DirectoryBuild,
      DirectoryBuildArgs{dir_.File("v2.json"), dir_.File("v2.pb"), 1, g},
      &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            dir_.File("v2.json") + ": not a valid update of " + g +
                ": member MK: a new OPRF key must have epoch 2 (version 1 has "
                "epoch 1), not 1");
  EXPECT_EQ(Env::Default()->ReadFile(dir_.File("v2.pb")).status().code(),
            absl::StatusCode::kNotFound);

  spec["members"][0]["oprf_epoch"] = 2;
  testing::WriteTextFile(dir_.File("v2.json"), spec.dump());
  Run(DirectoryBuild,
      DirectoryBuildArgs{dir_.File("v2.json"), dir_.File("v2.pb"), 1, g});

  // Without --previous an update is built, with a note.
  spec["version"] = 2;
  testing::WriteTextFile(dir_.File("v2b.json"), spec.dump());
  Run(DirectoryBuild,
      DirectoryBuildArgs{dir_.File("v2b.json"), dir_.File("v2b.pb"), 1, ""});
  EXPECT_NE(err_.find("note: version 2 is an update; pass --previous"),
            std::string::npos)
      << err_;

  // The issue date never goes back.
  spec["issued_at_ms"] = 1;
  testing::WriteTextFile(dir_.File("v2c.json"), spec.dump());
  Run(DirectoryBuild,
      DirectoryBuildArgs{dir_.File("v2c.json"), dir_.File("v2c.pb"), 1, g},
      &status);
  EXPECT_NE(status.message().find("issued_at_ms 1 is earlier than version 1's"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace cbx::admin
