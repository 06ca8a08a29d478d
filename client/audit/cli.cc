#include "client/audit/cli.h"

#include <sys/stat.h>

#include <charconv>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cbx/v1/office.grpc.pb.h"
#include "client/audit/commands.h"
#include "client/audit/state.h"
#include "client/audit/verify.h"
#include "client/audit_files.h"
#include "client/commands.h"
#include "client/strings.h"

namespace cbx::client::audit {
namespace {

// A genesis is a few kilobytes per member.
constexpr size_t kMaxGenesisBytes = 16 << 20;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

// `text` as a non-negative integer; INVALID_ARGUMENT naming `what`.
absl::StatusOr<uint64_t> ParseCount(const std::string& what,
                                    const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(what + " " + Quoted(text) +
                                      ": expected a whole number, 0 or more");
  }
  return v;
}

absl::StatusOr<std::optional<uint64_t>> ParseOptionalCount(
    const std::string& what, const std::string& text) {
  if (text.empty()) return std::optional<uint64_t>();
  auto v = ParseCount(what, text);
  if (!v.ok()) return v.status();
  return std::optional<uint64_t>(*v);
}

// The pinned genesis from --genesis, else CBX_GENESIS.
absl::StatusOr<v1::SignedDirectory> LoadGenesis(const std::string& flag,
                                                const EnvLookup& env) {
  std::string path = flag;
  std::string source = "--genesis";
  if (path.empty()) {
    std::optional<std::string> from_env = env("CBX_GENESIS");
    if (from_env && !from_env->empty()) {
      path = *from_env;
      source = "CBX_GENESIS";
    }
  }
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "no pinned genesis: pass --genesis FILE or set CBX_GENESIS (the "
        "federation's genesis directory, binary SignedDirectory, obtained "
        "from the federation out of band)");
  }
  const std::string where =
      source == "--genesis"
          ? "--genesis " + Quoted(path)
          : "--genesis " + Quoted(path) + " (from CBX_GENESIS)";
  auto bytes = ReadWholeFile(path, kMaxGenesisBytes);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(where + ": " +
                                      Str(bytes.status().message()));
  }
  auto genesis = ParseGenesis(*bytes);
  if (!genesis.ok()) {
    return absl::InvalidArgumentError(where + ": " +
                                      Str(genesis.status().message()));
  }
  return genesis;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// --genesis and --allow-unwitnessed may stand anywhere on the line, like
// the connection options: they are defined on every level, bound to the
// same variables, so that each subcommand's --help lists them.
void AddAuditOptions(CLI::App* on, AuditArgs& args) {
  on->add_option("--genesis", args.genesis,
                 "The federation's genesis directory you pinned (binary "
                 "SignedDirectory) (CBX_GENESIS)")
      ->type_name("FILE")
      ->group("Audit options");
  on->add_flag("--allow-unwitnessed", args.allow_unwitnessed,
               "Accept a checkpoint signed by the node but cosigned by "
               "fewer witnesses than the directory's witness_threshold")
      ->group("Audit options");
}

// An audit subcommand and what it runs.
struct Sub {
  CLI::App* app;
  AuditCommandKind kind;
};

// cbx audit checkpoint / verify / prove: they ask the node.
void AddNodeCommands(CLI::App* audit, AuditArgs& args, std::vector<Sub>& subs) {
  CLI::App* checkpoint = audit->add_subcommand(
      "checkpoint",
      "Fetch the node's latest checkpoint; verify its signature and every "
      "witness cosignature");
  subs.push_back({checkpoint, AuditCommandKind::kCheckpoint});

  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Like checkpoint, then prove it consistent with the last checkpoint you "
      "trusted for this log, and trust it from now on");
  verify
      ->add_option("--state", args.state_dir,
                   "Where trusted checkpoints are kept (default "
                   "$XDG_STATE_HOME/cbx/audit or ~/.local/state/cbx/audit)")
      ->type_name("DIR");
  subs.push_back({verify, AuditCommandKind::kVerify});

  CLI::App* prove = audit->add_subcommand(
      "prove", "Prove that entry INDEX is in the log, and show it decoded");
  prove->add_option("INDEX", args.index, "The entry's sequence number")
      ->required();
  prove
      ->add_option("--size", args.size,
                   "Prove against the tree of this size, shown consistent "
                   "with the latest checkpoint (default: the checkpoint's "
                   "size)")
      ->type_name("N");
  subs.push_back({prove, AuditCommandKind::kProve});
}

