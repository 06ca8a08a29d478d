// cbx-admin: the operator tool for keys and the signed federation directory.
// Argument parsing only; the commands live in admin/commands.cc.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "admin/backup_restore.h"
#include "admin/commands.h"
#include "admin/retention_sweep.h"
#include "core/util/clock.h"
#include "core/util/version.h"

namespace cbx::admin {
namespace {

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::cerr << "cbx-admin: " << status.message() << "\n";
  return 1;
}

// What the commands parse into, and their subcommands (to tell which one
// the parser reached). CLI11 keeps pointers into it: it must not move.
struct Commands {
  KeyGenerateArgs generate;
  KeyPublicArgs pub;
  DirectoryBuildArgs build;
  DirectorySignArgs sign;
  DirectoryVerifyArgs verify;
  DirectoryShowArgs show;
  DirectoryProposeArgs propose;
  DirectoryCosignArgs cosign;
  DirectoryCombineArgs combine;

  CLI::App* gen_cmd = nullptr;
  CLI::App* pub_cmd = nullptr;
  CLI::App* build_cmd = nullptr;
  CLI::App* sign_cmd = nullptr;
  CLI::App* verify_cmd = nullptr;
  CLI::App* show_cmd = nullptr;
  CLI::App* propose_cmd = nullptr;
  CLI::App* cosign_cmd = nullptr;
  CLI::App* combine_cmd = nullptr;

