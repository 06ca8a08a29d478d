// Storage in memory, for unit tests of node logic: the same contract as
// SqliteStorage (the conformance suite runs against both) without a file.
// Nothing survives the object.
#ifndef CBX_NODE_STORAGE_MEMORY_STORAGE_H_
#define CBX_NODE_STORAGE_MEMORY_STORAGE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/memory_watches.h"
#include "node/storage/memory_withdrawals.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Threading: every method takes one mutex, so all are safe from any thread
// and run one at a time. Each method checks everything before it changes
// anything, so a failing method changes nothing. FindByOutputs scans every
// identifier (fine for tests; SqliteStorage has an index).
//
// ReadWriteTransaction holds the mutex for the whole body and copies the
// state its transactions can write (cases, own index, hits,
// notifications, settings) first; a body that fails, or a commit that a
// test made fail (FailNextCommit), restores that copy. O(state) per
// transaction: a test backend.
class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;

  absl::Status ReadWriteTransaction(
      const TransactionBody& body,
      const CommitFailureHandler& on_commit_failure) override;
  using Storage::ReadWriteTransaction;

  // For tests: the next ReadWriteTransaction whose body returns OK fails to
  // commit with `failure` (nothing it wrote stays), as a disk error at
  // commit would. A retention delete (DeleteHitsBefore, ...) also counts as
  // a transaction here: if it comes first, it fails and deletes nothing.
  void FailNextCommit(absl::Status failure);

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

  // Retention's bounded deletes: in memory_retention.cc.
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

  // Cooperation: in memory_cooperation.cc.
  absl::StatusOr<StoredCase> GetCaseByToken(const Bytes& token) override;
  absl::Status PutCooperation(const v1::CooperationRecord& r) override;
  absl::StatusOr<v1::CooperationRecord> GetCooperation(
      const std::string& id) override;
  absl::StatusOr<Page<v1::CooperationRecord>> ListCooperations(
      const CooperationFilter& filter, const PageRequest& page = {}) override;
  absl::Status MarkCooperationAnnounced(const std::string& id) override;

 private:
  class Txn;
  // What a transaction can change, copied before its body runs.
  struct Undo;

  absl::Status AddCaseLocked(const StoredCase& c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UpdateCaseLocked(const StoredCase& c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<StoredCase> GetCaseLocked(const std::string& number)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<OutputMatch> FindByOutputsLocked(const std::vector<Bytes>& ys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Applies reference count changes to the own index and records the tags
  // that enter or leave the set.
  void ApplyTagDeltasLocked(const std::vector<std::pair<Tag, int64_t>>& deltas)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<StoredCase> GetCaseByTokenLocked(const Bytes& token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PutCooperationLocked(const v1::CooperationRecord& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::CooperationRecord> GetCooperationLocked(
      const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<uint32_t> ChargeQuotaLocked(const std::string& member,
                                             int64_t day, uint32_t count,
                                             uint32_t limit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Whether case `number` exists and is `office`'s.
  bool IsOfficeCaseLocked(const std::string& office,
                          const std::string& number) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::mutex mu_;
  std::map<std::string, StoredCase> cases_ ABSL_GUARDED_BY(mu_);
  // Tag -> number of identifiers of open cases with that tag (> 0).
  std::map<Tag, int64_t> own_refs_ ABSL_GUARDED_BY(mu_);
  std::vector<IndexChange> changes_ ABSL_GUARDED_BY(mu_);  // ascending
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t compacted_through_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, PeerIndex> peers_ ABSL_GUARDED_BY(mu_);
  std::vector<IndexEvidence> evidence_ ABSL_GUARDED_BY(mu_);  // oldest first
  std::vector<DirectoryEvidence> directory_evidence_ ABSL_GUARDED_BY(mu_);
  // (sender, message id) -> expires_at_ms.
  std::map<std::pair<std::string, Bytes>, int64_t> replay_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int64_t>, uint32_t> quotas_
      ABSL_GUARDED_BY(mu_);
  std::vector<v1::Hit> hits_ ABSL_GUARDED_BY(mu_);  // in insertion order
  std::vector<v1::Notification> notifications_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Bytes> settings_ ABSL_GUARDED_BY(mu_);
  // Cooperation records in insertion order, each with its announced mark.
  struct CooperationRow {
    v1::CooperationRecord record;
    bool announced = false;
  };
  std::vector<CooperationRow> cooperations_ ABSL_GUARDED_BY(mu_);
  MemoryWatches watches_ ABSL_GUARDED_BY(mu_);
  MemoryWithdrawals withdrawals_ ABSL_GUARDED_BY(mu_);
  // OPRF key rotation: (type, normalized value) -> staged output, and a
  // previous output -> its identifier value.
  using ValueKey = std::pair<int64_t, std::string>;
  std::map<ValueKey, StagedOutput> staged_ ABSL_GUARDED_BY(mu_);
  std::map<Bytes, ValueKey> previous_ ABSL_GUARDED_BY(mu_);
  absl::Status next_commit_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_MEMORY_STORAGE_H_
