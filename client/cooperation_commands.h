// `cbx request send | list | show` and `cbx respond` (spec/cooperation.md,
// spec/office-api.md §4.9): the cooperation commands' arguments, their
// conversion into Office requests (checked before anything is sent), the
// calls, and their output. Deadlines and times are shown in the local time
// zone (TZ), as an office reads them. Registered in the command tree by
// cli.cc; not thread-safe (one command per process).
#ifndef CBX_CLIENT_COOPERATION_COMMANDS_H_
#define CBX_CLIENT_COOPERATION_COMMANDS_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "client/commands.h"

namespace cbx::client {

// What the cooperation commands parse into. CLI11 keeps pointers into it:
// it must not move once registered.
struct CooperationArgs {
  // request send
  std::string token;  // 32 hex digits
  std::string case_number;
  std::string type;  // preservation | information | jit | spontaneous
  std::string legal_basis;
  std::string platform;
  std::vector<std::string> accounts;  // TYPE:VALUE
  std::string from;                   // YYYY-MM-DD
  std::string to;
  std::string data;  // subscriber,traffic,content,location
  std::string note;
  // request list / show
  bool overdue = false;
  std::string id;
  // respond
  std::string outcome;  // done | partly | refused | mla
  std::string reason;   // no-legal-basis | not-competent | data-not-held | other
  std::string mla_reference;
  std::string preserved_until;  // YYYY-MM-DD

  CLI::App* send_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* show_cmd = nullptr;
  CLI::App* respond_cmd = nullptr;
};

// Adds `request` (send, list, show) and `respond` to `app`.
void AddCooperationCommands(CLI::App& app, CooperationArgs& args);

// The command `args` holds if the parser reached one of them: the call to
// make with its converted request, or INVALID_ARGUMENT naming the argument
// to fix; nullopt if none of them was reached. `home`: the office's member
// code ("" unknown), for identifier hints.
using CooperationRunner = std::function<int(CommandContext&)>;
std::optional<absl::StatusOr<CooperationRunner>> ChosenCooperationCommand(
    const CooperationArgs& args, std::string_view home);

// The conversions, for tests.
absl::StatusOr<v1::SendCooperationRequestRequest> BuildSendCooperationRequest(
    const CooperationArgs& args, std::string_view home);
absl::StatusOr<v1::RespondToCooperationRequestRequest> BuildRespondRequest(
    const CooperationArgs& args);

// "2026-03-14 10:26 CET": `ms` in the local time zone; "" for 0.
std::string FormatLocalTime(int64_t ms);
// A record as `cbx request show` prints it, and a listing as `cbx request
// list` does (one line per record).
std::string CooperationRecordText(const v1::CooperationRecord& r);
std::string CooperationListText(
    const v1::ListCooperationRequestsResponse& list);

}  // namespace cbx::client

#endif  // CBX_CLIENT_COOPERATION_COMMANDS_H_
