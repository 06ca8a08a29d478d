#include "client/cooperation_commands.h"

#include <ctime>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/connection.h"
#include "client/identifier_arg.h"
#include "client/json_output.h"
#include "client/rpc_calls.h"
#include "client/strings.h"
#include "client/time_format.h"
#include "core/util/bytes.h"
#include "grpcpp/client_context.h"

namespace cbx::client {
namespace {

// What the note must never hold (spec/cooperation.md §1), shown with it.
constexpr char kNoteRule[] =
    "One line, at most 1,000 bytes. NEVER names, images, descriptions or "
    "other data of a victim, identifiers beyond those the hit matched, "
    "health or sexual-life data.";

absl::Status Bad(absl::string_view option, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(option, ": ", why));
}

absl::StatusOr<v1::CooperationType> ParseType(const std::string& text) {
  if (text == "information") return v1::COOPERATION_TYPE_INFORMATION;
  if (text == "preservation") return v1::COOPERATION_TYPE_PRESERVATION;
  if (text == "jit") return v1::COOPERATION_TYPE_JOINT_INVESTIGATION_TEAM;
  if (text == "spontaneous") {
    return v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION;
  }
  return Bad("--type", "one of preservation, information, jit, spontaneous");
}

absl::StatusOr<v1::DataCategory> ParseCategory(absl::string_view text) {
  if (text == "subscriber") return v1::DATA_CATEGORY_SUBSCRIBER;
  if (text == "traffic") return v1::DATA_CATEGORY_TRAFFIC;
  if (text == "content") return v1::DATA_CATEGORY_CONTENT;
  if (text == "location") return v1::DATA_CATEGORY_LOCATION;
  return Bad("--data", absl::StrCat("unknown category \"",
                                    SanitizeForTerminal(std::string(text)),
                                    "\" (subscriber, traffic, content, "
                                    "location)"));
}

absl::StatusOr<Bytes> ParseToken(const std::string& text) {
  bool hex = text.size() == 32;
  for (char c : text)
    hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(c));
  if (!hex) {
    return Bad("--token", "the case token: 32 hex digits (cbx hits shows it)");
  }
  return absl::HexStringToBytes(text);
}

absl::StatusOr<v1::PreservationDetails> BuildPreservation(
    const CooperationArgs& a, std::string_view home) {
  v1::PreservationDetails p;
  if (a.platform.empty()) return Bad("--platform", "required for preservation");
  p.set_platform(absl::AsciiStrToLower(a.platform));
  if (a.accounts.empty()) {
    return Bad("--account", "at least one TYPE:VALUE the hit matched");
  }
  for (const std::string& account : a.accounts) {
    absl::StatusOr<v1::Identifier> id =
        ParseIdentifierArg(account, WindowPolicy::kForbidden, home);
    if (!id.ok()) return Bad("--account", id.status().message());
    *p.add_account() = *std::move(id);
  }
  if (a.from.empty() || a.to.empty()) {
    return Bad("--from/--to", "the period to preserve is required");
  }
  absl::StatusOr<int64_t> from = ParseDate(a.from, DateBound::kStart);
  if (!from.ok()) return Bad("--from", from.status().message());
  absl::StatusOr<int64_t> to = ParseDate(a.to, DateBound::kEnd);
  if (!to.ok()) return Bad("--to", to.status().message());
  if (*to <= *from) return Bad("--to", "must not be before --from");
  p.set_period_from_ms(*from);
  p.set_period_to_ms(*to);
  if (a.data.empty()) {
    return Bad("--data", "e.g. subscriber,traffic (content, location)");
  }
  for (absl::string_view part : absl::StrSplit(a.data, ',')) {
    absl::StatusOr<v1::DataCategory> c = ParseCategory(part);
    if (!c.ok()) return c.status();
    p.add_data_categories(*c);
  }
  return p;
}

std::string TypeLabel(v1::CooperationType type) {
  switch (type) {
    case v1::COOPERATION_TYPE_INFORMATION:
      return "information";
    case v1::COOPERATION_TYPE_PRESERVATION:
      return "preservation";
    case v1::COOPERATION_TYPE_JOINT_INVESTIGATION_TEAM:
      return "jit";
    case v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION:
      return "spontaneous";
    default:
      return "?";
  }
}

