#include "node/withdrawal.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "core/util/status_macros.h"
#include "node/grpc_status.h"
#include "node/log.h"
#include "node/log_before_effect.h"
#include "node/peer_reply.h"

namespace cbx::node {
namespace {

// The rpc of the LOCAL entries of the receiver's delayed deletion.
constexpr char kExpiryRpc[] = "Node.WithdrawnReferenceExpiry";
constexpr size_t kCaseTokenSize = 16;

uint32_t ReasonCode(v1::WithdrawalReason reason) {
  return static_cast<uint32_t>(reason) * 100;
}

// The result part of a receipt's withdrawal_code.
uint32_t ResultCode(const v1::DeletionReceipt& r) {
  if (r.refusal() != v1::DELETION_REFUSAL_UNSPECIFIED) {
    return kWithdrawalRefused;
  }
  return r.deleted_at_ms() != 0 ? kWithdrawalDeleted : kWithdrawalKept;
}

// A short, non-identifying name of a token for the event log: the first 4
// bytes in hex (the token itself is a random handle, not an identifier).
std::string TokenPrefix(const Bytes& token) {
  return absl::BytesToHexString(token.substr(0, 4));
}

}  // namespace

Withdrawals::Withdrawals(NodeContext* ctx, PeerTransport* transport)
    : Withdrawals(ctx, transport, Options{}) {}

Withdrawals::Withdrawals(NodeContext* ctx, PeerTransport* transport,
                         Options options)
    : ctx_(ctx), transport_(transport), options_(options) {}

int64_t Withdrawals::BackoffMs(uint32_t attempts) const {
  int64_t wait = options_.first_backoff_ms;
  for (uint32_t i = 1; i < attempts && wait < options_.max_backoff_ms; ++i) {
    wait *= 2;
  }
  return std::min(wait, options_.max_backoff_ms);
}

// --- The origin --------------------------------------------------------------

absl::StatusOr<int> Withdrawals::QueueForClosedCase(
    StorageTransaction& txn, const v1::Case& closed,
    v1::WithdrawalReason reason) {
  ASSIGN_OR_RETURN(std::vector<std::string> members,
                   txn.MembersNotifiedOf(closed.case_number()));
  const int64_t now = ctx_->clock->NowMs();
  int queued = 0;
  for (const std::string& member : members) {
    if (member == ctx_->self()) continue;
    QueuedWithdrawal w;
    w.case_token = closed.case_token();
    w.member = member;
    w.case_number = closed.case_number();
    w.office = closed.office();
    w.reason = reason;
    w.queued_at_ms = now;
    w.next_attempt_ms = now;  // due at once
    absl::Status s = txn.QueueWithdrawal(w);
    if (absl::IsAlreadyExists(s)) continue;
    RETURN_IF_ERROR(s);
    ++queued;
  }
  return queued;
}

absl::StatusOr<int> Withdrawals::SendDue() {
  ASSIGN_OR_RETURN(
      std::vector<QueuedWithdrawal> due,
      ctx_->storage->DueWithdrawals(ctx_->clock->NowMs(), options_.batch));
  int acknowledged = 0;
  for (QueuedWithdrawal& w : due) {
    ASSIGN_OR_RETURN(bool done, SendOne(std::move(w)));
    if (done) ++acknowledged;
  }
  return acknowledged;
}

absl::StatusOr<int64_t> Withdrawals::CountPending() {
  ASSIGN_OR_RETURN(std::vector<QueuedWithdrawal> pending,
                   ctx_->storage->DueWithdrawals(-1, 0));
  return static_cast<int64_t>(pending.size());
}

absl::StatusOr<v1::ListWithdrawalsResponse> Withdrawals::List(
    const std::string& office, bool pending_only) {
  ASSIGN_OR_RETURN(std::vector<QueuedWithdrawal> all,
                   ctx_->storage->ListWithdrawals());
  std::stable_sort(all.begin(), all.end(),
                   [](const QueuedWithdrawal& a, const QueuedWithdrawal& b) {
                     if (a.queued_at_ms != b.queued_at_ms) {
                       return a.queued_at_ms > b.queued_at_ms;
                     }
                     return a.member < b.member;
                   });
  const int64_t window_ms = int64_t{directory::WithdrawalRetryS(
                                ctx_->directory->Current()->policy())} *
                            1000;
  v1::ListWithdrawalsResponse out;
  for (const QueuedWithdrawal& w : all) {
    if (w.office != office) continue;
    const bool pending = w.receipt.empty() && !w.given_up;
    if (pending_only && !pending) continue;
    v1::WithdrawalRecord& r = *out.add_withdrawals();
    r.set_case_number(w.case_number);
    r.set_office(w.office);
    r.set_member(w.member);
    r.set_case_token(w.case_token);
    r.set_reason(w.reason);
    r.set_queued_at_ms(w.queued_at_ms);
    r.set_attempts(w.attempts);
    r.set_last_error(w.last_error);
    if (pending) {
      r.set_state(v1::WITHDRAWAL_STATE_PENDING);
      r.set_next_attempt_ms(w.next_attempt_ms);
      r.set_give_up_at_ms(w.queued_at_ms + window_ms);
    } else if (w.given_up) {
      r.set_state(v1::WITHDRAWAL_STATE_UNDELIVERED);
    } else {
      // The receipt was checked when it arrived (SendOne); this only reads
      // back what was stored.
      r.set_state(v1::WITHDRAWAL_STATE_DELIVERED);
      v1::Envelope envelope;
      v1::Message message;
      if (!envelope.ParseFromString(w.receipt) ||
          !message.ParseFromString(envelope.body())) {
        return absl::DataLossError(absl::StrCat("stored deletion receipt from ",
                                                w.member, " does not parse"));
      }
      *r.mutable_receipt() = message.deletion_receipt();
      r.set_receipt_at_ms(message.header().issued_at_ms());
      r.set_receipt_envelope(w.receipt);
    }
  }
  return out;
}

absl::Status Withdrawals::GiveUp(QueuedWithdrawal w) {
  w.given_up = true;
  w.next_attempt_ms = 0;
  RETURN_IF_ERROR(ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change =
           [&](StorageTransaction& txn) { return txn.UpdateWithdrawal(w); },
       .append =
           [&] {
             return ctx_->audit_trail->Call(
                 v1::AUDIT_DIRECTION_LOCAL, w.member, kWithdrawRpc,
                 "withdrawal_undelivered", w.office,
                 absl::StatusCode::kDeadlineExceeded,
                 {.withdrawal_code = ReasonCode(w.reason)});
           },
       .append_refusal = [](const absl::Status&) { return absl::OkStatus(); },
       .append_void =
           [&](const absl::Status& failure) {
             return ctx_->audit_trail->Call(v1::AUDIT_DIRECTION_LOCAL, w.member,
                                            kWithdrawRpc, "not_applied",
                                            w.office, failure.code());
           }}));
  LogEvent(ctx_->self(), "error", "ALERT-withdrawal-undelivered",
           {{"to", w.member},
            {"case", w.case_number},
            {"token", TokenPrefix(w.case_token)},
            {"attempts", std::to_string(w.attempts)},
            {"last_error", w.last_error}});
  return absl::OkStatus();
}

