// The governance workflow of cbx-admin: propose from the current version
// and a change file, cosign offline into one file per key holder, combine
// and check k of n (admin/directory_change.h, admin/signature_file.h), and
// every refusal with its code.
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "admin/commands.h"
#include "admin/directory_change.h"
#include "admin/file_io.h"
#include "admin/key_file.h"
#include "admin/signature_file.h"
#include "admin/test_support.h"
#include "core/crypto/testing/test_pki.h"
#include "core/directory/directory.h"
#include "core/util/env.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {
namespace {

using nlohmann::json;
using testing::TempDir;

class GovernanceTest : public ::testing::Test {
 protected:
  // MK, RS and BA with key files; a genesis (threshold 2) signed by MK and
  // RS in genesis.pb.
  GovernanceTest() {
    json members = json::array();
    int port = 7101;
    for (const std::string code : {"MK", "RS", "BA"}) {
      for (const char* kind : {"node", "governance", "oprf"}) {
        auto key =
            GenerateKeyFile(*ParseKeyKind(kind), dir_.File(code + "-" + kind));
        EXPECT_TRUE(key.ok()) << key.status();
      }
      members.push_back({{"code", code},
                         {"display_name", "Prosecution " + code},
                         {"endpoint", "localhost:" + std::to_string(port++)},
                         {"ca_certificate", testing::TestCaPath()},
                         {"node_signing_key", code + "-node"},
                         {"oprf_key", code + "-oprf"},
                         {"governance_key", code + "-governance"}});
    }
    json spec = {{"federation", "cbx-test"},
                 {"issued_at_ms", 1750000000000},
                 {"policy", {{"governance_threshold", 2}}},
                 {"members", members}};
    testing::WriteTextFile(dir_.File("federation.json"), spec.dump(2));
    Expect(DirectoryBuild(
        DirectoryBuildArgs{dir_.File("federation.json"),
                           dir_.File("genesis.pb"), 1750000000000, ""},
        out_, err_));
    for (const std::string code : {"MK", "RS"}) {
      Expect(DirectorySign(DirectorySignArgs{dir_.File("genesis.pb"), code,
                                             dir_.File(code + "-governance"),
                                             dir_.File("genesis.pb"), ""},
                           out_, err_));
    }
  }

  void Expect(const absl::Status& s) { ASSERT_TRUE(s.ok()) << s; }

  absl::Status Propose(const json& changes, const std::string& out) {
    testing::WriteTextFile(dir_.File("changes.json"), changes.dump(2));
    out_.str("");
    return DirectoryPropose(
        DirectoryProposeArgs{dir_.File("genesis.pb"), dir_.File("changes.json"),
                             dir_.File(out), 1760000000000},
        out_, err_);
  }
  absl::Status Cosign(const std::string& proposal, const std::string& member,
                      const std::string& key_of, const std::string& out) {
    return DirectoryCosign(
        DirectoryCosignArgs{dir_.File(proposal), member,
                            dir_.File(key_of + "-governance"),
                            dir_.File("genesis.pb"), dir_.File(out)},
        out_, err_);
  }
  absl::Status Combine(const std::vector<std::string>& sigs,
                       const std::string& out = "v2.pb") {
    std::vector<std::string> paths;
    for (const std::string& s : sigs) paths.push_back(dir_.File(s));
    out_.str("");
    return DirectoryCombine(
        DirectoryCombineArgs{dir_.File("v2-proposal.pb"), paths,
                             dir_.File("genesis.pb"), dir_.File(out)},
        out_, err_);
  }
  json ReadJson(const std::string& name) {
    return json::parse(*Env::Default()->ReadFile(dir_.File(name)));
  }
  bool Exists(const std::string& name) {
    return Env::Default()->ReadFile(dir_.File(name)).ok();
  }
  // MK's pair: its second node at cbx-b.mk.example:7443.
  const json set_mk_standby_ = {
      {"changes",
       json::array({{{"set_standby_endpoints",
                      {{"member", "MK"},
                       {"endpoints", {"cbx-b.mk.example:7443"}}}}}})}};
  // A simple valid change: suspend BA.
  static json SuspendBa() {
    return {{"changes", json::array({{{"suspend", "BA"}}})}};
  }

