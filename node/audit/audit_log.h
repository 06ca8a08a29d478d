// The node's append-only audit log (DESIGN.md §8, spec/audit-log.md): an
// RFC 9162 Merkle tree over serialized AuditEntry leaves, kept durably in
// its own SQLite file (or a PostgreSQL schema: an AuditBackend), with
// proofs, signed checkpoints, the cosignatures peers return for them, and
// tamper evidence.
//
// Durability: Append returns only once its entry is committed (SQLite: WAL,
// synchronous=FULL; PostgreSQL: COMMIT with synchronous_commit on). Concurrent Appends are *group committed*: one writer
// thread takes every request waiting (up to a batch size), writes them in
// one transaction — leaves, the perfect subtrees they complete, the new
// compact range — and releases each caller when that transaction has
// committed: one fsync per batch, not per entry. A crash at any moment
// loses no acknowledged entry and leaves a log that verifies.
//
// Tamper evidence: the log trusts its state row (size, compact range) only
// after Open has checked it against the stored rows, the head file and the
// latest checkpoint; from then on every proof it serves is first verified
// against that root. When it finds stored data that does not add up, it
// latches DATA_LOSS: every later read and Append return that status, whose
// message says what is wrong. See spec/audit-log.md §2 for what each check
// catches and what an operator and an auditor do about it.
//
// Threading: every public method is thread-safe. Internally:
//   - a writer thread owns the write connection and the working compact
//     range; callers of Append wait on their own notification;
//   - a head thread rewrites the head file after each committed batch
//     (coalescing batches when it falls behind), and runs the store's
//     upkeep (SQLite: checkpoints the WAL into the database file) now and
//     then, with a connection of its own: both off the commit path, so no
//     Append waits for them;
//   - reads (proofs, leaves, roots) share one read connection under a
//     mutex, each call in one read transaction (one snapshot); they run
//     while the writer commits;
//   - Verify opens a connection of its own, so it blocks nobody;
//   - a check thread runs the leaf count Open leaves to after it, on a
//     connection of its own, and ends when it completes.
// The destructor stops the check, drains pending Appends, writes the final
// head and joins the threads; no call may be in flight when it runs.
#ifndef CBX_NODE_AUDIT_AUDIT_LOG_H_
#define CBX_NODE_AUDIT_AUDIT_LOG_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cbx/v1/audit.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/signer.h"
#include "core/merkle/compact_range.h"
#include "core/util/bytes.h"
#include "core/util/clock.h"
#include "core/util/env.h"
#include "node/audit/audit_store.h"
#include "node/audit/head_file.h"
#include "node/audit/stored_hash_source.h"

