// The node's durable state, behind an interface so that backends (SQLite
// now, PostgreSQL later) share one conformance suite
// (node/storage/storage_conformance_test.cc).
//
// Threading: every method is safe to call from several threads at once.
// Durability: a method that returns OK has made its change durable
// (SQLite: WAL with synchronous=FULL) — a crash after it returns loses
// nothing. A method that fails changes nothing.
#ifndef CBX_NODE_STORAGE_STORAGE_H_
#define CBX_NODE_STORAGE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "core/util/bytes.h"

namespace cbx::node {

// A tag is the first 8 bytes of SHA-256("cbx/v1/tag" || y), read big-endian.
using Tag = uint64_t;

// One of a case's identifiers as the node keeps it: normalized, with the
// OPRF output y under the node's current OPRF key and its tag.
struct StoredIdentifier {
  v1::IdentifierType type = v1::IDENTIFIER_TYPE_UNSPECIFIED;
  std::string normalized_value;
  int64_t observed_from_ms = 0;
  int64_t observed_to_ms = 0;
  Bytes y;  // 32 bytes
  Tag tag = 0;
};

// A case with its identifiers. `record.identifiers` holds the identifiers'
// normalized values (as v1::Identifier) for display; `identifiers` holds
// them with y and tag.
struct StoredCase {
  v1::Case record;
  std::vector<StoredIdentifier> identifiers;
};

// A match of one finalized output y against the node's open cases.
struct OutputMatch {
  Bytes y;
  std::string case_number;
  StoredIdentifier identifier;
};

// Which part of a listing to return: the items after the cursor `after`
// (empty: from the first), at most `limit` of them (0: no limit).
struct PageRequest {
  std::string after;
  size_t limit = 0;
};

// One page of a listing: its items, and the cursor of the next page (empty
// when this page is the last). Cursors are opaque strings the storage makes
// and parses; one that does not parse is INVALID_ARGUMENT.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next;
};

// A change of the node's own tag index. The index is the set of tags of the
// identifiers of open cases; `version` counts changes of that set (a tag
// shared by two cases enters once and leaves when the last one goes).
struct IndexChange {
  uint64_t version = 0;
  Tag tag = 0;
  bool added = false;
};

// The node's copy of one peer's index.
struct PeerIndex {
  std::string member;
  uint32_t oprf_epoch = 0;
  uint64_t version = 0;
  std::vector<Tag> tags;  // sorted ascending, no duplicates
  int64_t synced_at_ms = 0;
  // The baseline of the daily growth cap (spec/index-sync.md, "Caps"): the
  // UTC day (days since the Unix epoch) it is for, and the tag count of the
  // copy held when that day began (or of the first copy accepted that day,
  // if none was held). Stored with the copy so that a restart of this node
  // cannot widen a peer's allowance.
  int64_t baseline_day = 0;
  uint64_t baseline_count = 0;
};

// An index manifest a peer signed whose stream broke a cap
// (spec/index-sync.md, "Caps"), kept as evidence for governance.
struct IndexEvidence {
  std::string member;
  uint64_t version = 0;        // the manifest's version
  uint64_t count = 0;          // the manifest's count
  int64_t received_at_ms = 0;  // by this node's clock
  int32_t status_code = 0;     // the refusal (absl::StatusCode)
  std::string reason;          // the refusal's message
  Bytes manifest;              // the signed cbx.v1.Envelope, as received
};
// Evidence kept per member; the oldest beyond it is dropped.
inline constexpr size_t kMaxIndexEvidencePerMember = 64;

// An identifier's value as the OPRF input is made of it: its type and
// normalized value. Two cases with the same value share its output.
struct IdentifierKey {
  v1::IdentifierType type = v1::IDENTIFIER_TYPE_UNSPECIFIED;
  std::string normalized_value;
};

// An identifier value's OPRF output y and tag under the next OPRF key,
// computed ahead of a key rotation (spec/oprf.md §2).
struct StagedOutput {
  IdentifierKey key;
  Bytes y;  // 32 bytes
  Tag tag = 0;
};

