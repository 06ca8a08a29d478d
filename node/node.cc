#include "node/node.h"

#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/crypto/pkcs11_signer.h"
#include "core/crypto/voprf.h"
#include "core/logcheck/log_keys.h"
#include "core/util/env.h"
#include "core/util/key_file.h"
#include "core/util/status_macros.h"
#include "grpc/support/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "node/audit/head_file.h"
#include "node/audit/pg_audit_store.h"
#include "node/audit_log_store.h"
#include "node/data_consistency.h"
#include "node/directory_adoption.h"
#include "node/directory_store.h"
#include "node/grpc_limits.h"
#include "node/grpc_status.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node_db.h"
#include "node/node_metrics.h"
#include "node/rpc_metrics.h"
#include "node/storage/io_health.h"
#include "node/storage/memory_storage.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/sqlite_storage.h"
#include "node/tls_credentials.h"

namespace cbx::node {
namespace {

// How often the OPRF rotation looks for work (each tick works up to its
// budget, OprfRotation::Options::tick_budget_ms).
constexpr int64_t kOprfRotationTickMs = 1000;
// How often overdue cooperation requests are looked for.
constexpr int64_t kCooperationTickMs = 1000;
// How often queued withdrawals are looked for (node/withdrawal.h).
constexpr int64_t kWithdrawalTickMs = 1000;
// How often expired standing watches are looked for (one short
// transaction; List and each peer index version look too).
constexpr int64_t kWatchExpiryTickMs = 5000;

// The limits of node/grpc_limits.h on one server (peer or office port):
// requests up to `max_request_bytes`, bounded streams, pings, idleness,
// age, handshake time and transport memory (`quota_name` names the quota
// in gRPC's traces).
void ApplyServerLimits(grpc::ServerBuilder& builder, size_t max_request_bytes,
                       const std::string& quota_name) {
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_request_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             kMaxConcurrentStreams);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      kMinRecvPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, kMaxPingStrikes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             kServerKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             kServerKeepaliveTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             kMaxConnectionIdleMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             kMaxConnectionAgeMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             kMaxConnectionAgeGraceMs);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             kServerHandshakeTimeoutMs);
  grpc::ResourceQuota quota(quota_name);
  quota.Resize(kServerMemoryQuotaBytes);
  builder.SetResourceQuota(quota);
}

// The node signing keys of `keys` (node_signing_key first), choosing by
// `ctx`'s directory and clock.
std::unique_ptr<NodeSigningKeys> MakeSigningKeys(const NodeContext& ctx,
                                                 NodeKeys keys) {
  std::vector<NodeSigningKeys::Key> list;
  auto add = [&](std::string field,
                 std::shared_ptr<const crypto::Signer> signer) {
    if (signer == nullptr) return;
    Bytes key_id = directory::NodeKeyId(signer->public_key().bytes());
    list.push_back({std::move(field), std::move(signer), std::move(key_id)});
  };
  add("keys.node_signing_key", std::move(keys.signing));
  add("keys.node_signing_key_next", std::move(keys.signing_next));
  return std::make_unique<NodeSigningKeys>(ctx.config.member, std::move(list),
                                           ctx.directory.get(), ctx.clock);
}

// The hint a gRPC log line reporting a certificate that did not verify
// carries: the version in use and the members it added to `before` (none
// at start, `before` null).
std::string TlsFailureHintFor(const directory::Directory* before,
                              const directory::Directory& after) {
  std::vector<std::string> added;
  if (before != nullptr) {
    for (const v1::Member& m : after.proto().members()) {
      if (before->FindMember(m.code()) == nullptr) added.push_back(m.code());
    }
  }
  std::string hint = absl::StrCat(
      "a certificate did not chain to the CAs of the directory one side "
      "uses (this node: version ",
      after.version(),
      "): a member added by a version one side has not adopted yet (install "
      "it: cbx-node --install-directory), a CA missing from the directory, "
      "or an expired or wrong certificate");
  if (!added.empty()) {
    absl::StrAppend(&hint, "; version ", after.version(), " added ",
                    absl::StrJoin(added, ", "),
                    ": if the failing peer is one of these, it has not "
                    "adopted this version yet");
  }
  return hint;
}

// This node's keys must be the ones the directory lists for it.
// FAILED_PRECONDITION naming the key otherwise.
absl::Status CheckOwnKeys(const NodeContext& ctx) {
  const Config& config = ctx.config;
  std::shared_ptr<const directory::Directory> dir = ctx.directory->Current();
  const v1::Member* me = dir->FindMember(config.member);
  if (me == nullptr) {
    return absl::FailedPreconditionError("member: " + config.member +
                                         " is not in the directory");
  }
  // During a rotation one of the two keys may not be listed yet (the next
  // one, published ahead) or any more (the old one, dropped); which one
  // signs is NodeSigningKeys's choice, made at every signature.
  if (!ctx.signing_keys->AnyListedIn(*dir)) {
    return absl::FailedPreconditionError(
        (config.node_signing_key_next.empty()
             ? "keys.node_signing_key: this key is not"
             : "keys.node_signing_key, keys.node_signing_key_next: neither "
               "key is") +
        std::string(" one of ") + config.member +
        "'s node keys in the directory");
  }
  // The OPRF keys (keys.oprf_key and keys.oprf_key_next) are matched to
  // the directory by OprfRotation::Start.
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const crypto::Signer>> ReadSigningKey(
    const std::string& where, const std::string& field, Env* env) {
  if (crypto::IsPkcs11Uri(where)) {
    absl::StatusOr<std::unique_ptr<crypto::Pkcs11Signer>> token =
        crypto::Pkcs11Signer::Open(where);
    if (!token.ok()) {
      return absl::Status(token.status().code(),
                          absl::StrCat(field, ": ", token.status().message()));
    }
    return std::shared_ptr<const crypto::Signer>(*std::move(token));
  }
  absl::StatusOr<KeyFile> seed = cbx::ReadKeyFile(
      env, where, "a node signing key", KeyFileAccess::kOwnerOnly);
  if (!seed.ok()) {
    return absl::Status(seed.status().code(),
                        absl::StrCat(field, ": ", seed.status().message()));
  }
  ASSIGN_OR_RETURN(auto key, crypto::Ed25519PrivateKey::FromSeed(seed->secret));
  return std::make_shared<const crypto::Ed25519Signer>(std::move(key), where);
}

absl::StatusOr<NodeKeys> ReadNodeKeys(const Config& config, Env* env) {
  const auto in_field = [](const std::string& field, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(std::string(field), ": ",
                                               std::string(s.message())));
  };
  NodeKeys keys;
  ASSIGN_OR_RETURN(keys.signing, ReadSigningKey(config.node_signing_key,
                                                "keys.node_signing_key", env));
  if (!config.node_signing_key_next.empty()) {
    ASSIGN_OR_RETURN(keys.signing_next,
                     ReadSigningKey(config.node_signing_key_next,
                                    "keys.node_signing_key_next", env));
  }
  absl::StatusOr<KeyFile> scalar = cbx::ReadKeyFile(
      env, config.oprf_key, "an OPRF key", KeyFileAccess::kOwnerOnly);
  if (!scalar.ok()) return in_field("keys.oprf_key", scalar.status());
  auto oprf = crypto::OprfServerKey::FromPrivateBytes(scalar->secret);
  if (!oprf.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys.oprf_key: ", config.oprf_key,
                     ": not an OPRF key: ", oprf.status().message()));
  }
  keys.oprf = std::make_unique<crypto::OprfServerKey>(*std::move(oprf));
  if (!config.oprf_key_next.empty()) {
    absl::StatusOr<KeyFile> next = cbx::ReadKeyFile(
        env, config.oprf_key_next, "an OPRF key", KeyFileAccess::kOwnerOnly);
    if (!next.ok()) return in_field("keys.oprf_key_next", next.status());
    auto next_key = crypto::OprfServerKey::FromPrivateBytes(next->secret);
    if (!next_key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("keys.oprf_key_next: ", config.oprf_key_next,
                       ": not an OPRF key: ", next_key.status().message()));
    }
    keys.oprf_next =
        std::make_unique<crypto::OprfServerKey>(*std::move(next_key));
  }
  return keys;
}

