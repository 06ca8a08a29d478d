#include "node/retention.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/log.h"
#include "node/log_before_effect.h"

namespace cbx::node {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int kClosedCases = 0;
constexpr int kReceivedReferences = 1;
constexpr int kInboxEntries = 2;
constexpr int kReplayEntries = 3;
constexpr int kIndexChanges = 4;
constexpr int kWithdrawnReferences = 5;
constexpr int kWithdrawals = 6;
// Marks kept at most (an hourly sweep with a 30-day horizon keeps 720).
// With more, the oldest go: compaction then waits for a newer mark to pass
// the horizon, which is later, never sooner.
constexpr size_t kMaxIndexMarks = 4096;

uint64_t Get(const v1::RetentionCounts& c, int category) {
  switch (category) {
    case kClosedCases:
      return c.closed_cases();
    case kReceivedReferences:
      return c.received_references();
    case kInboxEntries:
      return c.inbox_entries();
    case kReplayEntries:
      return c.replay_entries();
    case kIndexChanges:
      return c.index_changes();
    case kWithdrawnReferences:
      return c.withdrawn_references();
    default:
      return c.withdrawals();
  }
}

bool Empty(const v1::RetentionCounts& c) {
  for (int i = 0; i <= kWithdrawals; ++i) {
    if (Get(c, i) != 0) return false;
  }
  return true;
}

// A mark: the own index's version at a sweep's time. Stored as 16 bytes
// each, big-endian (time_ms, version), oldest first.
struct Mark {
  int64_t time_ms = 0;
  uint64_t version = 0;
};

void PutBigEndian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

absl::StatusOr<std::vector<Mark>> ParseMarks(const std::string& bytes) {
  if (bytes.size() % 16 != 0) {
    return absl::DataLossError(absl::StrCat(
        "the setting ", kRetentionIndexMarksSetting, " is damaged"));
  }
  std::vector<Mark> marks;
  for (size_t i = 0; i < bytes.size(); i += 16) {
    marks.push_back(Mark{static_cast<int64_t>(ReadBigEndian(&bytes[i])),
                         ReadBigEndian(&bytes[i + 8])});
  }
  return marks;
}

std::string SerializeMarks(const std::vector<Mark>& marks) {
  std::string out;
  for (const Mark& m : marks) {
    PutBigEndian(out, static_cast<uint64_t>(m.time_ms));
    PutBigEndian(out, m.version);
  }
  return out;
}

}  // namespace

Retention::Retention(std::string self, Storage* storage, AuditTrail* trail,
                     const Clock* clock, const RetentionConfig& config,
                     MetricsRegistry* metrics)
    : self_(std::move(self)),
      storage_(storage),
      trail_(trail),
      clock_(clock),
      config_(config) {
  if (metrics == nullptr) return;
  deleted_ = &metrics->Counter(
      "cbx_retention_deleted_total",
      "Rows the retention sweep deleted, by category (closed_cases: closed "
      "cases stripped of their identifiers).",
      {"category"});
  for (const char* category : kRetentionCategories) {
    deleted_->With({category});  // shown at 0 before the first deletion
  }
  last_sweep_gauge_ = &metrics->Gauge(
      "cbx_retention_last_sweep_timestamp_seconds",
      "Unix time when the last retention sweep finished without error; 0 "
      "before the first.");
  last_sweep_gauge_->With({});
}

void Retention::Add(v1::RetentionCounts& c, int category, int64_t n) {
  const uint64_t by = static_cast<uint64_t>(n);
  switch (category) {
    case kClosedCases:
      c.set_closed_cases(c.closed_cases() + by);
      break;
    case kReceivedReferences:
      c.set_received_references(c.received_references() + by);
      break;
    case kInboxEntries:
      c.set_inbox_entries(c.inbox_entries() + by);
      break;
    case kReplayEntries:
      c.set_replay_entries(c.replay_entries() + by);
      break;
    case kIndexChanges:
      c.set_index_changes(c.index_changes() + by);
      break;
    case kWithdrawnReferences:
      c.set_withdrawn_references(c.withdrawn_references() + by);
      break;
    default:
      c.set_withdrawals(c.withdrawals() + by);
  }
}

