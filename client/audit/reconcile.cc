#include "client/audit/reconcile.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <utility>

namespace cbx::client::audit {
namespace {

bool IsExchange(const v1::AuditEntry& e, v1::AuditDirection direction,
                const std::string& peer) {
  return e.direction() == direction && e.peer() == peer &&
         !e.envelope_sha256().empty();
}

ReconcileSide Describe(const VerifiedExport& x, const std::string& other) {
  ReconcileSide side;
  side.member = x.file.member;
  side.begin = x.begin;
  side.end = x.end;
  side.has_entries = !x.entries.empty();
  bool first = true;
  for (const VerifiedEntry& v : x.entries) {
    const int64_t t = v.entry.time_ms();
    if (first || t < side.first_ms) side.first_ms = t;
    if (first || t > side.last_ms) side.last_ms = t;
    first = false;
    if (IsExchange(v.entry, v1::AUDIT_DIRECTION_SENT, other)) {
      ++side.sent;
    } else if (IsExchange(v.entry, v1::AUDIT_DIRECTION_RECEIVED, other)) {
      ++side.received;
    } else {
      ++side.other;
    }
  }
  return side;
}

// Matches side `s`'s SENT entries to side `r`'s RECEIVED ones by envelope
// hash, counting matches in `report`; a SENT entry the sender also logged
// as a failed call is undelivered, every other one left over (either way)
// goes to `unmatched`.
void MatchDirection(const std::array<const VerifiedExport*, 2>& x, size_t s,
                    ReconcileReport& report, std::vector<Orphan>& unmatched) {
  const size_t r = 1 - s;
  const std::string& sender = x[s]->file.member;
  const std::string& receiver = x[r]->file.member;
  // The receiver's RECEIVED entries from the sender, by envelope hash, in
  // log order.
  std::map<Bytes, std::deque<size_t>> received;
  for (size_t i = 0; i < x[r]->entries.size(); ++i) {
    const v1::AuditEntry& e = x[r]->entries[i].entry;
    if (IsExchange(e, v1::AUDIT_DIRECTION_RECEIVED, sender)) {
      received[e.envelope_sha256()].push_back(i);
    }
  }
  // The sender's record of calls that failed, by envelope hash.
  std::set<Bytes> failed;
  for (const VerifiedEntry& v : x[s]->entries) {
    if (IsExchange(v.entry, v1::AUDIT_DIRECTION_LOCAL, receiver) &&
        v.entry.outcome().status_code() != 0) {
      failed.insert(v.entry.envelope_sha256());
    }
  }
  for (const VerifiedEntry& v : x[s]->entries) {
    if (!IsExchange(v.entry, v1::AUDIT_DIRECTION_SENT, receiver)) continue;
    auto it = received.find(v.entry.envelope_sha256());
    if (it == received.end() || it->second.empty()) {
      Orphan o{s, v.index, OrphanKind::kSentNotReceived, v.entry};
      if (failed.count(v.entry.envelope_sha256()) > 0) {
        report.undelivered.push_back(std::move(o));
      } else {
        unmatched.push_back(std::move(o));
      }
      continue;
    }
    const VerifiedEntry& partner = x[r]->entries[it->second.front()];
    it->second.pop_front();
    ++report.matched;
    if (partner.entry.outcome().status_code() != 0) {
      ++report.matched_refused;
    }
  }
  for (const auto& [hash, left] : received) {
    for (size_t i : left) {
      const VerifiedEntry& v = x[r]->entries[i];
      unmatched.push_back(
          Orphan{r, v.index, OrphanKind::kReceivedNotSent, v.entry});
    }
  }
}

}  // namespace

int64_t DefaultMarginMs(const VerifiedExport& a, const VerifiedExport& b) {
  const directory::Directory& dir =
      a.directory.latest->version() >= b.directory.latest->version()
          ? *a.directory.latest
          : *b.directory.latest;
  return (int64_t{dir.policy().max_message_lifetime_s()} +
          int64_t{dir.policy().max_clock_skew_s()}) *
         1000;
}

absl::StatusOr<ReconcileReport> Reconcile(const VerifiedExport& a,
                                          const VerifiedExport& b,
                                          const ReconcileOptions& options) {
  if (a.file.member == b.file.member) {
    return absl::InvalidArgumentError(
        "both exports are of " + a.file.member +
        "'s log: reconcile the exports of two different members");
  }
  const std::array<const VerifiedExport*, 2> x = {&a, &b};
  ReconcileReport report;
  report.sides[0] = Describe(a, b.file.member);
  report.sides[1] = Describe(b, a.file.member);
  report.margin_ms = options.margin_ms.has_value() ? *options.margin_ms
                                                   : DefaultMarginMs(a, b);

  std::vector<Orphan> unmatched;
  for (size_t s = 0; s < 2; ++s) MatchDirection(x, s, report, unmatched);
  auto by_side_then_index = [](const Orphan& p, const Orphan& q) {
    return std::pair(p.side, p.index) < std::pair(q.side, q.index);
  };
  std::sort(unmatched.begin(), unmatched.end(), by_side_then_index);
  std::sort(report.undelivered.begin(), report.undelivered.end(),
            by_side_then_index);
  for (Orphan& o : unmatched) {
    const ReconcileSide& other = report.sides[1 - o.side];
    const int64_t t = o.entry.time_ms();
    const bool inside = other.has_entries &&
                        t >= other.first_ms + report.margin_ms &&
                        t <= other.last_ms - report.margin_ms;
    (inside ? report.orphans : report.outside).push_back(std::move(o));
  }
  report.cooperation = CooperationThreads(a, b);
  return report;
}

}  // namespace cbx::client::audit