Node::Node(std::unique_ptr<NodeContext> ctx) : ctx_(std::move(ctx)) {}

Node::~Node() {
  if (metrics_collector_ >= 0) {
    MetricsRegistry::Default().RemoveCollector(metrics_collector_);
  }
  admin_.reset();
  console_.reset();
  Shutdown();
  if (retention_) retention_->RequestStop();
  if (local_executor_) local_executor_->Shutdown();
  if (sync_executor_) sync_executor_->Shutdown();
  if (peer_front_) peer_front_->StopAccepting();
  if (office_front_) office_front_->StopAccepting();
  if (peer_server_) peer_server_->Shutdown();
  peer_front_.reset();
  if (office_server_) office_server_->Shutdown();
  office_front_.reset();
  if (console_executor_) console_executor_->Shutdown();
  if (lookup_executor_) lookup_executor_->Shutdown();
}

namespace {

// One line naming where node.db and the audit log are (a conninfo only
// through pg::Redacted), and a warning if node.db is in PostgreSQL while
// data_dir still holds a node.db file: the operator sees which one the node
// uses, and that the file is stale.
void LogStoresOpened(const Config& config, const std::string& audit_db) {
  LogEvent(config.member, "info", "storage-opened",
           {{"node_db", NodeDbWhere(config)},
            {"audit_log", AuditLogWhere(config.audit_log, audit_db)}});
  if (const std::string unused = UnusedNodeDbFile(config); !unused.empty()) {
    LogEvent(config.member, "warn", "node-db-file-unused",
             {{"file", unused},
              {"using", NodeDbWhere(config)},
              {"reason",
               "storage.backend is postgresql: the file is not read or "
               "written; move it away once its data is in PostgreSQL"}});
  }
}

// The event line for entries the audit log voided on recovery
// (AuditLogOptions::on_unacknowledged_voided).
std::function<void(uint64_t, uint64_t)> VoidedEntriesReport(
    const std::string& member) {
  return [member](uint64_t first, uint64_t count) {
    LogEvent(member, "warn", "audit-entries-voided",
             {{"first", std::to_string(first)},
              {"count", std::to_string(count)},
              {"reason",
               "entries stored by a commit whose answer was lost; their "
               "calls were refused and changed nothing"}});
  };
}

// Opens the audit log beside `node_db` into `ctx` (audit and audit_trail).
// FAILED_PRECONDITION if it is not the log node.db expects; a damaged log
// (DATA_LOSS) is kept as evidence and the node starts refusing every
// exchange; any other failure is returned.
absl::Status OpenAuditLog(NodeContext& ctx,
                          const AuditExpectation& expected_log,
                          const std::string& node_db,
                          const std::string& audit_db,
                          std::shared_ptr<const pg::Fence> fence) {
  audit::AuditLogOptions audit_options;
  audit_options.clock = ctx.clock;
  // A large log's leaf count runs after Open (spec/audit-log.md §2.9):
  // /readyz says "check running" until it ends; damage it finds is raised
  // as at open, and the log refuses every append from then on.
  // A count that completes within Open is Open's result (a DATA_LOSS is
  // raised below); one that completes after it is reported here, once.
  auto report = [member = ctx.config.member](const absl::Status& checked) {
    if (checked.ok()) {
      LogEvent(member, "info", "audit-log-checked", {});
    } else {
      LogEvent(member, "error", "ALERT-audit-log-damaged",
               {{"reason", std::string(checked.message())}});
    }
  };
  struct CheckReport {
    std::mutex mu;
    bool opened = false;                 // Open has returned
    std::optional<absl::Status> before;  // a result that came before that
  };
  audit_options.on_unacknowledged_voided =
      VoidedEntriesReport(ctx.config.member);
  auto check_report = std::make_shared<CheckReport>();
  audit_options.on_open_check_done = [check_report,
                                      report](const absl::Status& checked) {
    {
      std::lock_guard<std::mutex> lock(check_report->mu);
      if (!check_report->opened) {
        check_report->before = checked;
        return;
      }
    }
    report(checked);
  };
  auto audit_log =
      OpenConfiguredAuditLog(ctx.config.audit_log, audit_db, audit_options,
                             std::move(fence), ctx.config.member);
  const std::string where = AuditLogWhere(ctx.config.audit_log, audit_db);
  std::optional<absl::Status> before;
  {
    std::lock_guard<std::mutex> lock(check_report->mu);
    check_report->opened = true;
    before = check_report->before;
  }
  // Completed after Open's wait but before `opened` was set: not Open's
  // result, so reported now.
  if (audit_log.ok() && before.has_value()) report(*before);
  absl::Status matches =
      audit_log.ok()
          ? CheckOpenedAuditLog(expected_log, **audit_log, node_db, where)
          : absl::OkStatus();
  if (matches.ok() && audit_log.ok()) {
    // A recovered log (generation >= 2) begins with its predecessor entry.
    matches = CheckLogStart(expected_log, **audit_log, where);
  }
  if (matches.code() == absl::StatusCode::kFailedPrecondition) return matches;
  if (!matches.ok()) audit_log = matches;  // the log's own checks failed
  if (audit_log.ok()) {
    ctx.audit = *std::move(audit_log);
    ctx.audit_trail = std::make_unique<AuditTrail>(ctx.audit.get());
  } else if (audit_log.status().code() == absl::StatusCode::kDataLoss) {
    // A damaged log is evidence: keep it as it is, start, and refuse every
    // exchange (none could be logged) and every audit call with DATA_LOSS,
    // so offices, peers and auditors all see why.
    LogEvent(ctx.config.member, "error", "ALERT-audit-log-damaged",
             {{"reason", std::string(audit_log.status().message())}});
    ctx.audit_trail = std::make_unique<AuditTrail>(audit_log.status());
  } else {
    return absl::Status(
        audit_log.status().code(),
        absl::StrCat("audit log: ", audit_log.status().message()));
  }
  return absl::OkStatus();
}

// The genesis directory the config names (directory.genesis).
absl::StatusOr<v1::SignedDirectory> ReadGenesis(const Config& config) {
  ASSIGN_OR_RETURN(std::string genesis_bytes, ReadFile(config.genesis));
  v1::SignedDirectory genesis;
  if (!genesis.ParseFromString(genesis_bytes)) {
    return absl::InvalidArgumentError("directory.genesis: " + config.genesis +
                                      " is not a signed directory");
  }
  return genesis;
}

// data_dir, made if missing, owner only.
absl::Status MakeDataDir(const Config& config) {
  if (absl::Status made = Env::Default()->CreateDirs(config.data_dir, 0700);
      !made.ok()) {
    return absl::Status(made.code(),
                        absl::StrCat("data_dir: ", made.message()));
  }
  ::chmod(config.data_dir.c_str(), 0700);
  return absl::OkStatus();
}

// Opens node.db into ctx.storage and the directory it holds into
// ctx.directory, and checks them against this member and the audit log
// they expect (returned), all before opening the log creates one.
absl::StatusOr<AuditExpectation> OpenStorage(NodeContext& ctx,
                                             const v1::SignedDirectory& genesis,
                                             const std::string& node_db,
                                             const std::string& audit_db) {
  const Config& config = ctx.config;
  ASSIGN_OR_RETURN(ctx.storage, OpenNodeDb(config));
  LogStoresOpened(config, audit_db);
  // node.db must be this member's, and its audit log must be beside it
  // (node/data_consistency.h): checked before opening the log creates one.
  RETURN_IF_ERROR(CheckMember(*ctx.storage, config.member, node_db));
  ASSIGN_OR_RETURN(AuditExpectation expected_log,
                   ExpectedAuditLog(*ctx.storage));
  auto state = LoadDirectoryState(*ctx.storage, genesis);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrCat("directory: ", state.status().message()));
  }
  ctx.directory = *std::move(state);
  // A directory that announced a new log generation (spec/audit-log.md §12)
  // waits for --recover-audit-log.
  RETURN_IF_ERROR(CheckGeneration(expected_log, *ctx.directory->Current(),
                                  config.member, node_db));
  ctx.audit_generation = expected_log.generation;
  // A log in PostgreSQL has no file to look for: CheckOpenedAuditLog finds
  // it short (and its head file, that it was lost) once opened.
  if (config.audit_log.backend == AuditLogStoreConfig::Backend::kSqlite) {
    RETURN_IF_ERROR(CheckAuditFileBeforeOpen(expected_log, node_db, audit_db));
  }
  return expected_log;
}

