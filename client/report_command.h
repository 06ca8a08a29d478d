// `cbx report --month YYYY-MM [--json | --html FILE]`: the node's signed
// transparency report of a month (Office.GetReport, auditor role;
// spec/cooperation.md §7), printed as a table, as JSON (with the signed
// bytes, for `cbx audit report --signed`), or written as one
// self-contained HTML page.
//
// Threading: like the rest of the CLI, one thread.
#ifndef CBX_CLIENT_REPORT_COMMAND_H_
#define CBX_CLIENT_REPORT_COMMAND_H_

#include <functional>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "client/commands.h"

namespace cbx::client {

// What the parser fills in; must not move once AddReportCommand ran.
struct ReportArgs {
  std::string month;
  std::string html_path;  // --html FILE
  CLI::App* cmd = nullptr;
};

// Adds `cbx report` to `app`.
void AddReportCommand(CLI::App& app, ReportArgs& args);

// The command if the parser reached it; nullopt otherwise; INVALID_ARGUMENT
// naming the argument (a malformed month, --html over an existing file;
// nothing is sent then).
std::optional<absl::StatusOr<std::function<int(CommandContext&)>>>
ChosenReportCommand(const ReportArgs& args);

// Asks the node and prints or writes the report: kExitOk, or kExitFailed
// having printed why.
int GetReport(CommandContext& ctx, const std::string& month,
              const std::string& html_path);

}  // namespace cbx::client

#endif  // CBX_CLIENT_REPORT_COMMAND_H_
