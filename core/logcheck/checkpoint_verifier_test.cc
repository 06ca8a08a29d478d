#include "core/logcheck/checkpoint_verifier.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "core/note/cosignature.h"
#include "core/note/key_id.h"
#include "core/note/signer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::logcheck {
namespace {

namespace fed = directory::testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kNowS = fed::kNowMs / 1000;

template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) std::abort();  // Test fixture misuse.
  return *std::move(v);
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

std::shared_ptr<const directory::Directory> Genesis() {
  return Must(directory::Directory::FromGenesis(fed::SignedGenesis()));
}

std::shared_ptr<const directory::Directory> V2() {
  return Must(Genesis()->Adopt(fed::SignedV2()));
}

LogKeys Keys(const directory::Directory& dir, std::string_view member) {
  return Must(KeysOfLog(dir, member));
}

// The checkpoint text of `origin` at `size` (the root is a digest of the
// size: these tests need no tree).
std::string Text(uint64_t size, std::string origin = "cbx/MK/audit") {
  note::Checkpoint cp{std::move(origin),
                      size,
                      crypto::Sha256("root " + std::to_string(size)),
                      {}};
  return Must(note::FormatCheckpoint(cp));
}

// A note being built: the text and its signature lines.
class NoteBuilder {
 public:
  explicit NoteBuilder(std::string text) { note_.text = std::move(text); }
  // A note signature by `name` with the test key `key_label`.
  NoteBuilder& Sign(std::string_view name, std::string_view key_label) {
    note_.signatures.push_back(
        Must(Must(note::NoteSigner::Create(name, fed::TestKey(key_label)))
                 .Sign(note_.text)));
    return *this;
  }
  // A cosignature/v1 by `name` with `key_label`, over `text` (default: this
  // note's).
  NoteBuilder& Cosign(std::string_view name, std::string_view key_label,
                      uint64_t timestamp = kNowS, std::string text = "") {
    note_.signatures.push_back(
        Must(Must(note::Cosigner::Create(name, fed::TestKey(key_label)))
                 .Cosign(text.empty() ? note_.text : text, timestamp)));
    return *this;
  }
  // The usual log signature and witness cosignatures.
  NoteBuilder& Log(std::string_view code = "MK") {
    return Sign(LogOrigin(code), std::string(code) + "/node/1");
  }
  NoteBuilder& Witness(std::string_view code) {
    return Cosign(WitnessName(code), std::string(code) + "/node/1");
  }
  const note::Note& note() const { return note_; }
  std::string str() const { return Must(note::FormatNote(note_)); }

 private:
  note::Note note_;
};

TEST(VerifyCheckpointTest, WitnessedByTwoMembers) {
  const std::string note =
      NoteBuilder(Text(8)).Log().Witness("RS").Witness("AL").str();
  auto r = VerifyCheckpoint(Keys(*Genesis(), "MK"), note);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->member, "MK");
  EXPECT_EQ(r->origin, "cbx/MK/audit");
  EXPECT_EQ(r->directory_version, 1u);
  EXPECT_EQ(r->checkpoint.size, 8u);
  EXPECT_EQ(r->text, Text(8));
  EXPECT_EQ(r->log_key_id,
            note::KeyId("cbx/MK/audit", note::SignatureType::kEd25519,
                        fed::TestKey("MK/node/1").public_key().bytes()));
  ASSERT_EQ(r->cosignatures.size(), 2u);
  EXPECT_EQ(r->cosignatures[0].witness, "RS");
  EXPECT_EQ(r->cosignatures[0].name, "cbx/RS/witness");
  EXPECT_EQ(r->cosignatures[0].timestamp, kNowS);
  EXPECT_EQ(r->cosignatures[1].witness, "AL");
  EXPECT_EQ(r->witnesses, 2u);
  EXPECT_EQ(r->threshold, 2u);
  EXPECT_EQ(r->eligible_witnesses, 2u);
  EXPECT_TRUE(r->witnessed);
  EXPECT_TRUE(r->ignored.empty());
  EXPECT_TRUE(RequireWitnessed(*r).ok());
  EXPECT_EQ(DescribeWitnesses(*r), "2 of the 2 needed (RS, AL)");
}

