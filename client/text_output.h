// The CLI's default, human-readable output: aligned tables and field
// blocks, times in UTC ISO 8601, offences as labels in the chosen language.
// Every function is pure and returns complete lines ending in '\n'.
#ifndef CBX_CLIENT_TEXT_OUTPUT_H_
#define CBX_CLIENT_TEXT_OUTPUT_H_

#include <cstddef>
#include <functional>
#include <string>

#include "cbx/v1/office.pb.h"
#include "client/offence_labels.h"

namespace cbx::client {

// One case as a block of fields (after case add, amend, close).
std::string CaseText(const v1::Case& c, Lang lang);
// Tables fit in `width` characters (0: as wide as their text; the CLI
// gives kTableWidth unless --wide), the widest columns cut with '…'.
inline constexpr size_t kTableWidth = 100;

// The office's cases as a table; "no cases" when there are none.
std::string CaseListText(const v1::ListCasesResponse& response, Lang lang,
                         size_t width = 0);

// Where the office gave the identifier at a query's input_index, as a hit
// shows it: "your --id 3" by default, "line 17 of contacts.txt" for a bulk
// check (bulk_query.h).
using InputName = std::function<std::string(int input_index)>;

// One streamed answer of a query: a status line per peer ("RS  HIT  212 ms")
// and, for a hit, a field block per case reference. `input` names the
// matched identifiers (null: "your --id N").
std::string PeerAnswerText(const v1::PeerAnswer& answer, Lang lang,
                           const InputName* input = nullptr);
// The closing line of a query.
std::string QuerySummaryText(const v1::QuerySummary& summary);
// After a query with misses: which identifier types were asked ("types
// asked: telegram_username, phone"), and a note when a Telegram username
// or chat was asked as one type only (--both-types asks both). "" without
// misses.
std::string TypesAskedText(const v1::QueryRequest& request,
                           const v1::QuerySummary& summary);

// After a query with misses from index copies older than expected
// (QuerySummary.stale_index_members): one warning line naming them; ""
// otherwise.
std::string StaleIndexText(const v1::QuerySummary& summary, Lang lang);

// `cbx hits --all`: one row per hit, newest first, with the matched values
// (HitMatch) and the query id.
std::string HitsText(const v1::ListHitsResponse& response, Lang lang,
                     size_t width = 0);
// `cbx hits`: one row per peer case (client/hit_groups.h) with the
// identifiers that matched it and the queries that found it; a matched
// identifier whose windows are disjoint is marked '!' and explained in a
// footnote under the table.
std::string GroupedHitsText(const v1::ListHitsResponse& response, Lang lang,
                            size_t width = 0);
std::string InboxText(const v1::ListInboxResponse& response, Lang lang,
                      size_t width = 0);
std::string PeersText(const v1::ListPeersResponse& response, size_t width = 0);

}  // namespace cbx::client

#endif  // CBX_CLIENT_TEXT_OUTPUT_H_
