#include "client/cli.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cbx/v1/office.grpc.pb.h"
#include "client/arguments.h"
#include "client/audit/cli.h"
#include "client/bulk_query.h"
#include "client/commands.h"
#include "client/cooperation_commands.h"
#include "client/credentials_check.h"
#include "client/messages.h"
#include "client/offence_labels.h"
#include "client/office_commands.h"
#include "client/report_command.h"
#include "client/suggest.h"
#include "client/watch_commands.h"
#include "client/withdrawal_commands.h"
#include "core/i18n/catalog.h"
#include "core/util/version.h"

namespace cbx::client {
namespace {

// A command whose arguments are converted, waiting for its connection.
using Runner = std::function<int(CommandContext&)>;

template <typename Request>
absl::StatusOr<Runner> Bind(absl::StatusOr<Request> request,
                            int (*command)(CommandContext&, const Request&)) {
  if (!request.ok()) return request.status();
  return Runner([request = *std::move(request), command](CommandContext& ctx) {
    return command(ctx, request);
  });
}

constexpr char kIdHelp[] =
    "Perpetrator identifier TYPE:VALUE, or TYPE@WINDOW:VALUE with the window "
    "in which it was observed (FROM..TO, FROM.., ..TO or one date; dates "
    "YYYY-MM-DD or YYYY-MM, UTC). Types: telegram_user_id, "
    "telegram_username, telegram_chat, phone, email, platform_handle, "
    "content_sha256. Repeatable.";
constexpr char kOffenceHelp[] =
    "Offence code ncii-sharing, ncii-threat, cyber-stalking, "
    "cyber-harassment, cyber-incitement, csam or group-admin, with any of "
    "+attempted, +ai (AI-manipulated), +minor (minor victim). Repeatable.";
constexpr char kRoleHelp[] =
    "Perpetrator role: creator, administrator, poster, resharer or requester";

constexpr char kFooter[] =
    "Connection: --node, --cert, --key and --ca fall back to CBX_NODE, "
    "CBX_CERT, CBX_KEY and CBX_CA.\n"
    "Exit codes: 0 done; 1 the node refused or could not be reached; 2 a "
    "mistake in the arguments or connection options (nothing was sent).\n"
    "\n"
    "Examples:\n"
    "  cbx case add MK-2026-0142 --id telegram_username:@smokva_admin \\\n"
    "      --id 'phone@2025-01..2025-06:+389 70 123 456' \\\n"
    "      --offence ncii-sharing+ai --offence group-admin \\\n"
    "      --role administrator --contact '+389 2 3100 100 (24/7)'\n"
    "  cbx query --id telegram_username:@smokva_admin --case MK-2026-0142 \\\n"
    "      --legal-basis 'MLA-Convention-1959 Art.1' --offence ncii-sharing\n"
    "  cbx query --ids-file contacts.txt --case MK-2026-0142 \\\n"
    "      --legal-basis 'MLA-Convention-1959 Art.1' --offence ncii-sharing\n"
    "  cbx hits --case MK-2026-0142 --lang mk\n"
    "  cbx audit verify --genesis genesis.pb     (auditor certificate)\n"
    "Full reference: spec/office-api.md";

constexpr char kSubcommandFooter[] =
    "Connection and output options (--node, --cert, --key, --ca, "
    "--server-name, --timeout, --json, --lang) may be given before or after "
    "the subcommand; see 'cbx --help'.";

// "cbx case add" for the deepest subcommand the parser reached.
std::string CommandPath(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* at = &app;
  while (true) {
    std::vector<const CLI::App*> subs =
        at->get_subcommands([](const CLI::App* sub) { return sub->parsed(); });
    if (subs.empty()) return path;
    at = subs.front();
    path += " " + at->get_name();
  }
}

// "case add: " (the subcommand the parser reached, for messages), or "".
std::string Subcommand(const CLI::App& app) {
  std::string path = CommandPath(app);
  size_t space = path.find(' ');
  return space == std::string::npos ? "" : path.substr(space + 1) + ": ";
}

CLI::Option* Repeatable(CLI::Option* option) {
  // One value per occurrence, so that "--id a NUMBER" does not take NUMBER
  // as a second identifier.
  return option->allow_extra_args(false);
}

// The options every command takes (connection and output).
struct GlobalOptions {
  ConnectionFlags flags;
  bool json = false;
  bool verbose = false;
  bool wide = false;
  std::string lang_code;  // --lang; else CBX_LANG; else en
};

// What the office commands parse into, and their subcommands (to tell which
// one the parser reached). CLI11 keeps pointers into it: it must not move.
struct OfficeCommands {
  AddCaseArgs add;
  AmendCaseArgs amend;
  std::string close_number;
  bool list_all = false;
  QueryArgs query;
  std::string hits_case;
  bool hits_all = false;
  bool hits_withdrawn = false;
  std::string inbox_case;