TEST(VerifyCheckpointTest, OneWitnessIsNotEnough) {
  auto r = VerifyCheckpoint(Keys(*Genesis(), "MK"),
                            NoteBuilder(Text(8)).Log().Witness("RS").str());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->witnessed);
  absl::Status s = RequireWitnessed(*r);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Msg(s),
            "checkpoint 8 of cbx/MK/audit is not witnessed: 1 witness "
            "cosigned it (RS), directory version 1 requires 2 "
            "(witness_threshold)");
  EXPECT_EQ(DescribeWitnesses(*r), "1 of the 2 needed (RS)");
}

TEST(VerifyCheckpointTest, TwoKeysOfOneWitnessCountOnce) {
  // v2 lists RS/node/2 as well (pre-published).
  auto r = VerifyCheckpoint(Keys(*V2(), "MK"),
                            NoteBuilder(Text(8))
                                .Log()
                                .Witness("RS")
                                .Cosign("cbx/RS/witness", "RS/node/2")
                                .str());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cosignatures.size(), 2u);
  EXPECT_EQ(r->witnesses, 1u);
  EXPECT_THAT(r->WitnessMembers(), ElementsAre("RS"));
  EXPECT_FALSE(r->witnessed);
  EXPECT_EQ(RequireWitnessed(*r).code(), absl::StatusCode::kUnauthenticated);
}

TEST(VerifyCheckpointTest, ARepeatedLineIsAMalformedNote) {
  // One cosignature line given twice cannot count twice: the note format
  // (c2sp.org/signed-note) rejects it outright.
  std::string note = NoteBuilder(Text(8)).Log().Witness("RS").str();
  const std::string last_line =
      note.substr(note.rfind("\xE2\x80\x94"));  // "— cbx/RS/witness ...\n"
  note += last_line;
  auto r = VerifyCheckpoint(Keys(*Genesis(), "MK"), note);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(VerifyCheckpointTest, UnknownWitnessIsIgnoredAndDoesNotCount) {
  auto r = VerifyCheckpoint(Keys(*Genesis(), "MK"),
                            NoteBuilder(Text(8))
                                .Log()
                                .Witness("RS")
                                .Cosign("cbx/ZZ/witness", "ZZ/node/1")
                                .Sign("someone-else", "ZZ/node/1")
                                .str());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 2u);
  EXPECT_EQ(r->ignored[0].name, "cbx/ZZ/witness");
  EXPECT_EQ(r->ignored[0].reason, "ZZ is not a member of directory version 1");
  EXPECT_EQ(r->ignored[1].reason, "not a cbx log or witness key name");
  EXPECT_EQ(r->witnesses, 1u);
  EXPECT_FALSE(r->witnessed);
  EXPECT_THAT(Msg(RequireWitnessed(*r)),
              HasSubstr("directory version 1 requires 2 (witness_threshold); "
                        "ignored cbx/ZZ/witness+"));
}

TEST(VerifyCheckpointTest, MembersNameWithAnotherKeyIsIgnored) {
  auto r = VerifyCheckpoint(Keys(*Genesis(), "MK"),
                            NoteBuilder(Text(8))
                                .Log()
                                .Witness("RS")
                                .Cosign("cbx/AL/witness", "mallory")
                                .Sign("cbx/RS/audit", "RS/node/1")
                                .str());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 2u);
  EXPECT_THAT(r->ignored[0].reason,
              HasSubstr("no node key of AL in directory version 1 has key "
                        "ID "));
  EXPECT_EQ(r->ignored[1].reason, "a log signature for another origin");
  EXPECT_EQ(r->witnesses, 1u);
}

TEST(VerifyCheckpointTest, TheLogsOwnMemberCannotWitnessIt) {
  auto r = VerifyCheckpoint(
      Keys(*Genesis(), "MK"),
      NoteBuilder(Text(8)).Log().Witness("RS").Witness("MK").str());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 1u);
  EXPECT_EQ(r->ignored[0].reason,
            "a log cannot be witnessed by its own member");
  EXPECT_EQ(r->witnesses, 1u);
}

