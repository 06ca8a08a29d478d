#include "client/watch_commands.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/connection.h"
#include "client/json_output.h"
#include "client/names.h"
#include "client/offence_labels.h"
#include "client/rpc_calls.h"
#include "client/strings.h"
#include "client/table.h"
#include "client/text_output.h"
#include "client/time_format.h"
#include "grpcpp/client_context.h"

namespace cbx::client {
namespace {

using Runner = std::function<int(CommandContext&)>;

constexpr uint32_t kDayS = 86'400;

absl::Status OptionError(const std::string& option, const std::string& why) {
  return absl::InvalidArgumentError(option + ": " + why);
}

template <typename Request>
absl::StatusOr<Runner> Bind(absl::StatusOr<Request> request,
                            int (*command)(CommandContext&, const Request&)) {
  if (!request.ok()) return request.status();
  return Runner([request = *std::move(request), command](CommandContext& ctx) {
    return command(ctx, request);
  });
}

absl::StatusOr<uint32_t> DurationS(uint32_t days) {
  if (days == 0) return OptionError("--days", "give how many days to watch");
  if (days > 3650) return OptionError("--days", "at most 3650");
  return days * kDayS;
}

absl::StatusOr<v1::AddWatchRequest> BuildAdd(const WatchCommands& w,
                                             std::string_view home) {
  absl::StatusOr<v1::QueryRequest> query = BuildQueryRequest(w.add, home);
  if (!query.ok()) return query.status();
  absl::StatusOr<uint32_t> duration = DurationS(w.days);
  if (!duration.ok()) return duration.status();
  v1::AddWatchRequest request;
  *request.mutable_identifiers() = query->identifiers();
  *request.mutable_purpose() = query->purpose();
  *request.mutable_peers() = query->peers();
  request.set_duration_s(*duration);
  return request;
}

absl::StatusOr<v1::RenewWatchRequest> BuildRenew(const WatchCommands& w) {
  v1::RenewWatchRequest request;
  request.set_watch_id(w.watch_id);
  if (absl::Status s = ValidateCaseNumber(w.case_number); !s.ok()) {
    return OptionError("--case", std::string(s.message()));
  }
  if (w.legal_basis.empty()) {
    return OptionError("--legal-basis", "give the renewal's legal basis");
  }
  absl::StatusOr<v1::OffenceCode> code = ParseOffenceCodeName(w.offence);
  if (!code.ok())
    return OptionError("--offence", std::string(code.status().message()));
  v1::Purpose& purpose = *request.mutable_purpose();
  purpose.set_case_number(w.case_number);
  purpose.set_legal_basis(w.legal_basis);
  purpose.set_offence(*code);
  absl::StatusOr<uint32_t> duration = DurationS(w.days);
  if (!duration.ok()) return duration.status();
  request.set_duration_s(*duration);
  return request;
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& v) {
  if (v.empty()) return "-";
  return SanitizeForTerminal(absl::StrJoin(v, ","));
}

Json WatchJson(const v1::Watch& w) {
  Json j;
  j["watch_id"] = w.watch_id();
  j["office"] = w.office();
  j["case_number"] = w.purpose().case_number();
  j["legal_basis"] = w.purpose().legal_basis();
  j["offence"] = OffenceCodeName(w.purpose().offence());
  Json types = Json::array();
  for (int t : w.identifier_types()) {
    types.push_back(IdentifierTypeName(static_cast<v1::IdentifierType>(t)));
  }
  j["identifier_types"] = std::move(types);
  j["created_at"] = FormatTimestamp(w.created_at_ms());
  j["expires_at"] = FormatTimestamp(w.expires_at_ms());
  j["renewed_at"] = w.renewed_at_ms() == 0
                        ? Json()
                        : Json(FormatTimestamp(w.renewed_at_ms()));
  j["peers"] = std::vector<std::string>(w.peers().begin(), w.peers().end());
  j["needs_refresh"] = std::vector<std::string>(w.needs_refresh().begin(),
                                                w.needs_refresh().end());
  j["hits"] = w.hits();
  return j;
}

std::string WatchText(const v1::Watch& w) {
  std::string out = absl::StrCat(
      "watch ", SanitizeForTerminal(w.watch_id()), " for case ",
      SanitizeForTerminal(w.purpose().case_number()), ": ",
      w.identifier_types_size(), " identifier(s) at ", Joined(w.peers()),
      " until ", FormatTimestamp(w.expires_at_ms()), "\n");
  if (!w.needs_refresh().empty()) {
    absl::StrAppend(&out, "needs refresh at ", Joined(w.needs_refresh()),
                    " (their OPRF key changed: add the watch again)\n");
  }
  return out;
}

}  // namespace

void AddWatchCommands(CLI::App& app, WatchCommands& w) {
  CLI::App* watch = app.add_subcommand(
      "watch",
      "Keep identifiers under watch: each new index version of a "
      "peer is tested again, locally");
  watch->require_subcommand(1);
  w.add_cmd = watch->add_subcommand(
      "add", "Watch these identifiers for one of your open cases");
  w.add_cmd->add_option("--id", w.add.ids, "As --id of cbx query; repeatable")
      ->allow_extra_args(false)
      ->required()
      ->type_name("TYPE[@WINDOW]:VALUE");
  w.add_cmd->add_option("--case", w.add.case_number, "Your open case")
      ->required()
      ->type_name("NUMBER");
  w.add_cmd
      ->add_option("--legal-basis,--purpose", w.add.legal_basis,
                   "Legal basis of the watch's evaluations and resolves")
      ->required()
      ->type_name("TEXT");
  w.add_cmd->add_option("--offence", w.add.offence, "Offence code")
      ->required()
      ->type_name("CODE");
  w.add_cmd
      ->add_option("--peer", w.add.peers,
                   "Watch only at this member (repeatable); default every "
                   "active peer")
      ->allow_extra_args(false)
      ->type_name("CC");
  w.add_cmd
      ->add_option("--days", w.days,
                   "How long to watch (at most the policy's watch_max_s)")
      ->required()
      ->type_name("N");
  w.list_cmd = watch->add_subcommand("list", "Your office's watches");
  w.remove_cmd = watch->add_subcommand(
      "remove", "End a watch: it and what it kept are deleted");
  w.remove_cmd->add_option("ID", w.watch_id, "The watch id")->required();
  w.renew_cmd =
      watch->add_subcommand("renew", "Extend a watch, with a new purpose");
  w.renew_cmd->add_option("ID", w.watch_id, "The watch id")->required();
  w.renew_cmd->add_option("--case", w.case_number, "Your open case")
      ->required()
      ->type_name("NUMBER");
  w.renew_cmd
      ->add_option("--legal-basis,--purpose", w.legal_basis,
                   "The renewal's legal basis (a new purpose is required)")
      ->required()
      ->type_name("TEXT");
  w.renew_cmd->add_option("--offence", w.offence, "Offence code")
      ->required()
      ->type_name("CODE");
  w.renew_cmd->add_option("--days", w.days, "How long from now")
      ->required()
      ->type_name("N");
}

std::optional<absl::StatusOr<Runner>> ChosenWatchCommand(
    const WatchCommands& w, std::string_view home) {
  if (w.add_cmd == nullptr) return std::nullopt;
  if (w.add_cmd->parsed()) return Bind(BuildAdd(w, home), &AddWatch);
  if (w.list_cmd->parsed()) {
    return Bind(
        absl::StatusOr<v1::ListWatchesRequest>(v1::ListWatchesRequest()),
        &ListWatches);
  }
  if (w.remove_cmd->parsed()) {
    v1::RemoveWatchRequest request;
    request.set_watch_id(w.watch_id);
    return Bind(absl::StatusOr<v1::RemoveWatchRequest>(request), &RemoveWatch);
  }
  if (w.renew_cmd->parsed()) return Bind(BuildRenew(w), &RenewWatch);
  return std::nullopt;
}

int AddWatch(CommandContext& ctx, const v1::AddWatchRequest& request) {
  return Unary<v1::AddWatchRequest, v1::AddWatchResponse>(
      ctx, "adding a watch", request,
      [&](grpc::ClientContext* c, const v1::AddWatchRequest& r,
          v1::AddWatchResponse* out) { return ctx.stub.AddWatch(c, r, out); },
      [&](const v1::AddWatchResponse& r) {
        std::string out = "added " + WatchText(r.watch());
        for (const v1::PeerAnswer& a : r.answers()) {
          out += PeerAnswerText(a, ctx.lang);
        }
        return out;
      },
      [&](const v1::AddWatchResponse& r) {
        Json j;
        j["watch"] = WatchJson(r.watch());
        Json answers = Json::array();
        for (const v1::PeerAnswer& a : r.answers()) {
          answers.push_back(PeerAnswerJson(a, ctx.lang));
        }
        j["answers"] = std::move(answers);
        return j;
      });
}

std::string WatchesText(const v1::ListWatchesResponse& response) {
  if (response.watches().empty()) return "no watches\n";
  Table table({"WATCH", "CASE", "IDENTIFIERS", "PEERS", "NEEDS REFRESH", "HITS",
               "EXPIRES"});
  for (const v1::Watch& w : response.watches()) {
    table.AddRow({SanitizeForTerminal(w.watch_id()),
                  SanitizeForTerminal(w.purpose().case_number()),
                  std::to_string(w.identifier_types_size()), Joined(w.peers()),
                  Joined(w.needs_refresh()), std::to_string(w.hits()),
                  FormatTimestamp(w.expires_at_ms())});
  }
  return table.Render();
}

namespace {

Json WatchesDocument(const v1::ListWatchesResponse& response) {
  Json watches = Json::array();
  for (const v1::Watch& w : response.watches()) watches.push_back(WatchJson(w));
  Json j;
  j["watches"] = std::move(watches);
  return j;
}

}  // namespace

std::string WatchesJson(const v1::ListWatchesResponse& response) {
  return JsonLine(WatchesDocument(response));
}

int ListWatches(CommandContext& ctx, const v1::ListWatchesRequest& request) {
  return Unary<v1::ListWatchesRequest, v1::ListWatchesResponse>(
      ctx, "listing watches", request,
      [&](grpc::ClientContext* c, const v1::ListWatchesRequest& r,
          v1::ListWatchesResponse* out) {
        return ctx.stub.ListWatches(c, r, out);
      },
      &WatchesText, &WatchesDocument);
}

int RemoveWatch(CommandContext& ctx, const v1::RemoveWatchRequest& request) {
  return Unary<v1::RemoveWatchRequest, v1::Watch>(
      ctx, "removing watch " + SanitizeForTerminal(request.watch_id()), request,
      [&](grpc::ClientContext* c, const v1::RemoveWatchRequest& r,
          v1::Watch* out) { return ctx.stub.RemoveWatch(c, r, out); },
      [](const v1::Watch& w) { return "removed " + WatchText(w); },
      [](const v1::Watch& w) { return WatchJson(w); });
}

int RenewWatch(CommandContext& ctx, const v1::RenewWatchRequest& request) {
  return Unary<v1::RenewWatchRequest, v1::Watch>(
      ctx, "renewing watch " + SanitizeForTerminal(request.watch_id()), request,
      [&](grpc::ClientContext* c, const v1::RenewWatchRequest& r,
          v1::Watch* out) { return ctx.stub.RenewWatch(c, r, out); },
      [](const v1::Watch& w) { return "renewed " + WatchText(w); },
      [](const v1::Watch& w) { return WatchJson(w); });
}

}  // namespace cbx::client