absl::Status Retention::Drain(int category, const Batch& batch) {
  bool more = true;
  while (more && !stop_.load()) {
    // The kept counts as they will be if this batch commits; written in
    // its transaction.
    auto then = [&](int64_t n) {
      v1::RetentionCounts next = pending_;
      Add(next, category, n);
      return SettingWrites{
          {kRetentionPendingSetting, next.SerializeAsString()}};
    };
    ASSIGN_OR_RETURN(BatchResult r, batch(then));
    Add(pending_, category, r.deleted);
    Add(swept_, category, r.deleted);
    if (deleted_ != nullptr && r.deleted > 0) {
      deleted_->With({kRetentionCategories[category]})
          .Increment(static_cast<double>(r.deleted));
    }
    more = r.more;
  }
  return absl::OkStatus();
}

Retention::Batch Retention::Rows(
    std::function<absl::StatusOr<int64_t>(const Storage::AfterDelete&)> remove)
    const {
  const int64_t limit = config_.batch_size;
  return [remove = std::move(remove), limit](
             const Storage::AfterDelete& then) -> absl::StatusOr<BatchResult> {
    ASSIGN_OR_RETURN(int64_t n, remove(then));
    return BatchResult{n, n >= limit};
  };
}

absl::StatusOr<uint64_t> Retention::IndexHorizon(int64_t now_ms,
                                                 uint64_t version) {
  ASSIGN_OR_RETURN(std::optional<Bytes> stored,
                   storage_->GetSetting(kRetentionIndexMarksSetting));
  std::vector<Mark> marks;
  if (stored.has_value()) {
    ASSIGN_OR_RETURN(marks, ParseMarks(*stored));
  }
  const int64_t horizon = now_ms - config_.index_change_log_days * kDayMs;
  uint64_t through = 0;
  // Marks older than the horizon: the newest one's version may go (its
  // changes are all older still); the marks themselves are no longer
  // needed.
  auto first_kept =
      std::find_if(marks.begin(), marks.end(),
                   [&](const Mark& m) { return m.time_ms >= horizon; });
  for (auto it = marks.begin(); it != first_kept; ++it) {
    through = std::max(through, it->version);
  }
  marks.erase(marks.begin(), first_kept);
  marks.push_back(Mark{now_ms, version});
  if (marks.size() > kMaxIndexMarks) {
    marks.erase(marks.begin(), marks.end() - kMaxIndexMarks);
  }
  RETURN_IF_ERROR(
      storage_->PutSetting(kRetentionIndexMarksSetting, SerializeMarks(marks)));
  return through;
}

absl::Status Retention::LogPending() {
  LoggedChange c;
  c.change = [](StorageTransaction& txn) {
    return txn.PutSetting(kRetentionPendingSetting, "");
  };
  c.append = [&] { return trail_->RetentionSweep(pending_); };
  c.append_refusal = [](const absl::Status&) { return absl::OkStatus(); };
  c.append_void = [&](const absl::Status& failure) {
    return trail_->Call(v1::AUDIT_DIRECTION_LOCAL, "", "Node.RetentionSweep",
                        "not_applied", "", failure.code());
  };
  RETURN_IF_ERROR(ApplyLogged(self_, *storage_, c));
  pending_.Clear();
  return absl::OkStatus();
}

