#include "core/directory/testing/test_federation.h"

#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"

namespace cbx::directory::testing {
namespace {

// Made once with Python's `cryptography` from the Ed25519 seed
// SHA-256("cbx test ca" || 0x00 || code), serial and dates fixed, so that the
// test directories carry real, parseable certificates.
const std::map<std::string, std::string, std::less<>>& CaPems() {
  static const auto* pems = new std::map<std::string, std::string, std::less<>>{
      {"MK",
       "-----BEGIN CERTIFICATE-----\n"
       "MIIBZDCCARagAwIBAgIIcALFjR++iEcwBQYDK2VwMEQxCzAJBgNVBAYTAk1LMRww\n"
       "GgYDVQQKDBNjYnggdGVzdCBmZWRlcmF0aW9uMRcwFQYDVQQDDA5jYnggdGVzdCBD\n"
       "QSBNSzAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMEQxCzAJBgNVBAYT\n"
       "Ak1LMRwwGgYDVQQKDBNjYnggdGVzdCBmZWRlcmF0aW9uMRcwFQYDVQQDDA5jYngg\n"
       "dGVzdCBDQSBNSzAqMAUGAytlcAMhAJUIBaJcBWLVJy1/exFw1me4RNxIPSfri7EJ\n"
       "hmPeeTzRoyYwJDASBgNVHRMBAf8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBBjAF\n"
       "BgMrZXADQQCsxP0in8R+9OJZ32YKhthYHAs/5oeD5Nz4MU9G/B9QR22U08oktCoK\n"
       "NijGuUkEE3d1/EPryeSYSLKOVDkGNF4F\n"
       "-----END CERTIFICATE-----\n"},
      {"RS",
       "-----BEGIN CERTIFICATE-----\n"
       "MIIBZTCCARegAwIBAgIJAL33etDBz07dMAUGAytlcDBEMQswCQYDVQQGEwJSUzEc\n"
       "MBoGA1UECgwTY2J4IHRlc3QgZmVkZXJhdGlvbjEXMBUGA1UEAwwOY2J4IHRlc3Qg\n"
       "Q0EgUlMwHhcNMjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAwWjBEMQswCQYDVQQG\n"
       "EwJSUzEcMBoGA1UECgwTY2J4IHRlc3QgZmVkZXJhdGlvbjEXMBUGA1UEAwwOY2J4\n"
       "IHRlc3QgQ0EgUlMwKjAFBgMrZXADIQAsGOoroQoY9CMxoIMDNObKYwUJurpyu4zj\n"
       "8rsbJ6qwX6MmMCQwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYw\n"
       "BQYDK2VwA0EAAarCBAqX86N+2ctASWSCRnEV4h6J/exd0LRu383kFnb8pXyXx2v7\n"
       "H9cpXg/sWlBGj1GimnCQOBKDsyWzt2VLDA==\n"
       "-----END CERTIFICATE-----\n"},
      {"AL",
       "-----BEGIN CERTIFICATE-----\n"
       "MIIBZTCCARegAwIBAgIJAPCvGv79Qd1hMAUGAytlcDBEMQswCQYDVQQGEwJBTDEc\n"
       "MBoGA1UECgwTY2J4IHRlc3QgZmVkZXJhdGlvbjEXMBUGA1UEAwwOY2J4IHRlc3Qg\n"
       "Q0EgQUwwHhcNMjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAwWjBEMQswCQYDVQQG\n"
       "EwJBTDEcMBoGA1UECgwTY2J4IHRlc3QgZmVkZXJhdGlvbjEXMBUGA1UEAwwOY2J4\n"
       "IHRlc3QgQ0EgQUwwKjAFBgMrZXADIQAaRUcgCObQw+3iKQwGOUYKo5TH4m4j6JIu\n"
       "LiyoX98uXaMmMCQwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYw\n"
       "BQYDK2VwA0EAgluGJ7l4C8Ko1WklPtqqNxCeeBhYk3WUodKqSSTVBXrsgsxS/b1K\n"
       "sZ3zxKdn0Qo/+Fv4/KnDF0U4fD/Km5ybBg==\n"
       "-----END CERTIFICATE-----\n"},
  };
  return *pems;
}

// (code, epoch) -> (scalar, compressed public key), computed with Python's
// `cryptography` from the derivation in the header.
struct OprfTestKey {
  const char* code;
  uint32_t epoch;
  const char* scalar_hex;
  const char* public_key_hex;
};
constexpr OprfTestKey kOprfKeys[] = {
    {"MK", 1,
     "5f006535a17c632599e5c23aa3432c404b1ab19c23e168370ad92f51d8ef45be",
     "033953740689f0395321bc875deae2d154d9d252fa20b17ae89e777bdd9d47d024"},
    {"MK", 2,
     "47ab305eec36984c218d4f3b45a37a34e53d67e596825a1b19d1e2b8fd3ff6ef",
     "02c5adeacde3a58322b49885ac056512ddd58efd6ac51dc921b8fb8eaf9574ce1a"},
    {"RS", 1,
     "b7bc39d591e040e9bba7db09dbfab24a8feb73f59a0a45840154b55e0ef4ac58",
     "02f2759c0e69f6f269a2c2b7b2e6f9fb25cb6a5a9c8e608c078fd75427e3711fe8"},
    {"RS", 2,
     "9c9d532074f9325a926ba74aa8ca0e6cbcc21e3503c04311b8fc46f8dc25b214",
     "02998d548a80b1bc3190bbff850cc119fa5c9a4f1436bb5f44965f0c7ba97d0479"},
    {"AL", 1,
     "350589b8225f4a00b63c213d69a6ce7b1e48f169d41028c46e4c464da65ebd89",
     "024e20d63b2a537ad460996cd2a858b007951493c6dd3e344c85e33eedd9ac7100"},
    {"AL", 2,
     "9b18b4805a39b8367334e471da83f7d1e744e2476a2d36762453d396346815cd",
     "037788458cab04fac3e4fdc917a13770dfe360085ebfe25b17528f72c9d7f18697"},
};

const OprfTestKey& FindOprf(std::string_view code, uint32_t epoch) {
  for (const OprfTestKey& k : kOprfKeys) {
    if (code == k.code && epoch == k.epoch) return k;
  }
  std::abort();  // Test fixture misuse.
}

Bytes MustHex(const char* hex) {
  auto b = HexDecode(hex);
  if (!b.ok()) std::abort();
  return *std::move(b);
}

v1::NodeKey* FindNodeKey(v1::Member& m, std::string_view label) {
  const Bytes pub = TestKey(label).public_key().bytes();
  for (v1::NodeKey& k : *m.mutable_node_keys()) {
    if (k.public_key() == pub) return &k;
  }
  std::abort();
}

v1::Member& Member(v1::Directory& d, std::string_view code) {
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() == code) return m;
  }
  std::abort();
}

}  // namespace

