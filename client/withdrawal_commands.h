// `cbx withdrawals [--pending]`: the withdrawals of the office's closed
// cases, per peer (Office.ListWithdrawals, spec/cooperation.md §2.4,
// spec/office-api.md §4.16): pending with the next attempt and when it is
// given up, delivered with the peer's deletion receipt (its time and
// outcome), or undelivered.
//
// Threading: like the rest of the CLI, one thread.
#ifndef CBX_CLIENT_WITHDRAWAL_COMMANDS_H_
#define CBX_CLIENT_WITHDRAWAL_COMMANDS_H_

#include <functional>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "client/commands.h"

namespace cbx::client {

// What `cbx withdrawals` parses into. CLI11 keeps pointers into it: it must
// not move once AddWithdrawalsCommand ran.
struct WithdrawalArgs {
  bool pending = false;
  CLI::App* cmd = nullptr;
};

// Adds `cbx withdrawals` to `app`.
void AddWithdrawalsCommand(CLI::App& app, WithdrawalArgs& args);

// The command, ready to run on a connection, if the parser reached it.
std::optional<absl::StatusOr<std::function<int(CommandContext&)>>>
ChosenWithdrawalsCommand(const WithdrawalArgs& args);

// Office.ListWithdrawals: prints the listing; kExitOk, or having printed
// the error kExitFailed.
int ListWithdrawals(CommandContext& ctx,
                    const v1::ListWithdrawalsRequest& request);

// The text (a table at most 100 columns wide, then each row's last error)
// and JSON forms of the listing (for tests).
std::string WithdrawalsText(const v1::ListWithdrawalsResponse& response);
std::string WithdrawalsJson(const v1::ListWithdrawalsResponse& response);

}  // namespace cbx::client

#endif  // CBX_CLIENT_WITHDRAWAL_COMMANDS_H_
