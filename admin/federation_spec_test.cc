#include "admin/federation_spec.h"

#include <functional>

#include "absl/status/status.h"
#include "admin/file_io.h"
#include "admin/key_file.h"
#include "admin/test_support.h"
#include "core/util/bytes.h"
#include "core/util/env.h"
#include "gtest/gtest.h"

namespace cbx::admin {
namespace {

using nlohmann::json;
using testing::MakeMembers;
using testing::SpecFor;
using testing::TempDir;
using testing::TestCa2Path;
using testing::TestCaPath;
using testing::TestMember;
using testing::WriteTextFile;

class FederationSpecTest : public ::testing::Test {
 protected:
  FederationSpecTest() : members_(MakeMembers({"MK", "RS", "BA"})) {}

  absl::StatusOr<v1::Directory> Parse(const json& spec) {
    SpecContext context;
    context.base_dir = dir_.path();
    context.now_ms = 1760000000000;
    return DirectoryFromSpec(spec, context);
  }

  // The error of the spec after `edit`; fails the test if it parses.
  std::string ErrorAfter(const std::function<void(json&)>& edit) {
    json spec = SpecFor(members_, 2);
    edit(spec);
    absl::StatusOr<v1::Directory> d = Parse(spec);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument)
        << spec.dump();
    return std::string(d.status().message());
  }

  TempDir dir_;
  std::vector<TestMember> members_;
};

TEST_F(FederationSpecTest, DefaultThresholdIsAStrictMajority) {
  EXPECT_EQ(DefaultGovernanceThreshold(1), 1u);
  EXPECT_EQ(DefaultGovernanceThreshold(2), 2u);
  EXPECT_EQ(DefaultGovernanceThreshold(3), 2u);
  EXPECT_EQ(DefaultGovernanceThreshold(7), 4u);
  EXPECT_EQ(DefaultGovernanceThreshold(8), 5u);
}

TEST_F(FederationSpecTest, ParsesAFullSpecAndAppliesDefaults) {
  json spec = SpecFor(members_, 2);
  spec.erase("issued_at_ms");
  spec.erase("policy");
  spec["members"][1]["status"] = "suspended";
  absl::StatusOr<v1::Directory> d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->federation(), "cbx-test");
  EXPECT_EQ(d->version(), 1u);
  EXPECT_EQ(d->issued_at_ms(), 1760000000000);
  const v1::Policy& p = d->policy();
  EXPECT_EQ(p.governance_threshold(), 2u);
  EXPECT_EQ(p.max_message_lifetime_s(), 300u);
  EXPECT_EQ(p.max_clock_skew_s(), 60u);
  EXPECT_EQ(p.evaluations_per_peer_per_day(), 10000u);
  EXPECT_EQ(p.peer_deadline_ms(), 3000u);
  EXPECT_EQ(p.witness_threshold(), 2u);
  // The caps are written out (spec/directory.md §2 defaults), not left 0.
  EXPECT_EQ(p.max_index_tags(), 1'048'576u);
  EXPECT_EQ(p.max_index_growth_per_day(), 65'536u);
  EXPECT_EQ(p.resolves_per_peer_per_day(), 10'000u);
  ASSERT_EQ(d->members_size(), 3);
  const v1::Member& mk = d->members(0);
  EXPECT_EQ(mk.code(), "MK");
  EXPECT_EQ(mk.display_name(), "Prosecution service MK");
  EXPECT_EQ(mk.endpoint(), "localhost:7101");
  ASSERT_EQ(mk.ca_certificates_pem_size(), 1);
  EXPECT_EQ(mk.ca_certificates_pem(0).rfind("-----BEGIN CERTIFICATE-----", 0),
            0u);
  ASSERT_EQ(mk.node_keys_size(), 1);
  EXPECT_EQ(mk.node_keys(0).public_key(),
            members_[0].node.public_key().bytes());
  EXPECT_EQ(mk.node_keys(0).not_before_ms(), 0);
  EXPECT_EQ(mk.node_keys(0).not_after_ms(), 0);
  EXPECT_EQ(mk.oprf_key().public_key(), members_[0].oprf.public_key);
  EXPECT_EQ(mk.oprf_key().epoch(), 1u);
  EXPECT_EQ(mk.governance_key(), members_[0].governance.public_key().bytes());
  EXPECT_EQ(mk.status(), v1::MEMBER_STATUS_ACTIVE);
  EXPECT_EQ(d->members(1).status(), v1::MEMBER_STATUS_SUSPENDED);
}

TEST_F(FederationSpecTest, ExplicitPolicyIsKept) {
  json spec = SpecFor(members_, 3);
  spec["policy"] = {
      {"governance_threshold", 3}, {"max_message_lifetime_s", 120},
      {"max_clock_skew_s", 30},    {"evaluations_per_peer_per_day", 50},
      {"peer_deadline_ms", 1500},  {"witness_threshold", 1}};
  spec["members"][0]["oprf_epoch"] = 7;
  absl::StatusOr<v1::Directory> d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->policy().governance_threshold(), 3u);
  EXPECT_EQ(d->policy().max_message_lifetime_s(), 120u);
  EXPECT_EQ(d->policy().max_clock_skew_s(), 30u);
  EXPECT_EQ(d->policy().evaluations_per_peer_per_day(), 50u);
  EXPECT_EQ(d->policy().peer_deadline_ms(), 1500u);
  EXPECT_EQ(d->policy().witness_threshold(), 1u);
  EXPECT_EQ(d->members(0).oprf_key().epoch(), 7u);
}

TEST_F(FederationSpecTest, ExplicitCapsAreKept) {
  json spec = SpecFor(members_, 2);
  spec["policy"] = {{"max_index_tags", 5000},
                    {"max_index_growth_per_day", 100},
                    {"resolves_per_peer_per_day", 20}};
  absl::StatusOr<v1::Directory> d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->policy().max_index_tags(), 5000u);
  EXPECT_EQ(d->policy().max_index_growth_per_day(), 100u);
  EXPECT_EQ(d->policy().resolves_per_peer_per_day(), 20u);
  EXPECT_EQ(d->policy().evaluations_per_peer_per_day(), 10000u);
}