// cbx audit export: asks the node, writes a file.
void AddExportCommand(CLI::App* audit, AuditArgs& args,
                      std::vector<Sub>& subs) {
  CLI::App* exp = audit->add_subcommand(
      "export",
      "Save entries [A, B) with their inclusion proofs, the checkpoint and "
      "the directory chain in a self-contained file, after verifying it all");
  exp->add_option("--from", args.from, "First entry (default 0)")
      ->type_name("A");
  exp->add_option("--to", args.to,
                  "End of the range, exclusive (default: the checkpoint's "
                  "size, i.e. to the end of the log)")
      ->type_name("B");
  exp->add_option("--size", args.size,
                  "Checkpoint size the proofs are against (default: the "
                  "latest)")
      ->type_name("N");
  exp->add_option("--out", args.out, "The file to write (must not exist)")
      ->required()
      ->type_name("FILE");
  subs.push_back({exp, AuditCommandKind::kExport});
}

// cbx audit verify-export / reconcile: offline.
void AddOfflineCommands(CLI::App* audit, AuditArgs& args,
                        std::vector<Sub>& subs) {
  CLI::App* verify_export = audit->add_subcommand(
      "verify-export",
      "Offline: verify an export file (directory chain, checkpoint, "
      "cosignatures, every entry's inclusion proof)");
  verify_export->add_option("FILE", args.file_a, "The export file")
      ->required()
      ->check(CLI::ExistingFile);
  subs.push_back({verify_export, AuditCommandKind::kVerifyExport});

  CLI::App* reconcile = audit->add_subcommand(
      "reconcile",
      "Offline: verify two members' exports, then list every envelope one "
      "logged as sent to the other and the other did not log as received, "
      "or the reverse");
  reconcile->add_option("FILE_A", args.file_a, "One member's export")
      ->required()
      ->check(CLI::ExistingFile);
  reconcile->add_option("FILE_B", args.file_b, "The other member's export")
      ->required()
      ->check(CLI::ExistingFile);
  reconcile
      ->add_option("--margin", args.margin,
                   "Seconds at each end of an export's time range inside "
                   "which a missing partner is not an orphan (default: the "
                   "directory's max_message_lifetime_s + max_clock_skew_s)")
      ->type_name("SECONDS");
  subs.push_back({reconcile, AuditCommandKind::kReconcile});

  CLI::App* report = audit->add_subcommand(
      "report",
      "Offline: recompute a month's transparency report from a verified "
      "export and, with --signed, check the node's signed report against it "
      "figure by figure (spec/cooperation.md §7)");
  report->add_option("--export", args.file_a, "The member's export")
      ->required()
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  report->add_option("--month", args.month, "The month, UTC")
      ->required()
      ->type_name("YYYY-MM");
  report
      ->add_option("--signed", args.signed_report,
                   "The node's report as `cbx report --json` wrote it")
      ->check(CLI::ExistingFile)
      ->type_name("REPORT.json");
  subs.push_back({report, AuditCommandKind::kReport});
}

// The audit arguments converted, before the genesis and the connection.
struct ConvertedArgs {
  std::optional<uint64_t> size;
  uint64_t index = 0;
  ExportRange range;
  std::optional<int64_t> margin;
  std::string state_dir;
};

// export's range; INVALID_ARGUMENT with the usage message.
absl::Status ConvertRange(const AuditArgs& args, std::optional<uint64_t> size,
                          ExportRange& range) {
  auto from = ParseOptionalCount("--from", args.from);
  if (!from.ok()) return from.status();
  auto to = ParseOptionalCount("--to", args.to);
  if (!to.ok()) return to.status();
  range.from = from->value_or(0);
  range.to = *to;
  range.size = size;
  if (range.to && range.from >= *range.to) {
    return absl::InvalidArgumentError(
        "--from " + args.from + " is not before --to " + args.to +
        ": the range [A, B) is empty (B is exclusive)");
  }
  if (range.to && range.size && *range.to > *range.size) {
    return absl::InvalidArgumentError(
        "--to " + args.to + " is beyond --size " + args.size +
        ": a checkpoint of size N proves entries 0..N-1");
  }
  range.out_path = args.out;
  if (Exists(range.out_path)) {
    return absl::InvalidArgumentError(
        "--out " + Quoted(range.out_path) +
        " exists; choose another name or remove it");
  }
  return absl::OkStatus();
}

// Converts and checks the arguments of `args.command`, in the order the
// usage messages promise; INVALID_ARGUMENT with the usage message.
absl::StatusOr<ConvertedArgs> ConvertArgs(const AuditArgs& args,
                                          const EnvLookup& env) {
  ConvertedArgs c;
  auto size = ParseOptionalCount("--size", args.size);
  if (!size.ok()) return size.status();
  c.size = *size;
  if (args.command == AuditCommandKind::kProve) {
    auto v = ParseCount("INDEX", args.index);
    if (!v.ok()) return v.status();
    c.index = *v;
  }
  if (args.command == AuditCommandKind::kExport) {
    if (absl::Status s = ConvertRange(args, c.size, c.range); !s.ok()) {
      return s;
    }
  }
  if (!args.margin.empty()) {
    auto m = ParseCount("--margin", args.margin);
    if (!m.ok()) return m.status();
    if (*m > 365ull * 86400) {
      return absl::InvalidArgumentError("--margin: at most a year");
    }
    c.margin = static_cast<int64_t>(*m);
  }
  c.state_dir = args.state_dir;
  if (args.command == AuditCommandKind::kVerify && c.state_dir.empty()) {
    auto d = DefaultStateDir(env);
    if (!d.ok()) return d.status();
    c.state_dir = *d;
  }
  return c;
}

