// The node's own cases (spec/office-api.md §3): what a prosecutor's office
// adds, amends, closes and lists, and what the node publishes of them in
// its own tag index.
//
// CaseBook validates an office's case, prepares its identifiers (normalize,
// OPRF-evaluate under the node's key, drop repeats) and writes it. Every
// change follows LOG BEFORE EFFECT (spec/audit-log.md §2.10): the write
// and the call's audit entry happen in one storage transaction, the append
// last; the change commits only once its entry is durable, and an append
// that fails rolls it back. A change is therefore never visible — to
// ListCases, to peers' index sync, to Resolve — before its entry.
//
// Threading: thread-safe, and holds no lock of its own. The
// read-modify-write of Amend and Close runs inside the storage's
// transaction (Storage::ReadWriteTransaction), which serializes it against
// every other write; preparing identifiers (the OPRF evaluations) happens
// before, outside it.
#ifndef CBX_NODE_CASES_H_
#define CBX_NODE_CASES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "core/crypto/voprf.h"
#include "core/util/clock.h"
#include "node/audit_trail.h"
#include "node/oprf_keys.h"
#include "node/storage/storage.h"

namespace cbx::node {

// What an office may store in one case (spec/office-api.md §3): more is
// refused with INVALID_ARGUMENT naming the field, and nothing is stored.
inline constexpr int kMaxCaseIdentifiers = 1024;  // also per Amend list
inline constexpr int kMaxCaseOffences = 32;
inline constexpr size_t kMaxFreeTextBytes = 512;  // contact_point

// One page of ListCases.
struct CaseList {
  std::vector<v1::Case> cases;
  std::string next_page_token;  // empty on the last page
};

class CaseBook {
 public:
  // `self` is this member's code (for the event log). `storage`,
  // `oprf_key`, `trail`, `clock` and `oprf_keys` must outlive the book.
  // With `oprf_keys` (a node that rotates its OPRF key, spec/oprf.md §2)
  // identifiers are evaluated under its current key, held until the change
  // commits (OprfKeys::WithCurrent), and `oprf_key` is unused.
  CaseBook(std::string self, Storage* storage,
           const crypto::OprfServerKey* oprf_key, AuditTrail* trail,
           const Clock* clock, const OprfKeys* oprf_keys = nullptr);

  // Office.AddCase for `office` (its full name, "MK/PPO-Skopje"): checks
  // `in` (case number, identifiers, offences, contact point, role, opened
  // month: INVALID_ARGUMENT naming the field), evaluates its identifiers
  // (repeats of one type and normalized value kept once), and stores it
  // open with a fresh case token, stamped with the clock. Returns the
  // stored record. ALREADY_EXISTS if the case number is taken.
  //
  // Every call, refused or not, leaves one LOCAL "Office.AddCase" audit
  // entry with its outcome; if that entry cannot be appended, nothing is
  // stored and the result is AuditFailure's (UNAVAILABLE, or DATA_LOSS
  // for a damaged log). If the storage commit fails after the entry, a
  // "not_applied" entry voids it (spec/audit-log.md §2.10) and the commit's
  // failure is returned. Each entry's user is `person`, the caller's staff
  // identifier (spec/cooperation.md §5; empty: none); so for Amend and
  // Close.
  absl::StatusOr<v1::Case> Add(const std::string& office, const v1::Case& in,
                               const std::string& person = "");

  // Office.AmendCase: removes `remove_identifiers` (NOT_FOUND for one the
  // case does not have), adds `add_identifiers` (ones already present are
  // kept once), and replaces offences, role and contact point when given.
  // NOT_FOUND for no such case, PERMISSION_DENIED for another office's
  // case, FAILED_PRECONDITION for a closed case or one that would be left
  // without identifiers; INVALID_ARGUMENT for a malformed field. Audit and
  // log before effect as Add ("Office.AmendCase").
  absl::StatusOr<v1::Case> Amend(const std::string& office,
                                 const v1::AmendCaseRequest& request,
                                 const std::string& person = "");

