// Every vector of tests/vectors/merkle/signed_note_vectors.json (C2SP spec
// example, golang.org/x/mod sumdb/note, a real sum.golang.org checkpoint, and
// a self-made cosignature/v1 vector; origins in README.txt there).
#include "tests/testing/vectors.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "core/crypto/ed25519.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/key_id.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "core/note/verifier.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;
using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

const nlohmann::json& Vector(const std::string& id) {
  static const nlohmann::json* const kAll = new nlohmann::json(LoadJson(
      std::string(CBX_VECTORS_DIR) + "/merkle/signed_note_vectors.json"));
  for (const auto& v : (*kAll)["vectors"]) {
    if (v["id"] == id) return v;
  }
  ADD_FAILURE() << "no vector " << id;
  static const nlohmann::json* const kNull = new nlohmann::json();
  return *kNull;
}

std::string FullNote(const nlohmann::json& v) {
  std::string msg = v["note_text"].get<std::string>() + "\n";
  for (const auto& line : v["signature_lines"]) msg += line.get<std::string>();
  return msg;
}

Verifier MustParse(const std::string& vkey) {
  auto v = Verifier::Parse(vkey);
  EXPECT_TRUE(v.ok()) << vkey << ": " << v.status();
  return *std::move(v);
}

void ExpectSimpleNoteVerifies(const std::string& id) {
  const auto& v = Vector(id);
  const Verifier verifier = MustParse(v["vkey"]);
  EXPECT_EQ(verifier.name(), v["key_name"]);
  EXPECT_EQ(absl::StrFormat("%08x", verifier.key_id()), v["key_id_hex"]);
  EXPECT_EQ(static_cast<int>(verifier.type()), v["signature_type"]);
  EXPECT_EQ(
      KeyId(verifier.name(), verifier.type(), verifier.public_key().bytes()),
      verifier.key_id());
  EXPECT_EQ(verifier.Encode(), v["vkey"]);
  auto opened = OpenNote(FullNote(v), {&verifier, 1});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, v["note_text"]);
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].name, verifier.name());
  EXPECT_TRUE(opened->unverified.empty());
}

TEST(NoteVectorsTest, C2spSignedNoteExample) {
  ExpectSimpleNoteVerifies("c2sp-signed-note-example");
}

TEST(NoteVectorsTest, GoSumdbPeterNeumann) {
  ExpectSimpleNoteVerifies("go-sumdb-note-peterneumann");
}

TEST(NoteVectorsTest, GoSumdbEnochRoot) {
  ExpectSimpleNoteVerifies("go-sumdb-note-enochroot");
}

TEST(NoteVectorsTest, GoPrivateKeySignsByteForByte) {
  const auto& v = Vector("go-sumdb-note-peterneumann");
  auto signer = NoteSigner::FromGoPrivateKey(v["skey_go"].get<std::string>());
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->verifier().Encode(), v["vkey"]);
  EXPECT_EQ(signer->EncodeGoPrivateKey(), v["skey_go"]);
  auto sig = signer->Sign(v["note_text"].get<std::string>());
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(FormatSignatureLine(*sig), v["signature_lines"][0]);
  auto note = FormatNote({v["note_text"], {*sig}});
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(*note, FullNote(v));
}

TEST(NoteVectorsTest, TwoSignersOneKnownLeavesOneUnverified) {
  const auto& peter = Vector("go-sumdb-note-peterneumann");
  const auto& enoch = Vector("go-sumdb-note-enochroot");
  ASSERT_EQ(peter["note_text"], enoch["note_text"]);
  const std::string msg =
      FullNote(peter) + enoch["signature_lines"][0].get<std::string>();
  const Verifier only_peter = MustParse(peter["vkey"]);
  auto opened = OpenNote(msg, {&only_peter, 1});
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].name, "PeterNeumann");
  ASSERT_EQ(opened->unverified.size(), 1u);
  EXPECT_EQ(opened->unverified[0].name, "EnochRoot");

  const std::vector<Verifier> both = {only_peter, MustParse(enoch["vkey"])};
  auto opened_both = OpenNote(msg, both);
  ASSERT_TRUE(opened_both.ok());
  EXPECT_EQ(opened_both->verified.size(), 2u);
  EXPECT_TRUE(opened_both->unverified.empty());
}