namespace cbx::node::audit {

// The kind of the entry that voids an earlier OK entry whose change did
// not happen (spec/audit-log.md §2.10).
inline constexpr std::string_view kNotAppliedKind = "not_applied";

struct AuditLogOptions {
  // The most entries one transaction takes.
  size_t max_batch_size = 1024;
  // How long the writer waits for a batch to fill once a first entry is
  // waiting. Zero (the default) commits whatever is waiting as soon as the
  // previous commit is done: under load, entries arriving during one fsync
  // form the next batch anyway, and a lone Append pays no extra latency.
  absl::Duration max_batch_delay = absl::ZeroDuration();
  // The head file; empty means the backend's default ("<db_path>.head" for
  // SQLite; a PostgreSQL backend has none, and Open refuses an empty one).
  std::string head_path;
  // Reads and writes the head file (not the SQLite database); null means
  // Env::Default(). Tests pass a testing::FaultEnv. Must outlive the log.
  Env* env = nullptr;
  // The SQLite VFS for the database ("": the default), for Open(db_path,
  // ...). Tests pass a FaultVfs's name (node/storage/testing/fault_vfs.h).
  std::string sqlite_vfs;
  // After a write failure has latched (see Append), the next Append tries
  // to recover (Recover) once this long has passed since the last try, by
  // the log's clock; the Appends in between get the latched status.
  absl::Duration recovery_interval = absl::Seconds(1);
  // Source of AuditEntry.time_ms; null means SystemClock::Get(). Must
  // outlive the log.
  const Clock* clock = nullptr;
  // Perfect subtrees of this level and above are cached in memory once read
  // (they never change): n / 2^level hashes at most.
  uint64_t cache_min_level = 8;
  // At most this many cached hashes (about 100 bytes each): a cache over
  // it drops its lowest level and caches only the levels above from then
  // on, so the memory it takes stops growing with the log (the upper
  // levels are the ones every proof reads).
  size_t cache_max_entries = 16384;
  // How long Open waits for the leaf count it leaves to its check thread
  // (see Open): a log it counts within this opens as if counted before, and
  // DATA_LOSS from the count is Open's; a larger log's count goes on after
  // Open has returned. The wait is part of Open's time.
  absl::Duration open_check_wait = absl::Milliseconds(200);
  // Called once, on the log's check thread, when the leaf count Open left
  // to run after it ends (before WaitForOpenCheck returns): OK, or the
  // DATA_LOSS it latched. Not called if the log closes first. Must not
  // destroy the log or wait for its check.
  std::function<void(const absl::Status&)> on_open_check_done;
  // Called when Recover voided entries that were stored by a commit whose
  // callers were told it failed (spec/audit-log.md §2.10, "An append whose
  // answer is lost"): `first` is the sequence of the first voiding entry,
  // `count` how many there are. On the appending thread, under the log's
  // write lock: must not call the log.
  std::function<void(uint64_t first, uint64_t count)> on_unacknowledged_voided;
  // Tests only: runs on the check thread once the check's snapshot is
  // taken, before it counts (to append, or tamper, meanwhile).
  std::function<void()> open_check_hook_for_testing;
};

// Counters since Open; for tests, benchmarks and /metrics.
struct AuditLogStats {
  uint64_t appended = 0;         // entries committed
  uint64_t commits = 0;          // batch transactions committed (one fsync)
  uint64_t largest_batch = 0;    // entries in the largest batch
  uint64_t head_writes = 0;      // head file replacements
  uint64_t wal_checkpoints = 0;  // background WAL checkpoints (SQLite)
  // Leaf data hashed to check it (reads, Verify); appends not counted. Open
  // hashes none: it resumes from the stored compact range.
  uint64_t leaves_hashed = 0;
  // not_applied entries Recover appended for entries stored by a commit
  // whose callers were told it failed (AuditLogOptions::
  // on_unacknowledged_voided).
  uint64_t voided_unacknowledged = 0;
};

class AuditLog {
 public:
  // Opens the log in the SQLite file `db_path` (created if missing, with
  // its head file). Checks, before serving anything:
  //   - the state row: its compact range parses and gives its size and root;
  //   - the leaves: the lowest and highest are sequences 0 and size-1
  //     (two seeks);
  //   - the popcount(size) stored perfect subtrees of the right edge
  //     reproduce the compact range (no rehashing of the log);
  //   - the head file: not ahead of the database, and consistent with it;
  //   - the latest stored checkpoint: not ahead, and consistent.
  // Every one of these reads O(log n) pages. Then, on a thread of its own
  // and a connection of its own, it counts the leaf rows of one snapshot
  // against that snapshot's size (CheckLeafCount: a row deleted between the
  // ends), waiting for that count up to options.open_check_wait; a count
  // that takes longer goes on after Open has returned: the log serves and
  // appends meanwhile (OpenCheckRunning), and a mismatch latches DATA_LOSS
  // with the same message (spec/audit-log.md §2.9). An error other than
  // DATA_LOSS (a busy database) retries the count every second until it
  // completes.
  // DATA_LOSS, naming the failed check, if any fails; FAILED_PRECONDITION if
  // another AuditLog holds the database (one writer per log); UNAVAILABLE
  // for files that cannot be opened; the Env's errno table (core/util/env.h)
  // if the head file cannot be read or brought up to date.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      const std::string& db_path, const AuditLogOptions& options);
  // The same for the log `backend` reaches (SqliteAuditBackend, which the
  // form above uses with options.sqlite_vfs; PgAuditBackend). The one writer
  // is the one holding backend->LockWriter(). INVALID_ARGUMENT if the
  // backend has no default head file and options.head_path is empty.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      std::shared_ptr<AuditBackend> backend, const AuditLogOptions& options);

  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `entry`, setting its sequence (the next leaf index) and time_ms
  // (the clock's now); any values given for them are overwritten. Returns
  // the sequence once the entry is durable. INVALID_ARGUMENT for an entry
  // that cannot be a leaf (leaf.h); DATA_LOSS once tampering was found (for
  // good). A disk fault (spec/storage-faults.md) gives RESOURCE_EXHAUSTED
  // for a full disk and UNAVAILABLE otherwise (retry): for this batch only
  // if its transaction failed cleanly; latched if the commit's outcome is
  // unknown, the head file cannot be written or the writer lock was lost
  // (PostgreSQL: with the server's session), until an Append at least
  // options.recovery_interval after the last try recovers (Recover).
  absl::StatusOr<uint64_t> Append(v1::AuditEntry entry);

