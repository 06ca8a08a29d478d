// What node.db records about the files that must sit beside it, and the
// start-up checks that use it (docs/operations.md "Backup and restore"):
//
//   - its member: node.db holds one member's cases and state; the node
//     writes its member into it when it serves, refuses to start on a
//     node.db of another member, and `cbx-admin restore` refuses to put one
//     in place;
//   - its audit log: node.db records the size and root of each checkpoint
//     the node signs (and, already, the newest witnessed size). A node.db
//     restored from a backup without its audit.db (the data folder lost,
//     only the backup kept) would otherwise start with a fresh, empty log,
//     which peers then flag as inconsistent with the checkpoints they
//     cosigned. The node refuses to start instead (exit 2), naming the
//     files and the recovery procedure;
//   - its audit log generation (spec/audit-log.md §12): after a lost log is
//     recovered (RecoverAuditLog, `cbx-node --recover-audit-log`) node.db
//     records generation n >= 2, and the log beside it must begin with the
//     log_predecessor entry of generation n. The node refuses to start while
//     the adopted directory names another generation for this member than
//     node.db records (CheckGeneration).
//
// Threading: the functions are thread-safe if the Storage is; they keep no
// state.
#ifndef CBX_NODE_DATA_CONSISTENCY_H_
#define CBX_NODE_DATA_CONSISTENCY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/directory/directory.h"
#include "core/util/bytes.h"
#include "core/util/clock.h"
#include "node/audit/audit_log.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Storage settings (node.db) this module reads and writes.
inline constexpr char kMemberSetting[] = "node/member";
inline constexpr char kCheckpointSizeSetting[] = "audit/checkpoint-size";
inline constexpr char kCheckpointRootSetting[] = "audit/checkpoint-root";
// Written by node/checkpoints.cc when a checkpoint is witnessed.
inline constexpr char kWitnessedSizeSetting[] = "audit/witnessed-size";
// The audit log generation node.db belongs with (absent: 1).
inline constexpr char kAuditGenerationSetting[] = "audit/generation";

// What node.db implies about the audit log beside it.
struct AuditExpectation {
  // The log must hold at least this many entries (0: node.db implies none).
  uint64_t min_size = 0;
  // Why, for the operator ("node.db records a checkpoint of size 12").
  std::string why;
  // The last checkpoint node.db recorded (size 0: none) and its root: the
  // log beside it must have that root at that size.
  uint64_t checkpoint_size = 0;
  Bytes checkpoint_root;
  // The newest witnessed size node.db records (0: none).
  uint64_t witnessed_size = 0;
  // The audit log generation node.db records (1 if none).
  uint32_t generation = 1;
};

// Reads what `storage` (node.db) implies: the recorded checkpoint and
// witnessed sizes, and at least one entry if it holds a case, a hit or an
// inbox notification (each was logged before it was stored). Storage
// errors as they come.
absl::StatusOr<AuditExpectation> ExpectedAuditLog(Storage& storage);

// Before the audit log is opened (opening creates a missing file):
// FAILED_PRECONDITION naming `node_db`, `audit_db` and the recovery
// procedure if `expected` implies entries and `audit_db` is missing or
// empty; OK otherwise.
absl::Status CheckAuditFileBeforeOpen(const AuditExpectation& expected,
                                      const std::string& node_db,
                                      const std::string& audit_db);

// After it is opened: FAILED_PRECONDITION, as above, if `log` is shorter
// than `expected.min_size`, or its root at the recorded checkpoint's size
// is not the recorded root (another log, started afresh and grown past
// it). The log's own errors (DATA_LOSS) as they come.
absl::Status CheckOpenedAuditLog(const AuditExpectation& expected,
                                 audit::AuditLog& log,
                                 const std::string& node_db,
                                 const std::string& audit_db);

// Before the audit log is opened, with the adopted directory `dir`:
// FAILED_PRECONDITION if `dir` names a generation of `member`'s log other
// than `expected.generation`: a newer one (the log was lost and governance
// announced a new one: run --recover-audit-log, docs/operations.md
// "Recovering a lost audit log"), or an older one (node.db is of a later
// log than the directory knows). OK otherwise.
absl::Status CheckGeneration(const AuditExpectation& expected,
                             const directory::Directory& dir,
                             const std::string& member,
                             const std::string& node_db);

// After the log of a generation >= 2 is opened: FAILED_PRECONDITION unless
// its first entry is the log_predecessor entry of `expected.generation`
// (another log put beside node.db, such as an old copy of the lost one).
// OK for generation 1.
absl::Status CheckLogStart(const AuditExpectation& expected,
                           audit::AuditLog& log, const std::string& audit_db);

// The first entry of generation `generation`'s log, announced in directory
// version `directory_version` with `predecessor` (spec/audit-log.md §12).
v1::AuditEntry LogPredecessorEntry(uint32_t generation,
                                   const std::string& predecessor_origin,
                                   uint64_t predecessor_size,
                                   const Bytes& predecessor_root,
                                   uint64_t directory_version);

// `cbx-node --recover-audit-log`: starts a new audit log for `member` at
// `audit_db` if, and only if, the adopted directory `dir` names for it the
// generation after the one `storage` (node.db) records, with a predecessor
// that is consistent with node.db: at or after the newest witnessed size
// node.db records, and, at the size of node.db's last signed checkpoint,
// with its root. An existing audit.db and its head file are moved aside
// (to "<audit_db>.generation-<old>-<ms>", kept for reconciliation, never
// to be put back), a new log is created whose first entry is the
// log_predecessor entry, and node.db then records the new generation and
// forgets the old log's checkpoints. Returns the line to show the operator.
// FAILED_PRECONDITION naming what the directory must say if it does not
// announce the recovery or its predecessor contradicts node.db; the log's
// and storage's errors as they come. Safe to run again after a crash.
absl::StatusOr<std::string> RecoverAuditLog(Storage& storage,
                                            const directory::Directory& dir,
                                            const std::string& member,
                                            const std::string& audit_db,
                                            const Clock* clock);

// Records in `storage` that the node signed a checkpoint of `size` with
// `root`. Storage errors as they come.
absl::Status RecordCheckpoint(Storage& storage, uint64_t size,
                              const Bytes& root);

// FAILED_PRECONDITION if `storage` records a member other than `member`;
// OK if it records `member` or none (a new file, or one written before
// members were recorded).
absl::Status CheckMember(Storage& storage, const std::string& member,
                         const std::string& node_db);

// Records `member` in `storage` if it records none. Storage errors as they
// come.
absl::Status RecordMember(Storage& storage, const std::string& member);

}  // namespace cbx::node

#endif  // CBX_NODE_DATA_CONSISTENCY_H_