std::string ReceiptLabel(const v1::CooperationReceipt& r) {
  if (r.status() == v1::RECEIPT_STATUS_ACCEPTED) return "accepted";
  if (r.status() == v1::RECEIPT_STATUS_REFUSED) {
    return absl::StrCat(
        "refused (",
        absl::AsciiStrToLower(v1::ReceiptRefusal_Name(r.reason()).substr(16)),
        ")");
  }
  return "";
}

std::string ResponseLabel(const v1::CooperationResponse& r) {
  std::string label =
      absl::AsciiStrToLower(v1::ResponseOutcome_Name(r.outcome()).substr(17));
  if (r.outcome() == v1::RESPONSE_OUTCOME_REFUSED) {
    absl::StrAppend(
        &label, " (",
        absl::AsciiStrToLower(v1::ResponseRefusal_Name(r.reason()).substr(17)),
        ")");
  }
  if (!r.mla_reference().empty()) {
    absl::StrAppend(&label, " ", SanitizeForTerminal(r.mla_reference()));
  }
  return label;
}

// Where a record stands, in one word or two.
std::string State(const v1::CooperationRecord& r) {
  if (!r.delivery_error().empty()) return "not delivered";
  if (r.has_response()) return ResponseLabel(r.response());
  if (!r.has_receipt()) return "sending";
  if (r.receipt().status() != v1::RECEIPT_STATUS_ACCEPTED) {
    return ReceiptLabel(r.receipt());
  }
  return r.request().response_due_ms() == 0 ? "delivered" : "awaiting response";
}

Json RecordJson(const v1::CooperationRecord& r) {
  Json j;
  j["id"] = r.id();
  j["direction"] =
      r.direction() == v1::COOPERATION_DIRECTION_SENT ? "sent" : "received";
  j["peer"] = r.peer();
  j["peer_office"] = r.peer_office();
  j["office"] = r.office();
  j["case_number"] = r.case_number();
  j["case_token"] = absl::BytesToHexString(r.request().case_token());
  j["type"] = TypeLabel(r.request().type());
  j["legal_basis"] = r.request().legal_basis();
  j["note"] = r.request().note();
  j["requested_at"] = FormatTimestampPrecise(r.requested_at_ms());
  j["response_due"] = FormatTimestampPrecise(r.request().response_due_ms());
  j["receipt"] = ReceiptLabel(r.receipt());
  j["received_at"] = FormatTimestampPrecise(r.receipt().received_at_ms());
  j["response"] = r.has_response() ? ResponseLabel(r.response()) : "";
  j["responded_at"] = FormatTimestampPrecise(r.responded_at_ms());
  j["preserved_until"] =
      FormatTimestampPrecise(r.response().preserved_until_ms());
  j["response_note"] = r.response().note();
  j["response_receipt"] = ReceiptLabel(r.response_receipt());
  j["delivery_error"] = r.delivery_error();
  j["overdue"] = r.overdue();
  j["receipt_late"] = r.receipt_late();
  j["state"] = State(r);
  return j;
}

int Send(CommandContext& ctx, const v1::SendCooperationRequestRequest& req) {
  return Unary<v1::SendCooperationRequestRequest, v1::CooperationRecord>(
      ctx, "sending the cooperation request", req,
      [&](grpc::ClientContext* c, const v1::SendCooperationRequestRequest& r,
          v1::CooperationRecord* out) {
        return ctx.stub.SendCooperationRequest(c, r, out);
      },
      CooperationRecordText, RecordJson);
}

int Show(CommandContext& ctx, const v1::GetCooperationRequestRequest& req) {
  return Unary<v1::GetCooperationRequestRequest, v1::CooperationRecord>(
      ctx, "reading cooperation request " + SanitizeForTerminal(req.id()), req,
      [&](grpc::ClientContext* c, const v1::GetCooperationRequestRequest& r,
          v1::CooperationRecord* out) {
        return ctx.stub.GetCooperationRequest(c, r, out);
      },
      CooperationRecordText, RecordJson);
}

int Respond(CommandContext& ctx,
            const v1::RespondToCooperationRequestRequest& req) {
  return Unary<v1::RespondToCooperationRequestRequest, v1::CooperationRecord>(
      ctx, "answering cooperation request " + SanitizeForTerminal(req.id()),
      req,
      [&](grpc::ClientContext* c,
          const v1::RespondToCooperationRequestRequest& r,
          v1::CooperationRecord* out) {
        return ctx.stub.RespondToCooperationRequest(c, r, out);
      },
      CooperationRecordText, RecordJson);
}

