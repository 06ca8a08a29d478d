#include "core/report/report.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cbx::report {
namespace {

constexpr uint32_t kAccepted = 100;  // ReceiptCode of an accepted receipt

using Key = std::pair<std::string, std::string>;  // (name, peer)

// Count figures: the node's total under peer "" and each peer's own.
class Counts {
 public:
  void Add(const std::string& name, const std::string& peer, uint64_t n) {
    if (n == 0) return;
    values_[{name, ""}] += n;
    if (!peer.empty()) values_[{name, peer}] += n;
  }
  // A total that is listed even when zero.
  void Declare(const std::string& name) { values_[{name, ""}] += 0; }
  const std::map<Key, uint64_t>& values() const { return values_; }

 private:
  std::map<Key, uint64_t> values_;
};

std::string TypeName(uint32_t type) {
  switch (type) {
    case 1:
      return "INFORMATION";
    case 2:
      return "PRESERVATION";
    case 3:
      return "JOINT_INVESTIGATION_TEAM";
    case 4:
      return "SPONTANEOUS_INFORMATION";
    default:
      return absl::StrCat("TYPE_", type);
  }
}

const char* Side(v1::AuditDirection d) {
  return d == v1::AUDIT_DIRECTION_SENT ? "sent" : "received";
}

bool Crossed(const v1::AuditEntry& e) {
  return e.direction() == v1::AUDIT_DIRECTION_SENT ||
         e.direction() == v1::AUDIT_DIRECTION_RECEIVED;
}

v1::AuditDirection Opposite(v1::AuditDirection d) {
  return d == v1::AUDIT_DIRECTION_SENT ? v1::AUDIT_DIRECTION_RECEIVED
                                       : v1::AUDIT_DIRECTION_SENT;
}

// The cooperation entries of the month, by message id, to pair a request
// with its receipt and its response (spec §7.3).
struct Pairing {
  std::vector<const v1::AuditEntry*> requests;  // in log order
  // (in_reply_to, direction) -> the first receipt / counted response.
  std::map<std::pair<std::string, int>, const v1::AuditEntry*> receipts;
  std::map<std::pair<std::string, int>, const v1::AuditEntry*> responses;
};

// Counts one entry's figures (spec §7.2) and remembers what §7.3 pairs.
void CountEntry(const v1::AuditEntry& e, Counts& counts, Pairing& pairing) {
  if (!Crossed(e)) return;
  const bool sent = e.direction() == v1::AUDIT_DIRECTION_SENT;
  const std::string& kind = e.kind();
  const std::string& peer = e.peer();
  const v1::AuditOutcome& out = e.outcome();
  if (e.rpc() == "Peer.Evaluate" && kind == "evaluate_request") {
    counts.Add(sent ? "queries_sent" : "queries_received", peer, 1);
  } else if (e.rpc() == "Peer.Resolve" && kind == "resolve_response") {
    if (sent) {
      counts.Add("references_given", peer, out.references());
    } else if (out.status_code() == 0) {
      counts.Add("hits", peer, out.references());
    }
  } else if (kind == "cooperation_request") {
    counts.Add(absl::StrCat("requests_", Side(e.direction()), ".",
                            TypeName(out.cooperation_type())),
               peer, 1);
    if (e.message_id().size() == 16) pairing.requests.push_back(&e);
  } else if (kind == "cooperation_receipt") {
    counts.Add(absl::StrCat("receipts_", Side(e.direction()), ".",
                            out.cooperation_code()),
               peer, 1);
    pairing.receipts.emplace(
        std::make_pair(e.in_reply_to(), static_cast<int>(e.direction())), &e);
  } else if (kind == "cooperation_response") {
    counts.Add(absl::StrCat("responses_", Side(e.direction()), ".",
                            out.cooperation_code()),
               peer, 1);
    // A response this node refused (status not OK) answers nothing.
    if (out.status_code() == 0) {
      pairing.responses.emplace(
          std::make_pair(e.in_reply_to(), static_cast<int>(e.direction())),
          &e);
    }
  } else if (kind == "withdrawal") {
    counts.Add(sent ? "withdrawals_sent" : "withdrawals_received", peer, 1);
  } else if (kind == "deletion_receipt") {
    counts.Add(sent ? "deletion_receipts_sent" : "deletion_receipts_received",
               peer, 1);
  }
}

const v1::AuditEntry* Find(
    const std::map<std::pair<std::string, int>, const v1::AuditEntry*>& m,
    const std::string& id, v1::AuditDirection direction) {
  auto it = m.find({id, static_cast<int>(direction)});
  return it == m.end() ? nullptr : it->second;
}

// Nearest rank: the smallest value with at least p% of the values at or
// below it.
uint64_t Percentile(std::vector<uint64_t> v, int p) {
  std::sort(v.begin(), v.end());
  const size_t rank = (v.size() * p + 99) / 100;  // ceil(p/100 * n), >= 1
  return v[rank - 1];
}

struct Durations {
  std::vector<uint64_t> to_receipt, to_response;
};

// Pairs each request of the month with its receipt and response (§7.3):
// times, late receipts and overdue responses.
void PairRequests(const Pairing& pairing, int64_t as_of_ms, Counts& counts,
                  std::map<std::string, Durations>& durations) {
  for (const v1::AuditEntry* req : pairing.requests) {
    const std::string side = Side(req->direction());
    const v1::AuditDirection back = Opposite(req->direction());
    const v1::AuditEntry* receipt =
        Find(pairing.receipts, req->message_id(), back);
    const v1::AuditEntry* response =
        Find(pairing.responses, req->message_id(), back);
    Durations& d = durations[side];
    if (receipt != nullptr) {
      d.to_receipt.push_back(
          std::max<int64_t>(0, receipt->time_ms() - req->time_ms()));
    }
    if (response != nullptr) {
      d.to_response.push_back(
          std::max<int64_t>(0, response->time_ms() - req->time_ms()));
    }
    const bool accepted = receipt != nullptr &&
                          receipt->outcome().cooperation_code() == kAccepted;
    if (!accepted) continue;
    const int64_t receipt_due = req->outcome().receipt_due_ms();
    if (receipt_due > 0 && receipt->time_ms() > receipt_due) {
      counts.Add("late_receipts." + side, req->peer(), 1);
    }
    const int64_t due = req->outcome().response_due_ms();
    if (due <= 0) continue;
    const bool overdue = response != nullptr ? response->time_ms() > due
                                             : as_of_ms > due;
    if (overdue) counts.Add("overdue_responses." + side, req->peer(), 1);
  }
}

void AddFigure(v1::Report& report, const std::string& name,
               const std::string& peer, uint64_t value, bool suppressed) {
  v1::ReportFigure* f = report.add_figures();
  f->set_name(name);
  f->set_peer(peer);
  if (suppressed) {
    f->set_suppressed(true);
  } else {
    f->set_value(value);
  }
}

}  // namespace