// Disk faults (spec/storage-faults.md): one line when a file starts
// failing, one when it is written again.
void LogStorageHealth(const std::string& member) {
  IoHealth::Get().SetListener([member](const std::string& file, bool failing,
                                       const std::string& message) {
    if (failing) {
      LogEvent(member, "error", "ALERT-storage-failing",
               {{"file", file}, {"error", message}});
    } else {
      LogEvent(member, "info", "storage-recovered",
               {{"file", file}, {"error", message}});
    }
  });
}

}  // namespace

// The start-up order, step by step (keys, storage, audit log, directory,
// signing keys, TLS), each step's error naming its config field.
absl::StatusOr<std::unique_ptr<Node>> Node::Create(
    const Config& config, std::shared_ptr<const pg::Fence> fence) {
  auto ctx = std::make_unique<NodeContext>();
  ctx->config = config;

  ASSIGN_OR_RETURN(NodeKeys keys, ReadNodeKeys(config));
  ctx->oprf_key = std::move(keys.oprf);
  ASSIGN_OR_RETURN(v1::SignedDirectory genesis, ReadGenesis(config));
  RETURN_IF_ERROR(MakeDataDir(config));
  const std::string node_db = NodeDbWhere(config);
  const std::string audit_db = config.data_dir + "/audit.db";
  ASSIGN_OR_RETURN(AuditExpectation expected_log,
                   OpenStorage(*ctx, genesis, node_db, audit_db));

  // Every time read goes through the node's clock, the log's too.
  SetLogClock(ctx->clock);
  LogStorageHealth(config.member);
  RETURN_IF_ERROR(
      OpenAuditLog(*ctx, expected_log, node_db, audit_db, std::move(fence)));
  // MakeSigningKeys takes `keys` whole: keep the next OPRF key apart.
  std::unique_ptr<crypto::OprfServerKey> oprf_next = std::move(keys.oprf_next);
  ctx->signing_keys = MakeSigningKeys(*ctx, std::move(keys));

  RETURN_IF_ERROR(CheckOwnKeys(*ctx));
  // TLS: certificate, key, office CA and CRLs, checked, and the files gRPC
  // watches written into data_dir (node/tls_credentials.h).
  ASSIGN_OR_RETURN(
      std::unique_ptr<TlsCredentials> tls,
      TlsCredentials::Create(config, ctx->directory.get(), ctx->clock));
  ctx->tls_certificate_pem = tls->identity()->certificate_pem;
  ctx->tls_private_key_pem = tls->identity()->private_key_pem;
  ctx->tls = tls.get();
  std::unique_ptr<Node> node(new Node(std::move(ctx)));
  node->tls_ = std::move(tls);
  node->oprf_key_next_ = std::move(oprf_next);
  RETURN_IF_ERROR(node->BuildModules());
  return node;
}