  // Appends `entries` in order, each as Append would, in one transaction:
  // all of them are committed, with consecutive sequences, or none is.
  // Returns the first sequence once all are durable. For bulk imports and
  // benchmarks that build large logs: one fsync and one compact-range walk
  // for the lot. The transaction may exceed max_batch_size (appends waiting
  // at the same time may share it, up to that size). INVALID_ARGUMENT if
  // `entries` is empty or one of them cannot be a leaf (nothing is
  // appended); otherwise errors as Append.
  absl::StatusOr<uint64_t> AppendAll(std::vector<v1::AuditEntry> entries);

  // The committed tree: every entry it counts is durable.
  uint64_t Size() const;
  Bytes Root() const;
  // OK, or the DATA_LOSS (or write failure) the log has latched.
  absl::Status Health() const;

  // Clears a latched write failure if the disk works again: renews the
  // writer lock (WriterLock::Renew: taken again if it was lost), reopens
  // the write connection (nothing cached from before the fault is trusted),
  // runs Open's checks on the state row read from the file against what
  // the log acknowledged (the stored log must hold every acknowledged
  // entry, and more only if consistent with them: a commit reported as
  // failed may have reached the disk), adopts that state and rewrites the
  // head file. OK if nothing is latched or it recovered; the latched
  // DATA_LOSS, or the error that keeps the failure latched. Append calls
  // it (at most once per options.recovery_interval); thread-safe.
  absl::Status Recover();

  // MTH of the first `size` entries, verified to be consistent with Root().
  // The log keeps the last 64 roots it so verified, and proofs at those
  // sizes reuse them (a size's root never changes). OUT_OF_RANGE if
  // size > Size().
  absl::StatusOr<Bytes> RootAt(uint64_t size);

  // The stored bytes of leaf `index`, after checking that they hash to the
  // stored leaf hash and parse as an AuditEntry of that sequence.
  // OUT_OF_RANGE if index >= Size().
  absl::StatusOr<std::string> LeafData(uint64_t index);

  // The leaves [begin, end) as stored, each checked as by LeafData.
  // INVALID_ARGUMENT if begin > end; OUT_OF_RANGE if end > Size().
  absl::StatusOr<std::vector<std::string>> ReadEntries(uint64_t begin,
                                                       uint64_t end);

  // PATH(index, D[0:size]), verified against RootAt(size) before it is
  // returned. OUT_OF_RANGE if size > Size(); INVALID_ARGUMENT if
  // index >= size.
  absl::StatusOr<std::vector<Bytes>> InclusionProof(uint64_t index,
                                                    uint64_t size);

  // PROOF(size1, D[0:size2]), verified against RootAt(size1) and
  // RootAt(size2). OUT_OF_RANGE if size2 > Size(); INVALID_ARGUMENT if
  // size1 == 0 or size1 > size2.
  absl::StatusOr<std::vector<Bytes>> ConsistencyProof(uint64_t size1,
                                                      uint64_t size2);

  // Signs a checkpoint (c2sp.org/tlog-checkpoint) of the committed tree as
  // origin `origin` ("cbx/<CC>/audit", which is also the key name) with
  // `key`, stores it, and returns the signed note once that row is
  // durable. If a checkpoint of the current size is stored already, returns
  // that one (with its cosignatures) instead. INVALID_ARGUMENT for an
  // unusable origin; FAILED_PRECONDITION if the log's checkpoints carry
  // another origin.
  absl::StatusOr<std::string> SignCheckpoint(
      const crypto::Ed25519PrivateKey& key, const std::string& origin);
  // The same signed by each of `signers` (at least one; keys wherever they
  // are kept, core/crypto/signer.h), one signature line each in that
  // order: during a node key rotation a checkpoint carries the old and the
  // new key's signature (spec/keys.md §4). A signer's error if one fails.
  absl::StatusOr<std::string> SignCheckpoint(
      const std::vector<std::shared_ptr<const crypto::Signer>>& signers,
      const std::string& origin);