// Policy fields 10-19 (spec/cooperation.md §3): each written as given,
// left 0 (the wire's default) when absent.
TEST_F(FederationSpecTest, ExplicitCooperationPolicyIsKept) {
  json spec = SpecFor(members_, 2);
  spec["policy"] = {{"information_response_s", 3600},
                    {"preservation_receipt_s", 600},
                    {"preservation_response_s", 7200},
                    {"jit_response_s", 86400},
                    {"cooperation_requests_per_peer_per_day", 20},
                    {"watch_max_s", 604800},
                    {"withdrawn_reference_retention_s", 86400},
                    {"withdrawal_retry_s", 3600},
                    {"report_min_cell", 3},
                    {"person_certificates_required_from_ms", 1798761600000}};
  absl::StatusOr<v1::Directory> d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  const v1::Policy& p = d->policy();
  EXPECT_EQ(p.information_response_s(), 3600u);
  EXPECT_EQ(p.preservation_receipt_s(), 600u);
  EXPECT_EQ(p.preservation_response_s(), 7200u);
  EXPECT_EQ(p.jit_response_s(), 86400u);
  EXPECT_EQ(p.cooperation_requests_per_peer_per_day(), 20u);
  EXPECT_EQ(p.watch_max_s(), 604800u);
  EXPECT_EQ(p.withdrawn_reference_retention_s(), 86400u);
  EXPECT_EQ(p.withdrawal_retry_s(), 3600u);
  EXPECT_EQ(p.report_min_cell(), 3u);
  EXPECT_EQ(p.person_certificates_required_from_ms(), 1798761600000u);

  spec["policy"] = json::object();
  d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->policy().watch_max_s(), 0u);
  EXPECT_EQ(d->policy().withdrawn_reference_retention_s(), 0u);
  EXPECT_EQ(d->policy().withdrawal_retry_s(), 0u);
  EXPECT_EQ(d->policy().report_min_cell(), 0u);
  EXPECT_EQ(d->policy().person_certificates_required_from_ms(), 0u);
  // 0 kept references is a policy (delete at once), not a mistake.
  spec["policy"] = {{"withdrawn_reference_retention_s", 0}};
  d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
}

TEST_F(FederationSpecTest, CooperationPolicyErrors) {
  EXPECT_EQ(ErrorAfter([](json& s) { s["policy"]["watch_max_s"] = 0; }),
            "policy.watch_max_s: must be at least 1");
  EXPECT_EQ(ErrorAfter([](json& s) { s["policy"]["withdrawal_retry_s"] = 0; }),
            "policy.withdrawal_retry_s: must be at least 1");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["policy"]["withdrawn_reference_retention_s"] = 4294967296;
            }),
            "policy.withdrawn_reference_retention_s: 4294967296 is larger "
            "than the maximum 4294967295");
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["policy"]["withdrawal_retry_s"] = "7d"; }),
      "policy.withdrawal_retry_s: must be a non-negative integer, found "
      "a string");
  EXPECT_EQ(ErrorAfter([](json& s) { s["policy"]["report_min_cell"] = 0; }),
            "policy.report_min_cell: must be at least 1");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["policy"]["person_certificates_required_from_ms"] = -1;
            }),
            "policy.person_certificates_required_from_ms: must be a "
            "non-negative integer, found a negative integer");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["policy"]["withdrawal_retry"] = 60;
            }).rfind("policy.withdrawal_retry: unknown field", 0),
            0u);
}

