// The CLI's commands once their arguments are converted: each makes one
// Office call (Query: one stream), prints the answer as text or JSON, and
// returns the process exit code.
//
// Exit codes: 0 done (for a query, also when some peers failed: their errors
// are part of the answer); 1 the call failed (the node refused it, could not
// be reached, or broke off a query stream). Usage errors (2) never get here.
#ifndef CBX_CLIENT_COMMANDS_H_
#define CBX_CLIENT_COMMANDS_H_

#include <ostream>

#include "cbx/v1/office.grpc.pb.h"
#include "client/connection.h"
#include "client/offence_labels.h"
#include "client/text_output.h"

namespace cbx::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// What a command needs besides its request. Not owned; used on one thread.
struct CommandContext {
  v1::Office::StubInterface& stub;
  const ConnectionSettings& settings;
  bool json = false;
  Lang lang = Lang::kEn;
  std::ostream& out;
  std::ostream& err;
  // --verbose: errors also show the gRPC code and text (as --json does).
  bool verbose = false;
  // --wide: tables as wide as their text, else they fit kTableWidth.
  bool wide = false;
  size_t table_width() const { return wide ? 0 : kTableWidth; }
  // Whether an error shows its gRPC code and text.
  bool technical() const { return json || verbose; }
};

int AddCase(CommandContext& ctx, const v1::AddCaseRequest& request);
int AmendCase(CommandContext& ctx, const v1::AmendCaseRequest& request);
int CloseCase(CommandContext& ctx, const v1::CloseCaseRequest& request);
int ListCases(CommandContext& ctx, const v1::ListCasesRequest& request);
// Prints each peer's answer as it arrives (flushed at once), then the
// summary. With --json, one JSON object per event (JSON Lines).
int Query(CommandContext& ctx, const v1::QueryRequest& request);
// One row per peer case (GroupedHitsText); with `all`, one per hit
// (HitsText). --json is the same either way: every hit.
int ListHits(CommandContext& ctx, const v1::ListHitsRequest& request,
             bool all = false);
// As ListHits, showing only the hits whose reference was withdrawn
// (cbx hits --withdrawn).
int ListWithdrawnHits(CommandContext& ctx, const v1::ListHitsRequest& request);
int ListInbox(CommandContext& ctx, const v1::ListInboxRequest& request);
int ListPeers(CommandContext& ctx, const v1::ListPeersRequest& request);

}  // namespace cbx::client

#endif  // CBX_CLIENT_COMMANDS_H_