absl::Status Withdrawals::Failed(QueuedWithdrawal w,
                                 const absl::Status& failure) {
  w.last_error = absl::StrCat(absl::StatusCodeToString(failure.code()), ": ",
                              failure.message());
  RETURN_IF_ERROR(ctx_->storage->ReadWriteTransaction(
      [&](StorageTransaction& txn) { return txn.UpdateWithdrawal(w); }));
  LogEvent(ctx_->self(), "warn", "withdrawal-not-delivered",
           {{"to", w.member},
            {"token", TokenPrefix(w.case_token)},
            {"attempts", std::to_string(w.attempts)},
            {"next_attempt_ms", std::to_string(w.next_attempt_ms)},
            {"code", absl::StatusCodeToString(failure.code())},
            {"reason", std::string(failure.message())}});
  return absl::OkStatus();
}

absl::Status Withdrawals::LogSent(QueuedWithdrawal& w,
                                  const v1::Envelope& sealed, int64_t now) {
  const AuditCounts counts{.withdrawal_code = ReasonCode(w.reason)};
  ++w.attempts;
  w.next_attempt_ms = now + BackoffMs(w.attempts);
  return ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change =
           [&](StorageTransaction& txn) { return txn.UpdateWithdrawal(w); },
       .append =
           [&] {
             return ctx_->audit_trail->Envelope(v1::AUDIT_DIRECTION_SENT,
                                                w.member, kWithdrawRpc, sealed,
                                                absl::StatusCode::kOk, counts);
           },
       .append_refusal = [](const absl::Status&) { return absl::OkStatus(); },
       .append_void =
           [&](const absl::Status& failure) {
             return ctx_->audit_trail->Call(v1::AUDIT_DIRECTION_LOCAL, w.member,
                                            kWithdrawRpc, "not_applied",
                                            w.office, failure.code(), counts,
                                            envelope::EnvelopeSha256(sealed));
           }});
}