absl::StatusOr<std::vector<std::string>> Node::Check(const Config& config) {
  std::vector<std::string> notes;
  NodeContext ctx;
  ctx.config = config;
  ASSIGN_OR_RETURN(NodeKeys keys, ReadNodeKeys(config));
  notes.push_back("key files: read, owner-only modes");
  ASSIGN_OR_RETURN(v1::SignedDirectory genesis, ReadGenesis(config));
  const std::string db_path = NodeDbWhere(config);
  auto storage = OpenNodeDb(config, /*read_only=*/true);
  if (storage.ok()) {
    ctx.storage = *std::move(storage);
    notes.push_back(db_path + ": opened read-only");
  } else if (storage.status().code() == absl::StatusCode::kNotFound) {
    ctx.storage = std::make_unique<MemoryStorage>();
    notes.push_back(db_path +
                    ": absent (made at the first start); the genesis alone "
                    "is the directory");
  } else {
    return absl::Status(
        storage.status().code(),
        absl::StrCat(config.storage.backend == StorageConfig::Backend::kSqlite
                         ? "data_dir: "
                         : "storage: ",
                     storage.status().message()));
  }
  if (const std::string unused = UnusedNodeDbFile(config); !unused.empty()) {
    notes.push_back(unused +
                    ": present, not used (node.db is in PostgreSQL, "
                    "storage.backend)");
  }
  auto state = LoadDirectoryState(*ctx.storage, genesis);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrCat("directory: ", state.status().message()));
  }
  ctx.directory = *std::move(state);
  notes.push_back(
      absl::StrCat("directory: version ", ctx.directory->Current()->version()));
  const v1::Member* me = ctx.directory->Current()->FindMember(config.member);
  const bool oprf_listed =
      me != nullptr &&
      (keys.oprf->public_key() == me->oprf_key().public_key() ||
       (keys.oprf_next != nullptr &&
        keys.oprf_next->public_key() == me->oprf_key().public_key()));
  ctx.signing_keys = MakeSigningKeys(ctx, std::move(keys));
  RETURN_IF_ERROR(CheckOwnKeys(ctx));
  if (!oprf_listed) {
    return absl::FailedPreconditionError(absl::StrCat(
        config.oprf_key_next.empty()
            ? "keys.oprf_key: this key's public part differs from "
            : "keys.oprf_key, keys.oprf_key_next: neither key's public part "
              "is ",
        config.member, "'s OPRF key in the directory"));
  }
  notes.push_back("keys: node signing key and OPRF key listed for " +
                  config.member);
  RETURN_IF_ERROR(
      TlsCredentials::Check(config, ctx.directory.get(), ctx.clock));
  notes.push_back(
      "tls: certificate is " + config.member +
      "'s node certificate, matches its key and chains to its CA; office CA "
      "and CRLs read");
  std::error_code ec;
  if (config.audit_log.backend == AuditLogStoreConfig::Backend::kSqlite) {
    notes.push_back(
        std::filesystem::exists(config.data_dir + "/audit.db", ec)
            ? config.data_dir + "/audit.db: present, not opened by --check"
            : config.data_dir + "/audit.db: absent (made at the first start)");
  } else {
    notes.push_back(AuditLogWhere(config.audit_log, "") +
                    ": not opened by --check");
  }
  return notes;
}

namespace {

// A version that announces a new generation of this node's own audit log
// (spec/audit-log.md §12) needs its operator: the running log is
// superseded, and witnesses stop cosigning it.
void AnnounceNewGeneration(const NodeContext& c,
                           const directory::Directory& before,
                           const directory::Directory& after) {
  const v1::Member* now = after.FindMember(c.self());
  const v1::Member* was = before.FindMember(c.self());
  if (now == nullptr || logcheck::GenerationOf(*now) <= c.audit_generation ||
      (was != nullptr &&
       logcheck::GenerationOf(*was) == logcheck::GenerationOf(*now))) {
    return;
  }
  LogEvent(c.self(), "error", "audit-log-generation-announced",
           {{"directory_version", std::to_string(after.version())},
            {"generation", std::to_string(logcheck::GenerationOf(*now))},
            {"running_generation", std::to_string(c.audit_generation)},
            {"action",
             "stop the node and run cbx-node --recover-audit-log "
             "(docs/operations.md, Recovering a lost audit log)"}});
}

// Builds, on `executor`, the table the additive unblinding uses for every
// active peer's OPRF key that has none yet (about 18 ms each; a table
// already built is found at once).
void PrepareOprfKeys(const directory::Directory& dir, Executor* executor) {
  std::vector<std::string> keys;
  for (const std::string& cc : dir.ActiveMemberCodes()) {
    if (const v1::Member* m = dir.FindMember(cc); m != nullptr) {
      keys.push_back(m->oprf_key().public_key());
    }
  }
  executor->Post([keys = std::move(keys)] {
    for (const std::string& key : keys) {
      // A key that is not a point is refused by the directory's checks;
      // a query to that member fails on it in any case.
      (void)crypto::OprfPrepareServerKey(key);
    }
  });
}

}  // namespace

// The modules constructed and wired in dependency order, one statement
// each (README "How the code is laid out"); directory listeners run in the
// order they are added.
absl::Status Node::BuildModules() {
  NodeContext* c = ctx_.get();
  // The Peer port's roots and the CRLs follow the adopted directory.
  c->AddDirectoryListener(
      [tls = tls_.get()](const directory::Directory&,
                         const directory::Directory& after) {
        tls->OnDirectoryAdopted(after);
      });
  RETURN_IF_ERROR(BuildTransportAndSync());
  BuildServices();
  io_ = std::make_unique<boost::asio::io_context>();
  // The node's metrics, read at each scrape of /metrics (node_metrics.h).
  RegisterAlertCounters();
  metrics_collector_ =
      MetricsRegistry::Default().AddCollector([this](Exposition& out) {
        CollectNodeMetrics(
            {ctx_.get(), sync_.get(), witnessing_.get(), query_.get(),
             cooperation_.get(), withdrawals_.get()},
            out);
      });
  // A version that lists the next node key (or ends the old one) switches
  // the key that signs: log it when it happens (node/node_signing_keys.h).
  c->AddDirectoryListener(
      [c](const directory::Directory&, const directory::Directory&) {
        c->signing_keys->Refresh();
      });
  c->AddDirectoryListener([c](const directory::Directory& before,
                              const directory::Directory& after) {
    AnnounceNewGeneration(*c, before, after);
  });
  return absl::OkStatus();
}

