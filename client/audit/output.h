// What the `cbx audit` commands print: field blocks and tables by default,
// one JSON document with --json (bytes as lower-case hex, times as UTC ISO
// 8601). Text from the node (names, offices, reasons) passes through
// SanitizeForTerminal. Pure functions; complete lines ending in '\n'.
#ifndef CBX_CLIENT_AUDIT_OUTPUT_H_
#define CBX_CLIENT_AUDIT_OUTPUT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "cbx/v1/audit.pb.h"
#include "client/audit/export.h"
#include "client/audit/reconcile.h"
#include "client/audit/verify.h"
#include "client/json_output.h"

namespace cbx::client::audit {

// "sent", "received", "local"; "unspecified" / "direction #N" otherwise.
std::string DirectionName(v1::AuditDirection direction);

// The checkpoint, who signed it, the witnesses' cosignatures (a table), the
// lines that were ignored and any warnings.
std::string CheckpointText(const CheckpointReport& report);
Json CheckpointJson(const CheckpointReport& report);

// How `cbx audit verify` moved the auditor's trust.
struct TrustUpdate {
  enum class Kind { kFirstUse, kFromEmpty, kSame, kExtended };
  Kind kind = Kind::kFirstUse;
  std::optional<uint64_t> trusted_size;  // before; none on first use
  size_t proof_hashes = 0;
  std::string state_file;
  // The first checkpoint of a new log generation: how the trusted
  // checkpoint of the old log relates to the predecessor ("" otherwise).
  std::string predecessor;
};
// CheckpointText plus the consistency and trust lines.
std::string VerifyText(const CheckpointReport& report,
                       const TrustUpdate& trust);
Json VerifyJson(const CheckpointReport& report, const TrustUpdate& trust);

// One entry's fields (sequence, time, direction, peer, rpc, kind, envelope
// sha256, message id, in reply to, outcome, office, user).
std::string EntryText(const v1::AuditEntry& entry);
Json EntryJson(const v1::AuditEntry& entry);

// `cbx audit prove`: the entry, then "included ..." against the checkpoint
// (and the tree size, if it is not the checkpoint's).
std::string ProofText(uint64_t index, const v1::AuditEntry& entry,
                      uint64_t size, const CheckpointReport& report);
Json ProofJson(uint64_t index, const v1::AuditEntry& entry,
               std::string_view leaf, uint64_t size,
               const CheckpointReport& report);

// An export that verified (after `export` and `verify-export`).
std::string ExportText(const std::string& path, const VerifiedExport& e);
Json ExportJson(const std::string& path, const VerifiedExport& e);

// `cbx audit reconcile`.
std::string ReconcileText(const ReconcileReport& report);
Json ReconcileJson(const ReconcileReport& report);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_OUTPUT_H_