  CLI::App* add_cmd = nullptr;
  CLI::App* amend_cmd = nullptr;
  CLI::App* close_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* query_cmd = nullptr;
  CLI::App* hits_cmd = nullptr;
  CLI::App* inbox_cmd = nullptr;
  CLI::App* peers_cmd = nullptr;
  CLI::App* whoami_cmd = nullptr;
  CLI::App* counts_cmd = nullptr;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions& g) {
  app.add_option("--node", g.flags.node,
                 "The node's Office endpoint (CBX_NODE); an active/standby "
                 "pair's two, separated by a comma: the one that serves is "
                 "used")
      ->type_name("HOST:PORT[,HOST:PORT]");
  app.add_option("--cert", g.flags.cert,
                 "The office's client certificate, PEM (CBX_CERT)")
      ->type_name("FILE");
  app.add_option("--key", g.flags.key, "Its private key, PEM (CBX_KEY)")
      ->type_name("FILE");
  app.add_option("--ca", g.flags.ca,
                 "The national CA that issued the node's certificate (CBX_CA)")
      ->type_name("FILE");
  app.add_option("--server-name", g.flags.server_name,
                 "Name to expect in the node's certificate instead of the "
                 "host of --node")
      ->type_name("NAME");
  app.add_option("--timeout", g.flags.timeout_s,
                 "Seconds to wait for the node (default 30)")
      ->type_name("SECONDS");
  app.add_flag("--json", g.json,
               "Machine-readable output: one JSON document, or for query one "
               "JSON object per line as answers arrive");
  app.add_flag("--verbose", g.verbose,
               "Errors also show the technical detail (the gRPC status code "
               "and text), as --json does");
  app.add_flag("--wide", g.wide,
               "Tables with every column at full width (default: they fit "
               "100 columns, long cells cut with '…')");
  // The languages are the message catalog's (one file each in i18n/).
  app.add_option("--lang", g.lang_code,
                 "Language of the output: " + i18n::LanguageList() +
                     "; any case (CBX_LANG)")
      ->type_name("LANG");
}

// cbx case add
void AddCaseAddCommand(CLI::App& case_cmd, OfficeCommands& c) {
  AddCaseArgs& add = c.add;
  c.add_cmd = case_cmd.add_subcommand(
      "add", "Register a case and its perpetrator identifiers");
  c.add_cmd->add_option("NUMBER", add.number, "The office's case number")
      ->required();
  Repeatable(c.add_cmd->add_option("--id", add.ids, kIdHelp))
      ->required()
      ->type_name("TYPE[@WINDOW]:VALUE");
  Repeatable(c.add_cmd->add_option("--offence", add.offences, kOffenceHelp))
      ->required()
      ->type_name("CODE[+attempted][+ai][+minor]");
  c.add_cmd->add_option("--role", add.role, kRoleHelp)
      ->required()
      ->type_name("ROLE");
  c.add_cmd
      ->add_option("--contact", add.contact,
                   "The competent office's 24/7 contact point, as peers will "
                   "see it")
      ->required()
      ->type_name("TEXT");
  c.add_cmd
      ->add_option("--opened", add.opened,
                   "Month the case was opened (default: the node's current "
                   "month)")
      ->type_name("YYYY-MM");
}

// cbx case amend
void AddCaseAmendCommand(CLI::App& case_cmd, OfficeCommands& c) {
  AmendCaseArgs& amend = c.amend;
  c.amend_cmd = case_cmd.add_subcommand(
      "amend", "Change a case; give at least one change");
  c.amend_cmd->add_option("NUMBER", amend.number, "The case number")
      ->required();
  Repeatable(c.amend_cmd->add_option("--add-id", amend.add_ids,
                                     "Add an identifier (as --id of case add)"))
      ->type_name("TYPE[@WINDOW]:VALUE");
  Repeatable(c.amend_cmd->add_option(
                 "--remove-id", amend.remove_ids,
                 "Remove an identifier, matched on type and normalized value"))
      ->type_name("TYPE:VALUE");
  Repeatable(c.amend_cmd->add_option(
                 "--offence", amend.offences,
                 "Replace the offences with these (as --offence of case add)"))
      ->type_name("CODE[+attempted][+ai][+minor]");
  c.amend_cmd->add_option("--role", amend.role, kRoleHelp)->type_name("ROLE");
  c.amend_cmd
      ->add_option("--contact", amend.contact, "Replace the contact point")
      ->type_name("TEXT");
}

// cbx case add / amend / close / list
void AddCaseCommands(CLI::App& app, OfficeCommands& c) {
  CLI::App* case_cmd =
      app.add_subcommand("case", "Register and maintain the office's cases");
  case_cmd->require_subcommand(1);
  AddCaseAddCommand(*case_cmd, c);
  AddCaseAmendCommand(*case_cmd, c);
  c.close_cmd = case_cmd->add_subcommand(
      "close", "Close a case: its identifiers leave the index");
  c.close_cmd->add_option("NUMBER", c.close_number, "The case number")
      ->required();
  c.list_cmd = case_cmd->add_subcommand("list", "List the office's open cases");
  c.list_cmd->add_flag("--all", c.list_all, "Include closed cases");
}

// cbx query
void AddQueryCommand(CLI::App& app, OfficeCommands& c) {
  QueryArgs& query = c.query;
  c.query_cmd = app.add_subcommand(
      "query", "Ask peer nodes, blindly, whether they hold these identifiers");
  Repeatable(c.query_cmd->add_option("--id", query.ids, kIdHelp))
      ->type_name("TYPE[@WINDOW]:VALUE");
  c.query_cmd
      ->add_option(
          "--ids-file", query.ids_file,
          "A bulk check (a seized phone's contacts): the identifiers from "
          "FILE ('-' standard input), one a line as for --id, '#' starting a "
          "comment line; checked before anything is sent, then asked as "
          "queries of at most 1024, two at a time. Shows each query's hits "
          "and errors with the file's line, then which peers did not check "
          "which lines. Instead of --id; --timeout applies to each query")
      ->type_name("FILE");
  c.query_cmd
      ->add_option("--case", query.case_number,
                   "Your case this query is for (the stated purpose)")
      ->required()
      ->type_name("NUMBER");
  c.query_cmd
      ->add_option("--legal-basis", query.legal_basis,
                   "Legal basis of the request, e.g. 'MLA-Convention-1959 "
                   "Art.1'")
      ->required()
      ->type_name("TEXT");
  c.query_cmd
      ->add_option("--offence", query.offence,
                   "Offence code of the purpose (no +parameters)")
      ->required()
      ->type_name("CODE");
  Repeatable(
      c.query_cmd->add_option(
          "--peer", query.peers,
          "Ask only this member (repeatable); default every active peer"))
      ->type_name("CC");
  c.query_cmd->add_flag(
      "--both-types", query.both_types,
      "Ask a Telegram username also as a chat and a chat also as a "
      "username (a name or t.me/ link can be either)");
}

// cbx hits / inbox / peers
void AddListCommands(CLI::App& app, OfficeCommands& c) {
  c.hits_cmd = app.add_subcommand(
      "hits", "Case references received from peers for our queries");
  c.hits_cmd->add_option("--case", c.hits_case, "Only hits for this case")
      ->type_name("NUMBER");
  c.hits_cmd->add_flag("--all", c.hits_all,
                       "One row per hit received, instead of one per peer "
                       "case");
  c.hits_cmd->add_flag("--withdrawn", c.hits_withdrawn,
                       "Only hits whose reference the origin withdrew");
  c.inbox_cmd = app.add_subcommand(
      "inbox", "Peers that resolved one of our cases, and for what purpose");
  c.inbox_cmd->add_option("--case", c.inbox_case, "Only this case")
      ->type_name("NUMBER");
  c.peers_cmd = app.add_subcommand(
      "peers", "The federation's members as this node sees them");
  c.whoami_cmd = app.add_subcommand(
      "whoami",
      "The office, role and person the office certificate names (nothing is "
      "sent)");
  c.counts_cmd = app.add_subcommand(
      "counts",
      "How many cases, hits, requests and watches each office holds "
      "(operator role)");
}

// The office command the parser reached, with its request converted;
// INVALID_ARGUMENT (or another code) saying which argument is wrong.
// `home` is the office's member code ("" unknown), for identifier hints.
absl::StatusOr<Runner> ChosenCommand(const OfficeCommands& c,
                                     std::string_view home) {
  if (c.add_cmd->parsed()) {
    return Bind(BuildAddCaseRequest(c.add, home), &AddCase);
  }
  if (c.amend_cmd->parsed()) {
    return Bind(BuildAmendCaseRequest(c.amend, home), &AmendCase);
  }
  if (c.close_cmd->parsed()) {
    return Bind(BuildCloseCaseRequest(c.close_number), &CloseCase);
  }
  if (c.list_cmd->parsed()) {
    v1::ListCasesRequest request;
    request.set_include_closed(c.list_all);
    return Bind(absl::StatusOr<v1::ListCasesRequest>(request), &ListCases);
  }
  if (c.query_cmd->parsed()) {
    if (!c.query.ids_file.empty()) {
      return Bind(BuildBulkQuery(c.query, home), &BulkQuery);
    }
    return Bind(BuildQueryRequest(c.query, home), &Query);
  }
  if (c.hits_cmd->parsed()) {
    absl::StatusOr<v1::ListHitsRequest> request =
        BuildListHitsRequest(c.hits_case);
    if (!request.ok()) return request.status();
    return Runner([request = *std::move(request), all = c.hits_all,
                   withdrawn = c.hits_withdrawn](CommandContext& ctx) {
      return withdrawn ? ListWithdrawnHits(ctx, request)
                       : ListHits(ctx, request, all);
    });
  }
  if (c.inbox_cmd->parsed()) {
    return Bind(BuildListInboxRequest(c.inbox_case), &ListInbox);
  }
  if (c.peers_cmd->parsed()) {
    return Bind(absl::StatusOr<v1::ListPeersRequest>(v1::ListPeersRequest()),
                &ListPeers);
  }
  if (c.counts_cmd->parsed()) {
    return Bind(absl::StatusOr<v1::GetCountsRequest>(v1::GetCountsRequest()),
                &GetCounts);
  }
  return absl::InternalError("no command");
}

// Prints a usage mistake of the subcommand the parser reached; returns
// kExitUsage.
int UsageError(const CLI::App& app, std::ostream& err,
               const std::string& message) {
  err << "cbx: " << Subcommand(app) << message << "\n"
      << "nothing was sent; run '" << CommandPath(app)
      << " --help' for usage\n";
  return kExitUsage;
}

// The option `name` ("--node", "-h") of `at` or of a command above it (their
// options may follow a subcommand); nullptr if none.
CLI::Option* FindOption(CLI::App* at, const std::string& name) {
  for (CLI::App* a = at; a != nullptr; a = a->get_parent()) {
    if (CLI::Option* o = a->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

// The long option names usable at `at`, with their dashes.
std::vector<std::string> OptionNames(CLI::App* at) {
  std::vector<std::string> names;
  for (CLI::App* a = at; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    }
  }
  return names;
}

std::vector<std::string> SubcommandNames(CLI::App* at) {
  std::vector<std::string> names;
  for (const CLI::App* sub :
       at->get_subcommands([](CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

// Advice on a parse error, from `argv` walked along the command tree: a
// mistyped subcommand or option gets "did you mean ...?" (edit distance,
// client/suggest.h), an unknown or missing subcommand the list to choose
// from. "" when none of these is the mistake.
std::string Advice(CLI::App& app, int argc, const char* const* argv) {
  CLI::App* at = &app;
  std::string path = "cbx";
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token == "--") break;
    if (token.size() > 1 && token[0] == '-') {
      const std::string name = token.substr(0, token.find('='));
      CLI::Option* option = FindOption(at, name);
      if (option == nullptr) {
        const std::string close = ClosestWord(name, OptionNames(at));
        return "'" + name + "' is not an option of '" + path + "'" +
               (close.empty() ? "" : "; did you mean " + close + "?");
      }
      const bool inline_value =
          token.find('=') != std::string::npos ||
          (token[1] != '-' && token.size() > 2);  // "-xVALUE"
      if (option->get_type_size_max() > 0 && !inline_value) ++i;
      continue;
    }
    const std::vector<std::string> names = SubcommandNames(at);
    CLI::App* next = nullptr;
    for (CLI::App* sub : at->get_subcommands([](CLI::App*) { return true; })) {
      if (sub->check_name(token)) next = sub;
    }
    if (next != nullptr) {
      at = next;
      path += " " + next->get_name();
      continue;
    }
    if (!names.empty() && at->get_require_subcommand_min() > 0) {
      const std::string close = ClosestWord(token, names);
      return "'" + token + "' is not a command of '" + path + "'; " +
             (close.empty() ? "choose one of: " + JoinedChoices(names)
                            : "did you mean '" + path + " " + close + "'?");
    }
    // Otherwise a positional value (a case number, a file).
  }
  const std::vector<std::string> names = SubcommandNames(at);
  if (!names.empty() && at->get_require_subcommand_min() > 0) {
    return "'" + path + "' needs a subcommand: " + JoinedChoices(names) +
           " (run '" + path + " --help' to see what each does)";
  }
  return "";
}

// Parses `argv` into `app`. nullopt to go on; else the exit code (help and
// version printed: 0; a parse error printed: kExitUsage).
std::optional<int> Parse(CLI::App& app, int argc, const char* const* argv,
                         std::ostream& out, std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    const std::string advice = Advice(app, argc, argv);
    return UsageError(app, err, advice.empty() ? e.what() : advice);
  }
  return std::nullopt;
}

// Checks the language and connection options (exit 2 if wrong), connects
// and runs `runner`.
int ConnectAndRun(const Runner& runner, const GlobalOptions& g,
                  std::ostream& out, std::ostream& err, const EnvLookup& env) {
  std::string code = g.lang_code, source = "--lang";
  if (code.empty()) {
    code = env("CBX_LANG").value_or("");
    source = "CBX_LANG";
  }
  absl::StatusOr<Lang> lang = ParseLang(code.empty() ? "en" : code);
  if (!lang.ok()) {
    err << "cbx: " << source << ": " << std::string(lang.status().message())
        << "\n";
    return kExitUsage;
  }
  absl::StatusOr<ConnectionSettings> settings = ResolveConnection(g.flags, env);
  if (!settings.ok()) {
    err << "cbx: " << std::string(settings.status().message()) << "\n";
    return kExitUsage;
  }
  // The files are checked before connecting, so that a wrong one is named.
  if (absl::Status files =
          CheckCredentials(*settings, absl::ToUnixSeconds(absl::Now()));
      !files.ok()) {
    err << "cbx: " << std::string(files.message()) << "\n"
        << Text(Msg::kNothingWasSent, *lang) << "\n";
    return kExitUsage;
  }
  std::unique_ptr<v1::Office::Stub> stub =
      v1::Office::NewStub(ActiveChannel(*settings));
  CommandContext ctx{*stub, *settings, g.json, *lang, out, err};
  ctx.verbose = g.verbose;
  ctx.wide = g.wide;
  return runner(ctx);
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err, const EnvLookup& env) {
  CLI::App app{
      "cbx: register an office's cases in its cbx-node and query every peer "
      "country's node for the same perpetrators; auditors verify the node's "
      "audit log.",
      "cbx"};
  // Subcommands copy the footer when created: they get the short one, the
  // top-level help the full one (set below, after the subcommands).
  app.footer(kSubcommandFooter);
  app.require_subcommand(1);
  // Connection and output options may also follow the subcommand.
  app.fallthrough();
  app.set_version_flag("--version", VersionLine("cbx"));

  GlobalOptions global;
  AddGlobalOptions(app, global);
  OfficeCommands office;
  AddCaseCommands(app, office);
  AddQueryCommand(app, office);
  AddListCommands(app, office);
  CooperationArgs cooperation;
  AddCooperationCommands(app, cooperation);
  WatchCommands watch;
  AddWatchCommands(app, watch);
  WithdrawalArgs withdrawals;
  AddWithdrawalsCommand(app, withdrawals);
  ReportArgs report;
  AddReportCommand(app, report);
  audit::AuditArgs audit_args;
  CLI::App* audit_cmd = audit::AddAuditCommands(app, audit_args);
  app.footer(kFooter);

  if (std::optional<int> exit = Parse(app, argc, argv, out, err)) return *exit;

  if (audit_cmd->parsed()) {
    return audit::RunAudit(audit_args, global.flags, global.json,
                           CommandPath(app), out, err, env);
  }
  if (!audit_args.genesis.empty() || audit_args.allow_unwitnessed) {
    return UsageError(
        app, err,
        "--genesis and --allow-unwitnessed are for the audit commands");
  }
  if (office.whoami_cmd->parsed()) {
    // Read from the certificate alone: nothing is sent.
    absl::StatusOr<std::vector<std::string>> uris =
        CertificateUris(global.flags, env);
    absl::StatusOr<std::string> who =
        uris.ok() ? WhoAmI(*uris, global.json)
                  : absl::StatusOr<std::string>(uris.status());
    if (!who.ok())
      return UsageError(app, err, std::string(who.status().message()));
    out << *who << std::flush;
    return kExitOk;
  }
  const std::string home = OfficeMemberOfCertificate(global.flags, env);
  std::optional<absl::StatusOr<Runner>> chosen =
      ChosenCooperationCommand(cooperation, home);
  if (!chosen.has_value()) chosen = ChosenWatchCommand(watch, home);
  if (!chosen.has_value()) chosen = ChosenWithdrawalsCommand(withdrawals);
  if (!chosen.has_value()) chosen = ChosenReportCommand(report);
  absl::StatusOr<Runner> runner =
      chosen.has_value() ? *std::move(chosen) : ChosenCommand(office, home);
  if (!runner.ok()) {
    return UsageError(app, err, std::string(runner.status().message()));
  }
  return ConnectAndRun(*runner, global, out, err, env);
}

}  // namespace cbx::client