Bytes TestSeed(std::string_view label) {
  Bytes input = "cbx test seed";
  input.push_back('\0');
  input.append(label);
  return crypto::Sha256(input);
}

crypto::Ed25519PrivateKey TestKey(std::string_view label) {
  auto key = crypto::Ed25519PrivateKey::FromSeed(TestSeed(label));
  if (!key.ok()) std::abort();
  return *std::move(key);
}

Bytes TestKeyId(std::string_view label) {
  return NodeKeyId(TestKey(label).public_key().bytes());
}

std::string TestCaPem(std::string_view code) {
  auto it = CaPems().find(code);
  if (it == CaPems().end()) std::abort();
  return it->second;
}

Bytes TestOprfScalar(std::string_view code, uint32_t epoch) {
  return MustHex(FindOprf(code, epoch).scalar_hex);
}

Bytes TestOprfPublicKey(std::string_view code, uint32_t epoch) {
  return MustHex(FindOprf(code, epoch).public_key_hex);
}

v1::Member TestMember(std::string_view code) {
  static const auto* names =
      new std::map<std::string, std::string, std::less<>>{
          {"MK", "North Macedonia - Public Prosecutor's Office"},
          {"RS", "Serbia - Republic Public Prosecutor's Office"},
          {"AL", "Albania - General Prosecutor's Office"},
      };
  const std::string c(code);
  v1::Member m;
  m.set_code(c);
  auto name = names->find(code);
  m.set_display_name(name == names->end() ? c : name->second);
  std::string host = c;
  for (char& ch : host) ch = static_cast<char>(ch - 'A' + 'a');
  m.set_endpoint(absl::StrCat("cbx.", host, ".example:7443"));
  m.add_ca_certificates_pem(TestCaPem(c));
  v1::NodeKey* nk = m.add_node_keys();
  nk->set_public_key(TestKey(absl::StrCat(c, "/node/1")).public_key().bytes());
  nk->set_not_before_ms(0);
  nk->set_not_after_ms(0);
  m.mutable_oprf_key()->set_public_key(TestOprfPublicKey(c, 1));
  m.mutable_oprf_key()->set_epoch(1);
  m.set_status(v1::MEMBER_STATUS_ACTIVE);
  m.set_governance_key(
      TestKey(absl::StrCat(c, "/governance/1")).public_key().bytes());
  return m;
}