int List(CommandContext& ctx, v1::ListCooperationRequestsRequest request) {
  return Paged<v1::ListCooperationRequestsRequest,
               v1::ListCooperationRequestsResponse>(
      ctx, "listing cooperation requests", std::move(request),
      [&](grpc::ClientContext* c, const v1::ListCooperationRequestsRequest& r,
          v1::ListCooperationRequestsResponse* out) {
        return ctx.stub.ListCooperationRequests(c, r, out);
      },
      CooperationListText,
      [](const v1::ListCooperationRequestsResponse& all) {
        Json list = Json::array();
        for (const auto& r : all.requests()) list.push_back(RecordJson(r));
        Json doc;
        doc["requests"] = list;
        return doc;
      });
}

template <typename Request>
absl::StatusOr<CooperationRunner> BindRunner(absl::StatusOr<Request> request,
                                             int (*command)(CommandContext&,
                                                            Request)) {
  if (!request.ok()) return request.status();
  return CooperationRunner(
      [r = *std::move(request), command](CommandContext& ctx) {
        return command(ctx, r);
      });
}

template <typename Request>
absl::StatusOr<CooperationRunner> BindRunner(absl::StatusOr<Request> request,
                                             int (*command)(CommandContext&,
                                                            const Request&)) {
  if (!request.ok()) return request.status();
  return CooperationRunner(
      [r = *std::move(request), command](CommandContext& ctx) {
        return command(ctx, r);
      });
}

}  // namespace

std::string FormatLocalTime(int64_t ms) {
  if (ms == 0) return "";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %Z", &local);
  return buf;
}

void AddCooperationCommands(CLI::App& app, CooperationArgs& a) {
  CLI::App* request = app.add_subcommand(
      "request", "Cooperation requests after a hit: send, list, show");
  request->require_subcommand(1);
  a.send_cmd = request->add_subcommand(
      "send", "Ask the member whose case reference you received");
  a.send_cmd->add_option("--token", a.token, "The hit's case token (cbx hits)")
      ->required()
      ->type_name("HEX");
  a.send_cmd->add_option("--case", a.case_number, "Your own open case")
      ->required()
      ->type_name("NUMBER");
  a.send_cmd
      ->add_option("--type", a.type,
                   "preservation, information, jit or spontaneous")
      ->required()
      ->type_name("TYPE");
  a.send_cmd->add_option("--legal-basis", a.legal_basis, "The legal basis")
      ->required()
      ->type_name("TEXT");
  a.send_cmd->add_option("--platform", a.platform, "Preservation: platform")
      ->type_name("NAME");
  a.send_cmd
      ->add_option("--account", a.accounts,
                   "Preservation: an identifier the hit matched (repeatable)")
      ->type_name("TYPE:VALUE");
  a.send_cmd->add_option("--from", a.from, "Preservation: period start")
      ->type_name("DATE");
  a.send_cmd->add_option("--to", a.to, "Preservation: period end")
      ->type_name("DATE");
  a.send_cmd
      ->add_option("--data", a.data,
                   "Preservation: subscriber,traffic,content,location")
      ->type_name("LIST");
  a.send_cmd->add_option("--note", a.note, kNoteRule)->type_name("TEXT");
  a.list_cmd = request->add_subcommand(
      "list", "Your office's requests, sent and received (newest first)");
  a.list_cmd->add_flag("--overdue", a.overdue, "Only those overdue now");
  a.show_cmd = request->add_subcommand("show", "One request in full");
  a.show_cmd->add_option("id", a.id, "The request's id")->required();
  a.respond_cmd = app.add_subcommand(
      "respond", "Answer a cooperation request your office received");
  a.respond_cmd->add_option("id", a.id, "The request's id")->required();
  a.respond_cmd
      ->add_option("--outcome", a.outcome, "done, partly, refused or mla")
      ->required()
      ->type_name("OUTCOME");
  a.respond_cmd
      ->add_option("--reason", a.reason,
                   "With refused: no-legal-basis, not-competent, "
                   "data-not-held, other")
      ->type_name("REASON");
  a.respond_cmd
      ->add_option("--mla-reference", a.mla_reference,
                   "With mla: the formal MLA channel's reference")
      ->type_name("REF");
  a.respond_cmd
      ->add_option("--preserved-until", a.preserved_until,
                   "Preservation done: until this day (end of day, UTC)")
      ->type_name("DATE");
  a.respond_cmd->add_option("--note", a.note, kNoteRule)->type_name("TEXT");
}

