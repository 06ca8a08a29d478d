// The `cbx audit` commands once their arguments are converted: fetch from the
// node (Office Audit* RPCs, auditor role), verify with the library
// (audit_verify, audit_export, audit_reconcile), print, return the exit code.
//
// Exit codes: 0 verified; 1 verification failed, or the node refused or
// could not be reached (the message says which and why). Usage errors (2)
// never get here.
#ifndef CBX_CLIENT_AUDIT_COMMANDS_H_
#define CBX_CLIENT_AUDIT_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cbx/v1/directory.pb.h"
#include "client/commands.h"

namespace cbx::client::audit {

struct AuditOptions {
  // The federation's genesis, pinned by the auditor (already verified as a
  // genesis).
  v1::SignedDirectory genesis;
  // Accept a checkpoint that is signed by the log but not witnessed
  // (otherwise: exit 1).
  bool allow_unwitnessed = false;
  // The auditor's clock, ms since the epoch.
  int64_t now_ms = 0;
};

// cbx audit checkpoint
int CheckpointCommand(CommandContext& ctx, const AuditOptions& options);
// cbx audit verify [--state DIR]
int VerifyCommand(CommandContext& ctx, const AuditOptions& options,
                  const std::string& state_dir);
// cbx audit prove INDEX [--size N]
int ProveCommand(CommandContext& ctx, const AuditOptions& options,
                 uint64_t index, std::optional<uint64_t> size);

struct ExportRange {
  uint64_t from = 0;
  std::optional<uint64_t> to;    // exclusive; default: the checkpoint's size
  std::optional<uint64_t> size;  // checkpoint size; default: the latest
  std::string out_path;
};
// cbx audit export [--from A] [--to B] [--size N] --out FILE
int ExportCommand(CommandContext& ctx, const AuditOptions& options,
                  const ExportRange& range);

// Offline: no node.
struct OfflineContext {
  bool json = false;
  std::ostream& out;
  std::ostream& err;
};
// cbx audit verify-export FILE
int VerifyExportCommand(OfflineContext& ctx, const AuditOptions& options,
                        const std::string& path);
// cbx audit reconcile FILE_A FILE_B [--margin SECONDS]
int ReconcileCommand(OfflineContext& ctx, const AuditOptions& options,
                     const std::string& path_a, const std::string& path_b,
                     std::optional<int64_t> margin_s);

// cbx audit report --export FILE --month YYYY-MM [--signed REPORT.json]:
// exit 1 if the export or the signature does not verify or a figure
// differs (each named on stderr).
int ReportCommand(OfflineContext& ctx, const AuditOptions& options,
                  const std::string& export_path, const std::string& month,
                  const std::string& signed_path);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_COMMANDS_H_
