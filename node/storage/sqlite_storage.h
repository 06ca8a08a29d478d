// Storage on one SQLite file (DESIGN §9: the embedded default).
#ifndef CBX_NODE_STORAGE_SQLITE_STORAGE_H_
#define CBX_NODE_STORAGE_SQLITE_STORAGE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/sqlite_db.h"
#include "node/storage/storage.h"

namespace cbx::node {

// The Storage contract on an SQLite database in WAL mode with
// synchronous=FULL: a method that returns OK has committed and synced its
// transaction; a method that fails has rolled it back. The schema and its
// layout are described in sqlite_schema.cc.
//
// Threading: one connection, guarded by one mutex, so every method is safe
// from any thread and methods run one at a time (readers wait for writers
// too). The node's storage work is small next to its network and crypto
// work; if reads ever queue behind writes, a pool of read-only connections
// (WAL lets them read while one writes) is the next step. Other processes
// may read the file (an operator's sqlite3 shell, a backup); a writer
// elsewhere makes a method wait for the lock (Options::busy_timeout_ms) and
// then fail with UNAVAILABLE.
class SqliteStorage final : public Storage {
 public:
  struct Options {
    // How long a call waits for another connection's write lock before it
    // fails with UNAVAILABLE.
    int busy_timeout_ms = 5000;
    // The connection's page cache (PRAGMA cache_size, in KiB). SQLite's
    // default suits the node, whose hot data (the peer indexes) lives in
    // memory outside SQLite; a bulk import of many cases into a large
    // database runs several times faster with a cache that holds the y
    // index (about 50 MB per million identifiers).
    int64_t cache_size_kib = 2000;
    // The SQLite VFS to open the file with ("": the default). Tests pass a
    // FaultVfs's name (node/storage/testing/fault_vfs.h).
    std::string vfs;
    // Open an existing file without writing anything (cbx-node --check):
    // no file is created, the schema is not migrated (FAILED_PRECONDITION
    // for a file of an older schema, which the node upgrades when it
    // starts), and every write fails. Without a -wal file beside it (the
    // node stopped cleanly) the file is opened immutable, so that not even
    // a -shm file is made; with one, read-only (SQLite then uses the -shm).
    bool read_only = false;
  };

