// Storage in one PostgreSQL schema (issue 15): node.db for an operator who
// runs PostgreSQL already and wants the node's state on it (its backups,
// its replicas). Behaves as SqliteStorage does: the same conformance suites
// run on both (node/storage/testing/storage_backends.h).
#ifndef CBX_NODE_STORAGE_PG_PG_STORAGE_H_
#define CBX_NODE_STORAGE_PG_PG_STORAGE_H_

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
#include "node/storage/pg/pg_db.h"
#include "node/storage/storage.h"

namespace cbx::node {

// The Storage contract on the tables of pg_schema.cc, in one schema: a
// method that returns OK has committed its transaction (durable with the
// server's synchronous_commit, which pg::Connection never lowers); a method
// that fails has rolled it back. Every value a method writes travels as a
// binary parameter (pg_db.h), never in SQL text; a conninfo's password
// never appears in a message (pg::Redacted).
//
// Transactions: a write is one READ COMMITTED transaction. That is enough
// because the node is its schema's only writer and all of its calls run one
// at a time on one connection, so no other transaction can change what a
// read-decide-write (a quota charge, an own index count) read before it
// writes; SERIALIZABLE would only add failures to retry. Inside
// ReadWriteTransaction each write runs in a SAVEPOINT, so that a refused
// write undoes only itself, as in SQLite. A lost connection fails the call
// in flight (UNAVAILABLE) and is reconnected by the next one; a COMMIT
// whose answer was lost is UNAVAILABLE (its outcome is unknown).
//
// Threading: one connection, guarded by one mutex, so every method is safe
// from any thread and methods run one at a time, as in SqliteStorage. A
// pool of connections (reads beside the writer) is later work.
class PgStorage final : public Storage {
 public:
  struct Options {
    // The schema holding node.db's tables (a plain lower-case name), made
    // if missing.
    std::string schema = "cbx_node";
    // Open an existing node.db without writing anything (cbx-node
    // --check): no schema or table is made (NOT_FOUND if there is none,
    // FAILED_PRECONDITION if they are of another version), and every
    // transaction is read-only
    // on the server, so a write fails.
    bool read_only = false;
  };

  // Connects with `conninfo` (a libpq conninfo or URI) and brings the
  // schema's tables to the current version. INVALID_ARGUMENT for a schema
  // name that is not plain, UNAVAILABLE if the server cannot be reached,
  // FAILED_PRECONDITION if a newer cbx-node wrote the schema or it holds
  // tables of something else.
  static absl::StatusOr<std::unique_ptr<PgStorage>> Open(
      const std::string& conninfo, const Options& options);

  // One PostgreSQL transaction on the one connection, holding the mutex
  // for the body. The body is not run again on a serialization failure or
  // a deadlock (it may have done things outside storage, such as an audit
  // append): the call returns ABORTED and the caller decides. A COMMIT
  // whose answer was lost is resolved by asking the server (pg_connection.h):
  // OK if it committed, UNAVAILABLE if it rolled back, and UNKNOWN if that
  // cannot be told, when the writes may be there: on_commit_failure is
  // called with UNKNOWN too and must not assume nothing changed
  // (log_before_effect.h).
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

  // OPRF key rotation: in pg_staged_outputs.cc. Outputs are kept per
  // key generation (as in SQLite's schema version 5): staging writes the
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

  // Retention's bounded deletes: in pg_retention.cc.
  absl::StatusOr<int64_t> DeleteHitsBefore(int64_t before_ms, size_t limit,
                                           const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteNotificationsBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteWithdrawnReferencesBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteEndedWithdrawalsBefore(
      int64_t before_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<int64_t> DeleteExpiredMessageIds(
      int64_t now_ms, size_t limit, const AfterDelete& then) override;
  absl::StatusOr<PurgeProgress> PurgeClosedCases(
      int64_t closed_before_ms, const PageRequest& page,
      const AfterDelete& then) override;
  absl::StatusOr<int64_t> CompactIndexChangesBounded(
      uint64_t through, size_t limit, const AfterDelete& then) override;

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

 private:
  explicit PgStorage(std::unique_ptr<pgsql::Database> db)
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
  static absl::StatusOr<Page<StoredCase>> ListCasesIn(pgsql::Database& db,
                                                      const std::string& office,
                                                      bool include_closed,
                                                      const PageRequest& page);

  // One batch of CollectGarbage: how many rows it deleted.
  absl::StatusOr<int64_t> CollectGarbageBatch() ABSL_LOCKS_EXCLUDED(mu_);

  std::mutex mu_;
  std::unique_ptr<pgsql::Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_PG_PG_STORAGE_H_