// Standing watches (spec/cooperation.md §4, node/watches.h). Per watched
// identifier and per peer a watch keeps the finalized OPRF output y that
// peer's evaluation gave, never the identifier's value.
struct WatchOutput {
  std::string member;       // the peer whose evaluation gave y
  uint32_t input = 0;       // index into the watch's identifiers
  uint32_t oprf_epoch = 0;  // the peer's OPRF epoch y is under
  Bytes y;                  // 32 bytes
  Tag tag = 0;
  // The peer's index version at which y's hit was resolved; 0 while it has
  // not hit (or its resolve is still owed: over the day's quota).
  uint64_t resolved_version = 0;
};
// A watch: its record (record.watch_id names it) and its outputs.
struct StoredWatch {
  v1::Watch record;
  std::vector<WatchOutput> outputs;
};
// A watch output with the watch it belongs to.
struct WatchedOutput {
  std::string watch_id;
  WatchOutput output;
};

// Settings written in the same transaction as another change.
using SettingWrites = std::vector<std::pair<std::string, Bytes>>;

// Two directory versions with one number, both validly signed by the
// governance (spec/directory.md §8): the one this node adopted and the one
// a peer served, kept as evidence for governance.
struct DirectoryEvidence {
  uint64_t version = 0;
  std::string served_by;       // the member whose node served `conflicting`
  int64_t received_at_ms = 0;  // by this node's clock
  Bytes adopted;               // serialized cbx.v1.SignedDirectory
  Bytes conflicting;           // serialized cbx.v1.SignedDirectory
};

// Which cooperation requests a listing returns (Storage::ListCooperations).
struct CooperationFilter {
  // Only this office's (CooperationRecord.office); empty: every office's.
  std::string office;
  // > 0: only the requests overdue at that time (CooperationOverdueAt).
  int64_t overdue_at_ms = 0;
  // Only those MarkCooperationAnnounced has not marked.
  bool unannounced_only = false;
};

// Whether `r` is overdue at `now_ms` (spec/cooperation.md §3): its request
// was accepted (a receipt ACCEPTED) and either its response_due_ms (not 0)
// has passed without a response, or it is a preservation request whose
// receipt came late (receipt_late, a fact that stays).
inline bool CooperationOverdueAt(const v1::CooperationRecord& r,
                                 int64_t now_ms) {
  if (r.receipt().status() != v1::RECEIPT_STATUS_ACCEPTED) return false;
  if (r.receipt_late()) return true;
  const int64_t due = r.request().response_due_ms();
  return !r.has_response() && due > 0 && due < now_ms;
}

// Withdrawals of case references (spec/cooperation.md §2.4,
// node/withdrawal.h). At the origin: one queued withdrawal per (case token,
// member that resolved the case), kept after its receipt as the record of
// it.
struct QueuedWithdrawal {
  Bytes case_token;  // 16 bytes
  std::string member;
  std::string case_number;  // this node's case
  std::string office;       // the case's office (Header.office)
  v1::WithdrawalReason reason = v1::WITHDRAWAL_REASON_UNSPECIFIED;
  int64_t queued_at_ms = 0;
  uint32_t attempts = 0;
  // When to send it next; 0 once it ended (receipt, or given up).
  int64_t next_attempt_ms = 0;
  // The deletion receipt envelope as received; empty until it came.
  Bytes receipt;
  bool given_up = false;
  std::string last_error;  // the last attempt's failure, if any
};
// At the receiver: the tombstone of a withdrawn reference (token, origin,
// times), which also answers a repeated withdrawal with the same receipt.
struct WithdrawnReference {
  std::string member;  // the origin that withdrew it
  Bytes case_token;
  v1::WithdrawalReason reason = v1::WITHDRAWAL_REASON_UNSPECIFIED;
  int64_t withdrawn_at_ms = 0;
  int64_t kept_until_ms = 0;  // 0: deleted at once
  int64_t deleted_at_ms = 0;  // 0 while kept
};

// The reads and writes a domain operation makes inside one
// Storage::ReadWriteTransaction. Each method behaves as the Storage method
// of the same name (same checks, same codes), except that its writes are
// seen only by this transaction's later calls (read-your-writes) until the
// transaction commits, and are undone if it rolls back. A write that fails
// changes nothing, also inside the transaction, so a body may go on after
// it (e.g. after an ALREADY_EXISTS) if it has a reason to.
//
// Valid only during the body it was given to; not thread-safe (one body,
// one thread).
class StorageTransaction {
 public:
  virtual ~StorageTransaction() = default;

