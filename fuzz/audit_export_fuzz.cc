// Fuzz target: bytes -> an audit export file (spec/audit-log.md §9 D) ->
// client::audit::ParseExport, then VerifyExport from the test federation's
// genesis, as `cbx audit verify-export` and `reconcile` read it.
//
// Random bytes almost never carry valid signatures and proofs, so the
// target also rebuilds what can be rebuilt around the file's own entries:
// a tree whose leaves at the entries' indexes are the file's leaves (other
// leaves empty), its checkpoint signed by the member's test log key and
// cosigned by the two other members, and the inclusion proofs. That drives
// the entry rules (order, range, leaf bytes) with arbitrary leaves.
// Invariants (abort = finding):
//   - FormatExport of a parsed file parses back to the same file, and
//     formatting is a fixed point;
//   - a verified export's entries are consecutive and ascending, below the
//     checkpoint's size, each an AuditEntry whose sequence is its index;
//     the checkpoint is the member's and witnessed; begin/end span them;
//   - the rebuilt export is refused only for its entries (an "entry N: "
//     message), never for its checkpoint or directory;
//   - refusals are the documented codes, never a crash or an exception.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "client/audit/export.h"
#include "core/directory/testing/test_federation.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "core/note/checkpoint.h"
#include "fuzz/test_signers.h"
#include "google/protobuf/stubs/logging.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.
using client::audit::AuditExport;
using client::audit::ExportedEntry;

// The largest tree the target rebuilds (leaves before the first entry
// included), to keep each run fast.
constexpr uint64_t kMaxRebuiltSize = 2048;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SameFile(const AuditExport& a, const AuditExport& b) {
  if (a.member != b.member || a.checkpoint != b.checkpoint ||
      a.directory_versions.size() != b.directory_versions.size() ||
      a.entries.size() != b.entries.size()) {
    return false;
  }
  for (size_t i = 0; i < a.directory_versions.size(); ++i) {
    if (a.directory_versions[i].SerializeAsString() !=
        b.directory_versions[i].SerializeAsString()) {
      return false;
    }
  }
  for (size_t i = 0; i < a.entries.size(); ++i) {
    const ExportedEntry& x = a.entries[i];
    const ExportedEntry& y = b.entries[i];
    if (x.index != y.index || x.leaf != y.leaf ||
        x.inclusion_proof != y.inclusion_proof) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<client::audit::VerifiedExport> VerifyAndCheck(
    const AuditExport& file) {
  client::audit::ExportCheckOptions options;
  options.now_ms = directory::testing::kNowMs;
  auto v = client::audit::VerifyExport(directory::testing::SignedGenesis(),
                                       file, options);
  if (!v.ok()) {
    const absl::StatusCode c = v.status().code();
    Check(c == absl::StatusCode::kInvalidArgument ||
          c == absl::StatusCode::kUnauthenticated ||
          c == absl::StatusCode::kDataLoss ||
          c == absl::StatusCode::kFailedPrecondition ||
          c == absl::StatusCode::kPermissionDenied);
    return v;
  }
  Check(v->checkpoint.member == file.member);
  Check(v->checkpoint.witnessed);
  Check(v->entries.size() == file.entries.size());
  for (size_t i = 0; i < v->entries.size(); ++i) {
    const client::audit::VerifiedEntry& e = v->entries[i];
    Check(e.index == file.entries[i].index);
    Check(e.index < v->checkpoint.checkpoint.size);
    Check(e.entry.sequence() == e.index);
    if (i > 0) Check(e.index == v->entries[i - 1].index + 1);
  }
  if (v->entries.empty()) {
    Check(v->begin == 0 && v->end == 0);
  } else {
    Check(v->begin == v->entries.front().index &&
          v->end == v->entries.back().index + 1);
  }
  return v;
}

// The file with a tree, checkpoint and proofs rebuilt around its entries;
// false if that is not possible (unknown member, too large, out of order).
bool Rebuild(const AuditExport& file, AuditExport& out) {
  if (file.member != "MK" && file.member != "RS" && file.member != "AL") {
    return false;
  }
  uint64_t size = 0;
  for (size_t i = 0; i < file.entries.size(); ++i) {
    if (i > 0 && file.entries[i].index != file.entries[i - 1].index + 1) {
      return false;
    }
  }
  if (!file.entries.empty()) {
    if (file.entries.back().index >= kMaxRebuiltSize) return false;
    size = file.entries.back().index + 1;
  }
  merkle::InMemoryTree tree;
  const uint64_t first = file.entries.empty() ? 0 : file.entries[0].index;
  for (uint64_t i = 0; i < first; ++i) tree.AppendLeaf("");
  for (const ExportedEntry& e : file.entries) tree.AppendLeaf(e.leaf);
  note::Checkpoint cp;
  cp.origin = logcheck::LogOrigin(file.member);
  cp.size = size;
  cp.root_hash = *merkle::RootHash(tree, size);
  auto text = note::FormatCheckpoint(cp);
  Check(text.ok());
  std::vector<std::string> witnesses;
  for (const char* m : {"MK", "RS", "AL"}) {
    if (file.member != m) witnesses.push_back(m);
  }
  auto signed_note = fuzz::SignCheckpoint(*text, file.member, witnesses);
  Check(signed_note.ok());
  out = file;
  out.checkpoint = *signed_note;
  for (ExportedEntry& e : out.entries) {
    e.inclusion_proof = *merkle::InclusionProof(tree, e.index, size);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = client::audit::ParseExport(text);
  if (!file.ok()) {
    Check(file.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string formatted = client::audit::FormatExport(*file);
  auto reparsed = client::audit::ParseExport(formatted);
  Check(reparsed.ok() && SameFile(*reparsed, *file));
  Check(client::audit::FormatExport(*reparsed) == formatted);

  (void)VerifyAndCheck(*file);

  AuditExport rebuilt;
  if (!Rebuild(*file, rebuilt)) return 0;
  auto v = VerifyAndCheck(rebuilt);
  if (!v.ok()) {
    // Directory versions are the file's own and may be refused; the
    // checkpoint and the proofs were rebuilt, so only the leaves may fail.
    const absl::string_view m = v.status().message();
    Check(absl::StartsWith(m, "entry ") || absl::StartsWith(m, "directory: "));
  }
  return 0;
}
