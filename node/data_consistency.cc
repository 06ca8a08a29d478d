#include "node/data_consistency.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/logcheck/checkpoint_verifier.h"
#include "core/logcheck/log_generation.h"
#include "core/logcheck/log_keys.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"

namespace cbx::node {
namespace {

// The size stored under `key`, 0 if none.
absl::StatusOr<uint64_t> SizeSetting(Storage& storage, const char* key) {
  ASSIGN_OR_RETURN(std::optional<Bytes> value, storage.GetSetting(key));
  if (!value.has_value()) return 0;
  uint64_t size = 0;
  if (!absl::SimpleAtoi(*value, &size)) {
    return absl::DataLossError(
        absl::StrCat("node.db setting ", key, " is not a number"));
  }
  return size;
}

// The refusal, with what the operator needs to act on it.
absl::Status Refuse(const AuditExpectation& expected,
                    const std::string& node_db, const std::string& audit_db,
                    const std::string& found) {
  return absl::FailedPreconditionError(absl::StrCat(
      node_db, " implies an audit log of at least ", expected.min_size,
      " entries (", expected.why, "), but ", audit_db, " ", found,
      ". A node.db restored without the audit log that belongs with it must "
      "not serve: a new, empty log would contradict the checkpoints peers "
      "have cosigned. Put back the audit.db that was beside this node.db "
      "(never an older copy of it), or restore the node.db backup that "
      "belongs with the audit.db you have; see \"Restored node.db without "
      "its audit log\" in docs/operations.md. If that log is lost, or only "
      "an older copy of it survives, follow \"Recovering a lost audit log\" "
      "there: governance announces a new log generation in a directory "
      "update, then cbx-node --recover-audit-log starts it."));
}

}  // namespace

absl::StatusOr<AuditExpectation> ExpectedAuditLog(Storage& storage) {
  AuditExpectation expected;
  ASSIGN_OR_RETURN(expected.checkpoint_size,
                   SizeSetting(storage, kCheckpointSizeSetting));
  if (expected.checkpoint_size > 0) {
    ASSIGN_OR_RETURN(std::optional<Bytes> root,
                     storage.GetSetting(kCheckpointRootSetting));
    if (root.has_value()) expected.checkpoint_root = *root;
    expected.min_size = expected.checkpoint_size;
    expected.why = absl::StrCat("it records a checkpoint of size ",
                                expected.checkpoint_size);
  }
  ASSIGN_OR_RETURN(uint64_t witnessed,
                   SizeSetting(storage, kWitnessedSizeSetting));
  expected.witnessed_size = witnessed;
  ASSIGN_OR_RETURN(uint64_t generation,
                   SizeSetting(storage, kAuditGenerationSetting));
  if (generation > 1) expected.generation = static_cast<uint32_t>(generation);
  if (expected.generation > 1 && expected.min_size == 0) {
    expected.min_size = 1;
    expected.why =
        absl::StrCat("it records audit log generation ", expected.generation,
                     ", whose log starts with its log_predecessor "
                     "entry");
  }
  if (witnessed > expected.min_size) {
    expected.min_size = witnessed;
    expected.why =
        absl::StrCat("it records a witnessed checkpoint of size ", witnessed);
  }
  if (expected.min_size > 0) return expected;
  // No checkpoint yet: each stored case, hit and notification was logged
  // before it was stored.
  PageRequest one;
  one.limit = 1;
  ASSIGN_OR_RETURN(Page<StoredCase> cases, storage.ListCases(true, one));
  ASSIGN_OR_RETURN(Page<v1::Hit> hits, storage.ListHits("", one));
  ASSIGN_OR_RETURN(Page<v1::Notification> inbox,
                   storage.ListNotifications("", one));
  if (!cases.items.empty() || !hits.items.empty() || !inbox.items.empty()) {
    expected.min_size = 1;
    expected.why = !cases.items.empty()  ? "it holds cases"
                   : !hits.items.empty() ? "it holds received hits"
                                         : "it holds inbox notifications";
  }
  return expected;
}

absl::Status CheckAuditFileBeforeOpen(const AuditExpectation& expected,
                                      const std::string& node_db,
                                      const std::string& audit_db) {
  if (expected.min_size == 0) return absl::OkStatus();
  struct stat st;
  if (::stat(audit_db.c_str(), &st) != 0) {
    return Refuse(expected, node_db, audit_db, "is missing");
  }
  if (st.st_size == 0) return Refuse(expected, node_db, audit_db, "is empty");
  return absl::OkStatus();
}

absl::Status CheckOpenedAuditLog(const AuditExpectation& expected,
                                 audit::AuditLog& log,
                                 const std::string& node_db,
                                 const std::string& audit_db) {
  const uint64_t size = log.Size();
  if (size < expected.min_size) {
    return Refuse(expected, node_db, audit_db,
                  size == 0 ? std::string("is empty")
                            : absl::StrCat("holds only ", size, " entries"));
  }
  if (expected.checkpoint_size == 0 || expected.checkpoint_root.empty()) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Bytes root, log.RootAt(expected.checkpoint_size));
  if (root != expected.checkpoint_root) {
    return Refuse(expected, node_db, audit_db,
                  absl::StrCat("is another log: its root at size ",
                               expected.checkpoint_size,
                               " is not the one node.db recorded"));
  }
  return absl::OkStatus();
}