TEST_F(FederationSpecTest, DerivesPublicKeysFromKeyFilesRelativeToTheSpec) {
  ASSERT_TRUE(GenerateKeyFile(KeyKind::kNode, dir_.File("node.key")).ok());
  absl::StatusOr<KeyMaterial> node =
      GenerateKeyFile(KeyKind::kNode, dir_.File("node2.key"));
  absl::StatusOr<KeyMaterial> oprf =
      GenerateKeyFile(KeyKind::kOprf, dir_.File("oprf.key"));
  absl::StatusOr<KeyMaterial> gov =
      GenerateKeyFile(KeyKind::kGovernance, dir_.File("gov.key"));
  ASSERT_TRUE(node.ok() && oprf.ok() && gov.ok());
  json spec = SpecFor(members_, 2);
  json& mk = spec["members"][0];
  mk.erase("node_signing_key_public");
  mk.erase("oprf_key_public");
  mk.erase("governance_key_public");
  mk["node_signing_key"] = "node2.key";
  mk["node_key_not_before_ms"] = 1000;
  mk["node_key_not_after_ms"] = 2000;
  mk["oprf_key"] = "oprf.key";
  mk["governance_key"] = "gov.key";
  WriteTextFile(dir_.File("ca.crt"),
                *Env::Default()->ReadFile(TestCaPath()) +
                    *Env::Default()->ReadFile(TestCa2Path()));
  mk["ca_certificate"] = "ca.crt";
  WriteTextFile(dir_.File("federation.json"), spec.dump(2));

  absl::StatusOr<v1::Directory> d =
      DirectoryFromSpecFile(dir_.File("federation.json"), SpecContext{});
  ASSERT_TRUE(d.ok()) << d.status();
  const v1::Member& m = d->members(0);
  EXPECT_EQ(m.node_keys(0).public_key(), node->public_key);
  EXPECT_EQ(m.node_keys(0).not_before_ms(), 1000);
  EXPECT_EQ(m.node_keys(0).not_after_ms(), 2000);
  EXPECT_EQ(m.oprf_key().public_key(), oprf->public_key);
  EXPECT_EQ(m.governance_key(), gov->public_key);
  // One entry per certificate in the file.
  EXPECT_EQ(m.ca_certificates_pem_size(), 2);
}

TEST_F(FederationSpecTest, NodeKeysListFormForRotation) {
  json spec = SpecFor(members_, 2);
  json& mk = spec["members"][0];
  std::string old_key = mk["node_signing_key_public"];
  mk.erase("node_signing_key_public");
  KeyMaterial next = GenerateKey(KeyKind::kNode);
  mk["node_keys"] = {{{"public_key", old_key}, {"not_after_ms", 1800000000000}},
                     {{"public_key", HexEncode(next.public_key)},
                      {"not_before_ms", 1790000000000}}};
  absl::StatusOr<v1::Directory> d = Parse(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->members(0).node_keys_size(), 2);
  EXPECT_EQ(d->members(0).node_keys(0).not_after_ms(), 1800000000000);
  EXPECT_EQ(d->members(0).node_keys(1).public_key(), next.public_key);
  EXPECT_EQ(d->members(0).node_keys(1).not_before_ms(), 1790000000000);
}

TEST_F(FederationSpecTest, ErrorsNameTheFieldPath) {
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][2].erase("endpoint"); }),
            "members[2].endpoint: missing");
  EXPECT_EQ(ErrorAfter([](json& s) { s.erase("federation"); }),
            "federation: missing");
  EXPECT_EQ(ErrorAfter([](json& s) { s.erase("members"); }),
            "members: missing");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"] = json::array(); }),
            "members: must be a non-empty array");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][0]["display_name"] = 5; }),
            "members[0].display_name: must be a string, found an integer");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][1]["code"] = "rs"; }),
            "members[1].code: \"rs\" is not an ISO 3166-1 alpha-2 code (two "
            "upper-case letters, XK for Kosovo)");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][2]["code"] = "MK"; }),
            "members[2].code: \"MK\" is already used by members[0]");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][1]["endpoint"] = "host"; }),
            "members[1].endpoint: \"host\" is not host:port");
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["members"][1]["endpoint"] = "host:70000"; }),
      "members[1].endpoint: \"host:70000\" has no valid port (1-65535)");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][0]["status"] = "gone"; }),
            "members[0].status: \"gone\" is not a status (active or "
            "suspended)");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][0]["oprf_epoch"] = 0; }),
            "members[0].oprf_epoch: must be at least 1 (epochs count from 1)");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][0]["oprf_epoch"] = -3; }),
            "members[0].oprf_epoch: must be a non-negative integer, found a "
            "negative integer");
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][0]["oprf_epoch"] = 1.5; }),
            "members[0].oprf_epoch: must be a non-negative integer, found a "
            "number");
  EXPECT_EQ(ErrorAfter([](json& s) { s["version"] = 0; }),
            "version: must be at least 1 (1 is the genesis)");
}