  TempDir dir_;
  std::ostringstream out_, err_;
};

TEST_F(GovernanceTest, ProposeCosignCombineGivesAVersionNodesAdopt) {
  json changes = {
      {"changes",
       json::array(
           {{{"suspend", "BA"}},
            {{"add_ca",
              {{"member", "RS"}, {"ca_certificate", testing::TestCa2Path()}}}},
            {{"policy", {{"max_message_lifetime_s", 600}}}},
            {{"update_member",
              {{"member", "MK"}, {"endpoint", "cbx.mk.example:443"}}}}})}};
  Expect(Propose(changes, "v2-proposal.pb"));
  const std::string diff = out_.str();
  EXPECT_TRUE(absl::StrContains(diff, "version 1 -> 2 of cbx-test")) << diff;
  EXPECT_TRUE(absl::StrContains(diff, "~ BA status: active -> suspended"))
      << diff;
  EXPECT_TRUE(absl::StrContains(diff, "~ RS CA added: sha256 ")) << diff;
  EXPECT_TRUE(
      absl::StrContains(diff, "~ policy.max_message_lifetime_s: 300 -> 600"))
      << diff;
  EXPECT_TRUE(absl::StrContains(
      diff, "~ MK endpoint: localhost:7101 -> cbx.mk.example:443"))
      << diff;
  EXPECT_TRUE(absl::StrContains(diff, "it needs 2 of 3 governance signatures"))
      << diff;

  Expect(Cosign("v2-proposal.pb", "MK", "MK", "MK.sig"));
  Expect(Cosign("v2-proposal.pb", "BA", "BA", "BA.sig"));
  EXPECT_EQ(ReadJson("MK.sig")["member"], "MK");
  EXPECT_EQ(ReadJson("MK.sig")["version"], 2);
  Expect(Combine({"MK.sig", "BA.sig"}));
  EXPECT_TRUE(absl::StrContains(out_.str(),
                                "2 valid governance signatures, 2 of 3 needed"))
      << out_.str();

  // What every node does with it: adopt it as the successor of the genesis.
  auto genesis = directory::Directory::FromGenesis(
      *ReadSignedDirectory(dir_.File("genesis.pb")));
  ASSERT_TRUE(genesis.ok()) << genesis.status();
  auto v2 = (*genesis)->Adopt(*ReadSignedDirectory(dir_.File("v2.pb")));
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_FALSE((*v2)->IsActive("BA"));
  EXPECT_EQ((*v2)->policy().max_message_lifetime_s(), 600u);
}

TEST_F(GovernanceTest, AddRemoveAndReplaceKeys) {
  auto xk_gov = GenerateKeyFile(KeyKind::kGovernance, dir_.File("XK-gov"));
  auto xk_node = GenerateKeyFile(KeyKind::kNode, dir_.File("XK-node"));
  auto xk_oprf = GenerateKeyFile(KeyKind::kOprf, dir_.File("XK-oprf"));
  auto rs_oprf2 = GenerateKeyFile(KeyKind::kOprf, dir_.File("RS-oprf-2"));
  auto rs_gov2 = GenerateKeyFile(KeyKind::kGovernance, dir_.File("RS-gov-2"));
  ASSERT_TRUE(xk_gov.ok() && xk_node.ok() && xk_oprf.ok() && rs_oprf2.ok() &&
              rs_gov2.ok());
  json changes = {
      {"changes", json::array({{{"add_member",
                                 {{"code", "XK"},
                                  {"display_name", "Prosecution XK"},
                                  {"endpoint", "localhost:7104"},
                                  {"ca_certificate", testing::TestCaPath()},
                                  {"node_signing_key", "XK-node"},
                                  {"oprf_key", "XK-oprf"},
                                  {"governance_key", "XK-gov"}}}},
                               {{"remove", "BA"}},
                               {{"replace_keys",
                                 {{"member", "RS"},
                                  {"oprf_key", "RS-oprf-2"},
                                  {"governance_key", "RS-gov-2"}}}}})}};
  Expect(Propose(changes, "v2-proposal.pb"));
  const std::string diff = out_.str();
  EXPECT_TRUE(absl::StrContains(diff, "+ member XK (Prosecution XK)")) << diff;
  EXPECT_TRUE(absl::StrContains(diff, "- member BA (Prosecution BA) removed"))
      << diff;
  EXPECT_TRUE(absl::StrContains(diff, "~ RS OPRF key: ")) << diff;
  EXPECT_TRUE(absl::StrContains(diff, "epoch 1 -> ")) << diff;
  EXPECT_TRUE(absl::StrContains(diff, "~ RS governance key: ")) << diff;
  auto proposal = ReadSignedDirectory(dir_.File("v2-proposal.pb"));
  ASSERT_TRUE(proposal.ok());
  v1::Directory d;
  ASSERT_TRUE(d.ParseFromString(proposal->directory()));
  EXPECT_EQ(d.members_size(), 3);
  EXPECT_EQ(d.members(1).oprf_key().epoch(), 2u);  // the rotation rule

  // Signed with the keys of version 1: RS's old governance key counts.
  Expect(Cosign("v2-proposal.pb", "RS", "RS", "RS.sig"));
  Expect(Cosign("v2-proposal.pb", "BA", "BA", "BA.sig"));
  Expect(Combine({"RS.sig", "BA.sig"}));
}

TEST_F(GovernanceTest, ProposeRefusesWhatNodesWouldRefuse) {
  struct Case {
    json change;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{{"frobnicate", "BA"}}, "unknown operation \"frobnicate\""},
      {{{"suspend", "XK"}}, "changes[0].suspend: no member XK"},
      {{{"reactivate", "BA"}}, "BA is already active"},
      {{{"remove_ca", {{"member", "RS"}, {"sha256", "00ff"}}}},
       "RS lists no CA with fingerprint 00ff"},
      {{{"add_ca",
         {{"member", "RS"}, {"ca_certificate", testing::TestCaPath()}}}},
       "lists CA"},
      {{{"policy", {{"governance_threshold", 4}}}}, "governance_threshold"},
      {{{"policy", {{"max_lifetime", 4}}}}, "unknown field"},
      {{{"replace_keys", {{"member", "RS"}}}}, "names no key to replace"},
  };
  for (const Case& c : cases) {
    absl::Status s = Propose({{"changes", json::array({c.change})}}, "p.pb");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.change;
    EXPECT_TRUE(absl::StrContains(s.message(), c.says)) << s << " / " << c.says;
    EXPECT_FALSE(Exists("p.pb"));
  }
  // Adding a member who is one already.
  json again = {
      {"changes", json::array({{{"add_member",
                                 {{"code", "MK"},
                                  {"display_name", "x"},
                                  {"endpoint", "localhost:1"},
                                  {"ca_certificate", testing::TestCaPath()},
                                  {"node_signing_key", "MK-node"},
                                  {"oprf_key", "MK-oprf"},
                                  {"governance_key", "MK-governance"}}}}})}};
  absl::Status s = Propose(again, "p.pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  // An OPRF key replaced with the same epoch breaks the rotation rule.
  ASSERT_TRUE(GenerateKeyFile(KeyKind::kOprf, dir_.File("RS-oprf-2")).ok());
  s = Propose({{"changes", json::array({{{"replace_keys",
                                          {{"member", "RS"},
                                           {"oprf_key", "RS-oprf-2"},
                                           {"oprf_epoch", 1}}}}})}},
              "p.pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST_F(GovernanceTest, SetStandbyEndpointsRefusesWhatNodesWouldRefuse) {
  auto set = [](json endpoints) {
    return json{
        {"changes", json::array({{{"set_standby_endpoints",
                                   {{"member", "MK"},
                                    {"endpoints", std::move(endpoints)}}}}})}};
  };
  const struct {
    json endpoints;
    std::string message;
  } refused[] = {
      {"b.mk.example:7443",
       "set_standby_endpoints.endpoints: must be an array of host:port"},
      {{"b.mk.example"},
       "set_standby_endpoints.endpoints[0]: \"b.mk.example\" is not "
       "host:port"},
      {{"b.mk.example:70000"},
       "endpoints[0]: \"b.mk.example:70000\" has no "
       "valid port"},
      {{"localhost:7101"},
       "endpoints[0]: \"localhost:7101\" is MK's endpoint already"},
      {{"b.mk.example:7443", "b.mk.example:7443"},
       "endpoints[1]: \"b.mk.example:7443\" is listed twice"},
      {{"b:1", "c:1", "d:1", "e:1"}, "endpoints: lists 4 endpoints; at most 3"},
      {{7443}, "endpoints[0]: must be host:port"},
  };
  for (const auto& r : refused) {
    SCOPED_TRACE(r.endpoints.dump());
    absl::Status s = Propose(set(r.endpoints), "p.pb");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), r.message)) << s;
    EXPECT_FALSE(Exists("p.pb"));
  }
  absl::Status missing = Propose(
      {{"changes",
        json::array({{{"set_standby_endpoints", {{"member", "MK"}}}}})}},
      "p.pb");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument) << missing;
  EXPECT_TRUE(absl::StrContains(missing.message(), "endpoints: missing"))
      << missing;
}

