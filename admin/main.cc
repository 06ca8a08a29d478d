// cbx-admin: the operator tool for keys and the signed federation directory.
// Argument parsing only; the commands live in admin/commands.cc.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "admin/commands.h"
#include "core/util/clock.h"

namespace cbx::admin {
namespace {

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::cerr << "cbx-admin: " << status.message() << "\n";
  return 1;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "cbx-admin: keys and the signed federation directory of a cbx "
      "federation"};
  app.require_subcommand(1);

  CLI::App* key = app.add_subcommand("key", "Generate and inspect key files");
  key->require_subcommand(1);
  const auto kinds = CLI::IsMember({"node", "governance", "oprf"});

  KeyGenerateArgs generate;
  CLI::App* gen = key->add_subcommand(
      "generate",
      "Write a new key to a new file (mode 0600) and print its public key");
  gen->add_option("--kind", generate.kind, "node | governance | oprf")
      ->required()
      ->check(kinds);
  gen->add_option("--out", generate.out,
                  "Key file to create (never overwritten)")
      ->required();
  gen->add_flag("--json", generate.json, "Print JSON");

  KeyPublicArgs pub;
  CLI::App* pub_cmd =
      key->add_subcommand("public", "Print the public key of a key file");
  pub_cmd->add_option("--kind", pub.kind, "node | governance | oprf")
      ->required()
      ->check(kinds);
  pub_cmd->add_option("--in", pub.in, "Key file")->required();
  pub_cmd->add_flag("--json", pub.json, "Print JSON");

  CLI::App* dir = app.add_subcommand(
      "directory", "Build, sign, verify and show directories");
  dir->require_subcommand(1);

  DirectoryBuildArgs build;
  CLI::App* build_cmd = dir->add_subcommand(
      "build", "Build an unsigned directory from a federation spec (JSON)");
  build_cmd->add_option("--spec", build.spec, "Federation spec (JSON)")
      ->required();
  build_cmd->add_option("--out", build.out, "Directory file to write (.pb)")
      ->required();
  build_cmd->add_option("--previous", build.previous,
                        "For an update: the version it follows (checks the "
                        "update against it; the spec's version defaults to "
                        "its version + 1)");

  DirectorySignArgs sign;
  CLI::App* sign_cmd = dir->add_subcommand(
      "sign", "Add one member's governance signature to a directory");
  sign_cmd->add_option("--in", sign.in, "Directory to sign (.pb)")->required();
  sign_cmd
      ->add_option("--member", sign.member, "Signing member's code, e.g. MK")
      ->required();
  sign_cmd->add_option("--key", sign.key, "The member's governance key file")
      ->required();
  sign_cmd->add_option("--out", sign.out, "Where to write the signed directory")
      ->required();
  sign_cmd->add_option("--previous", sign.previous,
                       "For an update (version > 1): the previous version");

  DirectoryVerifyArgs verify;
  CLI::App* verify_cmd = dir->add_subcommand(
      "verify", "Verify a genesis and updates in order; exit 1 on failure");
  verify_cmd->add_option("--genesis", verify.genesis, "Pinned genesis (.pb)")
      ->required();
  verify_cmd->add_option("--update", verify.updates,
                         "Next versions, in order (repeatable)");
  verify_cmd->add_flag("--json", verify.json, "Print JSON");

  DirectoryShowArgs show;
  CLI::App* show_cmd =
      dir->add_subcommand("show", "Print a readable summary of a directory");
  show_cmd->add_option("--in", show.in, "Directory (.pb)")->required();
  show_cmd->add_option("--previous", show.previous,
                       "For an update: the previous version, to check the "
                       "signatures");
  show_cmd->add_flag("--json", show.json, "Print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (gen->parsed()) {
    return Report(KeyGenerate(generate, std::cout, std::cerr));
  }
  if (pub_cmd->parsed()) return Report(KeyPublic(pub, std::cout, std::cerr));
  if (build_cmd->parsed()) {
    build.now_ms = SystemClock::Get().NowMs();
    return Report(DirectoryBuild(build, std::cout, std::cerr));
  }
  if (sign_cmd->parsed()) {
    return Report(DirectorySign(sign, std::cout, std::cerr));
  }
  if (verify_cmd->parsed()) {
    return Report(DirectoryVerify(verify, std::cout, std::cerr));
  }
  if (show_cmd->parsed()) {
    return Report(DirectoryShow(show, std::cout, std::cerr));
  }
  return 2;
}

}  // namespace
}  // namespace cbx::admin

int main(int argc, char** argv) { return cbx::admin::Main(argc, argv); }