TEST_F(FederationSpecTest, UnknownFieldsAreRefused) {
  std::string error =
      ErrorAfter([](json& s) { s["members"][1]["enpoint"] = "x:1"; });
  EXPECT_EQ(error.rfind("members[1].enpoint: unknown field (expected one of: "
                        "code, display_name, endpoint,",
                        0),
            0u)
      << error;
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["policy"]["treshold"] = 2;
            }).rfind("policy.treshold: unknown field", 0),
            0u);
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["comment"] = "x";
            }).rfind("comment: unknown field", 0),
            0u);
  EXPECT_EQ(ErrorAfter([](json& s) { s["members"][0] = "MK"; }),
            "members[0]: must be an object, found a string");
}

TEST_F(FederationSpecTest, KeyErrors) {
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["members"][1].erase("governance_key_public");
            }),
            "members[1].governance_key_public: missing (give "
            "governance_key_public as hex or governance_key as the path of "
            "the key file)");
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["members"][1]["governance_key"] = "g.key"; }),
      "members[1].governance_key_public: give either governance_key_public "
      "or governance_key, not both");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["members"][0]["node_signing_key_public"] = "abcd";
            }),
            "members[0].node_signing_key_public: must be 32 bytes (64 hex "
            "digits), found 2 bytes");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["members"][0]["node_signing_key_public"] = std::string(64, 'x');
            }),
            "members[0].node_signing_key_public: hex string has a non-hex "
            "character");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["members"][2]["oprf_key_public"] = "04" + std::string(64, '1');
            }),
            "members[2].oprf_key_public: not a compressed P-256 point (must "
            "start with 02 or 03)");
  std::string missing = ErrorAfter([](json& s) {
    s["members"][2].erase("oprf_key_public");
    s["members"][2]["oprf_key"] = "nowhere/oprf.key";
  });
  EXPECT_EQ(missing.rfind("members[2].oprf_key: ", 0), 0u) << missing;
  EXPECT_NE(missing.find("nowhere/oprf.key"), std::string::npos) << missing;
  EXPECT_EQ(ErrorAfter([&](json& s) {
              s["members"][2]["governance_key_public"] =
                  s["members"][0]["governance_key_public"];
            }),
            "members[2].governance_key: same key as members[0]");
  EXPECT_EQ(ErrorAfter([&](json& s) {
              s["members"][1]["node_key_not_before_ms"] = 5000;
              s["members"][1]["node_key_not_after_ms"] = 5000;
            }),
            "members[1].node_key_not_after_ms: must be after "
            "node_key_not_before_ms (or 0 for open-ended)");
  EXPECT_EQ(ErrorAfter(
                [&](json& s) { s["members"][1]["node_keys"] = json::array(); }),
            "members[1].node_keys: give either node_keys or "
            "node_signing_key[_public] with "
            "node_key_not_before_ms/node_key_not_after_ms, not both");
  EXPECT_EQ(ErrorAfter([&](json& s) {
              s["members"][1].erase("node_signing_key_public");
              s["members"][1]["node_keys"] = {{{"public_key", "00"}}};
            }),
            "members[1].node_keys[0].public_key: must be 32 bytes (64 hex "
            "digits), found 1 bytes");
}