TEST_F(GovernanceTest, SetStandbyEndpointsIsShownAndAdopted) {
  Expect(Propose(set_mk_standby_, "v2-proposal.pb"));
  EXPECT_TRUE(absl::StrContains(
      out_.str(), "~ MK standby endpoints: none -> [cbx-b.mk.example:7443]"))
      << out_.str();
  Expect(Cosign("v2-proposal.pb", "RS", "RS", "rs.sig"));
  Expect(Cosign("v2-proposal.pb", "MK", "MK", "mk.sig"));
  Expect(Combine({"rs.sig", "mk.sig"}));
  auto v2 = ReadSignedDirectory(dir_.File("v2.pb"));
  ASSERT_TRUE(v2.ok()) << v2.status();
  auto genesis = ReadSignedDirectory(dir_.File("genesis.pb"));
  ASSERT_TRUE(genesis.ok()) << genesis.status();
  auto adopted = (*directory::Directory::FromGenesis(*genesis))->Adopt(*v2);
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  EXPECT_EQ((*adopted)->FindMember("MK")->standby_endpoints(0),
            "cbx-b.mk.example:7443");

  // `directory show` prints them; with --previous, the change too.
  out_.str("");
  Expect(DirectoryShow(
      DirectoryShowArgs{dir_.File("v2.pb"), dir_.File("genesis.pb"), false},
      out_, err_));
  EXPECT_TRUE(absl::StrContains(
      out_.str(), "      standby         cbx-b.mk.example:7443\n"))
      << out_.str();
  EXPECT_TRUE(absl::StrContains(
      out_.str(), "~ MK standby endpoints: none -> [cbx-b.mk.example:7443]"))
      << out_.str();
  out_.str("");
  Expect(DirectoryShow(DirectoryShowArgs{dir_.File("v2.pb"), "", true}, out_,
                       err_));
  json shown = json::parse(out_.str());
  EXPECT_EQ(shown["members"][0]["standby_endpoints"],
            json::array({"cbx-b.mk.example:7443"}));
  EXPECT_FALSE(shown["members"][1].contains("standby_endpoints"));
}

