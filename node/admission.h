// The storage side of envelope admission (spec/envelope.md checks 6 and
// 7): the replay cache and the per-peer evaluation quota, kept in the
// node's Storage so that they survive a restart.
//
// Threading: both classes are thin, stateless adapters over Storage (which
// is thread-safe); one is made per request, on the request's thread.
#ifndef CBX_NODE_ADMISSION_H_
#define CBX_NODE_ADMISSION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "cbx/v1/message.pb.h"
#include "core/envelope/envelope.h"
#include "core/envelope/replay_cache.h"
#include "core/util/clock.h"
#include "node/storage/storage.h"

namespace cbx::node {

// The largest purpose strings a query may state and a peer request may
// carry (spec/lookup.md §2, "Purpose bounds"), in bytes of UTF-8.
inline constexpr size_t kMaxCaseNumberBytes = 64;
inline constexpr size_t kMaxLegalBasisBytes = 256;

// True if `office` is an office name of member `member`: "<member>/<name>",
// name 1 to 64 of A-Z a-z 0-9 . _ - (spec/office-api.md §2).
bool IsOfficeOf(std::string_view office, std::string_view member);

// INVALID_ARGUMENT naming `field` unless `text` is at most `max` bytes of
// valid UTF-8 without control characters (C0, DEL, C1): one line. The
// purpose's rule, also used by cooperation messages (node/cooperation.h).
absl::Status CheckOneLineText(const std::string& field, const std::string& text,
                              size_t max);

// Checks the purpose's strings: each at most its maximum, valid UTF-8,
// without control characters (C0, DEL, C1). INVALID_ARGUMENT naming the
// field ("purpose.legal_basis: ..."). An empty string passes: whether one
// is required is the caller's rule (the querier requires both).
absl::Status CheckPurposeText(const v1::Purpose& purpose);

// A peer request's purpose (spec/lookup.md §2, "Purpose"): case_number and
// legal_basis are required, offence is a known code other than
// OFFENCE_CODE_UNSPECIFIED, and the text passes CheckPurposeText.
// INVALID_ARGUMENT naming the field ("purpose.case_number is required").
absl::Status CheckPurpose(const v1::Purpose& purpose);

// What the seven envelope checks leave to the receiver of an admitted peer
// request (spec/lookup.md §3 and §4, "The sender's office and purpose"):
// `header.office` is empty or names an office of the sender
// ("RS/PPO-Belgrade", never "MK/..."), and the purpose of an evaluate or
// resolve request passes CheckPurpose (a request without one is refused).
// INVALID_ARGUMENT naming the field. Called once per request, where every
// peer request passes (PeerService::Admit).
absl::Status CheckPeerRequest(const v1::Message& message);

// Check 7's quota: blinded elements per peer per UTC day, from the policy.
class StorageQuotaGate final : public envelope::QuotaGate {
 public:
  // `storage` and `clock` must outlive the gate.
  StorageQuotaGate(Storage* storage, const Clock* clock, uint32_t limit)
      : storage_(storage), clock_(clock), limit_(limit) {}
  // The receiver's stateless checks of a request (spec/lookup.md §3: they
  // come before the charge): a message `precheck` refuses is not charged
  // (ChargeFor gives nullopt) and is left for the receiver to refuse, so a
  // refused batch never spends quota. Call before the gate is used.
  void set_precheck(std::function<absl::Status(const v1::Message&)> precheck) {
    precheck_ = std::move(precheck);
  }
  // Charges `message`'s blinded elements to `sender` for today (UTC); OK
  // for a message this quota does not count; RESOURCE_EXHAUSTED (nothing
  // charged) past the limit; a storage failure as is.
  absl::Status Charge(const std::string& sender,
                      const v1::Message& message) override;

  // What Charge would charge for `message` now, for a caller that charges
  // it together with the replay record (StorageReplayCache); nullopt for a
  // message this quota does not count or the precheck refuses.
  std::optional<Storage::QuotaCharge> ChargeFor(
      const v1::Message& message) const;
  // The refusal of a charge of `count` that would exceed the quota.
  absl::Status Exhausted(const std::string& sender, uint32_t count) const;

 private:
  Storage* storage_;
  const Clock* clock_;
  uint32_t limit_;
  std::function<absl::Status(const v1::Message&)> precheck_;
};

// The replay cache of envelope check 6, kept in storage so it survives a
// restart. Given the request's quota gate, it makes check 6's record and
// check 7b's charge durable in one storage write
// (Storage::RecordMessageIdAndCharge), which concurrent requests share: one
// sync per group of accepted envelopes instead of two per envelope.
class StorageReplayCache final : public envelope::ReplayCache {
 public:
  // `storage` (and `quota`, if given) must outlive the cache.
  explicit StorageReplayCache(Storage* storage,
                              const StorageQuotaGate* quota = nullptr)
      : storage_(storage), quota_(quota) {}
  // ALREADY_EXISTS if (sender, message_id) is recorded; else records it.
  absl::Status CheckAndRecord(const std::string& sender,
                              const Bytes& message_id,
                              int64_t expires_at_ms) override;
  // One write if `quota` is the gate this cache was made with; any other
  // gate is charged separately, after the record (the default).
  envelope::ReplayAndQuota CheckRecordAndCharge(
      const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
      const v1::Message& message, envelope::QuotaGate* quota) override;

 private:
  Storage* storage_;
  const StorageQuotaGate* quota_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_ADMISSION_H_
