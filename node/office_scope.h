// Offices see their own (spec/cooperation.md §6, spec/office-api.md §2.1):
// what one office may list of the node's cases, hits and inbox, and the
// operator's counts per office. Cooperation requests and watches are
// scoped by their own modules (node/cooperation.h, node/watches.h), which
// this only counts.
//
// A hit or an inbox notification belongs to the office whose case its
// case_number names (the office that made the query or watch, or owns the
// matched case); one whose case was purged belongs to no office.
//
// Threading: thread-safe; holds no state beyond the storage and clock,
// which must outlive it.
#ifndef CBX_NODE_OFFICE_SCOPE_H_
#define CBX_NODE_OFFICE_SCOPE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "core/util/clock.h"
#include "node/cases.h"
#include "node/storage/storage.h"

namespace cbx::node {

class OfficeScope {
 public:
  OfficeScope(Storage* storage, const Clock* clock)
      : storage_(storage), clock_(clock) {}

  // Office.ListCases for `office` ("MK/PPO-Skopje"): its cases only, as
  // CaseBook::List pages them. INVALID_ARGUMENT for a foreign token.
  absl::StatusOr<CaseList> ListCases(const std::string& office,
                                     bool include_closed, uint32_t page_size,
                                     const std::string& page_token) const;

  // Office.ListHits for `office`: the hits of its cases. With a
  // case_number, PERMISSION_DENIED if that case is another office's (S1);
  // a number this node does not hold lists nothing. INVALID_ARGUMENT for a
  // foreign token.
  absl::StatusOr<v1::ListHitsResponse> ListHits(
      const std::string& office, const v1::ListHitsRequest& request) const;

  // Office.ListInbox for `office`: the notifications of its cases; errors
  // as ListHits'.
  absl::StatusOr<v1::ListInboxResponse> ListInbox(
      const std::string& office, const v1::ListInboxRequest& request) const;

  // Office.GetCounts: per office that holds anything, by name, how many
  // cases (open, closed), hits, notifications, cooperation requests (sent,
  // received, overdue now) and watches — numbers, never contents. Reads
  // every row once (an operator's occasional call); a storage failure's
  // status.
  absl::StatusOr<v1::GetCountsResponse> Counts() const;

 private:
  // OK if `case_number` is empty, unknown, or `office`'s;
  // PERMISSION_DENIED (S1) if it is another office's.
  absl::Status CheckCaseFilter(const std::string& office,
                               const std::string& case_number) const;

  Storage* storage_;
  const Clock* clock_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_OFFICE_SCOPE_H_