absl::Status Node::BuildTransportAndSync() {
  NodeContext* c = ctx_.get();
  clients_ = std::make_unique<PeerClients>(c);
  transport_ = std::make_unique<GrpcPeerTransport>(clients_.get());
  lookup_executor_ = std::make_unique<Executor>("lookup", kLookupThreads);
  sync_executor_ = std::make_unique<Executor>("sync", kSyncThreads);
  local_executor_ = std::make_unique<Executor>("local", kLocalThreads);
  WatchMembership(*c);  // members added, suspended, removed at runtime
  // What a gRPC "certificate verify failed" line most likely means, given
  // the directory in use (node/log.h, RouteGrpcLogging).
  SetTlsFailureHint(TlsFailureHintFor(nullptr, *c->directory->Current()));
  c->AddDirectoryListener([](const directory::Directory& before,
                             const directory::Directory& after) {
    SetTlsFailureHint(TlsFailureHintFor(&before, after));
  });
  sync_ =
      std::make_unique<IndexSync>(c, transport_.get(), sync_executor_.get());
  RETURN_IF_ERROR(sync_->LoadStoredIndexes());
  // The OPRF keys before the services, which read c->oprf_keys.
  rotation_ = std::make_unique<OprfRotation>(c, sync_executor_.get());
  RETURN_IF_ERROR(
      rotation_->Start(std::make_unique<crypto::OprfServerKey>(*c->oprf_key),
                       std::move(oprf_key_next_)));
  c->AddDirectoryListener([this](const directory::Directory& before,
                                 const directory::Directory& after) {
    sync_->OnDirectory(before, after);
    rotation_->OnDirectory(before, after);
  });
  return absl::OkStatus();
}

void Node::BuildServices() {
  NodeContext* c = ctx_.get();
  retention_ = std::make_unique<Retention>(
      c->self(), c->storage.get(), c->audit_trail.get(), c->clock,
      c->config.retention, &MetricsRegistry::Default());
  query_ = std::make_unique<LookupQuerier>(c, transport_.get(),
                                           lookup_executor_.get());
  // The peers' OPRF keys' unblinding tables, off the query path: now and
  // for each version that brings a key (core/crypto/voprf.h).
  PrepareOprfKeys(*c->directory->Current(), sync_executor_.get());
  c->AddDirectoryListener(
      [this](const directory::Directory&, const directory::Directory& after) {
        PrepareOprfKeys(after, sync_executor_.get());
      });
  checkpoints_ = std::make_unique<Checkpoints>(c);
  witnessing_ = std::make_unique<Witnessing>(c, transport_.get());
  cooperation_ = std::make_unique<Cooperation>(c, transport_.get());
  peer_service_ = std::make_unique<PeerService>(c, checkpoints_.get());
  peer_service_->set_cooperation(cooperation_.get());
  office_service_ = std::make_unique<OfficeService>(
      c, query_.get(), sync_.get(), witnessing_.get(), checkpoints_.get());
  office_service_->set_cooperation(cooperation_.get());
  withdrawals_ = std::make_unique<Withdrawals>(c, transport_.get());
  peer_service_->set_withdrawals(withdrawals_.get());
  office_service_->set_withdrawals(withdrawals_.get());
  watches_ = std::make_unique<Watches>(c, query_.get());
  office_service_->SetWatches(watches_.get());
  c->AddPeerIndexListener([this](const NodeContext::PeerIndexSync& sync) {
    query_->CheckVersionClaims(*sync.copy, sync.started_ms);
    if (sync.changed) watches_->OnPeerIndex(sync.copy);
  });
}

namespace {

// The RPC metrics interceptor of a port (node/rpc_metrics.h).
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
PortInterceptors(std::string port, CallerLabeler caller) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      list;
  list.push_back(
      MakeServerMetricsInterceptor(std::move(port), std::move(caller)));
  return list;
}

// A port's gRPC server, listening on no port of its own: the port's TLS
// front (node/tls_front.h) hands it each connection in plain HTTP/2.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartPortServer(
    grpc::Service* service, size_t max_request_bytes, const std::string& port,
    CallerLabeler caller) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  ApplyServerLimits(builder, max_request_bytes, "cbx-" + port);
  builder.experimental().SetInterceptorCreators(
      PortInterceptors(port, std::move(caller)));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError("the " + port +
                                  " port's gRPC server did not start");
  }
  return server;
}

// The TLS material of a port, shared with `tls` (nothing copied): the
// node's identity, and every member's CA (Peer port) or tls.office_ca
// (Office port). The generation changes with the identity or the roots.
std::function<absl::StatusOr<TlsFrontMaterial>()> PortTlsMaterial(
    const TlsCredentials* tls, bool peer) {
  return [tls, peer, last = std::shared_ptr<const std::string>(),
          roots_changes =
              uint64_t{0}]() mutable -> absl::StatusOr<TlsFrontMaterial> {
    std::shared_ptr<const TlsIdentity> identity = tls->identity();
    std::shared_ptr<const std::string> roots =
        peer ? tls->peer_roots() : tls->office_roots();
    if (roots != last) {
      last = roots;
      ++roots_changes;
    }
    return TlsFrontMaterial{std::shared_ptr<const std::string>(
                                identity, &identity->certificate_pem),
                            std::shared_ptr<const std::string>(
                                identity, &identity->private_key_pem),
                            std::move(roots),
                            (identity->generation << 32) | roots_changes};
  };
}

