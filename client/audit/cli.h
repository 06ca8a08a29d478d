// The `cbx audit ...` command tree (CLI11) and its run: the auditor's
// commands (spec/audit-log.md §9).
//
//   cbx audit checkpoint
//   cbx audit verify [--state DIR]
//   cbx audit prove INDEX [--size N]
//   cbx audit export [--from A] [--to B] [--size N] --out FILE
//   cbx audit verify-export FILE
//   cbx audit reconcile FILE_A FILE_B [--margin SECONDS]
//   cbx audit report --export FILE --month YYYY-MM [--signed REPORT.json]
//
// with --genesis FILE (CBX_GENESIS) and --allow-unwitnessed on every one.
// The first four talk to the node (connection options as for every `cbx`
// command, an auditor certificate); the last two are offline.
#ifndef CBX_CLIENT_AUDIT_CLI_H_
#define CBX_CLIENT_AUDIT_CLI_H_

#include <ostream>
#include <string>

#include "client/connection.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cbx::client::audit {

enum class AuditCommandKind {
  kNone,
  kCheckpoint,
  kVerify,
  kProve,
  kExport,
  kVerifyExport,
  kReconcile,
  kReport
};

// What the parser fills in.
struct AuditArgs {
  AuditCommandKind command = AuditCommandKind::kNone;
  std::string genesis;
  bool allow_unwitnessed = false;
  std::string state_dir;
  std::string index;   // prove INDEX, parsed by RunAudit
  std::string size;    // --size N
  std::string from;    // --from A
  std::string to;      // --to B
  std::string out;     // --out FILE
  std::string margin;  // --margin SECONDS
  std::string file_a;  // verify-export FILE, reconcile FILE_A
  std::string file_b;  // reconcile FILE_B
  std::string month;   // report --month YYYY-MM
  std::string signed_report;  // report --signed FILE
};

// Adds "audit" and its subcommands to `app`, bound to `args` (which must
// outlive the parse). Returns the "audit" subcommand.
CLI::App* AddAuditCommands(CLI::App& app, AuditArgs& args);

// Runs the parsed audit command: checks and converts the arguments and the
// pinned genesis (exit 2 on a mistake, nothing sent), then for the online
// commands the connection options (exit 2), then the command (0 or 1).
// `command_path` ("cbx audit prove") is for usage messages.
int RunAudit(const AuditArgs& args, const ConnectionFlags& flags, bool json,
             const std::string& command_path, std::ostream& out,
             std::ostream& err, const EnvLookup& env);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_CLI_H_
