#include "node/office_scope.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/page_token.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

// Calls `each` for every item of a listing, page by page.
template <typename T, typename List, typename Each>
absl::Status ForEach(const List& list, const Each& each) {
  PageRequest page{.after = "", .limit = kMaxPageSize};
  while (true) {
    ASSIGN_OR_RETURN(Page<T> got, list(page));
    for (const T& item : got.items) each(item);
    if (got.next.empty()) return absl::OkStatus();
    page.after = std::move(got.next);
  }
}

}  // namespace

absl::StatusOr<CaseList> OfficeScope::ListCases(
    const std::string& office, bool include_closed, uint32_t page_size,
    const std::string& page_token) const {
  const std::string filter = include_closed ? "closed" : "open";
  ASSIGN_OR_RETURN(PageRequest page,
                   ReadPage("ListCases", filter, page_size, page_token));
  ASSIGN_OR_RETURN(Page<StoredCase> stored,
                   storage_->ListOfficeCases(office, include_closed, page));
  CaseList out;
  out.cases.reserve(stored.items.size());
  for (StoredCase& c : stored.items) out.cases.push_back(std::move(c.record));
  out.next_page_token = PageToken("ListCases", filter, stored.next);
  return out;
}

absl::Status OfficeScope::CheckCaseFilter(
    const std::string& office, const std::string& case_number) const {
  if (case_number.empty()) return absl::OkStatus();
  absl::StatusOr<StoredCase> c = storage_->GetCase(case_number);
  if (absl::IsNotFound(c.status())) return absl::OkStatus();
  RETURN_IF_ERROR(c.status());
  if (c->record.office() != office) {
    return absl::PermissionDeniedError(absl::StrCat(
        "case ", case_number, " is not a case of office ", office));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListHitsResponse> OfficeScope::ListHits(
    const std::string& office, const v1::ListHitsRequest& request) const {
  RETURN_IF_ERROR(CheckCaseFilter(office, request.case_number()));
  ASSIGN_OR_RETURN(PageRequest page,
                   ReadPage("ListHits", request.case_number(),
                            request.page_size(), request.page_token()));
  ASSIGN_OR_RETURN(
      Page<v1::Hit> hits,
      storage_->ListOfficeHits(office, request.case_number(), page));
  v1::ListHitsResponse out;
  for (v1::Hit& h : hits.items) *out.add_hits() = std::move(h);
  out.set_next_page_token(
      PageToken("ListHits", request.case_number(), hits.next));
  return out;
}

absl::StatusOr<v1::ListInboxResponse> OfficeScope::ListInbox(
    const std::string& office, const v1::ListInboxRequest& request) const {
  RETURN_IF_ERROR(CheckCaseFilter(office, request.case_number()));
  ASSIGN_OR_RETURN(PageRequest page,
                   ReadPage("ListInbox", request.case_number(),
                            request.page_size(), request.page_token()));
  ASSIGN_OR_RETURN(
      Page<v1::Notification> notes,
      storage_->ListOfficeNotifications(office, request.case_number(), page));
  v1::ListInboxResponse out;
  for (v1::Notification& n : notes.items) {
    *out.add_notifications() = std::move(n);
  }
  out.set_next_page_token(
      PageToken("ListInbox", request.case_number(), notes.next));
  return out;
}

absl::StatusOr<v1::GetCountsResponse> OfficeScope::Counts() const {
  const int64_t now_ms = clock_->NowMs();
  std::map<std::string, v1::OfficeCounts> by_office;
  auto of = [&](const std::string& office) -> v1::OfficeCounts& {
    v1::OfficeCounts& c = by_office[office];
    c.set_office(office);
    return c;
  };
  std::map<std::string, std::string> case_office;  // case number -> office
  RETURN_IF_ERROR(ForEach<StoredCase>(
      [&](const PageRequest& p) { return storage_->ListCases(true, p); },
      [&](const StoredCase& c) {
        v1::OfficeCounts& n = of(c.record.office());
        if (IsOpen(c.record)) {
          n.set_cases_open(n.cases_open() + 1);
        } else {
          n.set_cases_closed(n.cases_closed() + 1);
        }
        case_office[c.record.case_number()] = c.record.office();
      }));
  // Hits and notifications of a purged case belong to no office: not
  // counted.
  auto owner = [&](const std::string& number) -> v1::OfficeCounts* {
    auto it = case_office.find(number);
    return it == case_office.end() ? nullptr : &of(it->second);
  };
  RETURN_IF_ERROR(ForEach<v1::Hit>(
      [&](const PageRequest& p) { return storage_->ListHits("", p); },
      [&](const v1::Hit& h) {
        if (v1::OfficeCounts* n = owner(h.case_number())) {
          n->set_hits(n->hits() + 1);
        }
      }));
  RETURN_IF_ERROR(ForEach<v1::Notification>(
      [&](const PageRequest& p) { return storage_->ListNotifications("", p); },
      [&](const v1::Notification& x) {
        if (v1::OfficeCounts* n = owner(x.case_number())) {
          n->set_inbox(n->inbox() + 1);
        }
      }));
  RETURN_IF_ERROR(ForEach<v1::CooperationRecord>(
      [&](const PageRequest& p) {
        return storage_->ListCooperations(CooperationFilter{}, p);
      },
      [&](const v1::CooperationRecord& r) {
        v1::OfficeCounts& n = of(r.office());
        if (r.direction() == v1::COOPERATION_DIRECTION_SENT) {
          n.set_requests_sent(n.requests_sent() + 1);
        } else {
          n.set_requests_received(n.requests_received() + 1);
        }
        if (CooperationOverdueAt(r, now_ms)) {
          n.set_requests_overdue(n.requests_overdue() + 1);
        }
      }));
  ASSIGN_OR_RETURN(std::vector<v1::Watch> watches, storage_->ListWatches(""));
  for (const v1::Watch& w : watches) {
    v1::OfficeCounts& n = of(w.office());
    n.set_watches(n.watches() + 1);
  }
  v1::GetCountsResponse out;
  out.set_counted_at_ms(now_ms);
  for (auto& [name, counts] : by_office) {
    *out.add_offices() = std::move(counts);
  }
  return out;
}

}  // namespace cbx::node