  BackupArgs backup;
  RestoreArgs restore;
  CLI::App* backup_cmd = nullptr;
  CLI::App* restore_cmd = nullptr;
  RetentionSweepArgs sweep;
  CLI::App* sweep_cmd = nullptr;
};

// cbx-admin backup / restore: the node's databases (admin/backup_restore.h).
void AddDataCommands(CLI::App& app, Commands& c) {
  c.backup_cmd = app.add_subcommand(
      "backup",
      "Copy the node's node.db (online, one consistent snapshot) into a new "
      "0600 file; it holds perpetrator identifiers in clear");
  c.backup_cmd->add_option("--config", c.backup.config, "The node's config")
      ->required();
  c.backup_cmd
      ->add_option("--out", c.backup.out,
                   "The node.db copy to create (never overwritten)")
      ->required();
  c.backup_cmd->add_option(
      "--audit-out", c.backup.audit_out,
      "Also copy audit.db here: evidence and an auditor's export, never to "
      "be restored");
  c.restore_cmd = app.add_subcommand(
      "restore",
      "Put a node.db backup in place while the node is stopped, after "
      "verifying it; audit.db is never touched");
  c.restore_cmd->add_option("--config", c.restore.config, "The node's config")
      ->required();
  c.restore_cmd
      ->add_option("--from", c.restore.from, "The backup (cbx-admin backup)")
      ->required();
  CLI::App* retention = app.add_subcommand(
      "retention", "The node's retention sweep, run by hand");
  retention->require_subcommand(1);
  c.sweep_cmd = retention->add_subcommand(
      "sweep",
      "With the node stopped: delete what the config's retention periods "
      "let go, as the node's own sweep does, and append the counts to the "
      "audit log; refused while the node runs");
  c.sweep_cmd->add_option("--config", c.sweep.config, "The node's config")
      ->required();
  c.sweep_cmd->add_flag("--dry-run", c.sweep.dry_run,
                        "Print what the sweep would delete and log, on a "
                        "private copy of node.db; changes nothing (allowed "
                        "while the node runs)");
}

// cbx-admin key generate / public
void AddKeyCommands(CLI::App& app, Commands& c) {
  CLI::App* key = app.add_subcommand("key", "Generate and inspect key files");
  key->require_subcommand(1);
  const auto kinds = CLI::IsMember({"node", "governance", "oprf"});

  KeyGenerateArgs& generate = c.generate;
  c.gen_cmd = key->add_subcommand(
      "generate",
      "Write a new key to a new file (mode 0600) and print its public key");
  c.gen_cmd->add_option("--kind", generate.kind, "node | governance | oprf")
      ->required()
      ->check(kinds);
  c.gen_cmd
      ->add_option("--out", generate.out,
                   "Key file to create (never overwritten)")
      ->required();
  c.gen_cmd->add_flag("--json", generate.json, "Print JSON");

  KeyPublicArgs& pub = c.pub;
  c.pub_cmd =
      key->add_subcommand("public", "Print the public key of a key file");
  c.pub_cmd->add_option("--kind", pub.kind, "node | governance | oprf")
      ->required()
      ->check(kinds);
  c.pub_cmd->add_option("--in", pub.in, "Key file")->required();
  c.pub_cmd->add_flag("--json", pub.json, "Print JSON");
}

// cbx-admin directory build / sign: they write directories.
void AddDirectoryWriteCommands(CLI::App& dir, Commands& c) {
  DirectoryBuildArgs& build = c.build;
  c.build_cmd = dir.add_subcommand(
      "build", "Build an unsigned directory from a federation spec (JSON)");
  c.build_cmd->add_option("--spec", build.spec, "Federation spec (JSON)")
      ->required();
  c.build_cmd->add_option("--out", build.out, "Directory file to write (.pb)")
      ->required();
  c.build_cmd->add_option("--previous", build.previous,
                          "For an update: the version it follows (checks the "
                          "update against it; the spec's version defaults to "
                          "its version + 1)");

  DirectorySignArgs& sign = c.sign;
  c.sign_cmd = dir.add_subcommand(
      "sign", "Add one member's governance signature to a directory");
  c.sign_cmd->add_option("--in", sign.in, "Directory to sign (.pb)")
      ->required();
  c.sign_cmd
      ->add_option("--member", sign.member, "Signing member's code, e.g. MK")
      ->required();
  c.sign_cmd
      ->add_option("--key", sign.key,
                   "The member's governance key: a key file, or a PKCS#11 URI "
                   "(pkcs11:token=...;object=...?module-path=...&pin-source="
                   "file:...) of a key in a token")
      ->required();
  c.sign_cmd
      ->add_option("--out", sign.out, "Where to write the signed directory")
      ->required();
  c.sign_cmd->add_option("--previous", sign.previous,
                         "For an update (version > 1): the previous version");
}

// cbx-admin directory propose / cosign / combine: the governance workflow
// (propose, each holder signs offline into their own file, combine).
void AddGovernanceCommands(CLI::App& dir, Commands& c) {
  DirectoryProposeArgs& propose = c.propose;
  c.propose_cmd = dir.add_subcommand(
      "propose",
      "Make the next version from the current one and a change file (JSON); "
      "print what changes");
  c.propose_cmd
      ->add_option("--current", propose.current, "The version in force (.pb)")
      ->required();
  c.propose_cmd
      ->add_option("--changes", propose.changes, "The change file (JSON)")
      ->required();
  c.propose_cmd
      ->add_option("--out", propose.out, "The unsigned proposal to write (.pb)")
      ->required();

  DirectoryCosignArgs& cosign = c.cosign;
  c.cosign_cmd = dir.add_subcommand(
      "cosign",
      "Sign a proposal offline into this member's own signature file");
  c.cosign_cmd->add_option("--in", cosign.in, "The proposal (.pb)")->required();
  c.cosign_cmd->add_option("--member", cosign.member, "Signing member's code")
      ->required();
  c.cosign_cmd
      ->add_option("--key", cosign.key, "The member's governance key file")
      ->required();
  c.cosign_cmd->add_option("--previous", cosign.previous,
                           "For an update (version > 1): the previous version");
  c.cosign_cmd
      ->add_option("--out", cosign.out,
                   "The signature file to create (never overwritten)")
      ->required();

  DirectoryCombineArgs& combine = c.combine;
  c.combine_cmd = dir.add_subcommand(
      "combine",
      "Merge signature files into the proposal; check each and k of n");
  c.combine_cmd->add_option("--in", combine.in, "The proposal (.pb)")
      ->required();
  c.combine_cmd
      ->add_option("--signature", combine.signatures,
                   "A signature file (repeatable)")
      ->required();
  c.combine_cmd->add_option("--previous", combine.previous,
                            "For an update: the previous version");
  c.combine_cmd
      ->add_option("--out", combine.out, "The signed directory to write (.pb)")
      ->required();
}

// cbx-admin directory verify / show: they read directories.
void AddDirectoryReadCommands(CLI::App& dir, Commands& c) {
  DirectoryVerifyArgs& verify = c.verify;
  c.verify_cmd = dir.add_subcommand(
      "verify", "Verify a genesis and updates in order; exit 1 on failure");
  c.verify_cmd->add_option("--genesis", verify.genesis, "Pinned genesis (.pb)")
      ->required();
  c.verify_cmd->add_option("--update", verify.updates,
                           "Next versions, in order (repeatable)");
  c.verify_cmd->add_flag("--json", verify.json, "Print JSON");

  DirectoryShowArgs& show = c.show;
  c.show_cmd =
      dir.add_subcommand("show", "Print a readable summary of a directory");
  c.show_cmd->add_option("--in", show.in, "Directory (.pb)")->required();
  c.show_cmd->add_option("--previous", show.previous,
                         "For an update: the previous version, to check the "
                         "signatures");
  c.show_cmd->add_flag("--json", show.json, "Print JSON");
}

// Runs the command the parser reached; its exit code.
int RunChosen(Commands& c) {
  if (c.gen_cmd->parsed()) {
    return Report(KeyGenerate(c.generate, std::cout, std::cerr));
  }
  if (c.pub_cmd->parsed()) {
    return Report(KeyPublic(c.pub, std::cout, std::cerr));
  }
  if (c.build_cmd->parsed()) {
    c.build.now_ms = SystemClock::Get().NowMs();
    return Report(DirectoryBuild(c.build, std::cout, std::cerr));
  }
  if (c.sign_cmd->parsed()) {
    return Report(DirectorySign(c.sign, std::cout, std::cerr));
  }
  if (c.propose_cmd->parsed()) {
    c.propose.now_ms = SystemClock::Get().NowMs();
    return Report(DirectoryPropose(c.propose, std::cout, std::cerr));
  }
  if (c.cosign_cmd->parsed()) {
    return Report(DirectoryCosign(c.cosign, std::cout, std::cerr));
  }
  if (c.combine_cmd->parsed()) {
    return Report(DirectoryCombine(c.combine, std::cout, std::cerr));
  }
  if (c.verify_cmd->parsed()) {
    return Report(DirectoryVerify(c.verify, std::cout, std::cerr));
  }
  if (c.backup_cmd->parsed()) {
    return Report(Backup(c.backup, std::cout, std::cerr));
  }
  if (c.restore_cmd->parsed()) {
    c.restore.now_ms = SystemClock::Get().NowMs();
    return Report(Restore(c.restore, std::cout, std::cerr));
  }
  if (c.sweep_cmd->parsed()) {
    return Report(RetentionSweep(c.sweep, std::cout));
  }
  if (c.show_cmd->parsed()) {
    return Report(DirectoryShow(c.show, std::cout, std::cerr));
  }
  return 2;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "cbx-admin: keys and the signed federation directory of a cbx "
      "federation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionLine("cbx-admin"));
  Commands commands;
  AddKeyCommands(app, commands);
  CLI::App* dir = app.add_subcommand(
      "directory",
      "Build, propose, sign, cosign, combine, verify and show directories");
  dir->require_subcommand(1);
  AddDirectoryWriteCommands(*dir, commands);
  AddDirectoryReadCommands(*dir, commands);
  AddGovernanceCommands(*dir, commands);
  AddDataCommands(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return RunChosen(commands);
}

}  // namespace
}  // namespace cbx::admin

int main(int argc, char** argv) { return cbx::admin::Main(argc, argv); }
