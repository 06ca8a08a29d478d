#include "client/withdrawal_commands.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/json_output.h"
#include "client/rpc_calls.h"
#include "client/strings.h"
#include "client/table.h"
#include "client/time_format.h"
#include "grpcpp/client_context.h"

namespace cbx::client {
namespace {

std::string StateWord(v1::WithdrawalState state) {
  switch (state) {
    case v1::WITHDRAWAL_STATE_PENDING:
      return "pending";
    case v1::WITHDRAWAL_STATE_DELIVERED:
      return "delivered";
    case v1::WITHDRAWAL_STATE_UNDELIVERED:
      return "undelivered";
    default:
      return "unknown";
  }
}

// What the peer did with the reference, as its receipt says.
std::string ReceiptOutcome(const v1::DeletionReceipt& r) {
  if (r.refusal() == v1::DELETION_REFUSAL_UNKNOWN_CASE_TOKEN) {
    return "held nothing (unknown token)";
  }
  if (r.kept_until_ms() != 0) {
    return "kept until " + FormatTimestamp(r.kept_until_ms());
  }
  return "deleted";
}

// The time column: the next attempt (pending) or the receipt (delivered).
std::string WhenText(const v1::WithdrawalRecord& w) {
  switch (w.state()) {
    case v1::WITHDRAWAL_STATE_PENDING:
      return FormatTimestamp(w.next_attempt_ms());
    case v1::WITHDRAWAL_STATE_DELIVERED:
      return FormatTimestamp(w.receipt_at_ms());
    default:
      return "-";
  }
}

std::string OutcomeText(const v1::WithdrawalRecord& w) {
  switch (w.state()) {
    case v1::WITHDRAWAL_STATE_PENDING:
      return "gives up " + FormatTimestamp(w.give_up_at_ms());
    case v1::WITHDRAWAL_STATE_DELIVERED:
      return ReceiptOutcome(w.receipt());
    case v1::WITHDRAWAL_STATE_UNDELIVERED:
      return "given up, no receipt";
    default:
      return "-";
  }
}

Json OptionalTime(int64_t ms) {
  return ms == 0 ? Json() : Json(FormatTimestampPrecise(ms));
}

Json WithdrawalJson(const v1::WithdrawalRecord& w) {
  Json j;
  j["case_number"] = w.case_number();
  j["office"] = w.office();
  j["peer"] = w.member();
  j["case_token"] = absl::BytesToHexString(w.case_token());
  j["reason"] =
      w.reason() == v1::WITHDRAWAL_REASON_ERASED ? "erased" : "closed";
  j["state"] = StateWord(w.state());
  j["queued_at"] = OptionalTime(w.queued_at_ms());
  j["attempts"] = w.attempts();
  j["next_attempt_at"] = OptionalTime(w.next_attempt_ms());
  j["gives_up_at"] = OptionalTime(w.give_up_at_ms());
  j["last_error"] = w.last_error().empty() ? Json() : Json(w.last_error());
  if (w.state() == v1::WITHDRAWAL_STATE_DELIVERED) {
    Json r;
    r["received_at"] = OptionalTime(w.receipt_at_ms());
    r["withdrawn_at"] = OptionalTime(w.receipt().withdrawn_at_ms());
    r["deleted_at"] = OptionalTime(w.receipt().deleted_at_ms());
    r["kept_until"] = OptionalTime(w.receipt().kept_until_ms());
    r["refused"] = w.receipt().refusal() != v1::DELETION_REFUSAL_UNSPECIFIED;
    j["receipt"] = std::move(r);
  } else {
    j["receipt"] = Json();
  }
  return j;
}

Json WithdrawalsDocument(const v1::ListWithdrawalsResponse& response) {
  Json list = Json::array();
  for (const v1::WithdrawalRecord& w : response.withdrawals()) {
    list.push_back(WithdrawalJson(w));
  }
  Json j;
  j["withdrawals"] = std::move(list);
  return j;
}

}  // namespace

void AddWithdrawalsCommand(CLI::App& app, WithdrawalArgs& args) {
  args.cmd = app.add_subcommand(
      "withdrawals",
      "Your closed cases' withdrawals at each peer that resolved them, and "
      "their deletion receipts");
  args.cmd->add_flag("--pending", args.pending,
                     "Only those still waiting for a receipt");
}

std::optional<absl::StatusOr<std::function<int(CommandContext&)>>>
ChosenWithdrawalsCommand(const WithdrawalArgs& args) {
  if (args.cmd == nullptr || !args.cmd->parsed()) return std::nullopt;
  v1::ListWithdrawalsRequest request;
  request.set_pending(args.pending);
  return absl::StatusOr<std::function<int(CommandContext&)>>(
      [request](CommandContext& ctx) { return ListWithdrawals(ctx, request); });
}

std::string WithdrawalsText(const v1::ListWithdrawalsResponse& response) {
  if (response.withdrawals().empty()) return "no withdrawals\n";
  Table table({"CASE", "PEER", "STATE", "ATTEMPTS", "NEXT/RECEIPT", "OUTCOME"});
  std::string errors;
  for (const v1::WithdrawalRecord& w : response.withdrawals()) {
    table.AddRow({SanitizeForTerminal(w.case_number()),
                  SanitizeForTerminal(w.member()), StateWord(w.state()),
                  std::to_string(w.attempts()), WhenText(w), OutcomeText(w)});
    if (!w.last_error().empty() &&
        w.state() != v1::WITHDRAWAL_STATE_DELIVERED) {
      absl::StrAppend(
          &errors, SanitizeForTerminal(w.case_number()), " at ",
          SanitizeForTerminal(w.member()),
          ": last attempt failed: ", SanitizeForTerminal(w.last_error()), "\n");
    }
  }
  return table.Render() + errors;
}

std::string WithdrawalsJson(const v1::ListWithdrawalsResponse& response) {
  return JsonLine(WithdrawalsDocument(response));
}

int ListWithdrawals(CommandContext& ctx,
                    const v1::ListWithdrawalsRequest& request) {
  return Unary<v1::ListWithdrawalsRequest, v1::ListWithdrawalsResponse>(
      ctx, "listing withdrawals", request,
      [&](grpc::ClientContext* c, const v1::ListWithdrawalsRequest& r,
          v1::ListWithdrawalsResponse* out) {
        return ctx.stub.ListWithdrawals(c, r, out);
      },
      &WithdrawalsText, &WithdrawalsDocument);
}

}  // namespace cbx::client
