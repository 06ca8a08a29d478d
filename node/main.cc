// cbx-node: one country's node.
//
//   cbx-node --config node.json                      run the node
//   cbx-node --config node.json --check              check config, keys,
//                                                    directory; write nothing
//   cbx-node --config node.json --install-directory v2.pb
//                                                    install a signed update
//   cbx-node --config node.json --recover-audit-log
//                                                    start the new audit log
//                                                    generation the directory
//                                                    announces
//   cbx-node --version
//
// The node refuses to run as root (exit 2) unless --allow-root is given.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "core/util/env.h"
#include "core/util/version.h"
#include "node/config.h"
#include "node/data_consistency.h"
#include "node/directory_store.h"
#include "node/leadership.h"
#include "node/node.h"
#include "node/node_db.h"
#include "node/storage/sqlite_storage.h"

namespace {

// Installs a directory update into the node's database; a running node
// adopts it within one directory interval. Exit 0 on success.
int InstallDirectory(const cbx::node::Config& config, const std::string& file) {
  auto genesis_bytes = cbx::node::ReadFile(config.genesis);
  auto update_bytes = cbx::node::ReadFile(file);
  if (!genesis_bytes.ok() || !update_bytes.ok()) {
    std::cerr << "cbx-node: "
              << (genesis_bytes.ok() ? update_bytes : genesis_bytes)
                     .status()
                     .message()
              << "\n";
    return 2;
  }
  cbx::v1::SignedDirectory genesis, update;
  if (!genesis.ParseFromString(*genesis_bytes)) {
    std::cerr << "cbx-node: directory.genesis: " << config.genesis
              << " is not a signed directory\n";
    return 2;
  }
  if (!update.ParseFromString(*update_bytes)) {
    std::cerr << "cbx-node: " << file << " is not a signed directory\n";
    return 2;
  }
  if (absl::Status made =
          cbx::Env::Default()->CreateDirs(config.data_dir, 0700);
      !made.ok()) {
    std::cerr << "cbx-node: data_dir: " << made.message() << "\n";
    return 1;
  }
  auto storage = cbx::node::OpenNodeDb(config);
  if (!storage.ok()) {
    std::cerr << "cbx-node: " << storage.status().message() << "\n";
    return 1;
  }
  auto version = cbx::node::InstallDirectory(**storage, genesis, update);
  if (version.status().code() == absl::StatusCode::kAlreadyExists) {
    std::cout << "cbx-node: already installed: " << version.status().message()
              << "\n";
    return 0;
  }
  if (!version.ok()) {
    std::cerr << "cbx-node: directory update refused: "
              << version.status().message() << "\n";
    return 1;
  }
  std::cout << "cbx-node: installed directory version " << *version
            << "; a running node adopts it within "
            << config.directory_interval_ms << " ms and serves it to peers\n";
  return 0;
}

// --recover-audit-log: starts the new audit log generation the adopted
// directory announces for this member (spec/audit-log.md §12), then exits;
// the node is started as usual afterwards. Exit 0 on success, 2 on a
// refusal (nothing changed), 1 on another error.
int RecoverAuditLog(const cbx::node::Config& config) {
  if (config.audit_log.backend !=
      cbx::node::AuditLogStoreConfig::Backend::kSqlite) {
    std::cerr << "cbx-node: --recover-audit-log: not built yet for an audit "
                 "log in PostgreSQL (audit_log.backend); it recovers "
                 "data_dir/audit.db only\n";
    return 2;
  }
  auto genesis_bytes = cbx::node::ReadFile(config.genesis);
  cbx::v1::SignedDirectory genesis;
  if (!genesis_bytes.ok() || !genesis.ParseFromString(*genesis_bytes)) {
    std::cerr << "cbx-node: directory.genesis: " << config.genesis
              << " is not a readable signed directory\n";
    return 2;
  }
  const std::string node_db = cbx::node::NodeDbWhere(config);
  // Read-only first: a missing node.db is refused, not made.
  auto present = cbx::node::OpenNodeDb(config, /*read_only=*/true);
  if (present.status().code() == absl::StatusCode::kNotFound) {
    std::cerr << "cbx-node: --recover-audit-log: " << node_db
              << " is missing: there is no node to recover a log for\n";
    return 2;
  }
  present = absl::StatusOr<std::unique_ptr<cbx::node::Storage>>(nullptr);
  auto storage = cbx::node::OpenNodeDb(config);
  if (!storage.ok()) {
    std::cerr << "cbx-node: " << storage.status().message() << "\n";
    return 1;
  }
  absl::Status member =
      cbx::node::CheckMember(**storage, config.member, node_db);
  auto state =
      member.ok()
          ? cbx::node::LoadDirectoryState(**storage, genesis)
          : absl::StatusOr<std::unique_ptr<cbx::directory::DirectoryState>>(
                member);
  if (!state.ok()) {
    std::cerr << "cbx-node: " << state.status().message() << "\n";
    return 2;
  }
  auto done = cbx::node::RecoverAuditLog(
      **storage, *(*state)->Current(), config.member,
      config.data_dir + "/audit.db", &cbx::SystemClock::Get());
  if (!done.ok()) {
    std::cerr << "cbx-node: " << done.status().message() << "\n";
    return done.status().code() == absl::StatusCode::kFailedPrecondition ? 2
                                                                         : 1;
  }
  std::cout << "cbx-node: audit log recovered: " << *done
            << ". Start the node as usual; see \"Recovering a lost audit "
               "log\" in docs/operations.md for what to do about the lost "
               "entries\n";
  return 0;
}

// --check: everything checkable without serving, writing nothing.
int CheckOnly(const cbx::node::Config& config) {
  auto notes = cbx::node::Node::Check(config);
  if (!notes.ok()) {
    std::cerr << "cbx-node: " << notes.status().message() << "\n";
    return 2;
  }
  for (const std::string& note : *notes) {
    std::cout << "cbx-node: " << note << "\n";
  }
  if (config.leadership.enabled) {
    auto pair = cbx::node::CheckLeadership(config);
    if (!pair.ok()) {
      std::cerr << "cbx-node: " << pair.status().message() << "\n";
      return 2;
    }
    for (const std::string& note : *pair) {
      std::cout << "cbx-node: " << note << "\n";
    }
  }
  std::cout << "cbx-node: config, keys, certificates and directory are in "
               "order for "
            << config.member << "; nothing was written\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Two malloc arenas, not glibc's 8 per core: the node's ~44 threads
  // otherwise spread their blocks over many arenas whose free space stays
  // resident (README "Load soak"). Before any thread starts.
  mallopt(M_ARENA_MAX, 2);
  // A write to a connection its client closed fails with EPIPE instead of
  // ending the process (the TLS fronts pass bytes on sockets a client may
  // close at any moment; asio and gRPC already write with MSG_NOSIGNAL).
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"cbx-node: a member's node of the cbx cross-border federation"};
  std::string config_path;
  std::string install_file;
  std::string log_level;
  bool check_only = false;
  bool allow_root = false;
  app.set_version_flag("--version", cbx::VersionLine("cbx-node"));
  app.add_option("-c,--config", config_path, "the node's JSON config file")
      ->required();
  app.add_flag("--check", check_only,
               "check the config, keys, certificates and directory without "
               "serving or writing anything, then exit");
  app.add_option("--install-directory", install_file,
                 "verify a directory update signed by k governance members "
                 "and install it, then exit");
  app.add_option("--log-level", log_level,
                 "debug, info, warning or error: overrides the config's "
                 "log.level");
  app.add_flag("--allow-root", allow_root,
               "run even as root (refused otherwise: the node needs no "
               "privilege, and files it makes as root are not the service "
               "user's)");
  bool recover_audit_log = false;
  app.add_flag("--recover-audit-log", recover_audit_log,
               "start the new audit log generation that the adopted "
               "directory announces for this member, after the old log was "
               "lost, then exit (docs/operations.md, \"Recovering a lost "
               "audit log\")");
  CLI11_PARSE(app, argc, argv);