absl::StatusOr<Month> ParseMonth(std::string_view text) {
  int year = 0, month = 0;
  if (text.size() != 7 || text[4] != '-' ||
      !std::all_of(text.begin(), text.begin() + 4, ::isdigit) ||
      !std::all_of(text.begin() + 5, text.end(), ::isdigit) ||
      !absl::SimpleAtoi(std::string(text.substr(0, 4)), &year) ||
      !absl::SimpleAtoi(std::string(text.substr(5, 2)), &month) || year < 1970 ||
      month < 1 || month > 12) {
    return absl::InvalidArgumentError(
        absl::StrCat("month: want YYYY-MM (1970-01 or later), got \"",
                     std::string(text.substr(0, 16)), "\""));
  }
  const absl::CivilMonth m(year, month);
  Month out;
  out.name = std::string(text);
  out.start_ms = absl::ToUnixMillis(absl::FromCivil(m, absl::UTCTimeZone()));
  out.end_ms =
      absl::ToUnixMillis(absl::FromCivil(m + 1, absl::UTCTimeZone()));
  return out;
}

Month MonthOf(int64_t time_ms) {
  const absl::CivilMonth m = absl::ToCivilMonth(absl::FromUnixMillis(time_ms),
                                                absl::UTCTimeZone());
  return *ParseMonth(absl::FormatCivilTime(m));
}

int64_t AsOfMs(const Month& month, int64_t last_entry_time_ms,
               int64_t next_entry_time_ms) {
  if (next_entry_time_ms >= month.end_ms) return month.end_ms;
  if (last_entry_time_ms >= 0) return last_entry_time_ms;
  return month.start_ms;
}