absl::StatusOr<bool> Withdrawals::SendOne(QueuedWithdrawal w) {
  const int64_t now = ctx_->clock->NowMs();
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const int64_t window_ms =
      int64_t{directory::WithdrawalRetryS(dir->policy())} * 1000;
  if (w.attempts > 0 && now >= w.queued_at_ms + window_ms) {
    RETURN_IF_ERROR(GiveUp(std::move(w)));
    return false;
  }
  v1::Message msg;
  *msg.mutable_header() = ctx_->NewHeader(w.member, w.office);
  msg.mutable_withdrawal()->set_case_token(w.case_token);
  msg.mutable_withdrawal()->set_reason(w.reason);
  ASSIGN_OR_RETURN(v1::Envelope sealed, ctx_->signing_keys->Seal(msg));
  const AuditCounts counts{.withdrawal_code = ReasonCode(w.reason)};
  RETURN_IF_ERROR(LogSent(w, sealed, now));
  absl::StatusOr<v1::Envelope> reply =
      transport_ == nullptr
          ? absl::StatusOr<v1::Envelope>(
                absl::UnavailableError("this node sends no withdrawals"))
          : transport_->Withdraw(w.member, sealed,
                                 dir->policy().peer_deadline_ms());
  if (!reply.ok()) {
    absl::Status logged = ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, w.member, kWithdrawRpc, "call_failed",
        w.office, reply.status().code(), counts,
        envelope::EnvelopeSha256(sealed));
    if (!logged.ok()) return AuditFailure(logged);
    RETURN_IF_ERROR(Failed(std::move(w), reply.status()));
    return false;
  }
  absl::StatusOr<envelope::OpenedEnvelope> opened = OpenPeerReply(
      *ctx_, w.member, msg, *reply, v1::Message::kDeletionReceipt);
  absl::Status failure = opened.status();
  if (failure.ok() &&
      opened->message.deletion_receipt().case_token() != w.case_token) {
    failure = absl::InvalidArgumentError(
        absl::StrCat("answer from ", w.member,
                     " refused: its deletion receipt names another token"));
  }
  if (!failure.ok()) {
    absl::Status logged = ctx_->audit_trail->Envelope(
        v1::AUDIT_DIRECTION_RECEIVED, w.member, kWithdrawRpc, *reply,
        failure.code(), counts);
    if (!logged.ok()) return AuditFailure(logged);
    RETURN_IF_ERROR(Failed(std::move(w), failure));
    return false;
  }
  RETURN_IF_ERROR(Acknowledged(std::move(w), *reply, *opened));
  return true;
}

absl::Status Withdrawals::Acknowledged(QueuedWithdrawal w,
                                       const v1::Envelope& reply,
                                       const envelope::OpenedEnvelope& opened) {
  const v1::DeletionReceipt& receipt = opened.message.deletion_receipt();
  w.receipt = reply.SerializeAsString();
  w.next_attempt_ms = 0;
  w.last_error.clear();
  const AuditCounts receipt_counts{.withdrawal_code = ReasonCode(w.reason) +
                                                      ResultCode(receipt)};
  RETURN_IF_ERROR(ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change =
           [&](StorageTransaction& txn) { return txn.UpdateWithdrawal(w); },
       .append =
           [&] {
             return ctx_->audit_trail->Envelope(
                 v1::AUDIT_DIRECTION_RECEIVED, w.member, kWithdrawRpc, reply,
                 absl::StatusCode::kOk, receipt_counts);
           },
       .append_refusal = [](const absl::Status&) { return absl::OkStatus(); },
       .append_void =
           [&](const absl::Status& failure) {
             return ctx_->audit_trail->Call(
                 v1::AUDIT_DIRECTION_LOCAL, w.member, kWithdrawRpc,
                 "not_applied", w.office, failure.code(), receipt_counts,
                 opened.envelope_sha256);
           }}));
  LogEvent(ctx_->self(), "info", "withdrawal-acknowledged",
           {{"to", w.member},
            {"token", TokenPrefix(w.case_token)},
            {"attempts", std::to_string(w.attempts)},
            {"deleted_at_ms", std::to_string(receipt.deleted_at_ms())},
            {"kept_until_ms", std::to_string(receipt.kept_until_ms())},
            {"refusal", v1::DeletionRefusal_Name(receipt.refusal())}});
  return absl::OkStatus();
}

