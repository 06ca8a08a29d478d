// `cbx watch add | list | remove | renew`: an office's standing watches
// (spec/cooperation.md §4, spec/office-api.md "Standing watches"). The
// command tree's part (CLI11 options) and the four Office calls, each
// printing its answer as text or JSON.
//
// Threading: like the rest of the CLI, one thread.
#ifndef CBX_CLIENT_WATCH_COMMANDS_H_
#define CBX_CLIENT_WATCH_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "client/arguments.h"
#include "client/commands.h"

namespace cbx::client {

// What the watch commands parse into. CLI11 keeps pointers into it: it
// must not move once AddWatchCommands ran.
struct WatchCommands {
  QueryArgs add;           // --id, --case, --legal-basis, --offence, --peer
  uint32_t days = 0;       // add and renew
  std::string watch_id;    // remove, renew
  std::string case_number;  // renew
  std::string legal_basis;  // renew
  std::string offence;      // renew

  CLI::App* add_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* remove_cmd = nullptr;
  CLI::App* renew_cmd = nullptr;
};

// Adds `cbx watch ...` to `app`.
void AddWatchCommands(CLI::App& app, WatchCommands& w);

// The watch command the parser reached, ready to run on a connection;
// nullopt if it reached none; INVALID_ARGUMENT naming the argument that is
// wrong (nothing is sent then). `home` is the office's member code ("" if
// unknown), for identifier hints as in `cbx query`.
std::optional<absl::StatusOr<std::function<int(CommandContext&)>>>
ChosenWatchCommand(const WatchCommands& w, std::string_view home);

// The Office calls; each returns kExitOk or, having printed the error,
// kExitFailed.
int AddWatch(CommandContext& ctx, const v1::AddWatchRequest& request);
int ListWatches(CommandContext& ctx, const v1::ListWatchesRequest& request);
int RemoveWatch(CommandContext& ctx, const v1::RemoveWatchRequest& request);
int RenewWatch(CommandContext& ctx, const v1::RenewWatchRequest& request);

// The text and JSON forms of a watch listing (for tests).
std::string WatchesText(const v1::ListWatchesResponse& response);
std::string WatchesJson(const v1::ListWatchesResponse& response);

}  // namespace cbx::client

#endif  // CBX_CLIENT_WATCH_COMMANDS_H_
