// Signing with the test federation's keys (core/directory/testing), for the
// fuzz targets that re-sign what they were given so that arbitrary texts
// reach the checks behind the signatures. Never for production: every key is
// derived from a public label.
#ifndef CBX_FUZZ_TEST_SIGNERS_H_
#define CBX_FUZZ_TEST_SIGNERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory/testing/test_federation.h"
#include "core/logcheck/log_keys.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signer.h"

namespace cbx::fuzz {

// The test federation's "now", in POSIX seconds.
inline constexpr uint64_t kNowS = directory::testing::kNowMs / 1000;

// The note of checkpoint text `text` signed as `member`'s log (name
// "cbx/<member>/audit", key "<member>/node/1"), cosigned by each of
// `witnesses` ("cbx/<W>/witness", key "<W>/node/1") at kNowS, followed by
// `extra` signature lines. INVALID_ARGUMENT if the text is not a valid
// checkpoint or the note cannot be formatted (e.g. a repeated line).
inline absl::StatusOr<std::string> SignCheckpoint(
    std::string_view text, std::string_view member,
    const std::vector<std::string>& witnesses,
    const std::vector<note::Signature>& extra = {}) {
  note::Note n;
  n.text = std::string(text);
  auto log = note::NoteSigner::Create(
      logcheck::LogOrigin(member),
      directory::testing::TestKey(std::string(member) + "/node/1"));
  if (!log.ok()) return log.status();
  auto log_sig = log->Sign(text);
  if (!log_sig.ok()) return log_sig.status();
  n.signatures.push_back(*log_sig);
  for (const std::string& w : witnesses) {
    auto cosigner = note::Cosigner::Create(
        logcheck::WitnessName(w), directory::testing::TestKey(w + "/node/1"));
    if (!cosigner.ok()) return cosigner.status();
    auto sig = cosigner->Cosign(text, kNowS);
    if (!sig.ok()) return sig.status();
    n.signatures.push_back(*sig);
  }
  n.signatures.insert(n.signatures.end(), extra.begin(), extra.end());
  return note::FormatNote(n);
}

}  // namespace cbx::fuzz

#endif  // CBX_FUZZ_TEST_SIGNERS_H_