  // The stored checkpoint of the largest size (or of `size`) with the
  // cosignatures added to it, as one signed note. NOT_FOUND if none.
  absl::StatusOr<std::string> LatestCheckpoint();
  absl::StatusOr<std::string> CheckpointAt(uint64_t size);
  // The stored checkpoint of the largest size, summed up for the node's
  // metrics: its tree size, when it was signed (Unix ms) and how many
  // cosignatures were added to it. NOT_FOUND if none.
  struct CheckpointSummary {
    uint64_t size = 0;
    int64_t signed_ms = 0;
    size_t cosignatures = 0;
  };
  absl::StatusOr<CheckpointSummary> LatestCheckpointSummary();

  // Stores a cosignature line ("— <name> <base64>", with or without its
  // newline) for the checkpoint of `size`, to be returned with it. The
  // caller must have verified it (core/note/witness.h): the log only checks
  // its form. NOT_FOUND if no checkpoint of that size is stored;
  // INVALID_ARGUMENT for a malformed line or one the note could not hold;
  // ALREADY_EXISTS if that (name, key ID) has signed it already with
  // another line (adding the same line again is OK).
  absl::Status AddCosignature(uint64_t size, const std::string& line);

  // Re-checks everything, for auditor tooling and tests: rehashes every
  // leaf and checks it parses with its sequence; rebuilds the tree and
  // compares every perfect subtree, the state row, the in-memory root, the
  // head file and every stored checkpoint with it (their signatures are the
  // auditor's to check: the log holds no directory). O(size). OK, or the
  // DATA_LOSS it found (and latched).
  absl::Status Verify();

  // How many perfect-subtree hashes the proof cache holds now (at most
  // AuditLogOptions::cache_max_entries).
  size_t CachedSubtreeHashes();

  // True until the leaf count Open started has completed (passed or found
  // damage); the node reports "audit log check running" meanwhile.
  bool OpenCheckRunning() const;
  // Waits for that count and returns its result: OK, or the DATA_LOSS it
  // latched. CANCELLED if the log is closing. For tests, tools that must
  // know before they go on, and benchmarks.
  absl::Status WaitForOpenCheck();

  AuditLogStats Stats() const;

 private:
  struct Request;
  struct Snapshot {
    uint64_t size = 0;
    Bytes root;
  };

  AuditLog(std::shared_ptr<AuditBackend> backend, AuditLogOptions options,
           std::unique_ptr<AuditBackend::WriterLock> lock,
           std::unique_ptr<AuditStore> writer,
           std::unique_ptr<AuditStore> reader,
           std::unique_ptr<AuditStore> checkpointer,
           merkle::CompactRange range);

  void WriterLoop();
  // The check thread: CheckLeafCount until it completes or the log closes.
  void OpenCheckLoop();
  // Waits up to `timeout` for the check; true and its result in *result if
  // it completed.
  bool WaitOpenCheck(absl::Duration timeout, absl::Status* result);
  void HeadLoop();
  void CommitBatch(std::vector<Request*>& batch);
  // Recover's step for the entries [begin, range.size()) the stored log
  // holds beyond what the log acknowledged: appends a not_applied entry for
  // each one with status 0 that no not_applied entry among them voids yet,
  // and extends `range` with them. Requires write_mu_.
  absl::Status VoidUnacknowledged(uint64_t begin, merkle::CompactRange& range);
  absl::Status EncodeBatch(std::vector<Request*>& batch,
                           merkle::CompactRange& range,
                           std::vector<LeafRow>& leaves)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status AfterFailedCommit(const absl::Status& failure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Latches a write failure caused by `cause` (keeps the first one).
  absl::Status LatchWriteFailure(const absl::Status& cause,
                                 std::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Recover, if a write failure is latched and the interval has passed.
  void MaybeRecover() ABSL_LOCKS_EXCLUDED(state_mu_, write_mu_);
  // Queues `request` and waits until the writer has committed it.
  absl::Status Enqueue(Request& request);
  bool QueueReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  bool BatchFullOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  bool HeadReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(head_mu_);

  Snapshot Current() const;
  // Latches `status` if it is a DATA_LOSS; returns it either way.
  absl::Status Fail(absl::Status status) const;
  // The latched DATA_LOSS, if any: what reads check first (a write failure
  // blocks appends only).
  absl::Status ReadableStatus() const;

  // Read-side helpers; require read_mu_.
  // A read transaction on the read connection for one call: every statement
  // of the call reads one snapshot, under one WAL read lock.
  absl::StatusOr<std::unique_ptr<AuditStore::ReadSnapshot>> BeginRead()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);
  absl::StatusOr<LeafRow> CheckedLeaf(uint64_t index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);
  // Checks that `row` hashes to its leaf hash and holds entry `index`.
  absl::Status CheckLeafRow(const LeafRow& row, uint64_t index);
  absl::StatusOr<Bytes> AnchoredRoot(uint64_t size, const Snapshot& current)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);
  // The reader's perfect subtrees as of `size`, through cache_ (first
  // bounded to options_.cache_max_entries).
  StoredHashSource CachedSource(uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);

