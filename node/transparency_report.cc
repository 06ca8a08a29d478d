#include "node/transparency_report.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/directory/policy.h"
#include "core/report/report.h"
#include "core/report/report_signature.h"
#include "core/util/status_macros.h"

namespace cbx::node {
namespace {

// Entries read from the log per batch.
constexpr uint64_t kBatch = 4096;

absl::StatusOr<v1::AuditEntry> Parse(const std::string& leaf) {
  v1::AuditEntry entry;
  if (!entry.ParseFromString(leaf)) {
    return absl::DataLossError("audit log: an entry does not parse");
  }
  return entry;
}

}  // namespace

absl::StatusOr<int64_t> TransparencyReport::TimeOf(uint64_t index) {
  ASSIGN_OR_RETURN(std::string leaf, ctx_->audit->LeafData(index));
  ++entries_read_;
  ASSIGN_OR_RETURN(v1::AuditEntry entry, Parse(leaf));
  return entry.time_ms();
}

absl::StatusOr<uint64_t> TransparencyReport::FirstAtOrAfter(int64_t time_ms,
                                                            uint64_t size) {
  uint64_t lo = 0, hi = size;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    ASSIGN_OR_RETURN(int64_t t, TimeOf(mid));
    if (t < time_ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

absl::StatusOr<v1::SignedReport> TransparencyReport::Get(
    std::string_view month_text) {
  ASSIGN_OR_RETURN(report::Month month, report::ParseMonth(month_text));
  const int64_t now = ctx_->clock->NowMs();
  if (month.start_ms > now) {
    return absl::FailedPreconditionError("month " + month.name +
                                         " has not started");
  }
  const uint64_t size = ctx_->audit->Size();
  ASSIGN_OR_RETURN(uint64_t begin, FirstAtOrAfter(month.start_ms, size));
  ASSIGN_OR_RETURN(uint64_t end, FirstAtOrAfter(month.end_ms, size));
  end = std::max(begin, end);
  std::vector<v1::AuditEntry> entries;
  entries.reserve(end - begin);
  for (uint64_t from = begin; from < end; from += kBatch) {
    ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                     ctx_->audit->ReadEntries(from, std::min(end, from + kBatch)));
    entries_read_ += leaves.size();
    for (const std::string& leaf : leaves) {
      ASSIGN_OR_RETURN(v1::AuditEntry entry, Parse(leaf));
      entries.push_back(std::move(entry));
    }
  }
  int64_t next_time = -1;
  if (end < size) {
    ASSIGN_OR_RETURN(next_time, TimeOf(end));
  }
  const int64_t last_time = entries.empty() ? -1 : entries.back().time_ms();
  std::shared_ptr<const directory::Directory> dir =
      ctx_->directory->Current();
  report::ReportInput input{
      .member = ctx_->self(),
      .month = month,
      .min_cell = directory::ReportMinCell(dir->policy()),
      .log_begin = begin,
      .log_end = end,
      .as_of_ms = report::AsOfMs(month, last_time, next_time)};
  v1::Report computed = report::ComputeReport(input, entries);
  computed.set_signed_at_ms(now);
  ASSIGN_OR_RETURN(std::shared_ptr<const crypto::Signer> signer,
                   ctx_->signing_keys->Current());
  return report::SignReport(computed, *signer);
}

}  // namespace cbx::node
