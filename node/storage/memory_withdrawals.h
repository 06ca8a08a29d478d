// MemoryStorage's withdrawals of case references (spec/cooperation.md
// §2.4): the origin's queue and the receiver's tombstones, a value the
// storage holds under its mutex and copies before each transaction (its
// undo), with the contracts of StorageTransaction's withdrawal methods.
// Marking hits withdrawn works on the storage's hits (WithdrawHitsIn).
//
// Threading: none of its own; the owner serializes every call.
#ifndef CBX_NODE_STORAGE_MEMORY_WITHDRAWALS_H_
#define CBX_NODE_STORAGE_MEMORY_WITHDRAWALS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/storage.h"

namespace cbx::node {

class MemoryWithdrawals {
 public:
  absl::Status Queue(const QueuedWithdrawal& w);
  absl::Status Update(const QueuedWithdrawal& w);
  absl::StatusOr<QueuedWithdrawal> Get(const Bytes& token,
                                       const std::string& member) const;
  std::vector<QueuedWithdrawal> Due(int64_t now_ms, size_t limit) const;
  std::vector<QueuedWithdrawal> List() const;
  absl::StatusOr<WithdrawnReference> GetReference(const std::string& member,
                                                  const Bytes& token) const;
  absl::Status PutReference(const WithdrawnReference& w);
  std::vector<WithdrawnReference> ReferencesDue(int64_t now_ms,
                                                size_t limit) const;
  // Storage::DeleteWithdrawnReferencesBefore and DeleteEndedWithdrawals
  // Before (limit >= 1, checked by the caller): the rows erased.
  int64_t DeleteReferencesBefore(int64_t before_ms, size_t limit);
  int64_t DeleteEndedBefore(int64_t before_ms, size_t limit);

 private:
  // Keyed (case token, member) and (member, case token), as the tables.
  std::map<std::pair<Bytes, std::string>, QueuedWithdrawal> queued_;
  std::map<std::pair<std::string, Bytes>, WithdrawnReference> references_;
};

// StorageTransaction::WithdrawHits over `hits`.
int64_t WithdrawHitsIn(std::vector<v1::Hit>& hits, const std::string& member,
                       const Bytes& case_token, int64_t withdrawn_at_ms,
                       v1::WithdrawalReason reason, bool delete_reference);
// StorageTransaction::MembersNotifiedOf over `notifications`.
std::vector<std::string> MembersNotifiedOfIn(
    const std::vector<v1::Notification>& notifications,
    const std::string& case_number);

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_MEMORY_WITHDRAWALS_H_