  const std::shared_ptr<AuditBackend> backend_;
  const AuditLogOptions options_;
  const Clock& clock_;
  const std::unique_ptr<AuditBackend::WriterLock> lock_;

  // The committed state, and what the log latched.
  mutable std::mutex state_mu_;
  uint64_t size_ ABSL_GUARDED_BY(state_mu_);
  Bytes root_ ABSL_GUARDED_BY(state_mu_);
  mutable absl::Status tamper_ ABSL_GUARDED_BY(state_mu_);
  absl::Status write_failure_ ABSL_GUARDED_BY(state_mu_);
  // When Recover last ran (the clock's ms); 0 before the first time.
  int64_t last_recovery_ms_ ABSL_GUARDED_BY(state_mu_) = 0;
  // Successful Recovers: a head write that failed before the latest one
  // does not latch again.
  uint64_t recoveries_ ABSL_GUARDED_BY(state_mu_) = 0;
  AuditLogStats stats_ ABSL_GUARDED_BY(state_mu_);

  // Appends waiting for the writer.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // signalled when the queue grows or stops
  std::deque<Request*> queue_ ABSL_GUARDED_BY(queue_mu_);
  size_t queued_entries_ ABSL_GUARDED_BY(queue_mu_) = 0;  // in queue_
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  // The write connection and the compact range of the committed tree; the
  // writer thread holds write_mu_ for each batch, checkpoint calls for
  // their own writes. Acquired before state_mu_, never after it.
  std::mutex write_mu_;
  std::unique_ptr<AuditStore> writer_ ABSL_GUARDED_BY(write_mu_);
  merkle::CompactRange range_ ABSL_GUARDED_BY(write_mu_);

  // The read connection and the cache of upper perfect subtrees.
  std::mutex read_mu_;
  std::unique_ptr<AuditStore> reader_ ABSL_GUARDED_BY(read_mu_);
  SubtreeCache cache_ ABSL_GUARDED_BY(read_mu_);
  // The lowest level cache_ keeps (from options_.cache_min_level, raised
  // by CachedSource when the cache is full).
  uint64_t cache_level_ ABSL_GUARDED_BY(read_mu_) = 0;
  // Roots of smaller trees that AnchoredRoot has checked against the log's
  // root, for the last sizes asked (proofs are asked at checkpoint sizes,
  // below the growing log's size): the root of a size never changes, and a
  // proof is still checked against it, so a stored hash altered later is
  // still found by the first proof that uses it.
  absl::flat_hash_map<uint64_t, Bytes> anchored_ ABSL_GUARDED_BY(read_mu_);
  std::deque<uint64_t> anchored_order_ ABSL_GUARDED_BY(read_mu_);

  // Used by the head thread only.
  std::unique_ptr<AuditStore> checkpointer_;

  // The next head to write.
  std::mutex head_mu_;
  std::condition_variable head_cv_;  // signalled when a head or stop is set
  std::optional<Head> head_next_ ABSL_GUARDED_BY(head_mu_);
  bool head_stopping_ ABSL_GUARDED_BY(head_mu_) = false;

  // The leaf count Open left to run after it (OpenCheckLoop).
  mutable std::mutex check_mu_;
  std::condition_variable check_cv_;  // signalled when done or stopping
  bool check_done_ ABSL_GUARDED_BY(check_mu_) = false;
  absl::Status check_result_ ABSL_GUARDED_BY(check_mu_);
  bool check_stopping_ ABSL_GUARDED_BY(check_mu_) = false;

  std::thread writer_thread_;
  std::thread head_thread_;
  std::thread check_thread_;
};

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_AUDIT_LOG_H_