  virtual absl::StatusOr<StoredCase> GetCase(const std::string& number) = 0;
  virtual absl::Status AddCase(const StoredCase& c) = 0;
  virtual absl::Status UpdateCase(const StoredCase& c) = 0;
  virtual absl::StatusOr<std::vector<OutputMatch>> FindByOutputs(
      const std::vector<Bytes>& ys) = 0;
  virtual absl::StatusOr<uint64_t> OwnIndexVersion() = 0;
  virtual absl::Status AddHit(const v1::Hit& hit) = 0;
  virtual absl::Status AddNotification(const v1::Notification& n) = 0;
  // As Storage::ChargeQuota, inside the transaction: the charge commits
  // (durably) with the body's other writes, or is undone with them.
  virtual absl::StatusOr<uint32_t> ChargeQuota(const std::string& member,
                                               int64_t day, uint32_t count,
                                               uint32_t limit) = 0;
  virtual absl::StatusOr<std::optional<Bytes>> GetSetting(
      const std::string& key) = 0;
  virtual absl::Status PutSetting(const std::string& key,
                                  const Bytes& value) = 0;
  // Cooperation (see Storage's methods of the same names).
  virtual absl::StatusOr<StoredCase> GetCaseByToken(const Bytes& token) = 0;
  virtual absl::Status PutCooperation(const v1::CooperationRecord& r) = 0;
  virtual absl::StatusOr<v1::CooperationRecord> GetCooperation(
      const std::string& id) = 0;

  // --- Standing watches (spec/cooperation.md §4) -----------------------------
  //
  // Only in a transaction, so that a watch's change and its audit entry
  // commit together (log before effect); Storage's wrappers below run one
  // for a lone read.

  // Inserts `w`. INVALID_ARGUMENT (nothing changed) for an empty watch id
  // or office, a y that is not 32 bytes, an output with an empty member or
  // two outputs of one (member, input); ALREADY_EXISTS if the id is taken.
  virtual absl::Status AddWatch(const StoredWatch& w) = 0;
  // The watch and its outputs (ordered by member, then input). NOT_FOUND.
  virtual absl::StatusOr<StoredWatch> GetWatch(const std::string& id) = 0;
  // Replaces the watch's record (its outputs are unchanged). NOT_FOUND.
  virtual absl::Status UpdateWatch(const v1::Watch& record) = 0;
  // Deletes the watch and every output it kept. NOT_FOUND.
  virtual absl::Status DeleteWatch(const std::string& id) = 0;
  // The watches of `office` (every office's if empty), by watch id.
  virtual absl::StatusOr<std::vector<v1::Watch>> ListWatches(
      const std::string& office) = 0;
  // Every watch's outputs of peer `member`, by watch id, then input.
  virtual absl::StatusOr<std::vector<WatchedOutput>> WatchOutputsOf(
      const std::string& member) = 0;
  // Sets the resolved_version of output (watch `id`, `member`, `input`).
  // NOT_FOUND if there is no such output.
  virtual absl::Status SetWatchOutputResolved(const std::string& id,
                                              const std::string& member,
                                              uint32_t input,
                                              uint64_t version) = 0;
  // Deletes watch `id`'s outputs of peer `member` (its OPRF key changed).
  // OK also if there were none.
  virtual absl::Status DeleteWatchOutputs(const std::string& id,
                                          const std::string& member) = 0;
  // The ids of up to `limit` (0: all) watches with expires_at_ms <= now_ms,
  // the earliest expiry first.
  virtual absl::StatusOr<std::vector<std::string>> ExpiredWatches(
      int64_t now_ms, size_t limit) = 0;

  // --- Withdrawals (spec/cooperation.md §2.4) --------------------------------
  //
  // Only in a transaction, so that each change commits with its audit
  // entry (or with the case's close); Storage's wrappers below run one for
  // a lone read.

  // The distinct members of `case_number`'s notifications (the members
  // this node gave the case's reference in a ResolveResponse), ascending.
  virtual absl::StatusOr<std::vector<std::string>> MembersNotifiedOf(
      const std::string& case_number) = 0;
  // Inserts `w`. ALREADY_EXISTS (nothing changed) if (case_token, member)
  // is queued already; INVALID_ARGUMENT for an empty token or member.
  virtual absl::Status QueueWithdrawal(const QueuedWithdrawal& w) = 0;
  // Replaces the queued withdrawal (case_token, member). NOT_FOUND.
  virtual absl::Status UpdateWithdrawal(const QueuedWithdrawal& w) = 0;
  // NOT_FOUND if (case_token, member) was never queued.
  virtual absl::StatusOr<QueuedWithdrawal> GetWithdrawal(
      const Bytes& case_token, const std::string& member) = 0;
  // Up to `limit` (0: all) queued withdrawals with 0 < next_attempt_ms <=
  // now_ms (now_ms < 0: every pending one), the earliest first.
  virtual absl::StatusOr<std::vector<QueuedWithdrawal>> DueWithdrawals(
      int64_t now_ms, size_t limit) = 0;
  // Every queued withdrawal (pending or ended), by queued_at_ms.
  virtual absl::StatusOr<std::vector<QueuedWithdrawal>> ListWithdrawals() = 0;