absl::Status CheckGeneration(const AuditExpectation& expected,
                             const directory::Directory& dir,
                             const std::string& member,
                             const std::string& node_db) {
  const v1::Member* self = dir.FindMember(member);
  if (self == nullptr) return absl::OkStatus();  // refused elsewhere
  const uint32_t named = logcheck::GenerationOf(*self);
  if (named == expected.generation) return absl::OkStatus();
  if (named > expected.generation) {
    return absl::FailedPreconditionError(absl::StrCat(
        "directory version ", dir.version(), " announces generation ", named,
        " of ", member, "'s audit log (", logcheck::LogOrigin(member, named),
        "), but ", node_db, " belongs with generation ", expected.generation,
        ": the audit log was declared lost. Start the new log with "
        "cbx-node --recover-audit-log (see \"Recovering a lost audit log\" "
        "in docs/operations.md); nothing was changed"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      node_db, " belongs with generation ", expected.generation, " of ", member,
      "'s audit log, but the adopted directory (version ", dir.version(),
      ") names generation ", named,
      ": install the directory update that announced generation ",
      expected.generation, " (cbx-node --install-directory)"));
}

absl::Status CheckLogStart(const AuditExpectation& expected,
                           audit::AuditLog& log, const std::string& audit_db) {
  if (expected.generation < 2) return absl::OkStatus();
  auto refuse = [&](const std::string& found) {
    return absl::FailedPreconditionError(absl::StrCat(
        audit_db, " is not generation ", expected.generation,
        " of the audit log node.db belongs with: ", found,
        ". An older copy of a lost log must never be put back (it would fork "
        "what witnesses cosigned); see \"Recovering a lost audit log\" in "
        "docs/operations.md"));
  };
  if (log.Size() == 0) return refuse("it is empty");
  ASSIGN_OR_RETURN(std::string leaf, log.LeafData(0));
  v1::AuditEntry first;
  if (!first.ParseFromString(leaf) || first.kind() != "log_predecessor") {
    return refuse("its first entry is not a log_predecessor entry");
  }
  if (first.log_predecessor().generation() != expected.generation) {
    return refuse(absl::StrCat("its first entry starts generation ",
                               first.log_predecessor().generation()));
  }
  return absl::OkStatus();
}

v1::AuditEntry LogPredecessorEntry(uint32_t generation,
                                   const std::string& predecessor_origin,
                                   uint64_t predecessor_size,
                                   const Bytes& predecessor_root,
                                   uint64_t directory_version) {
  v1::AuditEntry entry;
  entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
  entry.set_rpc("cbx-node.RecoverAuditLog");
  entry.set_kind("log_predecessor");
  v1::AuditLogPredecessor* p = entry.mutable_log_predecessor();
  p->set_generation(generation);
  p->set_predecessor_origin(predecessor_origin);
  p->set_predecessor_size(predecessor_size);
  p->set_predecessor_root_hash(predecessor_root);
  p->set_directory_version(directory_version);
  return entry;
}

namespace {

// The refusal of a recovery the directory does not support, naming what it
// must say.
absl::Status RefuseRecovery(const std::string& member, uint32_t recorded,
                            uint64_t witnessed, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "--recover-audit-log refused, nothing was changed: ", why,
      ". The adopted directory must name, for ", member,
      ", audit log generation ", recorded + 1, " with predecessor_origin \"",
      logcheck::LogOrigin(member, recorded),
      "\" and that log's last witnessed checkpoint (size at least ", witnessed,
      ", as node.db records) with its cosignatures: governance proposes it "
      "with cbx-admin directory propose (change new_audit_log), the node "
      "installs it with --install-directory; see \"Recovering a lost audit "
      "log\" in docs/operations.md"));
}

