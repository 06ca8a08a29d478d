#include "core/note/note.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/crypto/ed25519.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"

namespace cbx::note {
namespace {

using ::absl::StatusCode;

constexpr char kDash[] = "\xE2\x80\x94 ";

class NoteTest : public ::testing::Test {
 protected:
  static NoteSigner MakeSigner(std::string_view name, char fill) {
    return NoteSigner::Create(
               name,
               crypto::Ed25519PrivateKey::FromSeed(Bytes(32, fill)).value())
        .value();
  }
  std::string Signed(const std::string& text,
                     const std::vector<const NoteSigner*>& signers) {
    Note note{text, {}};
    for (const NoteSigner* s : signers) {
      note.signatures.push_back(s->Sign(text).value());
    }
    return FormatNote(note).value();
  }

  NoteSigner alice_ = MakeSigner("alice.example/log", 'a');
  NoteSigner bob_ = MakeSigner("bob.example/w", 'b');
  std::vector<Verifier> alice_only_ = {alice_.verifier()};
};

TEST_F(NoteTest, SignParseOpenRoundTrip) {
  const std::string msg = Signed("line one\n\nline three\n", {&alice_, &bob_});
  auto note = ParseNote(msg);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->text, "line one\n\nline three\n");  // empty lines allowed
  ASSERT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(FormatNote(*note).value(), msg);

  auto opened = OpenNote(msg, alice_only_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].name, "alice.example/log");
  EXPECT_EQ(opened->verified[0].type, SignatureType::kEd25519);
  EXPECT_FALSE(opened->verified[0].timestamp.has_value());
  ASSERT_EQ(opened->unverified.size(), 1u);
  EXPECT_EQ(opened->unverified[0].name, "bob.example/w");
}