absl::StatusOr<v1::SendCooperationRequestRequest> BuildSendCooperationRequest(
    const CooperationArgs& a, std::string_view home) {
  v1::SendCooperationRequestRequest req;
  absl::StatusOr<Bytes> token = ParseToken(a.token);
  if (!token.ok()) return token.status();
  req.set_case_token(*token);
  req.set_case_number(a.case_number);
  absl::StatusOr<v1::CooperationType> type = ParseType(a.type);
  if (!type.ok()) return type.status();
  req.set_type(*type);
  req.set_legal_basis(a.legal_basis);
  const bool preservation = *type == v1::COOPERATION_TYPE_PRESERVATION;
  if (preservation) {
    absl::StatusOr<v1::PreservationDetails> p = BuildPreservation(a, home);
    if (!p.ok()) return p.status();
    *req.mutable_preservation() = *std::move(p);
  } else if (!a.platform.empty() || !a.accounts.empty() || !a.from.empty() ||
             !a.to.empty() || !a.data.empty()) {
    return Bad("--platform/--account/--from/--to/--data",
               "only for --type preservation");
  }
  if (a.note.size() > 1000 || a.note.find('\n') != std::string::npos) {
    return Bad("--note", kNoteRule);
  }
  req.set_note(a.note);
  return req;
}

absl::StatusOr<v1::RespondToCooperationRequestRequest> BuildRespondRequest(
    const CooperationArgs& a) {
  v1::RespondToCooperationRequestRequest req;
  req.set_id(absl::AsciiStrToLower(a.id));
  if (a.outcome == "done") {
    req.set_outcome(v1::RESPONSE_OUTCOME_DONE);
  } else if (a.outcome == "partly") {
    req.set_outcome(v1::RESPONSE_OUTCOME_PARTLY);
  } else if (a.outcome == "refused") {
    req.set_outcome(v1::RESPONSE_OUTCOME_REFUSED);
  } else if (a.outcome == "mla") {
    req.set_outcome(v1::RESPONSE_OUTCOME_FORWARDED_TO_MLA);
  } else {
    return Bad("--outcome", "one of done, partly, refused, mla");
  }
  if (!a.reason.empty()) {
    if (a.reason == "no-legal-basis") {
      req.set_reason(v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS);
    } else if (a.reason == "not-competent") {
      req.set_reason(v1::RESPONSE_REFUSAL_NOT_COMPETENT);
    } else if (a.reason == "data-not-held") {
      req.set_reason(v1::RESPONSE_REFUSAL_DATA_NOT_HELD);
    } else if (a.reason == "other") {
      req.set_reason(v1::RESPONSE_REFUSAL_OTHER);
    } else {
      return Bad("--reason",
                 "one of no-legal-basis, not-competent, data-not-held, other");
    }
  }
  if ((req.outcome() == v1::RESPONSE_OUTCOME_REFUSED) != !a.reason.empty()) {
    return Bad("--reason", "required with --outcome refused, and only then");
  }
  if ((req.outcome() == v1::RESPONSE_OUTCOME_FORWARDED_TO_MLA) !=
      !a.mla_reference.empty()) {
    return Bad("--mla-reference", "required with --outcome mla, and only then");
  }
  req.set_mla_reference(a.mla_reference);
  if (!a.preserved_until.empty()) {
    absl::StatusOr<int64_t> until =
        ParseDate(a.preserved_until, DateBound::kEnd);
    if (!until.ok()) return Bad("--preserved-until", until.status().message());
    req.set_preserved_until_ms(*until);
  }
  if (a.note.size() > 1000 || a.note.find('\n') != std::string::npos) {
    return Bad("--note", kNoteRule);
  }
  req.set_note(a.note);
  return req;
}