TEST(NoteVectorsTest, SumGolangOrgCheckpoint) {
  const auto& v = Vector("sum-golang-org-checkpoint");
  const std::string msg = FullNote(v);
  const Verifier log = MustParse(v["log_vkey"]);

  auto signed_cp = OpenCheckpoint(msg, "go.sum database tree", log);
  ASSERT_TRUE(signed_cp.ok()) << signed_cp.status();
  EXPECT_EQ(signed_cp->checkpoint.origin, v["checkpoint"]["origin"]);
  EXPECT_EQ(signed_cp->checkpoint.size,
            v["checkpoint"]["tree_size"].get<uint64_t>());
  EXPECT_EQ(Base64Encode(signed_cp->checkpoint.root_hash),
            v["checkpoint"]["root_hash_base64"]);
  EXPECT_TRUE(signed_cp->checkpoint.extensions.empty());
  EXPECT_EQ(signed_cp->text, v["note_text"]);
  EXPECT_EQ(signed_cp->log_signature.name, "sum.golang.org");
  EXPECT_TRUE(signed_cp->other_signatures.empty());  // others not known

  // The origin is not the key name; a different expected origin fails.
  EXPECT_EQ(OpenCheckpoint(msg, "sum.golang.org", log).status().code(),
            StatusCode::kInvalidArgument);

  // Formatting the parsed checkpoint gives back the signed text.
  auto text = FormatCheckpoint(signed_cp->checkpoint);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, v["note_text"]);

  // All four signatures are Ed25519 note signatures that verify.
  std::vector<Verifier> all = {log};
  for (const auto& vkey : v["extra_vkeys"]) all.push_back(MustParse(vkey));
  auto opened = OpenNote(msg, all);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->verified.size(), 4u);
  EXPECT_EQ(opened->verified[1].name, "monkeys");
  EXPECT_EQ(opened->verified[2].name, "bananas");
  EXPECT_EQ(opened->verified[3].name, "witness");

  auto with_others = OpenCheckpoint(msg, "go.sum database tree", log,
                                    std::span<const Verifier>(all).subspan(1));
  ASSERT_TRUE(with_others.ok());
  EXPECT_EQ(with_others->other_signatures.size(), 3u);

  // Expecting another log key, the extra (valid) signatures do not stand in
  // for it.
  const Verifier other_log =
      Verifier::Create(
          "sum.golang.org", SignatureType::kEd25519,
          crypto::Ed25519PrivateKey::FromSeed(Bytes(32, 'o'))->public_key())
          .value();
  EXPECT_EQ(OpenCheckpoint(msg, "go.sum database tree", other_log,
                           std::span<const Verifier>(all).subspan(1))
                .status()
                .code(),
            StatusCode::kUnauthenticated);
}

TEST(NoteVectorsTest, CosignatureV1) {
  const auto& v = Vector("helper-generated-cosignature-v1");
  const Verifier witness = MustParse(v["vkey"]);
  EXPECT_EQ(witness.type(), SignatureType::kCosignatureV1);
  EXPECT_EQ(absl::StrFormat("%08x", witness.key_id()), v["key_id_hex"]);
  const uint64_t timestamp = v["timestamp"];
  EXPECT_EQ(CosignatureMessage(timestamp, v["note_text"].get<std::string>()),
            v["signed_message"]);

  // Verifying the vector's line.
  auto sig = ParseSignatureLine(
      std::string_view(v["signature_lines"][0].get_ref<const std::string&>())
          .substr(0, v["signature_lines"][0].get<std::string>().size() - 1));
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->signature.size(), 72u);
  auto verified = witness.Verify(v["note_text"].get<std::string>(), *sig);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->timestamp, timestamp);

  // Making it again from the seed gives the same bytes (Ed25519 is
  // deterministic).
  auto key = crypto::Ed25519PrivateKey::FromSeed(
      Unhex(v["witness_seed_hex"].get<std::string>()));
  ASSERT_TRUE(key.ok());
  auto cosigner = Cosigner::Create(v["key_name"].get<std::string>(), *key);
  ASSERT_TRUE(cosigner.ok());
  EXPECT_EQ(cosigner->verifier().Encode(), v["vkey"]);
  auto made = cosigner->Cosign(v["note_text"].get<std::string>(), timestamp);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(FormatSignatureLine(*made), v["signature_lines"][0]);

  // Added to the sum.golang.org checkpoint, it counts as a cosignature.
  const auto& cp = Vector("sum-golang-org-checkpoint");
  ASSERT_EQ(cp["note_text"], v["note_text"]);
  const std::string msg =
      FullNote(cp) + v["signature_lines"][0].get<std::string>();
  auto opened = OpenCheckpoint(msg, "go.sum database tree",
                               MustParse(cp["log_vkey"]), {&witness, 1});
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->other_signatures.size(), 1u);
  EXPECT_EQ(opened->other_signatures[0].timestamp, timestamp);
}

}  // namespace
}  // namespace cbx::note