  // The tombstone of `member`'s reference `case_token`. NOT_FOUND.
  virtual absl::StatusOr<WithdrawnReference> GetWithdrawnReference(
      const std::string& member, const Bytes& case_token) = 0;
  // Inserts or replaces the tombstone (member, case_token).
  // INVALID_ARGUMENT for an empty member or token.
  virtual absl::Status PutWithdrawnReference(const WithdrawnReference& w) = 0;
  // Up to `limit` (0: all) tombstones still kept (deleted_at_ms 0) whose
  // kept_until_ms is > 0 and <= now_ms, the earliest first.
  virtual absl::StatusOr<std::vector<WithdrawnReference>>
  WithdrawnReferencesDue(int64_t now_ms, size_t limit) = 0;
  // Marks every hit from `member` whose reference has `case_token`
  // withdrawn (withdrawn_at_ms, reason; a hit already marked keeps its
  // first time) and, if `delete_reference`, deletes the reference's
  // fields but its case_token. Returns how many hits it matched.
  virtual absl::StatusOr<int64_t> WithdrawHits(const std::string& member,
                                               const Bytes& case_token,
                                               int64_t withdrawn_at_ms,
                                               v1::WithdrawalReason reason,
                                               bool delete_reference) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // --- Transactions ----------------------------------------------------------

  // The body of a read-write transaction (see ReadWriteTransaction).
  using TransactionBody = std::function<absl::Status(StorageTransaction&)>;
  // Told why a commit failed, after the rollback and before the write lock
  // is released (see ReadWriteTransaction).
  using CommitFailureHandler = std::function<void(const absl::Status&)>;

  // Runs `body` in one read-write transaction, in the spirit of Trillian's
  // ReadWriteTransaction:
  //   - body returns non-OK: everything it wrote is rolled back and that
  //     status is returned;
  //   - body returns OK: the transaction commits, and on success its writes
  //     become visible to every reader at once and durable together (OK is
  //     returned); if the commit fails, nothing changed, `on_commit_failure`
  //     (if given) is called with the failure, and the failure is returned.
  // A failure to begin the transaction is returned without running `body`.
  //
  // The body runs holding the storage's write lock: other writers (and on
  // the backends here, readers too) wait for it, so it must be short and
  // must not wait on the network. It must use only the StorageTransaction
  // it is given, never this Storage (that would deadlock). Appending to the
  // audit log (a local fsync) is allowed and is the intended use: the
  // append is the body's last step, so a change commits only once its
  // audit entry is durable, and an append that fails rolls it back
  // (spec/audit-log.md §2.10, log before effect). `on_commit_failure` runs
  // still holding the lock, so that what it records (the audit log's entry
  // voiding the one the body appended) precedes any other change; it must
  // not use the storage either.
  //
  // Thread-safe; transactions run one at a time.
  virtual absl::Status ReadWriteTransaction(
      const TransactionBody& body,
      const CommitFailureHandler& on_commit_failure) = 0;
  absl::Status ReadWriteTransaction(const TransactionBody& body) {
    return ReadWriteTransaction(body, nullptr);
  }

  // --- Cases ---------------------------------------------------------------

  // A case is open when record.status is CASE_STATUS_OPEN. AddCase and
  // UpdateCase refuse with INVALID_ARGUMENT (and change nothing) a case whose
  // case number is empty, whose status is neither OPEN nor CLOSED, with a y
  // that is not 32 bytes, or with two identifiers of the same type and
  // normalized value. The identifiers keep the order given.