TEST(VerifyCheckpointTest, BadCosignatureByAKnownWitnessRejectsTheNote) {
  // RS's cosignature of checkpoint 7, moved onto checkpoint 8.
  auto r = VerifyCheckpoint(
      Keys(*Genesis(), "MK"),
      NoteBuilder(Text(8))
          .Log()
          .Witness("AL")
          .Cosign("cbx/RS/witness", "RS/node/1", kNowS, Text(7))
          .str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr("the cosignature by cbx/RS/witness (key ID "));
  EXPECT_THAT(Msg(r.status()), HasSubstr("a node key of RS) does not verify"));
}

TEST(VerifyCheckpointTest, AlteredLogSignatureRejectsTheNote) {
  NoteBuilder b(Text(8));
  b.Log().Witness("RS").Witness("AL");
  note::Note altered = b.note();
  altered.text = Text(9);
  auto r =
      VerifyCheckpoint(Keys(*Genesis(), "MK"), Must(note::FormatNote(altered)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr("the signature by cbx/MK/audit (key ID "));
}

TEST(VerifyCheckpointTest, NotSignedByALogKeyIsUnauthenticated) {
  auto r = VerifyCheckpoint(Keys(*Genesis(), "MK"),
                            NoteBuilder(Text(8))
                                .Sign("cbx/MK/audit", "RS/node/1")
                                .Witness("RS")
                                .Witness("AL")
                                .str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr("the checkpoint is not signed by a node key of MK in "
                        "directory version 1 (a signature named cbx/MK/audit "
                        "has key ID "));
}

TEST(VerifyCheckpointTest, AnotherOriginOrAMalformedNoteIsInvalidArgument) {
  auto other = VerifyCheckpoint(
      Keys(*Genesis(), "MK"), NoteBuilder(Text(1, "cbx/RS/audit")).Log().str());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(other.status()),
            "the checkpoint is for origin 'cbx/RS/audit', not 'cbx/MK/audit'");
  auto bad = VerifyCheckpoint(Keys(*Genesis(), "MK"), "cbx/MK/audit\n8\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(bad.status()),
              HasSubstr("the checkpoint is not a valid signed note: "));
}

TEST(VerifyCheckpointTest, RotatedLogKeyVerifiesWithTheDirectoryThatListsIt) {
  const std::string note = NoteBuilder(Text(1))
                               .Sign("cbx/MK/audit", "MK/node/2")
                               .Witness("RS")
                               .Witness("AL")
                               .str();
  auto r = VerifyCheckpoint(Keys(*V2(), "MK"), note);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->witnessed);  // AL is suspended, still a witness
  EXPECT_EQ(VerifyCheckpoint(Keys(*Genesis(), "MK"), note).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(VerifyCosignaturesByTest, ReturnsTheWitnessLinesWithoutALogSignature) {
  // What a witness hands back: the text and its own cosignature.
  NoteBuilder b(Text(8));
  b.Witness("RS").Witness("AL");
  auto lines = VerifyCosignaturesBy(Keys(*Genesis(), "MK"), "RS", b.note());
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0], b.note().signatures[0]);
}

TEST(VerifyCosignaturesByTest, BothKeysOfARotatingWitness) {
  NoteBuilder b(Text(8));
  b.Witness("RS").Cosign("cbx/RS/witness", "RS/node/2");
  auto lines = VerifyCosignaturesBy(Keys(*V2(), "MK"), "RS", b.note());
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(lines->size(), 2u);
}

TEST(VerifyCosignaturesByTest, BadOrMissingCosignatureIsUnauthenticated) {
  NoteBuilder bad(Text(8));
  bad.Cosign("cbx/RS/witness", "RS/node/1", kNowS, Text(7));
  auto r = VerifyCosignaturesBy(Keys(*Genesis(), "MK"), "RS", bad.note());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()), HasSubstr("does not verify"));

  NoteBuilder other(Text(8));
  other.Witness("AL").Cosign("cbx/RS/witness", "mallory");
  r = VerifyCosignaturesBy(Keys(*Genesis(), "MK"), "RS", other.note());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Msg(r.status()), "no cosignature by cbx/RS/witness on the note");

  NoteBuilder own(Text(8));
  own.Witness("MK");
  r = VerifyCosignaturesBy(Keys(*Genesis(), "MK"), "MK", own.note());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace cbx::logcheck