// A port's gRPC server behind its TLS front. Peer port: any member's CA
// may have issued the caller's chain; which member it is, and that its own
// CA issued it, is checked per call. Office port: tls.office_ca. Both:
// identity and roots follow `tls` (node/tls_credentials.h), revocation is
// checked per call by the services.
absl::Status StartPort(const std::string& self, const TlsCredentials* tls,
                       grpc::Service* service, size_t max_request_bytes,
                       const std::string& port, const std::string& listen,
                       CallerLabeler caller,
                       std::unique_ptr<grpc::Server>* server,
                       std::unique_ptr<TlsFront>* front) {
  const bool peer = port == "peer";
  ASSIGN_OR_RETURN(*server, StartPortServer(service, max_request_bytes, port,
                                            std::move(caller)));
  TlsFrontOptions options;
  options.self = self;
  options.port = port;
  options.listen = listen;
  options.tls = PortTlsMaterial(tls, peer);
  options.threads = peer ? kPeerFrontThreads : kFrontThreads;
  ASSIGN_OR_RETURN(*front, TlsFront::Start(server->get(), std::move(options)));
  return absl::OkStatus();
}

}  // namespace

absl::Status Node::Start() {
  // A serving node's database names its member (node/data_consistency.h).
  RETURN_IF_ERROR(RecordMember(*ctx_->storage, ctx_->config.member));
  grpc::EnableDefaultHealthCheckService(true);
  // Server reflection on both ports (grpc.reflection.v1alpha): the Peer
  // port's TLS asks for a member certificate, so there it answers members
  // only; the Office port's, offices of this country only.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  NodeContext* c = ctx_.get();
  const CallerLabeler peer_caller = [c](const std::vector<std::string>& uris) {
    return PeerCallerLabel(uris, [c](const std::string& code) {
      return c->directory->Current()->FindMember(code) != nullptr;
    });
  };
  RETURN_IF_ERROR(StartPort(ctx_->self(), tls_.get(), peer_service_.get(),
                            kMaxPeerRequestBytes, "peer",
                            ctx_->config.peer_listen, peer_caller,
                            &peer_server_, &peer_front_));
  RETURN_IF_ERROR(StartPort(ctx_->self(), tls_.get(), office_service_.get(),
                            kMaxOfficeRequestBytes, "office",
                            ctx_->config.office_listen, OfficeCallerLabel,
                            &office_server_, &office_front_));
  RETURN_IF_ERROR(StartAdmin());
  RETURN_IF_ERROR(StartConsole());
  LogEvent(ctx_->self(), "info", "listening",
           {{"peer", ctx_->config.peer_listen},
            {"office", ctx_->config.office_listen},
            {"admin", ctx_->config.admin_listen},
            {"console", ctx_->config.console_listen},
            {"directory_version",
             std::to_string(ctx_->directory->Current()->version())}});
  return absl::OkStatus();
}

absl::Status Node::StartAdmin() {
  if (ctx_->config.admin_listen.empty()) return absl::OkStatus();
  const NodeMetricsSources sources{ctx_.get(), sync_.get(), witnessing_.get(),
                                   query_.get()};
  std::map<std::string, AdminHttp::Handler> routes;
  routes["/healthz"] = [] {
    return AdminHttp::Response{200, "text/plain; charset=utf-8", "ok\n"};
  };
  routes["/readyz"] = [sources] { return CheckReadiness(sources); };
  routes["/metrics"] = [] {
    return AdminHttp::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                               MetricsRegistry::Default().Render()};
  };
  AdminHttp::Options options;
  options.allow_non_loopback = ctx_->config.admin_allow_non_loopback;
  ASSIGN_OR_RETURN(admin_, AdminHttp::Start(*io_, ctx_->config.admin_listen,
                                            std::move(routes), options));
  return absl::OkStatus();
}

absl::Status Node::StartConsole() {
  if (ctx_->config.console_listen.empty()) return absl::OkStatus();
  NodeContext* c = ctx_.get();
  // The Office port's case book: a case closed in the console is
  // withdrawn from the peers that resolved it, as with `cbx case close`.
  auto run = [this](std::function<void()> work) {
    return lookup_executor_->Post(std::move(work));
  };
  // Each person's language, remembered in node.db's settings.
  console_language_ =
      std::make_unique<ConsoleLanguage>(c->self(), c->storage.get(), run);
  console_pages_ = std::make_unique<CasePages>(c->self(), office_service_.get(),
                                               run, console_language_.get());
  // Uploaded audit exports are verified against the pinned genesis, as
  // `cbx audit verify-export` does against the auditor's copy of it.
  ASSIGN_OR_RETURN(v1::SignedDirectory genesis, ReadGenesis(c->config));
  audit_pages_ = std::make_unique<AuditPages>(
      c, office_service_.get(), console_language_.get(), run, genesis);
  std::map<std::pair<std::string, std::string>, console::Handler> routes;
  console_pages_->AddRoutes(routes);
  console_language_->AddRoutes(routes);
  audit_pages_->AddRoutes(routes);
  RETURN_IF_ERROR(AddConsoleQueryPages(routes));
  console::ConsoleServer::Options options;
  options.upload_paths = AuditPages::UploadPaths();
  options.max_upload_bytes =
      static_cast<uint64_t>(c->config.console_max_upload_bytes);
  // The node's identity as it is in use, and the office CA as TlsCredentials
  // last accepted it (<data_dir>/tls/office-roots.pem).
  options.tls = [this, c]() -> absl::StatusOr<console::TlsMaterial> {
    std::shared_ptr<const TlsIdentity> id = tls_->identity();
    ASSIGN_OR_RETURN(
        std::string roots,
        Env::Default()->ReadFile(c->config.data_dir + "/tls/office-roots.pem"));
    const uint64_t generation =
        id->generation ^ (std::hash<std::string>()(roots) << 1);
    return console::TlsMaterial{id->certificate_pem, id->private_key_pem,
                                std::move(roots), generation};
  };
  // As the Office port: the office URI of this member (with the person the
  // policy may require), not revoked.
  options.authenticate = [this, c](const crypto::CertificateSummary& cert)
      -> absl::StatusOr<console::Caller> {
    RETURN_IF_ERROR(tls_->revocations()->Check(cert));
    ASSIGN_OR_RETURN(OfficeCaller who, OfficeFromUris(cert.uris, c->self()));
    // spec/cooperation.md §5: the transition to per-person certificates.
    RETURN_IF_ERROR(
        CheckPersonRequired(who,
                            c->directory->Current()
                                ->policy()
                                .person_certificates_required_from_ms(),
                            c->clock->NowMs()));
    return console::Caller{who.Name(), std::string(RoleName(who.role)),
                           who.person};
  };
  options.now_ms = [c] { return c->clock->NowMs(); };
  ASSIGN_OR_RETURN(console_, console::ConsoleServer::Start(
                                 *io_, c->config.console_listen,
                                 std::move(routes), std::move(options)));
  return absl::OkStatus();
}