  if (::geteuid() == 0 && !allow_root) {
    std::cerr << "cbx-node: refusing to run as root: run it as an "
                 "unprivileged user that owns data_dir (the systemd unit "
                 "does), or pass --allow-root\n";
    return 2;
  }
  auto config = cbx::node::LoadConfig(config_path);
  if (!config.ok()) {
    std::cerr << "cbx-node: " << config.status().message() << "\n";
    return 2;
  }
  if (!log_level.empty()) {
    auto level = cbx::node::ParseLogLevel(log_level);
    if (!level.ok()) {
      std::cerr << "cbx-node: --log-level: " << level.status().message()
                << "\n";
      return 2;
    }
    config->log_level = *level;
  }
  cbx::node::SetLogOptions(config->log_format, config->log_level);
  // Before any gRPC object: gRPC's own lines become `grpc` events.
  static const std::string member = config->member;
  cbx::node::RouteGrpcLogging(&member, config->log_level);
  if (!install_file.empty()) return InstallDirectory(*config, install_file);
  if (check_only) return CheckOnly(*config);
  if (recover_audit_log) return RecoverAuditLog(*config);
  // One node of an active/standby pair (spec/active-standby.md).
  if (config->leadership.enabled) return cbx::node::RunPair(*config);
  auto node = cbx::node::Node::Create(*config);
  if (!node.ok()) {
    std::cerr << "cbx-node: " << node.status().message() << "\n";
    return 2;
  }
  if (absl::Status s = (*node)->Start(); !s.ok()) {
    std::cerr << "cbx-node: " << s.message() << "\n";
    return 1;
  }
  (*node)->Run();
  return 0;
}