  // Inserts a new case. ALREADY_EXISTS if the case number is taken. Adds
  // the identifiers' tags to the own index (new tags bump the version).
  virtual absl::Status AddCase(const StoredCase& c) = 0;
  // Replaces a case's record and identifier set in one transaction; the own
  // index changes accordingly (closing a case removes its tags unless another
  // open case still has them). NOT_FOUND if there is no such case.
  virtual absl::Status UpdateCase(const StoredCase& c) = 0;
  // NOT_FOUND if there is no such case.
  virtual absl::StatusOr<StoredCase> GetCase(const std::string& number) = 0;
  // Cases ordered by case number; closed ones only if asked.
  virtual absl::StatusOr<Page<StoredCase>> ListCases(
      bool include_closed, const PageRequest& page = {}) = 0;
  // Open cases' identifiers whose y is one of `ys`. Closed cases never
  // match. Matches come in the order of `ys`, then by case number, then in
  // the case's identifier order; a y that matches nothing (of any length)
  // adds nothing.
  virtual absl::StatusOr<std::vector<OutputMatch>> FindByOutputs(
      const std::vector<Bytes>& ys) = 0;
  // Every identifier of every case (for re-evaluation after an OPRF key
  // rotation), and a way to write the new y/tag values back in one
  // transaction that rewrites the own index from scratch.
  //
  // Each pair names a stored identifier by case number, type and normalized
  // value; its y and tag are replaced (the other fields are ignored). The
  // pairs must cover every identifier of every case exactly once:
  // INVALID_ARGUMENT for a y that is not 32 bytes or an identifier named
  // twice, NOT_FOUND for a pair that names no stored identifier, ABORTED if
  // some stored identifier is not named (cases changed since they were read:
  // read again and retry). On success the own index version advances by one
  // and the change log is dropped: OwnIndexChangesSince(v) for any earlier v
  // is FAILED_PRECONDITION, so peers fetch a full copy (as they must after an
  // OPRF key rotation anyway).
  virtual absl::Status ReplaceAllOutputs(
      const std::vector<std::pair<std::string, StoredIdentifier>>&
          case_and_identifier) = 0;

  // --- OPRF key rotation (spec/oprf.md §2) ----------------------------------
  //
  // Outputs under the next key are staged per identifier value, beside the
  // current ones (SQLite: a key generation of their own, with its tag set),
  // and made current in one short transaction that does not depend on the
  // number of identifiers; the outputs they replace are kept (as previous
  // outputs) for the grace window.

  // The distinct identifier values of every case (open or closed) that have
  // no staged output, ordered by (type, normalized value), after the cursor
  // `page.after` (a cursor this method returned: a value that was staged
  // since is skipped, one added below the cursor is not seen — list again
  // from the start to catch those). A page may hold fewer than `page.limit`
  // values (even none) and still name a next page: a backend may bound the
  // values it looks at per call, so that a call stays short when almost
  // every value is staged. INVALID_ARGUMENT for a cursor it did not make.
  virtual absl::StatusOr<Page<IdentifierKey>> ListUnstagedIdentifiers(
      const PageRequest& page) = 0;
  // Stores `outputs` (replacing a staged output of the same value) and
  // `settings` in one transaction. INVALID_ARGUMENT (nothing changed) for a
  // y that is not 32 bytes.
  virtual absl::Status StageOutputs(const std::vector<StagedOutput>& outputs,
                                    const SettingWrites& settings) = 0;
  // How many identifier values have a staged output.
  virtual absl::StatusOr<uint64_t> CountStagedOutputs() = 0;
  // Forgets every staged output (a next key was replaced).
  virtual absl::Status ClearStagedOutputs() = 0;
  // The switch, in one transaction: every identifier's y and tag become its
  // value's staged output; the outputs replaced are kept as the previous
  // outputs (replacing earlier ones); the own index is rebuilt from the new
  // tags, its version advances by one and its change log is dropped
  // (OwnIndexChangesSince(v) is FAILED_PRECONDITION for any earlier v, so
  // every peer fetches a full copy); the staged outputs are forgotten; and
  // `settings` are written. ABORTED (nothing changed) if some identifier's
  // value has no staged output: stage it and retry.
  virtual absl::Status PromoteStagedOutputs(const SettingWrites& settings) = 0;
  // For each of `ys`, the current output of the identifier value whose
  // previous output it is; an empty Bytes for a y that is no previous output
  // (of any length). Same order as `ys`.
  virtual absl::StatusOr<std::vector<Bytes>> TranslatePreviousOutputs(
      const std::vector<Bytes>& ys) = 0;
  // Forgets the previous outputs (the grace window ended) and writes
  // `settings`, in one transaction.
  virtual absl::Status DropPreviousOutputs(const SettingWrites& settings) = 0;

  // --- Own index -------------------------------------------------------------