// Connects (exit 2 if the connection options are wrong) and runs one of
// the commands that ask the node.
int RunNodeCommand(const AuditArgs& args, const ConvertedArgs& c,
                   const AuditOptions& options, const ConnectionFlags& flags,
                   bool json, const std::string& name, std::ostream& out,
                   std::ostream& err, const EnvLookup& env) {
  absl::StatusOr<ConnectionSettings> settings = ResolveConnection(flags, env);
  if (!settings.ok()) {
    err << "cbx: " << Str(settings.status().message()) << "\n";
    return kExitUsage;
  }
  std::unique_ptr<v1::Office::Stub> stub =
      v1::Office::NewStub(CreateChannel(*settings));
  CommandContext ctx{*stub, *settings, json, Lang::kEn, out, err};
  switch (args.command) {
    case AuditCommandKind::kCheckpoint:
      return CheckpointCommand(ctx, options);
    case AuditCommandKind::kVerify:
      return VerifyCommand(ctx, options, c.state_dir);
    case AuditCommandKind::kProve:
      return ProveCommand(ctx, options, c.index, c.size);
    case AuditCommandKind::kExport:
      return ExportCommand(ctx, options, c.range);
    default:
      err << "cbx: " << name << ": no audit command\n";
      return kExitUsage;
  }
}

}  // namespace

CLI::App* AddAuditCommands(CLI::App& app, AuditArgs& args) {
  AddAuditOptions(&app, args);
  CLI::App* audit = app.add_subcommand(
      "audit",
      "Auditors: verify a node's audit log from signed data (auditor "
      "certificate; spec/audit-log.md §9)");
  audit->require_subcommand(1);
  // Its subcommands copy this footer when they are created.
  audit->footer(
      audit->get_footer() +
      "\nAudit exit codes: 0 verified; 1 verification failed, or the node "
      "refused or could not be reached (the reason is printed); 2 a mistake "
      "in the arguments, the connection options or --genesis (nothing was "
      "sent).");
  AddAuditOptions(audit, args);

  std::vector<Sub> subs;
  AddNodeCommands(audit, args, subs);
  AddExportCommand(audit, args, subs);
  AddOfflineCommands(audit, args, subs);
  for (const Sub& s : subs) {
    AddAuditOptions(s.app, args);
    AuditCommandKind kind = s.kind;
    s.app->parse_complete_callback([&args, kind]() { args.command = kind; });
  }
  return audit;
}

int RunAudit(const AuditArgs& args, const ConnectionFlags& flags, bool json,
             const std::string& command_path, std::ostream& out,
             std::ostream& err, const EnvLookup& env) {
  const std::string name = command_path.rfind("cbx ", 0) == 0
                               ? command_path.substr(4)
                               : command_path;
  auto usage = [&](const absl::Status& status) {
    err << "cbx: " << name << ": " << Str(status.message()) << "\n"
        << "nothing was sent; run '" << command_path << " --help' for usage\n";
    return kExitUsage;
  };

  // Arguments first, then the pinned genesis.
  absl::StatusOr<ConvertedArgs> converted = ConvertArgs(args, env);
  if (!converted.ok()) return usage(converted.status());
  AuditOptions options;
  auto genesis = LoadGenesis(args.genesis, env);
  if (!genesis.ok()) return usage(genesis.status());
  options.genesis = *std::move(genesis);
  options.allow_unwitnessed = args.allow_unwitnessed;
  options.now_ms = absl::ToUnixMillis(absl::Now());

  // Offline commands need no node.
  if (args.command == AuditCommandKind::kVerifyExport) {
    OfflineContext ctx{json, out, err};
    return VerifyExportCommand(ctx, options, args.file_a);
  }
  if (args.command == AuditCommandKind::kReconcile) {
    OfflineContext ctx{json, out, err};
    return ReconcileCommand(ctx, options, args.file_a, args.file_b,
                            converted->margin);
  }
  if (args.command == AuditCommandKind::kReport) {
    OfflineContext ctx{json, out, err};
    return ReportCommand(ctx, options, args.file_a, args.month,
                         args.signed_report);
  }
  return RunNodeCommand(args, *converted, options, flags, json, name, out, err,
                        env);
}

}  // namespace cbx::client::audit