absl::Status Node::AddConsoleQueryPages(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  NodeContext* c = ctx_.get();
  console_scope_ = std::make_unique<OfficeScope>(c->storage.get(), c->clock);
  console_executor_ = std::make_unique<Executor>("console", kConsoleThreads);
  auto run = [this](std::function<void()> work) {
    return console_executor_->Post(std::move(work));
  };
  console_hits_ = std::make_unique<HitPages>(c->self(), office_service_.get(),
                                             console_language_.get(), run);
  console_hits_->AddRoutes(routes);
  auto peers = [c] {
    std::vector<std::string> codes;
    for (const std::string& code :
         c->directory->Current()->ActiveMemberCodes()) {
      if (code != c->self()) codes.push_back(code);
    }
    return codes;
  };
  // Office.Query itself, checked and logged as the Office port runs it.
  auto query = [this](const v1::QueryRequest& request,
                      const console::Caller& who,
                      const std::function<bool(const v1::QueryEvent&)>& emit)
      -> absl::Status {
    ASSIGN_OR_RETURN(OfficeCaller caller, OfficeCallerOf(who));
    return office_service_->QueryFor(caller, request, emit);
  };
  console_query_ =
      std::make_unique<QueryPages>(c->self(), console_scope_.get(),
                                   console_language_.get(), peers, query, run);
  console_query_->AddRoutes(routes);
  // Sending or answering a request waits for the peer's node, adding a
  // watch for every peer's evaluation: the console executor, as a query.
  console_cooperation_ = std::make_unique<CooperationPages>(
      office_service_.get(), console_language_.get(), run);
  console_cooperation_->AddRoutes(routes);
  console_watches_ = std::make_unique<WatchPages>(
      c->self(), office_service_.get(), console_language_.get(), peers, run);
  console_watches_->AddRoutes(routes);
  return absl::OkStatus();
}

namespace {

// How often a paced round (one the operator left at its default) looks
// whether it is due.
constexpr int64_t kPacedTickMs = 1000;

// The defaults of sync.index_interval_ms and audit.witness_interval_ms
// (node/config.h). Left at them, an interval is paced with the number of
// peers (spec/node-config.md "Background work at federation size"): per
// peer, a round grows by this much (32 peers: index pulls every 8 s,
// witnessing every 9.6 s; the index rule is IndexSyncIntervalMs).
constexpr int64_t kDefaultIndexIntervalMs = 2000;
constexpr int64_t kDefaultWitnessIntervalMs = 5000;
constexpr int64_t kDefaultDirectoryIntervalMs = 10000;
constexpr int64_t kWitnessMsPerPeer = 300;

// The interval of a paced round over `peers` peers.
int64_t PacedIntervalMs(int64_t default_ms, size_t peers, int64_t per_peer_ms) {
  return std::max(default_ms, static_cast<int64_t>(peers) * per_peer_ms);
}

size_t PeerCount(const NodeContext& ctx) {
  const size_t members = ctx.directory->Current()->ActiveMemberCodes().size();
  return members > 0 ? members - 1 : 0;
}

// A paced round's next due time: `interval_ms` from `now_ms`, give or take
// 10%, so that the members of a federation started together drift apart
// instead of all pulling from each other in the same second.
int64_t NextDue(int64_t now_ms, int64_t interval_ms) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> jitter(-interval_ms / 10,
                                                interval_ms / 10);
  return now_ms + interval_ms + jitter(rng);
}

}  // namespace

// Witness rounds every audit.witness_interval_ms, or, left at its default
// (`paced`), every paced interval for the federation's size, jittered.
void Node::StartWitnessing(bool paced) {
  if (!paced) {
    sync_executor_->Every(ctx_->config.witness_interval_ms,
                          [this] { witnessing_->RoundAll(); });
  } else {
    auto next_witness = std::make_shared<int64_t>(0);
    sync_executor_->Every(kPacedTickMs, [this, next_witness] {
      const int64_t now = ctx_->clock->NowMs();
      if (now < *next_witness) return;
      *next_witness =
          NextDue(now, PacedIntervalMs(kDefaultWitnessIntervalMs,
                                       PeerCount(*ctx_), kWitnessMsPerPeer));
      witnessing_->RoundAll();
    });
  }
}

// The periodic tasks, in one place so their pacing can be compared: index
// and directory sync, checkpoints, witnessing, TLS files, then the
// housekeeping rounds.
void Node::StartTimers() {
  const Config& config = ctx_->config;
  StartSyncTimer(config.index_interval_ms == kDefaultIndexIntervalMs);
  StartCheckpointTimer();
  StartWitnessing(config.witness_interval_ms == kDefaultWitnessIntervalMs);
  // The operator's TLS files: reloaded when they change.
  local_executor_->Every(TlsCredentials::kPollIntervalMs,
                         [this] { tls_->Poll(); });
  StartHousekeepingTimers();
}

// Index sync every interval; directory sync rides along every
// directory_interval_ms. The tick posts one item per peer to the sync
// executor and returns. An interval left at its default (`paced`) is paced
// with the number of peers and jittered (spec/node-config.md "Background
// work at federation size"): the tick then comes every second and runs the
// round when it is due.
void Node::StartSyncTimer(bool paced) {
  auto last_adoption = std::make_shared<int64_t>(0);
  auto next_directory_sync = std::make_shared<int64_t>(0);
  auto next_index_sync = std::make_shared<int64_t>(0);
  local_executor_->Every(
      paced ? kPacedTickMs : ctx_->config.index_interval_ms,
      [this, last_adoption, next_directory_sync, next_index_sync, paced] {
        const int64_t now = ctx_->clock->NowMs();
        if (now - *last_adoption >= ctx_->config.directory_interval_ms) {
          *last_adoption = now;
          // Versions an operator installed while the node runs (stored
          // first by the install; adopted and announced here).
          auto adopted = AdoptInstalledVersions(*ctx_);
          if (!adopted.ok()) {
            LogEvent(ctx_->self(), "error", "directory-install-refused",
                     {{"reason", std::string(adopted.status().message())}});
          }
        }
        const bool directory = now >= *next_directory_sync;
        if (directory) {
          *next_directory_sync = now + NextDirectorySyncInMs();
        }
        if (paced) {
          if (now < *next_index_sync && !directory) return;
          *next_index_sync =
              NextDue(now, IndexSyncIntervalMs(ctx_->config, PeerCount(*ctx_)));
        }
        sync_->SyncAll(directory);
      });
}