  virtual absl::StatusOr<uint64_t> OwnIndexVersion() = 0;
  // The current set of tags, sorted ascending.
  virtual absl::StatusOr<std::vector<Tag>> OwnIndexTags() = 0;
  // Changes with version > since, ascending. FAILED_PRECONDITION if the
  // changes before `since` were compacted away and a full copy is needed,
  // and also if `since` is newer than the current version (the caller's copy
  // is from another history).
  virtual absl::StatusOr<std::vector<IndexChange>> OwnIndexChangesSince(
      uint64_t since) = 0;
  // Forgets the recorded changes with version <= min(keep_after, current
  // version), so that the change log stays bounded; afterwards
  // OwnIndexChangesSince(v) is FAILED_PRECONDITION for v below that point.
  // The tags and the version are unchanged. Compacting to an older point
  // than before is a no-op.
  virtual absl::Status CompactIndexChanges(uint64_t keep_after) = 0;

  // --- Peer index copies -----------------------------------------------------

  // Replaces the copy of `index.member`'s index. INVALID_ARGUMENT (nothing
  // changed) if the member is empty or the tags are not strictly ascending.
  virtual absl::Status SavePeerIndex(const PeerIndex& index) = 0;
  // NOT_FOUND if no copy is held. DATA_LOSS if the stored copy is damaged.
  virtual absl::StatusOr<PeerIndex> LoadPeerIndex(
      const std::string& member) = 0;
  // Every copy held, ordered by member.
  virtual absl::StatusOr<std::vector<PeerIndex>> LoadAllPeerIndexes() = 0;

  // Keeps `evidence` durably. Of one member's evidence only the newest
  // kMaxIndexEvidencePerMember are kept (a peer cannot fill the disk by
  // signing manifests). INVALID_ARGUMENT (nothing changed) if the member or
  // the manifest is empty.
  virtual absl::Status AddIndexEvidence(const IndexEvidence& evidence) = 0;
  // `member`'s evidence, oldest first (all members' if `member` is empty).
  virtual absl::StatusOr<std::vector<IndexEvidence>> ListIndexEvidence(
      const std::string& member) = 0;
  // Deletes the copy of `member`'s index (a member removed from the
  // directory, spec/directory.md §6). OK also if none was held.
  virtual absl::Status DeletePeerIndex(const std::string& member) = 0;

  // Keeps `evidence` durably. ALREADY_EXISTS (nothing changed) if evidence
  // with the same version and conflicting bytes is already kept (so a
  // caller raises an alarm once per distinct version); INVALID_ARGUMENT if
  // the version is 0 or either directory is empty.
  virtual absl::Status AddDirectoryEvidence(
      const DirectoryEvidence& evidence) = 0;
  // Every directory evidence kept, oldest first.
  virtual absl::StatusOr<std::vector<DirectoryEvidence>>
  ListDirectoryEvidence() = 0;

  // --- Retention (node/retention.h) -----------------------------------------
  //
  // Bounded deletes for the retention sweep: each call deletes at most
  // `limit` (>= 1; 0 is INVALID_ARGUMENT) of the oldest rows of one kind
  // that are due, in one short transaction, so that a sweep never holds the
  // write lock for long. In that same transaction it writes the settings
  // `then(n)` returns for the number n of rows it deleted (n may be 0):
  // `then` runs holding the write lock and must not use the storage. On
  // failure nothing was deleted and nothing written. Each returns n; fewer
  // than `limit` means that nothing due is left.
  using AfterDelete = std::function<SettingWrites(int64_t deleted)>;