  // Office.CloseCase: marks the case closed, which takes its tags out of
  // the own index (unless another open case has them). Errors as Amend's
  // for the case; audit as Add ("Office.CloseCase").
  absl::StatusOr<v1::Case> Close(const std::string& office,
                                 const std::string& case_number,
                                 const std::string& person = "");
  // What else a close writes, in the storage transaction that closes the
  // case (after its record is rewritten, before its audit entry): the
  // withdrawals queued for its reference's holders (node/withdrawal.h).
  // An error refuses the close. Set while the node is wired.
  using CloseHook = std::function<absl::Status(StorageTransaction& txn,
                                               const v1::Case& closed)>;
  void set_close_hook(CloseHook hook) { close_hook_ = std::move(hook); }

  // Office.ListCases' page: cases by number, closed ones only if asked,
  // `page_size` of them (0: the default). INVALID_ARGUMENT for a token not
  // given for this listing and filter. Reads only: no audit entry (the
  // caller logs the call).
  absl::StatusOr<CaseList> List(bool include_closed, uint32_t page_size,
                                const std::string& page_token);

  // The stored record of one case. NOT_FOUND if there is none.
  absl::StatusOr<v1::Case> Get(const std::string& case_number);

 private:
  // The audit entry of one office call.
  struct Call {
    std::string_view rpc;
    std::string_view kind;
    const std::string& office;
    AuditCounts counts;
    std::string person;  // AuditEntry.user
  };
  using Change = std::function<absl::Status(StorageTransaction&)>;
  using Key = crypto::OprfServerKey;

  // Runs `f` with the key identifiers are evaluated under, held until `f`
  // returns (see the constructor).
  absl::Status WithKey(const std::function<absl::Status(const Key&)>& f) const;
  // Add and Amend under `key`.
  absl::StatusOr<v1::Case> AddWith(const Key& key, const std::string& office,
                                   const v1::Case& in,
                                   const std::string& person);
  absl::StatusOr<v1::Case> AmendWith(const Key& key, const std::string& office,
                                     const v1::AmendCaseRequest& request,
                                     const std::string& person);

  // Normalizes and evaluates `id` into a stored identifier; `field` names
  // it in an INVALID_ARGUMENT.
  // An AmendCaseRequest's checks that need no stored state, with the
  // additions evaluated and the removals normalized; INVALID_ARGUMENT naming
  // the field. Run before the transaction, which holds the write lock.
  absl::Status CheckAmend(
      const Key& key, const v1::AmendCaseRequest& request,
      std::vector<StoredIdentifier>& additions,
      std::vector<std::pair<v1::IdentifierType, std::string>>& removals) const;
  absl::StatusOr<StoredIdentifier> Prepare(const Key& key,
                                           const v1::Identifier& id,
                                           const std::string& field) const;
  // Add's checks and the record to store.
  absl::StatusOr<StoredCase> NewCase(const Key& key, const std::string& office,
                                     const v1::Case& in) const;
  // Runs `change` and appends `call`'s OK entry in one transaction (log
  // before effect, node/log_before_effect.h); logs a refusal `change`
  // returned, or voids the entry after a failed commit.
  absl::Status Commit(const Call& call, const Change& change);
  // Reads `number` for `office`'s change inside `txn`, applies `edit`,
  // restamps and writes it back; `*out` is the new record.
  absl::Status Rewrite(StorageTransaction& txn, const std::string& office,
                       const std::string& number,
                       const std::function<absl::Status(StoredCase&)>& edit,
                       v1::Case* out) const;
  // Appends `call`'s entry with `status`'s code and returns `status`, or
  // AuditFailure if the append fails.
  absl::Status Logged(const Call& call, const absl::Status& status);

  std::string self_;
  Storage* storage_;
  const crypto::OprfServerKey* oprf_key_;
  AuditTrail* trail_;
  const Clock* clock_;
  const OprfKeys* oprf_keys_;
  CloseHook close_hook_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CASES_H_