absl::Status Retention::DeleteDue(int64_t now, uint64_t version) {
  const size_t limit = static_cast<size_t>(config_.batch_size);

  // Closed cases: pages of the walk by case number, from the first.
  PageRequest page{"", limit};
  absl::Status status = Drain(
      kClosedCases,
      [&](const Storage::AfterDelete& then) -> absl::StatusOr<BatchResult> {
        ASSIGN_OR_RETURN(
            Storage::PurgeProgress p,
            storage_->PurgeClosedCases(
                now - config_.closed_case_identifiers_days * kDayMs, page,
                then));
        page.after = p.next;
        return BatchResult{p.purged, !p.next.empty()};
      });
  if (status.ok()) {
    status = Drain(
        kReceivedReferences, Rows([&](const Storage::AfterDelete& then) {
          return storage_->DeleteHitsBefore(
              now - config_.received_references_days * kDayMs, limit, then);
        }));
  }
  if (status.ok()) {
    status = Drain(kInboxEntries, Rows([&](const Storage::AfterDelete& then) {
                     return storage_->DeleteNotificationsBefore(
                         now - config_.inbox_days * kDayMs, limit, then);
                   }));
  }
  if (status.ok()) {
    status = Drain(kReplayEntries, Rows([&](const Storage::AfterDelete& then) {
                     return storage_->DeleteExpiredMessageIds(now, limit, then);
                   }));
  }
  // Withdrawals (spec/cooperation.md §2.4). A tombstone answers a repeated
  // withdrawal; it goes once its reference is deleted and as long after the
  // withdrawal as a received reference is kept (its hits, which arrived
  // earlier, are gone by then). An ended withdrawal is the record of a
  // closed case's withdrawal: kept as long as the case's identifiers, from
  // the close that queued it.
  if (status.ok()) {
    status = Drain(
        kWithdrawnReferences, Rows([&](const Storage::AfterDelete& then) {
          return storage_->DeleteWithdrawnReferencesBefore(
              now - config_.received_references_days * kDayMs, limit, then);
        }));
  }
  if (status.ok()) {
    status = Drain(kWithdrawals, Rows([&](const Storage::AfterDelete& then) {
                     return storage_->DeleteEndedWithdrawalsBefore(
                         now - config_.closed_case_identifiers_days * kDayMs,
                         limit, then);
                   }));
  }
  if (status.ok()) {
    absl::StatusOr<uint64_t> through = IndexHorizon(now, version);
    status = through.status();
    if (status.ok() && *through > 0) {
      status = Drain(kIndexChanges, Rows([&](const Storage::AfterDelete& then) {
                       return storage_->CompactIndexChangesBounded(*through,
                                                                   limit, then);
                     }));
    }
  }
  return status;
}

absl::StatusOr<v1::RetentionCounts> Retention::Sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  swept_.Clear();
  // The counts an earlier sweep kept and could not log yet.
  ASSIGN_OR_RETURN(std::optional<Bytes> kept,
                   storage_->GetSetting(kRetentionPendingSetting));
  pending_.Clear();
  if (kept.has_value() && !pending_.ParseFromString(*kept)) {
    return absl::DataLossError(
        absl::StrCat("the setting ", kRetentionPendingSetting, " is damaged"));
  }
  // The version first, then the time: every change through that version
  // happened at or before `now`.
  ASSIGN_OR_RETURN(uint64_t version, storage_->OwnIndexVersion());
  const int64_t now = clock_->NowMs();
  absl::Status status = DeleteDue(now, version);
  // What was deleted is logged even after a failure (it is kept anyway).
  if (!Empty(pending_)) {
    absl::Status logged = LogPending();
    if (status.ok()) status = logged;
  }
  if (!Empty(swept_)) {
    LogEvent(
        self_, "info", "retention-sweep",
        {{"closed_cases", absl::StrCat(swept_.closed_cases())},
         {"received_references", absl::StrCat(swept_.received_references())},
         {"inbox_entries", absl::StrCat(swept_.inbox_entries())},
         {"replay_entries", absl::StrCat(swept_.replay_entries())},
         {"index_changes", absl::StrCat(swept_.index_changes())},
         {"withdrawn_references", absl::StrCat(swept_.withdrawn_references())},
         {"withdrawals", absl::StrCat(swept_.withdrawals())}});
  }
  if (!status.ok()) {
    LogEvent(self_, "error", "retention-sweep-failed",
             {{"reason", std::string(status.message())}});
    return status;
  }
  if (!stop_.load()) {
    last_sweep_ms_.store(now);
    if (last_sweep_gauge_ != nullptr) {
      last_sweep_gauge_->With({}).Set(static_cast<double>(now) / 1000.0);
    }
  }
  return swept_;
}

}  // namespace cbx::node