v1::Report ComputeReport(const ReportInput& input,
                         const std::vector<v1::AuditEntry>& entries) {
  Counts counts;
  for (const char* name :
       {"queries_sent", "queries_received", "hits", "references_given",
        "overdue_responses.sent", "overdue_responses.received",
        "late_receipts.sent", "late_receipts.received", "withdrawals_sent",
        "withdrawals_received", "deletion_receipts_sent",
        "deletion_receipts_received"}) {
    counts.Declare(name);
  }
  for (uint32_t type = 1; type <= 4; ++type) {
    counts.Declare("requests_sent." + TypeName(type));
    counts.Declare("requests_received." + TypeName(type));
  }
  Pairing pairing;
  for (const v1::AuditEntry& e : entries) {
    if (e.time_ms() < input.month.start_ms || e.time_ms() >= input.month.end_ms)
      continue;
    CountEntry(e, counts, pairing);
  }
  std::map<std::string, Durations> durations;
  PairRequests(pairing, input.as_of_ms, counts, durations);

  const uint64_t min_cell = std::max<uint32_t>(1, input.min_cell);
  std::map<Key, std::pair<uint64_t, bool>> figures;
  for (const auto& [key, value] : counts.values()) {
    figures[key] = {value, value > 0 && value < min_cell};
  }
  for (const auto& [side, d] : durations) {
    const std::pair<const char*, const std::vector<uint64_t>*> series[] = {
        {"time_to_receipt_ms.", &d.to_receipt},
        {"time_to_response_ms.", &d.to_response}};
    for (const auto& [prefix, values] : series) {
      if (values->empty()) continue;
      const bool small = values->size() < min_cell;
      for (int p : {50, 90}) {
        figures[{absl::StrCat(prefix, side, ".p", p), ""}] = {
            small ? 0 : Percentile(*values, p), small};
      }
    }
  }
  v1::Report report;
  report.set_member(input.member);
  report.set_month(input.month.name);
  report.set_month_start_ms(input.month.start_ms);
  report.set_month_end_ms(input.month.end_ms);
  report.set_log_begin(input.log_begin);
  report.set_log_end(input.log_end);
  report.set_as_of_ms(input.as_of_ms);
  report.set_min_cell(static_cast<uint32_t>(min_cell));
  for (const auto& [key, value] : figures) {
    AddFigure(report, key.first, key.second, value.first, value.second);
  }
  return report;
}

std::string ShownValue(const v1::ReportFigure& figure, uint32_t min_cell) {
  if (figure.suppressed()) return absl::StrCat("<", min_cell);
  return absl::StrCat(figure.value());
}

std::vector<FigureDifference> CompareReports(const v1::Report& a,
                                             const v1::Report& b) {
  std::vector<FigureDifference> out;
  auto header = [&](const char* name, const std::string& x,
                    const std::string& y) {
    if (x != y) out.push_back({name, "", x, y});
  };
  header("member", a.member(), b.member());
  header("month", a.month(), b.month());
  header("log_begin", absl::StrCat(a.log_begin()), absl::StrCat(b.log_begin()));
  header("log_end", absl::StrCat(a.log_end()), absl::StrCat(b.log_end()));
  header("as_of_ms", absl::StrCat(a.as_of_ms()), absl::StrCat(b.as_of_ms()));
  header("min_cell", absl::StrCat(a.min_cell()), absl::StrCat(b.min_cell()));
  std::map<Key, std::pair<std::string, std::string>> merged;
  for (const v1::ReportFigure& f : a.figures()) {
    merged[{f.name(), f.peer()}] = {ShownValue(f, a.min_cell()), "absent"};
  }
  for (const v1::ReportFigure& f : b.figures()) {
    auto [it, inserted] = merged.try_emplace({f.name(), f.peer()}, "absent",
                                             ShownValue(f, b.min_cell()));
    if (!inserted) it->second.second = ShownValue(f, b.min_cell());
  }
  for (const auto& [key, values] : merged) {
    if (values.first != values.second) {
      out.push_back({key.first, key.second, values.first, values.second});
    }
  }
  return out;
}

}  // namespace cbx::report