  // Opens the database at `path`, creating it if missing, and brings its
  // schema to the current version. UNAVAILABLE if the file cannot be
  // opened, DATA_LOSS if it is not a database, FAILED_PRECONDITION if a
  // newer cbx-node wrote it. A write that fails on the disk returns
  // RESOURCE_EXHAUSTED (a full disk) or UNAVAILABLE (an I/O error, a failed
  // fsync), changes nothing, and the next call runs on a fresh connection
  // (spec/storage-faults.md).
  static absl::StatusOr<std::unique_ptr<SqliteStorage>> Open(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<SqliteStorage>> Open(
      const std::string& path, const Options& options);

  // BEGIN IMMEDIATE on the one connection, holding the mutex for the
  // body: readers and the group commit of RecordMessageIdAndCharge wait for
  // it. Each write of the transaction runs in a savepoint, so a write that
  // fails changes nothing.
  absl::Status ReadWriteTransaction(
      const TransactionBody& body,
      const CommitFailureHandler& on_commit_failure) override;
  using Storage::ReadWriteTransaction;

  absl::Status AddCase(const StoredCase& c) override;
  absl::Status UpdateCase(const StoredCase& c) override;
  absl::StatusOr<StoredCase> GetCase(const std::string& number) override;
  absl::StatusOr<Page<StoredCase>> ListCases(
      bool include_closed, const PageRequest& page = {}) override;
  absl::StatusOr<std::vector<OutputMatch>> FindByOutputs(
      const std::vector<Bytes>& ys) override;
  absl::Status ReplaceAllOutputs(
      const std::vector<std::pair<std::string, StoredIdentifier>>&
          case_and_identifier) override;

  // OPRF key rotation: in sqlite_staged_outputs.cc. Outputs are kept per
  // key generation (schema version 5, sqlite_schema.cc): staging writes the
  // staging generation's rows and tag set beside the current ones, and the
  // switch only flips the generation numbers (O(1) rows written).
  absl::StatusOr<Page<IdentifierKey>> ListUnstagedIdentifiers(
      const PageRequest& page) override;
  absl::Status StageOutputs(const std::vector<StagedOutput>& outputs,
                            const SettingWrites& settings) override;
  absl::StatusOr<uint64_t> CountStagedOutputs() override;
  absl::Status ClearStagedOutputs() override;
  absl::Status PromoteStagedOutputs(const SettingWrites& settings) override;
  absl::StatusOr<std::vector<Bytes>> TranslatePreviousOutputs(
      const std::vector<Bytes>& ys) override;
  absl::Status DropPreviousOutputs(const SettingWrites& settings) override;

  absl::StatusOr<uint64_t> OwnIndexVersion() override;
  absl::StatusOr<std::vector<Tag>> OwnIndexTags() override;
  absl::StatusOr<std::vector<IndexChange>> OwnIndexChangesSince(
      uint64_t since) override;
  absl::Status CompactIndexChanges(uint64_t keep_after) override;

  absl::Status SavePeerIndex(const PeerIndex& index) override;
  absl::StatusOr<PeerIndex> LoadPeerIndex(const std::string& member) override;
  absl::StatusOr<std::vector<PeerIndex>> LoadAllPeerIndexes() override;
  absl::Status AddIndexEvidence(const IndexEvidence& evidence) override;
  absl::StatusOr<std::vector<IndexEvidence>> ListIndexEvidence(
      const std::string& member) override;
  absl::Status DeletePeerIndex(const std::string& member) override;
  absl::Status AddDirectoryEvidence(const DirectoryEvidence& evidence) override;
  absl::StatusOr<std::vector<DirectoryEvidence>> ListDirectoryEvidence()
      override;

  absl::Status RecordMessageId(const std::string& sender,
                               const Bytes& message_id,
                               int64_t expires_at_ms) override;
  absl::StatusOr<int64_t> SweepMessageIds(int64_t now_ms) override;
  absl::StatusOr<uint32_t> QuotaUsed(const std::string& member,
                                     int64_t day) override;
  absl::StatusOr<uint32_t> ChargeQuota(const std::string& member, int64_t day,
                                       uint32_t count, uint32_t limit) override;
  absl::StatusOr<AdmitOutcome> RecordMessageIdAndCharge(
      const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
      const std::optional<QuotaCharge>& charge) override;

  absl::StatusOr<StoredCase> GetCaseByToken(const Bytes& token) override;
  absl::Status PutCooperation(const v1::CooperationRecord& r) override;
  absl::StatusOr<v1::CooperationRecord> GetCooperation(
      const std::string& id) override;
  absl::StatusOr<Page<v1::CooperationRecord>> ListCooperations(
      const CooperationFilter& filter, const PageRequest& page = {}) override;
  absl::Status MarkCooperationAnnounced(const std::string& id) override;

  // Retention's bounded deletes: in sqlite_retention.cc.
  absl::StatusOr<int64_t> DeleteHitsBefore(int64_t before_ms, size_t limit,
                                           const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteNotificationsBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteExpiredMessageIds(
      int64_t now_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<PurgeProgress> PurgeClosedCases(
      int64_t closed_before_ms, const PageRequest& page,
      const AfterDelete& then) override;
  absl::StatusOr<int64_t> CompactIndexChangesBounded(
      uint64_t through, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteWithdrawnReferencesBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteEndedWithdrawalsBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) override;

  absl::Status AddHit(const v1::Hit& hit) override;
  absl::StatusOr<Page<v1::Hit>> ListHits(const std::string& case_number,
                                         const PageRequest& page = {}) override;
  absl::Status AddNotification(const v1::Notification& n) override;
  absl::StatusOr<Page<v1::Notification>> ListNotifications(
      const std::string& case_number, const PageRequest& page = {}) override;
  absl::StatusOr<Page<StoredCase>> ListOfficeCases(
      const std::string& office, bool include_closed,
      const PageRequest& page) override;
  absl::StatusOr<Page<v1::Hit>> ListOfficeHits(
      const std::string& office, const std::string& case_number,
      const PageRequest& page) override;
  absl::StatusOr<Page<v1::Notification>> ListOfficeNotifications(
      const std::string& office, const std::string& case_number,
      const PageRequest& page) override;

  absl::StatusOr<std::optional<Bytes>> GetSetting(
      const std::string& key) override;
  absl::Status PutSetting(const std::string& key, const Bytes& value) override;

  // --- Beyond the Storage interface ------------------------------------------

  // Adds many cases in one transaction, all or none, with AddCase's checks
  // and codes (ALREADY_EXISTS also for a number repeated in `cases`). For
  // bulk imports and the benchmark: one sync instead of one per case.
  absl::Status AddCases(const std::vector<StoredCase>& cases);

  // Deletes the rows of OPRF key generations no longer in use (replaced
  // previous outputs, abandoned staged ones, the old own index), and index
  // changes compacted away, a batch (kGarbageBatch rows) per transaction
  // with a pause (kGarbagePause) between batches so that other calls run
  // in between. PromoteStagedOutputs, DropPreviousOutputs,
  // ClearStagedOutputs and Open call it. Each deleted output touches a
  // random page of the y index, so a batch is kept small (a few hundred
  // pages written).
  absl::Status CollectGarbage();
  static constexpr int64_t kGarbageBatch = 500;
  static constexpr std::chrono::milliseconds kGarbagePause{2};

  // The value of `PRAGMA <name>` on this connection, as text (diagnostics
  // and tests: "journal_mode", "synchronous", "foreign_keys", ...).
  // INVALID_ARGUMENT unless `name` is lower-case letters and underscores.
  absl::StatusOr<std::string> Pragma(const std::string& name);

 private:
  // Open with options.read_only: NOT_FOUND if `path` does not exist.
  static absl::StatusOr<std::unique_ptr<SqliteStorage>> OpenReadOnly(
      const std::string& path, const Options& options);
  explicit SqliteStorage(std::unique_ptr<sqlite::Database> db)
      : db_(std::move(db)) {}

  struct AdmitRequest;
  // Runs `group` in one write transaction and sets each request's result;
  // if the transaction fails, every result is that failure.
  void CommitAdmitGroup(const std::vector<AdmitRequest*>& group)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The group commit of RecordMessageIdAndCharge: calls queue here; at most
  // one of them (the leader) commits at a time, for everyone queued.
  std::mutex admit_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::condition_variable admit_cv_;
  std::vector<AdmitRequest*> admit_queue_ ABSL_GUARDED_BY(admit_mu_);
  bool admit_leader_ ABSL_GUARDED_BY(admit_mu_) = false;

  // ListCases' body, of `office`'s cases only unless it is empty.
  static absl::StatusOr<Page<StoredCase>> ListCasesIn(
      sqlite::Database& db, const std::string& office, bool include_closed,
      const PageRequest& page);

  // One batch of CollectGarbage: how many rows it deleted.
  absl::StatusOr<int64_t> CollectGarbageBatch() ABSL_LOCKS_EXCLUDED(mu_);

  std::mutex mu_;
  std::unique_ptr<sqlite::Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_SQLITE_STORAGE_H_