// --- The receiver ------------------------------------------------------------

v1::DeletionReceipt Withdrawals::ReceiptOf(const Bytes& token,
                                           const WithdrawnReference* t) {
  v1::DeletionReceipt r;
  r.set_case_token(token);
  if (t == nullptr) {
    r.set_refusal(v1::DELETION_REFUSAL_UNKNOWN_CASE_TOKEN);
    return r;
  }
  r.set_withdrawn_at_ms(t->withdrawn_at_ms);
  // A reference kept at first is answered as kept, also after its delayed
  // deletion: the same content to every repeat.
  if (t->kept_until_ms != 0) {
    r.set_kept_until_ms(t->kept_until_ms);
  } else {
    r.set_deleted_at_ms(t->deleted_at_ms);
  }
  return r;
}

// One withdrawal as Receive handles it: what it was asked, and what its
// transaction decided.
struct Withdrawals::Reception {
  std::string sender;
  Bytes token;
  v1::WithdrawalReason reason = v1::WITHDRAWAL_REASON_UNSPECIFIED;
  int64_t now = 0;
  uint32_t retention_s = 0;  // the policy's withdrawn_reference_retention_s
  v1::DeletionReceipt receipt{};
  AuditCounts reply_counts{};
  v1::Envelope sealed{};
  int64_t marked = 0;  // hits marked withdrawn
};

absl::Status Withdrawals::Apply(StorageTransaction& txn, const v1::Message& msg,
                                Reception& r) {
  if (r.token.size() != kCaseTokenSize) {
    return absl::InvalidArgumentError("withdrawal.case_token: not 16 bytes");
  }
  if (r.reason != v1::WITHDRAWAL_REASON_CLOSED &&
      r.reason != v1::WITHDRAWAL_REASON_ERASED) {
    return absl::InvalidArgumentError(
        "withdrawal.reason: neither CLOSED nor ERASED");
  }
  absl::StatusOr<WithdrawnReference> known =
      txn.GetWithdrawnReference(r.sender, r.token);
  if (known.ok()) {
    r.receipt = ReceiptOf(r.token, &*known);  // a repeat: no second effect
  } else if (!absl::IsNotFound(known.status())) {
    return known.status();
  } else {
    // Only hits from this sender: another member's token (or one never
    // received) matches nothing and changes nothing.
    ASSIGN_OR_RETURN(r.marked, txn.WithdrawHits(r.sender, r.token, r.now,
                                                r.reason, r.retention_s == 0));
    if (r.marked == 0) {
      r.receipt = ReceiptOf(r.token, nullptr);
    } else {
      WithdrawnReference t{
          .member = r.sender,
          .case_token = r.token,
          .reason = r.reason,
          .withdrawn_at_ms = r.now,
          .kept_until_ms =
              r.retention_s == 0 ? 0 : r.now + r.retention_s * 1000LL,
          .deleted_at_ms = r.retention_s == 0 ? r.now : 0};
      RETURN_IF_ERROR(txn.PutWithdrawnReference(t));
      r.receipt = ReceiptOf(r.token, &t);
    }
  }
  r.reply_counts = {.withdrawal_code =
                        ReasonCode(r.reason) + ResultCode(r.receipt)};
  v1::Message reply;
  *reply.mutable_header() = ctx_->NewHeader(r.sender, "");
  reply.mutable_header()->set_in_reply_to(msg.header().message_id());
  *reply.mutable_deletion_receipt() = r.receipt;
  ASSIGN_OR_RETURN(r.sealed, ctx_->signing_keys->Seal(reply));
  return absl::OkStatus();
}

