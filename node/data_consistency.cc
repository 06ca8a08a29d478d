#include "node/data_consistency.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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
      "its audit log\" in docs/operations.md. Starting a new log "
      "(--recover-audit-log) is not built yet."));
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
