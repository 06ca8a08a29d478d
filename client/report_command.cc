#include "client/report_command.h"

#include <filesystem>

#include "client/audit/report_output.h"
#include "client/audit_files.h"
#include "client/connection.h"
#include "client/json_output.h"
#include "core/report/report.h"
#include "grpcpp/client_context.h"

namespace cbx::client {

void AddReportCommand(CLI::App& app, ReportArgs& args) {
  args.cmd = app.add_subcommand(
      "report",
      "Auditors: the node's signed transparency report of a month "
      "(aggregates only; counts under the policy's minimum shown as <5)");
  args.cmd->add_option("--month", args.month, "The month, UTC")
      ->required()
      ->type_name("YYYY-MM");
  args.cmd
      ->add_option("--html", args.html_path,
                   "Write one self-contained HTML page with charts to FILE")
      ->type_name("FILE");
}

std::optional<absl::StatusOr<std::function<int(CommandContext&)>>>
ChosenReportCommand(const ReportArgs& args) {
  using Runner = std::function<int(CommandContext&)>;
  if (args.cmd == nullptr || !args.cmd->parsed()) return std::nullopt;
  absl::StatusOr<report::Month> month = report::ParseMonth(args.month);
  if (!month.ok()) {
    return absl::StatusOr<Runner>(absl::InvalidArgumentError(
        "--month: want YYYY-MM, for example 2026-03"));
  }
  std::error_code ec;
  if (!args.html_path.empty() && std::filesystem::exists(args.html_path, ec)) {
    return absl::StatusOr<Runner>(absl::InvalidArgumentError(
        "--html " + args.html_path + " exists; choose another name"));
  }
  return absl::StatusOr<Runner>(
      Runner([month = args.month, html = args.html_path](CommandContext& ctx) {
        return GetReport(ctx, month, html);
      }));
}

int GetReport(CommandContext& ctx, const std::string& month,
              const std::string& html_path) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  v1::GetReportRequest request;
  request.set_month(month);
  v1::SignedReport signed_;
  grpc::Status status = ctx.stub.GetReport(&rpc, request, &signed_);
  if (!status.ok()) {
    ctx.err << DescribeRpcError("getting the report of " + month, status,
                                ctx.settings, ctx.technical(), ctx.lang)
            << std::flush;
    return kExitFailed;
  }
  v1::Report report;
  if (!report.ParseFromString(signed_.report())) {
    ctx.err << "cbx: report: the node's report does not parse\n" << std::flush;
    return kExitFailed;
  }
  if (!html_path.empty()) {
    absl::Status written =
        audit::WriteFileAtomically(html_path, audit::ReportHtml(report), 0644);
    if (!written.ok()) {
      ctx.err << "cbx: report: " << written.message() << "\n" << std::flush;
      return kExitFailed;
    }
  }
  if (ctx.json) {
    ctx.out << audit::ReportJson(report, &signed_);
  } else {
    ctx.out << audit::ReportText(report);
    if (!html_path.empty()) ctx.out << "wrote " << html_path << "\n";
  }
  ctx.out << std::flush;
  return kExitOk;
}

}  // namespace cbx::client