TEST_F(GovernanceTest, SetCrlsListsACrlOfTheMembersOwnCa) {
  // RS gains a CA made here (so a CRL of it can be signed) and its CRL.
  const int64_t now = 1760000000;
  auto ca = crypto::testing::MakeTestCa("cbx test CA RS 2027", now - 86400,
                                        now + 86400 * 365);
  auto other = crypto::testing::MakeTestCa("cbx test CA elsewhere", now - 86400,
                                           now + 86400 * 365);
  testing::WriteTextFile(dir_.File("rs-ca.crt"), ca.certificate_pem);
  testing::WriteTextFile(dir_.File("rs.crl"),
                         crypto::testing::MakeTestCrl(ca, {0x20}, now, 0));
  testing::WriteTextFile(dir_.File("other.crl"),
                         crypto::testing::MakeTestCrl(other, {0x20}, now, 0));
  const json add_ca = {
      {"add_ca",
       {{"member", "RS"}, {"ca_certificate", dir_.File("rs-ca.crt")}}}};

  // A CRL of a CA RS does not list is refused, as nodes would.
  absl::Status s = Propose(
      {{"changes",
        json::array(
            {add_ca,
             {{"set_crls", {{"member", "RS"}, {"crls", {"other.crl"}}}}}})}},
      "p.pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(), "changes[1].set_crls.crls[0]: not a CRL of a CA of RS"))
      << s;

  Expect(Propose(
      {{"changes",
        json::array(
            {add_ca,
             {{"set_crls", {{"member", "RS"}, {"crls", {"rs.crl"}}}}}})}},
      "v2-proposal.pb"));
  EXPECT_TRUE(absl::StrContains(
      out_.str(), "~ RS CRL added: CN = cbx test CA RS 2027, 1 revoked"))
      << out_.str();
  auto proposal = ReadSignedDirectory(dir_.File("v2-proposal.pb"));
  ASSERT_TRUE(proposal.ok()) << proposal.status();
  v1::Directory d;
  ASSERT_TRUE(d.ParseFromString(proposal->directory()));
  for (const v1::Member& m : d.members()) {
    EXPECT_EQ(m.crls_pem_size(), m.code() == "RS" ? 1 : 0) << m.code();
  }
}

TEST_F(GovernanceTest, CombineRefusesEachBadSignatureWithItsCode) {
  Expect(Propose(SuspendBa(), "v2-proposal.pb"));
  Expect(Cosign("v2-proposal.pb", "MK", "MK", "MK.sig"));
  Expect(Cosign("v2-proposal.pb", "RS", "RS", "RS.sig"));

  // The same member twice.
  testing::WriteTextFile(dir_.File("MK-copy.sig"), ReadJson("MK.sig").dump());
  absl::Status s = Combine({"MK.sig", "MK-copy.sig"});
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "a second signature of MK")) << s;

  // A signer who is not a member of version 1.
  json xk = ReadJson("MK.sig");
  xk["member"] = "XK";
  testing::WriteTextFile(dir_.File("XK.sig"), xk.dump());
  s = Combine({"MK.sig", "XK.sig"});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "XK is not a member of version 1"))
      << s;

  // A signature made with another key than the member's governance key.
  json wrong = ReadJson("RS.sig");
  wrong["member"] = "BA";
  testing::WriteTextFile(dir_.File("BA-wrong.sig"), wrong.dump());
  s = Combine({"MK.sig", "BA-wrong.sig"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "does not verify with BA's")) << s;

  // A signature over another proposal...
  json other_change = {{"changes", json::array({{{"suspend", "RS"}}})}};
  Expect(Propose(other_change, "other.pb"));
  Expect(Cosign("other.pb", "BA", "BA", "BA-other.sig"));
  s = Combine({"MK.sig", "BA-other.sig"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "BA signed other bytes")) << s;
  // ... even when its file claims the right digest.
  json lying = ReadJson("BA-other.sig");
  lying["directory_sha256"] = ReadJson("MK.sig")["directory_sha256"];
  testing::WriteTextFile(dir_.File("BA-lying.sig"), lying.dump());
  s = Combine({"MK.sig", "BA-lying.sig"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;

  // Too few.
  s = Combine({"MK.sig"});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(
      absl::StrContains(s.message(), "only 1 valid signature(s) of the 2 of 3"))
      << s;

  // Not a signature file.
  testing::WriteTextFile(dir_.File("junk.sig"), "hello");
  EXPECT_EQ(Combine({"MK.sig", "junk.sig"}).code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_FALSE(Exists("v2.pb"));  // nothing written by any refusal
  Expect(Combine({"MK.sig", "RS.sig"}));
  EXPECT_TRUE(Exists("v2.pb"));
}

TEST_F(GovernanceTest, CosignRefusesAWrongKeyAndNeverOverwrites) {
  Expect(Propose(SuspendBa(), "v2-proposal.pb"));
  absl::Status s = Cosign("v2-proposal.pb", "RS", "MK", "RS.sig");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  s = Cosign("v2-proposal.pb", "XK", "MK", "XK.sig");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_FALSE(Exists("RS.sig"));
  Expect(Cosign("v2-proposal.pb", "MK", "MK", "MK.sig"));
  s = Cosign("v2-proposal.pb", "RS", "RS", "MK.sig");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(ReadJson("MK.sig")["member"], "MK");
}

}  // namespace
}  // namespace cbx::admin