v1::Directory GenesisDirectory() {
  v1::Directory d;
  d.set_federation(std::string(kFederation));
  d.set_version(1);
  d.set_issued_at_ms(kGenesisIssuedAtMs);
  v1::Policy* p = d.mutable_policy();
  p->set_governance_threshold(2);
  p->set_max_message_lifetime_s(300);
  p->set_max_clock_skew_s(60);
  p->set_evaluations_per_peer_per_day(10000);
  p->set_peer_deadline_ms(2000);
  p->set_witness_threshold(2);
  for (const char* code : {"MK", "RS", "AL"}) {
    *d.add_members() = TestMember(code);
  }
  // MK's first node key starts at the genesis.
  FindNodeKey(Member(d, "MK"), "MK/node/1")
      ->set_not_before_ms(kGenesisIssuedAtMs);
  return d;
}

v1::Directory V2Directory() {
  v1::Directory d = GenesisDirectory();
  d.set_version(2);
  d.set_issued_at_ms(kV2IssuedAtMs);
  v1::Member& mk = Member(d, "MK");
  FindNodeKey(mk, "MK/node/1")->set_not_after_ms(kMkNode1NotAfterMs);
  v1::NodeKey* mk2 = mk.add_node_keys();
  mk2->set_public_key(TestKey("MK/node/2").public_key().bytes());
  mk2->set_not_before_ms(kMkNode2NotBeforeMs);
  mk.mutable_oprf_key()->set_public_key(TestOprfPublicKey("MK", 2));
  mk.mutable_oprf_key()->set_epoch(2);
  v1::Member& rs = Member(d, "RS");
  rs.set_governance_key(TestKey("RS/governance/2").public_key().bytes());
  v1::NodeKey* rs2 = rs.add_node_keys();
  rs2->set_public_key(TestKey("RS/node/2").public_key().bytes());
  rs2->set_not_before_ms(kRsNode2NotBeforeMs);
  Member(d, "AL").set_status(v1::MEMBER_STATUS_SUSPENDED);
  return d;
}

v1::Directory V3Directory() {
  v1::Directory d = V2Directory();
  d.set_version(3);
  d.set_issued_at_ms(kV3IssuedAtMs);
  d.mutable_policy()->set_max_message_lifetime_s(600);
  return d;
}

v1::SignedDirectory SignAs(
    const v1::Directory& d,
    const std::vector<std::pair<std::string, std::string>>& member_and_label) {
  std::vector<crypto::Ed25519PrivateKey> keys;
  keys.reserve(member_and_label.size());
  std::vector<std::pair<std::string, const crypto::Ed25519PrivateKey*>> signers;
  for (const auto& [member, label] : member_and_label) {
    keys.push_back(TestKey(label));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    signers.emplace_back(member_and_label[i].first, &keys[i]);
  }
  return SignDirectory(d, signers);
}

v1::SignedDirectory SignedGenesis() {
  return SignAs(GenesisDirectory(),
                {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

v1::SignedDirectory SignedV2() {
  return SignAs(V2Directory(),
                {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

v1::SignedDirectory SignedV3() {
  return SignAs(V3Directory(),
                {{"MK", "MK/governance/1"}, {"RS", "RS/governance/2"}});
}

}  // namespace cbx::directory::testing