// How long after a round that asked the peers for newer directory versions
// the next one is due: DirectorySyncIntervalMs, jittered when paced (left
// at its default). Asking 32 peers every 10 s made more calls than the
// index pulls, each an audit entry on both sides; versions are rare.
int64_t Node::NextDirectorySyncInMs() const {
  const int64_t interval =
      DirectorySyncIntervalMs(ctx_->config, PeerCount(*ctx_));
  if (ctx_->config.directory_interval_ms != kDefaultDirectoryIntervalMs) {
    return interval;
  }
  const int64_t now = ctx_->clock->NowMs();
  return NextDue(now, interval) - now;
}

// Checkpoints: on a timer if the log grew, sooner after many entries.
void Node::StartCheckpointTimer() {
  auto last_checkpoint = std::make_shared<int64_t>(0);
  local_executor_->Every(
      std::min<int64_t>(1000, ctx_->config.checkpoint_interval_ms),
      [this, last_checkpoint] {
        int64_t now = ctx_->clock->NowMs();
        bool due =
            now - *last_checkpoint >= ctx_->config.checkpoint_interval_ms;
        if (due) *last_checkpoint = now;
        // A key switch by time passing is logged here, at most a second
        // late, and the checkpoints get the new key's signature.
        ctx_->signing_keys->Refresh();
        absl::Status s = checkpoints_->MaybeCheckpoint(due);
        if (!s.ok()) {
          LogEvent(ctx_->self(), "error", "checkpoint-failed",
                   {{"reason", std::string(s.message())}});
        }
      });
}

// Cooperation deadlines, OPRF key rotation, retention, withdrawals and
// watch expiry: each tick logs its failure and tries again next time.
void Node::StartHousekeepingTimers() {
  // Cooperation deadlines: each request that becomes overdue is announced
  // once (event cooperation-overdue); one indexed read per tick.
  local_executor_->Every(kCooperationTickMs, [this] {
    absl::StatusOr<int> announced = cooperation_->AnnounceOverdue();
    if (!announced.ok()) {
      LogEvent(ctx_->self(), "error", "cooperation-overdue-check-failed",
               {{"reason", std::string(announced.status().message())}});
    }
  });
  // Calls counted beyond a peer's budget (node/refusal_budget.h): their
  // summaries, within a quarter window of its end.
  local_executor_->Every(RefusalBudget::kWindowMs / 4,
                         [this] { peer_service_->FlushSummaries(); });
  // OPRF key rotation: staging batches, the switch, the retirement.
  sync_executor_->Every(kOprfRotationTickMs, [this] { rotation_->Tick(); });
  // Retention (replay-cache rows included): bounded batches, each its own
  // transaction; failures are logged by the sweep and retried next time.
  // One sweep right after the start too, so that a node that was stopped
  // past a period catches up without waiting a whole interval.
  sync_executor_->Post([this] { (void)retention_->Sweep(); });
  sync_executor_->Every(ctx_->config.retention.sweep_interval_ms,
                        [this] { (void)retention_->Sweep(); });
  // Withdrawals of closed cases' references: each due one sent (retried
  // with backoff), and references kept past their time deleted.
  sync_executor_->Every(kWithdrawalTickMs, [this] {
    absl::StatusOr<int> sent = withdrawals_->SendDue();
    absl::StatusOr<int> deleted = withdrawals_->DeleteExpiredReferences();
    for (const absl::Status& s : {sent.status(), deleted.status()}) {
      if (!s.ok()) {
        LogEvent(ctx_->self(), "error", "withdrawal-tick-failed",
                 {{"reason", std::string(s.message())}});
      }
    }
  });
  // Standing watches past their expiry go with what they kept.
  sync_executor_->Every(kWatchExpiryTickMs, [this] {
    absl::StatusOr<int64_t> expired = watches_->ExpireDue();
    if (!expired.ok()) {
      LogEvent(ctx_->self(), "error", "watch-expiry-failed",
               {{"reason", std::string(expired.status().message())}});
    }
  });
}

void Node::StopBackground() {
  // A long sweep stops after its current batch (the rest is next time's).
  if (retention_) retention_->RequestStop();
  // The local executor first: its sync tick posts to the sync executor.
  local_executor_->Shutdown();
  sync_executor_->Shutdown();
}

void Node::Run() {
  boost::asio::io_context& io = *io_;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    LogEvent(ctx_->self(), "info", "signal",
             {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
    Shutdown();
  });
  // SIGHUP: reread the TLS files now (spec/keys.md §5).
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [this, &hangup, &on_hangup](const boost::system::error_code& ec, int) {
        if (ec) return;
        LogEvent(ctx_->self(), "info", "signal", {{"signal", "SIGHUP"}});
        tls_->Reload("SIGHUP");
        hangup.async_wait(on_hangup);
      };
  hangup.async_wait(on_hangup);
  if (!stopping_.load()) StartTimers();
  LogEvent(ctx_->self(), "info", "ready", {});
  io.run();
  admin_.reset();    // no scrape while the node stops
  console_.reset();  // no new page while the node stops
  // Background work has deadlines; let it finish before the node goes away.
  StopBackground();
  // Drain: in-flight calls get a grace period, then the servers stop. (A
  // gRPC deadline: on gRPC's own clock, not the node's.)
  const gpr_timespec grace = gpr_time_add(
      gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(5, GPR_TIMESPAN));
  peer_front_->StopAccepting();
  office_front_->StopAccepting();
  peer_server_->Shutdown(grace);
  office_server_->Shutdown(grace);
  peer_front_.reset();
  office_front_.reset();
  // Console queries end with their peers' answers (each bounded by the
  // peer deadline), before the pool they wait on stops.
  if (console_executor_) console_executor_->Shutdown();
  // Queries still running were answered or cancelled with their calls.
  lookup_executor_->Shutdown();
  LogEvent(ctx_->self(), "info", "stopped", {});
}

void Node::Shutdown() {
  if (stopping_.exchange(true)) return;
  if (io_) io_->stop();
}

}  // namespace cbx::node