TEST_F(FederationSpecTest, CertificateErrors) {
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["members"][0].erase("ca_certificate"); }),
      "members[0].ca_certificate: missing (the path of the national CA "
      "certificate, PEM)");
  std::string absent = ErrorAfter(
      [](json& s) { s["members"][0]["ca_certificate"] = "absent.crt"; });
  EXPECT_EQ(absent.rfind("members[0].ca_certificate: ", 0), 0u) << absent;
  EXPECT_NE(absent.find("absent.crt"), std::string::npos);

  WriteTextFile(
      dir_.File("key.pem"),
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  EXPECT_EQ(ErrorAfter(
                [](json& s) { s["members"][1]["ca_certificate"] = "key.pem"; }),
            "members[1].ca_certificate: key.pem: holds a private key; give the "
            "CA certificate only (and keep the CA's key away from this "
            "machine)");
  WriteTextFile(dir_.File("empty.pem"), "hello\n");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["members"][1]["ca_certificate"] = "empty.pem";
            }),
            "members[1].ca_certificate: empty.pem: no PEM certificate found");
  WriteTextFile(
      dir_.File("broken.pem"),
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  std::string broken = ErrorAfter(
      [](json& s) { s["members"][1]["ca_certificates"] = {"broken.pem"}; });
  // ca_certificate (from the test spec) and ca_certificates both present.
  EXPECT_EQ(broken,
            "members[1].ca_certificate: give either ca_certificate or "
            "ca_certificates, not both");
  broken = ErrorAfter([](json& s) {
    s["members"][1].erase("ca_certificate");
    s["members"][1]["ca_certificates"] = {TestCaPath(), "broken.pem"};
  });
  EXPECT_EQ(broken.rfind("members[1].ca_certificates[1]: broken.pem: "
                         "certificate 1 does not parse",
                         0),
            0u)
      << broken;
}

TEST_F(FederationSpecTest, PolicyErrors) {
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["policy"]["governance_threshold"] = 4; }),
      "policy.governance_threshold: 4 is more than the 3 members who could "
      "sign");
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["policy"]["governance_threshold"] = 0; }),
      "policy.governance_threshold: must be at least 1");
  EXPECT_EQ(ErrorAfter([](json& s) { s["policy"]["witness_threshold"] = 3; }),
            "policy.witness_threshold: 3 is more than the 2 peers who could "
            "cosign a checkpoint");
  EXPECT_EQ(ErrorAfter([](json& s) { s["policy"]["peer_deadline_ms"] = "3s"; }),
            "policy.peer_deadline_ms: must be a non-negative integer, found a "
            "string");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["policy"]["max_message_lifetime_s"] = 4294967296;
            }),
            "policy.max_message_lifetime_s: 4294967296 is larger than the "
            "maximum 4294967295");
  EXPECT_EQ(ErrorAfter([](json& s) { s["policy"]["max_index_tags"] = 0; }),
            "policy.max_index_tags: must be at least 1");
  EXPECT_EQ(
      ErrorAfter([](json& s) { s["policy"]["max_index_growth_per_day"] = 0; }),
      "policy.max_index_growth_per_day: must be at least 1");
  EXPECT_EQ(ErrorAfter(
                [](json& s) { s["policy"]["resolves_per_peer_per_day"] = -1; }),
            "policy.resolves_per_peer_per_day: must be a non-negative integer, "
            "found a negative integer");
  EXPECT_EQ(ErrorAfter([](json& s) {
              s["policy"]["max_index_tag"] = 10;
            }).rfind("policy.max_index_tag: unknown field", 0),
            0u);
}

TEST_F(FederationSpecTest, SyntaxErrorsSayWhere) {
  SpecContext context;
  absl::StatusOr<v1::Directory> d =
      DirectoryFromSpecText("{\"federation\": \"x\",\n}", context);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message().rfind("not valid JSON: ", 0), 0u);
  EXPECT_NE(d.status().message().find("line 2"), std::string::npos)
      << d.status();
  d = DirectoryFromSpecText("[]", context);
  EXPECT_EQ(d.status().message(),
            "(top level): must be an object, found an array");
}

TEST_F(FederationSpecTest, FileErrorsArePrefixedWithTheSpecPath) {
  WriteTextFile(dir_.File("f.json"), "{\"members\": []}");
  absl::StatusOr<v1::Directory> d =
      DirectoryFromSpecFile(dir_.File("f.json"), SpecContext{});
  EXPECT_EQ(d.status().message(),
            dir_.File("f.json") + ": federation: missing");
  EXPECT_EQ(DirectoryFromSpecFile(dir_.File("none.json"), SpecContext{})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(SplitPemCertificatesTest, SplitsConcatenatedCertificates) {
  std::string a = *Env::Default()->ReadFile(TestCaPath());
  std::string b = *Env::Default()->ReadFile(TestCa2Path());
  absl::StatusOr<std::vector<std::string>> certs =
      SplitPemCertificates("junk before\n" + a + "\n" + b);
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0], a);
  EXPECT_EQ((*certs)[1], b);
  EXPECT_EQ(SplitPemCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n")
                .status()
                .message(),
            "a PEM certificate has no END line");
}

}  // namespace
}  // namespace cbx::admin