std::optional<absl::StatusOr<CooperationRunner>> ChosenCooperationCommand(
    const CooperationArgs& a, std::string_view home) {
  if (a.send_cmd != nullptr && a.send_cmd->parsed()) {
    return BindRunner(BuildSendCooperationRequest(a, home), &Send);
  }
  if (a.list_cmd != nullptr && a.list_cmd->parsed()) {
    v1::ListCooperationRequestsRequest req;
    req.set_overdue(a.overdue);
    return BindRunner(absl::StatusOr<v1::ListCooperationRequestsRequest>(req),
                      &List);
  }
  if (a.show_cmd != nullptr && a.show_cmd->parsed()) {
    v1::GetCooperationRequestRequest req;
    req.set_id(absl::AsciiStrToLower(a.id));
    return BindRunner(absl::StatusOr<v1::GetCooperationRequestRequest>(req),
                      &Show);
  }
  if (a.respond_cmd != nullptr && a.respond_cmd->parsed()) {
    return BindRunner(BuildRespondRequest(a), &Respond);
  }
  return std::nullopt;
}

std::string CooperationRecordText(const v1::CooperationRecord& r) {
  std::ostringstream out;
  const bool sent = r.direction() == v1::COOPERATION_DIRECTION_SENT;
  out << "request " << r.id() << (sent ? " sent to " : " received from ")
      << SanitizeForTerminal(r.peer());
  if (!r.peer_office().empty()) {
    out << " (" << SanitizeForTerminal(r.peer_office()) << ")";
  }
  out << "\n";
  out << "  type:        " << TypeLabel(r.request().type()) << "\n";
  out << "  our case:    " << SanitizeForTerminal(r.case_number()) << "\n";
  out << "  legal basis: " << SanitizeForTerminal(r.request().legal_basis())
      << "\n";
  if (r.request().has_preservation()) {
    const v1::PreservationDetails& p = r.request().preservation();
    out << "  preserve:    " << SanitizeForTerminal(p.platform()) << ", "
        << FormatDate(p.period_from_ms()) << ".."
        << FormatDate(p.period_to_ms()) << ",";
    for (int c : p.data_categories()) {
      out << " " << absl::AsciiStrToLower(v1::DataCategory_Name(c).substr(14));
    }
    out << "\n";
  }
  if (!r.request().note().empty()) {
    out << "  note:        " << SanitizeForTerminal(r.request().note()) << "\n";
  }
  out << "  requested:   " << FormatLocalTime(r.requested_at_ms()) << "\n";
  if (r.request().response_due_ms() != 0) {
    out << "  due:         " << FormatLocalTime(r.request().response_due_ms())
        << (r.overdue() ? "  OVERDUE" : "") << "\n";
  }
  if (r.has_receipt()) {
    out << "  receipt:     " << ReceiptLabel(r.receipt()) << " at "
        << FormatLocalTime(r.receipt().received_at_ms())
        << (r.receipt_late() ? " (late)" : "") << "\n";
  }
  if (r.has_response()) {
    out << "  response:    " << ResponseLabel(r.response()) << " at "
        << FormatLocalTime(r.responded_at_ms()) << "\n";
    if (r.response().preserved_until_ms() != 0) {
      out << "  preserved until "
          << FormatLocalTime(r.response().preserved_until_ms()) << "\n";
    }
    if (!r.response().note().empty()) {
      out << "  response note: " << SanitizeForTerminal(r.response().note())
          << "\n";
    }
    if (r.has_response_receipt()) {
      out << "  acknowledged: " << ReceiptLabel(r.response_receipt()) << "\n";
    }
  }
  if (!r.delivery_error().empty()) {
    out << "  not delivered: " << SanitizeForTerminal(r.delivery_error())
        << "\n";
  }
  return out.str();
}

std::string CooperationListText(
    const v1::ListCooperationRequestsResponse& list) {
  if (list.requests().empty()) return "no cooperation requests\n";
  std::ostringstream out;
  for (const v1::CooperationRecord& r : list.requests()) {
    const bool sent = r.direction() == v1::COOPERATION_DIRECTION_SENT;
    out << r.id() << "  " << (sent ? "to   " : "from ")
        << SanitizeForTerminal(r.peer()) << "  "
        << TypeLabel(r.request().type()) << "  "
        << SanitizeForTerminal(r.case_number()) << "  due "
        << (r.request().response_due_ms() == 0
                ? std::string("-")
                : FormatLocalTime(r.request().response_due_ms()))
        << "  " << State(r) << (r.overdue() ? "  OVERDUE" : "") << "\n";
  }
  return out.str();
}

}  // namespace cbx::client