  // Deletes received case references (hits) with received_at_ms <
  // before_ms, oldest first.
  virtual absl::StatusOr<int64_t> DeleteHitsBefore(int64_t before_ms,
                                                   size_t limit,
                                                   const AfterDelete& then) = 0;
  // Deletes inbox notifications with at_ms < before_ms, oldest first.
  virtual absl::StatusOr<int64_t> DeleteNotificationsBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) = 0;
  // Deletes replay-cache rows with expires_at_ms < now_ms, the earliest
  // expiry first (SweepMessageIds in bounded batches).
  virtual absl::StatusOr<int64_t> DeleteExpiredMessageIds(
      int64_t now_ms, size_t limit, const AfterDelete& then) = 0;
  // Looks at up to `page.limit` closed cases in case-number order after the
  // cursor `page.after` (empty: from the first; `limit` 0 is
  // INVALID_ARGUMENT) and, of those whose record.updated_at_ms (the time it
  // was closed: a closed case is never changed again) is < closed_before_ms
  // and which still hold identifiers, deletes the identifiers (values,
  // outputs y, tags) and empties record.identifiers. The case's row stays
  // as a tombstone: number, token, office, offences, role, contact point,
  // status, opened month and dates, so that its number is never reused and
  // its history still reads. Open cases are never touched; the own index
  // is unchanged (a closed case's tags left it when it closed). `then` gets
  // the number of cases stripped. Returns that number and the cursor of the
  // next call (empty when every closed case has been looked at).
  struct PurgeProgress {
    int64_t purged = 0;
    std::string next;
  };
  virtual absl::StatusOr<PurgeProgress> PurgeClosedCases(
      int64_t closed_before_ms, const PageRequest& page,
      const AfterDelete& then) = 0;
  // As CompactIndexChanges(through), but forgets at most `limit` changes
  // per call (the oldest): afterwards OwnIndexChangesSince(v) is
  // FAILED_PRECONDITION for v below the new compaction point, and a peer
  // asking from there is sent the full index. `then` gets the number of
  // changes forgotten.
  virtual absl::StatusOr<int64_t> CompactIndexChangesBounded(
      uint64_t through, size_t limit, const AfterDelete& then) = 0;
  // Deletes the receiver's withdrawal tombstones (spec/cooperation.md
  // §2.4) whose reference is deleted (deleted_at_ms != 0) and whose
  // withdrawn_at_ms < before_ms, oldest first. A tombstone whose reference
  // is still kept is never touched.
  virtual absl::StatusOr<int64_t> DeleteWithdrawnReferencesBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) = 0;
  // Deletes the origin's ended withdrawals (next_attempt_ms 0: the receipt
  // came, or it was given up) with queued_at_ms < before_ms, oldest first.
  // A pending one is never touched.
  virtual absl::StatusOr<int64_t> DeleteEndedWithdrawalsBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) = 0;

  // --- Replay cache and quotas -----------------------------------------------

  // Records (sender, message_id) until expires_at_ms. ALREADY_EXISTS if the
  // pair is already recorded and not yet swept.
  virtual absl::Status RecordMessageId(const std::string& sender,
                                       const Bytes& message_id,
                                       int64_t expires_at_ms) = 0;
  // Forgets message ids that expired before `now_ms`; returns how many.
  virtual absl::StatusOr<int64_t> SweepMessageIds(int64_t now_ms) = 0;
  // Adds `count` to `member`'s usage for `day` (days since the epoch, UTC)
  // if the result stays within `limit`; RESOURCE_EXHAUSTED otherwise, with
  // the usage unchanged. Returns the new usage.
  virtual absl::StatusOr<uint32_t> ChargeQuota(const std::string& member,
                                               int64_t day, uint32_t count,
                                               uint32_t limit) = 0;
  // `member`'s usage for `day` as ChargeQuota counts it (0 if none), read
  // without writing (the node's metrics).
  virtual absl::StatusOr<uint32_t> QuotaUsed(const std::string& member,
                                             int64_t day) = 0;
  // Envelope checks 6 and 7b as one durable write: records (sender,
  // message_id) as RecordMessageId does and then, if `charge` is given,
  // charges `charge->count` to the sender's usage for `charge->day` within
  // `charge->limit` as ChargeQuota does — in one transaction, so that an
  // accepted envelope costs one sync, not two. Concurrent calls may share
  // one transaction (SQLite: a group commit); each call's outcome is still
  // that of the calls run one after another. An error is a storage failure
  // and means that nothing changed.
  struct QuotaCharge {
    int64_t day = 0;
    uint32_t count = 0;
    uint32_t limit = 0;
  };
  enum class AdmitOutcome {
    kAccepted,         // recorded and charged
    kAlreadyRecorded,  // the pair was recorded before: nothing changed
    kOverQuota,        // the pair is now recorded (its id is used), but the
                       // charge would exceed the limit: nothing charged
  };
  virtual absl::StatusOr<AdmitOutcome> RecordMessageIdAndCharge(
      const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
      const std::optional<QuotaCharge>& charge) = 0;

  // --- What the office sees ------------------------------------------------

  virtual absl::Status AddHit(const v1::Hit& hit) = 0;
  // Newest first (by received_at_ms; of equal times the one added last
  // first); all hits if case_number is empty.
  virtual absl::StatusOr<Page<v1::Hit>> ListHits(
      const std::string& case_number, const PageRequest& page = {}) = 0;
  virtual absl::Status AddNotification(const v1::Notification& n) = 0;
  // Newest first (by at_ms, then the one added last first); all if
  // case_number is empty.
  virtual absl::StatusOr<Page<v1::Notification>> ListNotifications(
      const std::string& case_number, const PageRequest& page = {}) = 0;

  // --- Offices see their own (spec/cooperation.md §6) ----------------------

  // As ListCases, ListHits and ListNotifications, but only what belongs to
  // `office` ("MK/PPO-Skopje"): its cases (Case.office), and the hits and
  // notifications whose case_number names one of them. A hit or
  // notification whose case is gone (purged) belongs to no office.
  // INVALID_ARGUMENT for an empty `office`.
  virtual absl::StatusOr<Page<StoredCase>> ListOfficeCases(
      const std::string& office, bool include_closed,
      const PageRequest& page) = 0;
  virtual absl::StatusOr<Page<v1::Hit>> ListOfficeHits(
      const std::string& office, const std::string& case_number,
      const PageRequest& page) = 0;
  virtual absl::StatusOr<Page<v1::Notification>> ListOfficeNotifications(
      const std::string& office, const std::string& case_number,
      const PageRequest& page) = 0;

  // --- Cooperation requests (spec/cooperation.md, node/cooperation.h) -----

  // The case whose record.case_token is `token`. NOT_FOUND if none (of any
  // length).
  virtual absl::StatusOr<StoredCase> GetCaseByToken(const Bytes& token) = 0;
  // Inserts `r`, or replaces the record with the same id (its place in
  // listings, by requested_at_ms, is the first insertion's).
  // INVALID_ARGUMENT (nothing changed) if the id is empty or the direction
  // unspecified.
  virtual absl::Status PutCooperation(const v1::CooperationRecord& r) = 0;
  // NOT_FOUND if there is no record `id`.
  virtual absl::StatusOr<v1::CooperationRecord> GetCooperation(
      const std::string& id) = 0;
  // The records `filter` selects, newest first (by requested_at_ms, then
  // the one inserted last first), as stored (`overdue` is not set here).
  virtual absl::StatusOr<Page<v1::CooperationRecord>> ListCooperations(
      const CooperationFilter& filter, const PageRequest& page = {}) = 0;
  // Marks record `id` as announced overdue (its one cooperation-overdue
  // event was logged): CooperationFilter.unannounced_only skips it from
  // now on, also after a restart. NOT_FOUND if there is no such record.
  virtual absl::Status MarkCooperationAnnounced(const std::string& id) = 0;

  // --- Key-value settings (OPRF epoch in use, directory version, ...) ------

  // std::nullopt if the key was never put.
  virtual absl::StatusOr<std::optional<Bytes>> GetSetting(
      const std::string& key) = 0;
  virtual absl::Status PutSetting(const std::string& key,
                                  const Bytes& value) = 0;

  // --- Standing watches: lone reads (StorageTransaction has the rest) -------

  // As StorageTransaction::ListWatches, GetWatch and WatchOutputsOf, each in
  // a transaction of its own.
  absl::StatusOr<std::vector<v1::Watch>> ListWatches(
      const std::string& office) {
    absl::StatusOr<std::vector<v1::Watch>> out;
    absl::Status s = ReadWriteTransaction([&](StorageTransaction& txn) {
      out = txn.ListWatches(office);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<StoredWatch> GetWatch(const std::string& id) {
    absl::StatusOr<StoredWatch> out;
    absl::Status s = ReadWriteTransaction([&](StorageTransaction& txn) {
      out = txn.GetWatch(id);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<std::vector<WatchedOutput>> WatchOutputsOf(
      const std::string& member) {
    absl::StatusOr<std::vector<WatchedOutput>> out;
    absl::Status s = ReadWriteTransaction([&](StorageTransaction& txn) {
      out = txn.WatchOutputsOf(member);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  // --- Withdrawals: lone reads (StorageTransaction has the rest) -----------

  absl::StatusOr<std::vector<QueuedWithdrawal>> DueWithdrawals(int64_t now_ms,
                                                               size_t limit) {
    absl::StatusOr<std::vector<QueuedWithdrawal>> out;
    absl::Status s = ReadWriteTransaction([&](StorageTransaction& txn) {
      out = txn.DueWithdrawals(now_ms, limit);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<std::vector<QueuedWithdrawal>> ListWithdrawals() {
    absl::StatusOr<std::vector<QueuedWithdrawal>> out;
    absl::Status s = ReadWriteTransaction([&](StorageTransaction& txn) {
      out = txn.ListWithdrawals();
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
};

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_STORAGE_H_