// Checks that `dir`'s predecessor for `member` may start generation
// `recorded` + 1 over node.db's `expected`; returns it.
absl::StatusOr<logcheck::Predecessor> RecoverablePredecessor(
    const AuditExpectation& expected, const directory::Directory& dir,
    const std::string& member) {
  const uint32_t recorded = expected.generation;
  auto refuse = [&](const std::string& why) {
    return RefuseRecovery(member, recorded, expected.witnessed_size, why);
  };
  const v1::Member* self = dir.FindMember(member);
  if (self == nullptr) {
    return refuse(
        absl::StrCat(member, " is not in directory version ", dir.version()));
  }
  const uint32_t named = logcheck::GenerationOf(*self);
  if (named <= recorded) {
    return refuse(absl::StrCat("directory version ", dir.version(),
                               " names generation ", named, " and node.db ",
                               "records generation ", recorded,
                               ": no new log was announced"));
  }
  if (named != recorded + 1) {
    return refuse(absl::StrCat("directory version ", dir.version(),
                               " names generation ", named,
                               ", not the next one"));
  }
  absl::StatusOr<logcheck::Predecessor> p = logcheck::PredecessorOf(*self);
  if (!p.ok()) return refuse(std::string(p.status().message()));
  ASSIGN_OR_RETURN(logcheck::LogKeys old_keys,
                   logcheck::KeysOfLog(dir, member, recorded));
  absl::StatusOr<logcheck::VerifiedCheckpoint> verified =
      logcheck::VerifyCheckpoint(old_keys, p->checkpoint_note);
  absl::Status witnessed =
      verified.ok() ? logcheck::RequireWitnessed(*verified) : verified.status();
  if (!witnessed.ok()) {
    return refuse(absl::StrCat("its predecessor checkpoint is not witnessed: ",
                               witnessed.message()));
  }
  if (p->size < expected.witnessed_size) {
    return refuse(absl::StrCat(
        "its predecessor checkpoint (size ", p->size,
        ") is older than the newest witnessed checkpoint node.db records (",
        expected.witnessed_size, "): it would drop witnessed entries"));
  }
  if (p->size == expected.checkpoint_size &&
      !expected.checkpoint_root.empty() &&
      p->root_hash != expected.checkpoint_root) {
    return refuse(absl::StrCat(
        "its predecessor checkpoint has another root at size ", p->size,
        " than the checkpoint node.db records: it is not this node's log"));
  }
  return p;
}

// Moves `path` aside to `path` + `suffix` if it exists.
absl::Status MoveAside(const std::string& path, const std::string& suffix) {
  Env* env = Env::Default();
  if (!env->Stat(path).ok()) return absl::OkStatus();
  return env->RenameFile(path, path + suffix);
}

}  // namespace

absl::StatusOr<std::string> RecoverAuditLog(Storage& storage,
                                            const directory::Directory& dir,
                                            const std::string& member,
                                            const std::string& audit_db,
                                            const Clock* clock) {
  ASSIGN_OR_RETURN(AuditExpectation expected, ExpectedAuditLog(storage));
  ASSIGN_OR_RETURN(logcheck::Predecessor p,
                   RecoverablePredecessor(expected, dir, member));
  const uint32_t generation = expected.generation + 1;
  // Whatever is there (an old copy, a damaged file, or a new log a crash
  // left before node.db was updated) is kept aside, never reused.
  const std::string aside =
      absl::StrCat(".before-generation-", generation, "-", clock->NowMs());
  for (const char* part : {"", "-wal", "-shm", ".head"}) {
    RETURN_IF_ERROR(MoveAside(audit_db + part, aside));
  }
  {
    audit::AuditLogOptions options;
    options.clock = clock;
    ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> log,
                     audit::AuditLog::Open(audit_db, options));
    ASSIGN_OR_RETURN(uint64_t first, log->Append(LogPredecessorEntry(
                                         generation, p.origin, p.size,
                                         p.root_hash, dir.version())));
    if (first != 0) return absl::InternalError("the new log was not empty");
  }
  // Last: until node.db records the new generation, running this again
  // starts over.
  RETURN_IF_ERROR(storage.ReadWriteTransaction(
      [&](StorageTransaction& txn) -> absl::Status {
        RETURN_IF_ERROR(txn.PutSetting(kAuditGenerationSetting,
                                       std::to_string(generation)));
        RETURN_IF_ERROR(txn.PutSetting(kCheckpointRootSetting, ""));
        RETURN_IF_ERROR(txn.PutSetting(kCheckpointSizeSetting, "0"));
        return txn.PutSetting(kWitnessedSizeSetting, "0");
      }));
  return absl::StrCat(logcheck::DescribeRecovery(member, generation, p),
                      "; a previous audit.db, if any, was moved to ", audit_db,
                      aside);
}

absl::Status RecordCheckpoint(Storage& storage, uint64_t size,
                              const Bytes& root) {
  // Both in one transaction: a size beside another checkpoint's root would
  // make a sound log look like another one.
  return storage.ReadWriteTransaction(
      [&](StorageTransaction& txn) -> absl::Status {
        RETURN_IF_ERROR(txn.PutSetting(kCheckpointRootSetting, root));
        return txn.PutSetting(kCheckpointSizeSetting, std::to_string(size));
      });
}

absl::Status CheckMember(Storage& storage, const std::string& member,
                         const std::string& node_db) {
  ASSIGN_OR_RETURN(std::optional<Bytes> recorded,
                   storage.GetSetting(kMemberSetting));
  if (!recorded.has_value() || *recorded == member) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      node_db, " belongs to member ", *recorded, ", not to this node's member ",
      member, " (config field member): it is another node's database"));
}

absl::Status RecordMember(Storage& storage, const std::string& member) {
  ASSIGN_OR_RETURN(std::optional<Bytes> recorded,
                   storage.GetSetting(kMemberSetting));
  if (recorded.has_value()) return absl::OkStatus();
  return storage.PutSetting(kMemberSetting, member);
}

}  // namespace cbx::node