TEST_F(NoteTest, NoKnownSignerIsUnauthenticated) {
  const std::string msg = Signed("text\n", {&bob_});
  const absl::Status s = OpenNote(msg, alice_only_).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(s.message()).find("not signed by any known key"),
            std::string::npos)
      << s;
  EXPECT_EQ(OpenNote(msg, {}).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(NoteTest, FlippedTextOrSignatureIsUnauthenticated) {
  std::string msg = Signed("the text\n", {&alice_});
  std::string text_flip = msg;
  text_flip[1] ^= 0x20;  // "tHe text"
  EXPECT_EQ(OpenNote(text_flip, alice_only_).status().code(),
            StatusCode::kUnauthenticated);

  Note note = ParseNote(msg).value();
  note.signatures[0].signature[0] ^= 0x01;
  EXPECT_EQ(OpenNote(FormatNote(note).value(), alice_only_).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(NoteTest, BadSignatureFromKnownKeyRejectsWholeNote) {
  // Even with another valid known signature present.
  Note note{"text\n",
            {alice_.Sign("text\n").value(), bob_.Sign("text\n").value()}};
  note.signatures[1].signature[5] ^= 0x10;
  const std::vector<Verifier> both = {alice_.verifier(), bob_.verifier()};
  const absl::Status s = OpenNote(FormatNote(note).value(), both).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(s.message())
                .find("invalid signature from key "
                      "bob.example/w+"),
            std::string::npos)
      << s;
  // Bob unknown: his bad signature is ignored.
  EXPECT_TRUE(OpenNote(FormatNote(note).value(), alice_only_).ok());
}

TEST_F(NoteTest, SameNameOrSameIdAloneIsIgnored) {
  // A key sharing Alice's name but not her ID is another key: ignored.
  NoteSigner impostor = MakeSigner("alice.example/log", 'x');
  const std::string msg = Signed("text\n", {&impostor});
  EXPECT_EQ(OpenNote(msg, alice_only_).status().code(),
            StatusCode::kUnauthenticated);
  // Alice's ID under another name: ignored too.
  Note note{"text\n", {alice_.Sign("text\n").value()}};
  note.signatures[0].name = "mallory";
  auto opened = OpenNote(FormatNote(note).value(), alice_only_);
  EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(NoteTest, WrongKeySameNameAndIdIsUnauthenticated) {
  // Name and ID match Alice but the signature is by another key.
  NoteSigner other = MakeSigner("alice.example/log", 'y');
  Signature sig = other.Sign("text\n").value();
  sig.key_id = alice_.key_id();
  const std::string msg = FormatNote({"text\n", {sig}}).value();
  EXPECT_EQ(OpenNote(msg, alice_only_).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(NoteTest, DuplicateSignaturesAreRejected) {
  const Signature sig = alice_.Sign("text\n").value();
  const std::string line = FormatSignatureLine(sig);
  const std::string msg = "text\n\n" + line + line;
  EXPECT_EQ(ParseNote(msg).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenNote(msg, alice_only_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatNote({"text\n", {sig, sig}}).status().code(),
            StatusCode::kInvalidArgument);
  // Also for unknown keys, and with different signature bytes.
  Signature bob1 = bob_.Sign("text\n").value();
  Signature bob2 = bob1;
  bob2.signature[0] ^= 1;
  EXPECT_EQ(ParseNote("text\n\n" + line + FormatSignatureLine(bob1) +
                      FormatSignatureLine(bob2))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(NoteTest, AmbiguousKnownKeysAreRejected) {
  const std::string msg = Signed("text\n", {&alice_});
  const std::vector<Verifier> twice = {alice_.verifier(), alice_.verifier()};
  EXPECT_EQ(OpenNote(msg, twice).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(NoteTest, MalformedNotes) {
  const std::string line = FormatSignatureLine(alice_.Sign("text\n").value());
  const std::string body = line.substr(0, line.size() - 1);  // without \n
  const std::string b64 = body.substr(body.rfind(' ') + 1);
  const std::vector<std::string> bad = {
      "",
      "text\n",
      "text\n" + line,                  // no blank line
      "text\n\n",                       // no signatures
      "text\n\n" + body,                // no final newline
      "text\n\n" + line + "\n",         // blank line after signatures
      "text\n\n" + line + "garbage\n",  // not a signature line
      "text\n\n- alice.example/log " + b64 + "\n",  // hyphen, not em dash
      "text\n\n\xE2\x80\x94"
      "alice.example/log " +
          b64 + "\n",  // no space
      "text\n\n" + std::string(kDash) + " alice.example/log " + b64 + "\n",
      "text\n\n" + std::string(kDash) + "alice.example/log  " + b64 + "\n",
      "text\n\n" + std::string(kDash) + "alice.example/log\n",
      "text\n\n" + std::string(kDash) + "alice.example/log \n",
      "text\n\n" + std::string(kDash) + " " + b64 + "\n",  // empty name
      "text\n\n" + std::string(kDash) + "a+b " + b64 + "\n",
      "text\n\n" + std::string(kDash) + "alice.example/log " +
          b64.substr(0, b64.size() - 1) + "\n",  // bad padding
      "text\n\n" + std::string(kDash) + "alice.example/log AAAAAA==\n",
      "text\n\n" + std::string(kDash) + "alice.example/log " + b64 + " x\n",
      "te\txt\n\n" + line,                  // control character
      "text\r\n\n" + line,                  // CR
      "te\xFFxt\n\n" + line,                // invalid UTF-8
      std::string("te\0xt\n\n", 8) + line,  // NUL
  };
  for (const std::string& msg : bad) {
    EXPECT_EQ(ParseNote(msg).status().code(), StatusCode::kInvalidArgument)
        << msg;
    EXPECT_EQ(OpenNote(msg, alice_only_).status().code(),
              StatusCode::kInvalidArgument)
        << msg;
  }
}

TEST_F(NoteTest, LastBlankLineSeparatesTheSignatures) {
  // A blank line between two signature lines makes the first one part of
  // the text; the remaining signature then no longer matches that text.
  const std::string line = FormatSignatureLine(alice_.Sign("text\n").value());
  const std::string msg = "text\n\n" + line + "\n" + line;
  auto note = ParseNote(msg);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->text, "text\n\n" + line);
  EXPECT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(OpenNote(msg, alice_only_).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(NoteTest, FiveByteSignatureIsWellFormed) {
  // 4-byte key ID and one signature byte: the minimum the format allows.
  const std::string msg =
      "text\n\n" + std::string(kDash) + "x " + Base64Encode("abcde") + "\n";
  auto note = ParseNote(msg);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->signatures[0].key_id, 0x61626364u);
  EXPECT_EQ(note->signatures[0].signature, "e");
}

TEST_F(NoteTest, SizeAndCountLimits) {
  // 16 signatures (the spec's minimum) are fine; more than the limit not.
  std::vector<NoteSigner> many;
  for (int i = 0; i < 16; ++i) {
    many.push_back(MakeSigner("w" + std::to_string(i), static_cast<char>(i)));
  }
  Note note{"text\n", {}};
  for (const NoteSigner& s : many)
    note.signatures.push_back(s.Sign("text\n").value());
  auto msg = FormatNote(note);
  ASSERT_TRUE(msg.ok());
  EXPECT_TRUE(ParseNote(*msg).ok());

  std::string too_many = "text\n\n";
  for (size_t i = 0; i <= kMaxSignatures; ++i) {
    too_many += std::string(kDash) + "k" + std::to_string(i) + " " +
                Base64Encode("abcde") + "\n";
  }
  EXPECT_EQ(ParseNote(too_many).status().code(), StatusCode::kInvalidArgument);

  const std::string big_text(kMaxNoteSize, 'a');
  EXPECT_EQ(ParseNote(big_text + "\n\n" +
                      FormatSignatureLine(alice_.Sign("text\n").value()))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(alice_.Sign(big_text + "\n").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(NoteTest, FormatRejectsWhatParseWould) {
  const Signature sig = alice_.Sign("text\n").value();
  EXPECT_EQ(FormatNote({"text\n", {}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatNote({"text", {sig}}).status().code(),
            StatusCode::kInvalidArgument);
  Signature bad_name = sig;
  bad_name.name = "has space";
  EXPECT_EQ(FormatNote({"text\n", {bad_name}}).status().code(),
            StatusCode::kInvalidArgument);
  Signature empty = sig;
  empty.signature.clear();
  EXPECT_EQ(FormatNote({"text\n", {empty}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::note
