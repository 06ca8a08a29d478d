// Fuzz target: bytes -> a signed checkpoint note of MK's audit log ->
// logcheck::VerifyCheckpoint with the test federation's version 2 keys
// (core/logcheck: what the witness and the auditor both run), then
// VerifyCosignaturesBy and RequireWitnessed.
//
// Random bytes almost never carry valid signatures, so the target also
// re-signs the note's text with MK's log key and RS's and AL's witness keys
// (fuzz/test_signers.h), alone and followed by the note's own signature
// lines: that drives the checkpoint and counting rules with arbitrary texts
// and arbitrary extra lines. Invariants (abort = finding):
//   - an accepted note is a checkpoint of cbx/MK/audit whose text parses to
//     the returned checkpoint; every cosignature is by another member under
//     its witness name; witnesses is the number of distinct members among
//     them, at most the eligible ones; witnessed == (witnesses >= threshold)
//     and RequireWitnessed agrees;
//   - the re-signed note is accepted iff its text is a checkpoint of
//     cbx/MK/audit, and then it is witnessed by RS and AL;
//   - refusals are INVALID_ARGUMENT or UNAUTHENTICATED.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/directory/directory.h"
#include "core/directory/testing/test_federation.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "fuzz/test_signers.h"
#include "google/protobuf/stubs/logging.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

const logcheck::LogKeys& Keys() {
  static const auto* keys = [] {
    google::protobuf::SetLogHandler(nullptr);
    auto genesis =
        directory::Directory::FromGenesis(directory::testing::SignedGenesis());
    if (!genesis.ok()) std::abort();
    auto v2 = (*genesis)->Adopt(directory::testing::SignedV2());
    if (!v2.ok()) std::abort();
    auto k = logcheck::KeysOfLog(**v2, "MK");
    if (!k.ok()) std::abort();
    return new logcheck::LogKeys(*std::move(k));
  }();
  return *keys;
}

// Verifies `msg` and checks the invariants; returns the result.
absl::StatusOr<logcheck::VerifiedCheckpoint> VerifyAndCheck(
    std::string_view msg) {
  const logcheck::LogKeys& keys = Keys();
  auto v = logcheck::VerifyCheckpoint(keys, msg);
  if (!v.ok()) {
    Check(v.status().code() == absl::StatusCode::kInvalidArgument ||
          v.status().code() == absl::StatusCode::kUnauthenticated);
    return v;
  }
  Check(v->member == "MK" && v->origin == "cbx/MK/audit");
  Check(v->checkpoint.origin == v->origin);
  auto cp = note::ParseCheckpoint(v->text);
  Check(cp.ok() && *cp == v->checkpoint);
  auto n = note::ParseNote(msg);
  Check(n.ok() && n->text == v->text);
  std::set<std::string> members;
  for (const logcheck::Cosignature& c : v->cosignatures) {
    Check(c.witness != "MK");
    Check(c.name == logcheck::WitnessName(c.witness));
    members.insert(c.witness);
  }
  Check(v->witnesses == members.size());
  Check(v->witnesses <= v->eligible_witnesses);
  Check(v->eligible_witnesses == keys.eligible_witnesses());
  Check(v->threshold == keys.threshold);
  Check(v->witnessed == (v->witnesses >= v->threshold));
  Check(logcheck::RequireWitnessed(*v).ok() == v->witnessed);
  Check(v->WitnessMembers().size() == v->witnesses);
  for (const std::string& w : {"RS", "AL"}) {
    auto by = logcheck::VerifyCosignaturesBy(keys, w, *n);
    Check(by.ok() == (members.count(w) > 0));
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  (void)VerifyAndCheck(msg);

  // The same text, re-signed by the log and two witnesses.
  auto n = note::ParseNote(msg);
  const std::string text = n.ok() ? n->text : std::string(msg);
  auto cp = note::ParseCheckpoint(text);
  auto resigned = fuzz::SignCheckpoint(text, "MK", {"RS", "AL"});
  Check(resigned.ok() == cp.ok());
  if (!resigned.ok()) return 0;
  auto v = VerifyAndCheck(*resigned);
  Check(v.ok() == (cp->origin == "cbx/MK/audit"));
  if (v.ok()) {
    Check(v->witnessed && v->witnesses == 2);
    Check(v->ignored.empty());
  }
  // Followed by the note's own lines: extra lines may be ignored or refuse
  // the note, but never take a cosignature away.
  if (n.ok()) {
    auto mixed = fuzz::SignCheckpoint(text, "MK", {"RS", "AL"}, n->signatures);
    if (mixed.ok()) {
      auto m = VerifyAndCheck(*mixed);
      if (m.ok()) Check(m->witnesses >= 2);
    }
  }
  return 0;
}
