#include "client/audit/reconcile_threads.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "core/util/bytes.h"

namespace cbx::client::audit {
namespace {

// The crossing entries of one export with the other member, by kind.
struct Side {
  const VerifiedExport* x;
  std::string member;
  std::string other;
};

bool Crossing(const v1::AuditEntry& e, const std::string& other) {
  return e.peer() == other && (e.direction() == v1::AUDIT_DIRECTION_SENT ||
                               e.direction() == v1::AUDIT_DIRECTION_RECEIVED);
}

void Record(ThreadStep& step, const v1::AuditEntry& e) {
  step.kind = e.kind();
  if (e.direction() == v1::AUDIT_DIRECTION_SENT) {
    if (step.sent) return;
    step.sent = true;
    step.sent_ms = e.time_ms();
    step.code = e.outcome().cooperation_code();
  } else {
    if (step.received) return;
    step.received = true;
    step.received_ms = e.time_ms();
    step.received_status = e.outcome().status_code();
    if (!step.sent) step.code = e.outcome().cooperation_code();
  }
}

// "receipt: sent by RS, not received by MK" for a step half logged.
void Gap(const std::string& label, const ThreadStep& step,
         const std::string& from, const std::string& to,
         std::vector<std::string>& problems) {
  if (step.sent && !step.received) {
    problems.push_back(label + ": sent by " + from + ", not received by " + to);
  } else if (!step.sent && step.received) {
    problems.push_back(label + ": received by " + to + ", not sent by " +
                       from);
  }
}

}  // namespace

std::vector<CooperationThread> CooperationThreads(const VerifiedExport& a,
                                                  const VerifiedExport& b) {
  const std::array<Side, 2> sides = {
      Side{&a, a.file.member, b.file.member},
      Side{&b, b.file.member, a.file.member}};
  std::map<Bytes, CooperationThread> threads;  // by opening message id
  // Pass 1: openings, on both sides.
  for (const Side& s : sides) {
    for (const VerifiedEntry& v : s.x->entries) {
      const v1::AuditEntry& e = v.entry;
      if (!Crossing(e, s.other) || e.message_id().size() != 16) continue;
      if (e.kind() != "cooperation_request" && e.kind() != "withdrawal") {
        continue;
      }
      CooperationThread& t = threads[e.message_id()];
      const bool sent = e.direction() == v1::AUDIT_DIRECTION_SENT;
      t.id = HexEncode(e.message_id());
      t.opener = sent ? s.member : s.other;
      t.answerer = sent ? s.other : s.member;
      t.type = std::max(t.type, e.outcome().cooperation_type());
      Record(t.opening, e);
    }
  }
  // Pass 2: the answers, found by in_reply_to; responses' ids for pass 3.
  std::map<Bytes, Bytes> response_to_request;
  for (const Side& s : sides) {
    for (const VerifiedEntry& v : s.x->entries) {
      const v1::AuditEntry& e = v.entry;
      if (!Crossing(e, s.other)) continue;
      auto it = threads.find(e.in_reply_to());
      if (it == threads.end()) continue;
      CooperationThread& t = it->second;
      if (e.kind() == "cooperation_receipt" || e.kind() == "deletion_receipt") {
        Record(t.receipt, e);
      } else if (e.kind() == "cooperation_response") {
        Record(t.response, e);
        if (e.message_id().size() == 16) {
          response_to_request.emplace(e.message_id(), it->first);
        }
      }
    }
  }
  // Pass 3: the receipts of responses.
  for (const Side& s : sides) {
    for (const VerifiedEntry& v : s.x->entries) {
      const v1::AuditEntry& e = v.entry;
      if (!Crossing(e, s.other) || e.kind() != "cooperation_receipt") continue;
      auto it = response_to_request.find(e.in_reply_to());
      if (it == response_to_request.end()) continue;
      Record(threads[it->second].response_receipt, e);
    }
  }
  std::vector<CooperationThread> out;
  for (auto& [id, t] : threads) {
    const bool withdrawal = t.opening.kind == "withdrawal";
    Gap(withdrawal ? "withdrawal" : "request", t.opening, t.opener, t.answerer,
        t.problems);
    Gap(withdrawal ? "deletion receipt" : "receipt", t.receipt, t.answerer,
        t.opener, t.problems);
    Gap("response", t.response, t.answerer, t.opener, t.problems);
    Gap("response receipt", t.response_receipt, t.opener, t.answerer,
        t.problems);
    if (t.opening.sent && t.opening.received && !t.receipt.logged()) {
      t.problems.push_back(withdrawal ? "no deletion receipt logged"
                                      : "no receipt logged");
    }
    out.push_back(std::move(t));
  }
  auto first_ms = [](const CooperationThread& t) {
    if (t.opening.sent && t.opening.received) {
      return std::min(t.opening.sent_ms, t.opening.received_ms);
    }
    return t.opening.sent ? t.opening.sent_ms : t.opening.received_ms;
  };
  std::sort(out.begin(), out.end(), [&](const auto& p, const auto& q) {
    return std::pair(first_ms(p), p.id) < std::pair(first_ms(q), q.id);
  });
  return out;
}

}  // namespace cbx::client::audit