// One storage transaction holds the marks, the tombstone and the
// exchange's entries (Apply, then the two entries).
absl::StatusOr<v1::Envelope> Withdrawals::Receive(
    const envelope::OpenedEnvelope& opened, const v1::Envelope& raw) {
  (void)raw;
  const v1::Message& msg = opened.message;
  Reception r{.sender = msg.header().sender(),
              .token = msg.withdrawal().case_token(),
              .reason = msg.withdrawal().reason(),
              .now = ctx_->clock->NowMs(),
              .retention_s = directory::WithdrawnReferenceRetentionS(
                  ctx_->directory->Current()->policy())};
  const AuditCounts counts{.withdrawal_code = ReasonCode(r.reason)};
  auto received_code = [&] {
    return r.receipt.refusal() == v1::DELETION_REFUSAL_UNSPECIFIED
               ? absl::StatusCode::kOk
               : absl::StatusCode::kNotFound;
  };
  RETURN_IF_ERROR(ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change = [&](StorageTransaction& txn) { return Apply(txn, msg, r); },
       .append =
           [&] {
             return ctx_->audit_trail->Exchange(r.sender, kWithdrawRpc, opened,
                                                received_code(), counts,
                                                &r.sealed, &r.reply_counts);
           },
       .append_refusal =
           [&](const absl::Status& refusal) {
             return ctx_->audit_trail->Exchange(r.sender, kWithdrawRpc, opened,
                                                refusal.code(), counts,
                                                nullptr);
           },
       .append_void =
           [&](const absl::Status& failure) {
             return ctx_->audit_trail->Call(
                 v1::AUDIT_DIRECTION_LOCAL, r.sender, kWithdrawRpc,
                 "not_applied", msg.header().office(), failure.code(), counts,
                 opened.envelope_sha256);
           }}));
  LogEvent(ctx_->self(), "info", "withdrawal-received",
           {{"from", r.sender},
            {"office", msg.header().office()},
            {"token", TokenPrefix(r.token)},
            {"reason", v1::WithdrawalReason_Name(r.reason)},
            {"hits", std::to_string(r.marked)},
            {"refusal", v1::DeletionRefusal_Name(r.receipt.refusal())}});
  return r.sealed;
}

absl::StatusOr<int> Withdrawals::DeleteExpiredReferences() {
  const int64_t now = ctx_->clock->NowMs();
  std::vector<WithdrawnReference> due;
  RETURN_IF_ERROR(
      ctx_->storage->ReadWriteTransaction([&](StorageTransaction& txn) {
        ASSIGN_OR_RETURN(due, txn.WithdrawnReferencesDue(now, options_.batch));
        return absl::OkStatus();
      }));
  int deleted = 0;
  for (WithdrawnReference& t : due) {
    int64_t hits = 0;
    RETURN_IF_ERROR(ApplyLogged(
        ctx_->self(), *ctx_->storage,
        {.change = [&](StorageTransaction& txn) -> absl::Status {
           ASSIGN_OR_RETURN(
               hits, txn.WithdrawHits(t.member, t.case_token, t.withdrawn_at_ms,
                                      t.reason, true));
           WithdrawnReference done = t;
           done.deleted_at_ms = now;
           return txn.PutWithdrawnReference(done);
         },
         .append =
             [&] {
               return ctx_->audit_trail->Call(
                   v1::AUDIT_DIRECTION_LOCAL, t.member, kExpiryRpc,
                   "withdrawn_reference_deleted", "", absl::StatusCode::kOk,
                   {.hits = static_cast<uint32_t>(hits),
                    .withdrawal_code =
                        ReasonCode(t.reason) + kWithdrawalDeleted});
             },
         .append_refusal = [](const absl::Status&) { return absl::OkStatus(); },
         .append_void =
             [&](const absl::Status& failure) {
               return ctx_->audit_trail->Call(
                   v1::AUDIT_DIRECTION_LOCAL, t.member, kExpiryRpc,
                   "not_applied", "", failure.code());
             }}));
    ++deleted;
  }
  return deleted;
}

}  // namespace cbx::node
