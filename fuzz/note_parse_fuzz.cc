// Fuzz target: bytes -> the text parsers of core/note: signed notes
// (c2sp.org/signed-note), signature lines, verifier keys, checkpoint texts
// (c2sp.org/tlog-checkpoint), and OpenNote against known keys.
//
// Invariants (abort = finding):
//   - ParseNote accepts only canonical encodings: FormatNote of what it
//     returns is the input byte for byte; the text is a valid note text;
//     there are 1..kMaxSignatures signatures with no repeated (name, key ID);
//   - a signature line, a verifier key and a checkpoint text that parse are
//     written back identically (FormatSignatureLine, Encode,
//     FormatCheckpoint);
//   - OpenNote with the test keys: every signature by a known key is in
//     `verified`, every other one in `unverified`, and at least one verified;
//   - refusals use only the codes note.h documents.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "core/directory/testing/test_federation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signature.h"
#include "core/note/signer.h"
#include "core/note/verifier.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Refusal(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument ||
         s.code() == absl::StatusCode::kUnauthenticated;
}

// The known keys: MK's log key and RS's witness key, as OpenNote takes them.
const std::vector<note::Verifier>& KnownKeys() {
  static const auto* keys = [] {
    auto* v = new std::vector<note::Verifier>();
    v->push_back(*note::Verifier::Create(
        logcheck::LogOrigin("MK"), note::SignatureType::kEd25519,
        directory::testing::TestKey("MK/node/1").public_key()));
    v->push_back(*note::Verifier::Create(
        logcheck::WitnessName("RS"), note::SignatureType::kCosignatureV1,
        directory::testing::TestKey("RS/node/1").public_key()));
    return v;
  }();
  return *keys;
}

bool IsKnown(const std::string& name, uint32_t key_id) {
  for (const note::Verifier& k : KnownKeys()) {
    if (k.name() == name && k.key_id() == key_id) return true;
  }
  return false;
}

void CheckLines(std::string_view text) {
  for (absl::string_view l :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    const std::string_view line(l.data(), l.size());
    auto sig = note::ParseSignatureLine(line);
    if (sig.ok()) {
      Check(note::FormatSignatureLine(*sig) == std::string(line) + "\n");
    } else {
      Check(sig.status().code() == absl::StatusCode::kInvalidArgument);
    }
    auto vkey = note::Verifier::Parse(line);
    if (vkey.ok()) {
      Check(vkey->Encode() == line);
    } else {
      Check(vkey.status().code() == absl::StatusCode::kInvalidArgument ||
            vkey.status().code() == absl::StatusCode::kUnimplemented);
    }
  }
}

void CheckNote(std::string_view msg) {
  auto n = note::ParseNote(msg);
  auto opened = note::OpenNote(msg, KnownKeys());
  if (!n.ok()) {
    Check(n.status().code() == absl::StatusCode::kInvalidArgument);
    Check(opened.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(note::CheckNoteText(n->text).ok());
  Check(!n->signatures.empty() && n->signatures.size() <= note::kMaxSignatures);
  std::set<std::pair<std::string, uint32_t>> seen;
  for (const note::Signature& s : n->signatures) {
    Check(seen.emplace(s.name, s.key_id).second);
  }
  auto formatted = note::FormatNote(*n);
  Check(formatted.ok() && *formatted == msg);

  if (!opened.ok()) {
    Check(Refusal(opened.status()));
    return;
  }
  Check(opened->text == n->text);
  Check(!opened->verified.empty());
  Check(opened->verified.size() + opened->unverified.size() ==
        n->signatures.size());
  for (const note::VerifiedSignature& v : opened->verified) {
    Check(IsKnown(v.name, v.key_id));
  }
  for (const note::Signature& u : opened->unverified) {
    Check(!IsKnown(u.name, u.key_id));
  }
}

void CheckCheckpoint(std::string_view text) {
  auto cp = note::ParseCheckpoint(text);
  if (!cp.ok()) {
    Check(cp.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(cp->root_hash.size() == 32 && !cp->origin.empty());
  auto formatted = note::FormatCheckpoint(*cp);
  Check(formatted.ok() && *formatted == text);
  Check(note::CheckNoteText(text).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckLines(in);
  CheckNote(in);
  CheckCheckpoint(in);
  // The text part of a note is a checkpoint text to the log's readers.
  auto n = note::ParseNote(in);
  if (n.ok()) CheckCheckpoint(n->text);
  return 0;
}
