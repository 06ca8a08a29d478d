// Audit exports: a self-contained JSON file with a range of one member's
// audit log entries, each with its inclusion proof, the checkpoint the proofs
// are against (with its cosignatures) and the directory versions that name
// the keys, so that anyone holding the federation's genesis can check it
// offline (spec/audit-log.md §9 D):
//
//   {
//     "format": "cbx-audit-export/1",
//     "member": "MK",
//     "checkpoint": "<the signed checkpoint note, cosignatures included>",
//     "directory_versions": ["<hex of a binary SignedDirectory>", ...],
//     "entries": [
//       {"index": 17, "leaf_hex": "<hex of the leaf bytes>",
//        "inclusion_proof": ["<hex of a 32-byte hash>", ...]},
//       ...
//     ]
//   }
//
// Entries are consecutive and ascending: an export of [a, b) holds every
// entry from a to b - 1, so that none can be left out unnoticed.
#ifndef CBX_CLIENT_AUDIT_EXPORT_H_
#define CBX_CLIENT_AUDIT_EXPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"
#include "cbx/v1/directory.pb.h"
#include "client/audit/verify.h"
#include "core/util/bytes.h"

namespace cbx::client::audit {

inline constexpr char kExportFormat[] = "cbx-audit-export/1";
// The largest export file verify-export and reconcile read.
inline constexpr size_t kMaxExportFileBytes = size_t{2} << 30;

struct ExportedEntry {
  uint64_t index = 0;
  Bytes leaf;
  std::vector<Bytes> inclusion_proof;
};

struct AuditExport {
  std::string member;
  std::string checkpoint;  // the whole note
  std::vector<v1::SignedDirectory> directory_versions;
  std::vector<ExportedEntry> entries;
};

// The file text: the fields above in that order, one entry per line, ending
// in a newline.
std::string FormatExport(const AuditExport& e);

// Parses an export file's text strictly: every field present with its type,
// no unknown field, the format string exact, hex that decodes, directory
// versions that parse as SignedDirectory. INVALID_ARGUMENT naming the field
// ("entries[3].leaf_hex: ...").
absl::StatusOr<AuditExport> ParseExport(std::string_view text);

// One verified entry of an export.
struct VerifiedEntry {
  uint64_t index = 0;
  v1::AuditEntry entry;
};

struct VerifiedExport {
  AuditExport file;
  VerifiedDirectory directory;
  CheckpointReport checkpoint;
  std::vector<VerifiedEntry> entries;  // same order as file.entries
  // [begin, end) of the entries; begin == end == 0 when there are none.
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct ExportCheckOptions {
  // The auditor's clock (for warnings about cosignatures from the future);
  // negative: do not check.
  int64_t now_ms = -1;
  // Fail unless the checkpoint is witnessed (the default).
  bool require_witnessed = true;
};

// Verifies an export offline, in this order, and returns at the first
// failure with a message that starts with what failed ("directory: ",
// "checkpoint: ", "entry N: "):
//   1. the directory versions from the pinned `genesis` (VerifyDirectoryChain);
//   2. `member` is in the latest version, and the checkpoint is that
//      member's, signed by its node key, every cosignature by a witness key
//      valid (VerifyCheckpoint); witnessed if options.require_witnessed;
//   3. the entries are consecutive and ascending, each below the checkpoint's
//      size, each leaf with its inclusion proof leads to the checkpoint's
//      root, and parses as an AuditEntry whose sequence is its index;
//   4. if entry 0 is among them: CheckFirstEntry.
absl::StatusOr<VerifiedExport> VerifyExport(const v1::SignedDirectory& genesis,
                                            AuditExport file,
                                            const ExportCheckOptions& options);

// Entry 0 of `member`'s log `origin` against the directory (spec/audit-log.md
// §12): in a recovered log (generation n >= 2) it is the log_predecessor
// entry, and its generation, predecessor origin, size and root are those
// the directory version that announced generation n names; in the first
// generation there is no such entry. DATA_LOSS if not;
// FAILED_PRECONDITION if none of `dir`'s versions announces generation n.
absl::Status CheckFirstEntry(const VerifiedDirectory& dir,
                             const std::string& member,
                             const std::string& origin,
                             const v1::AuditEntry& entry);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_EXPORT_H_
