// The CLI's --json output: one JSON document per command, and for a query
// one JSON object per streamed event (JSON Lines). The schema is in
// spec/office-api.md ("JSON output"): enums as the CLI's own short names
// (codes, not labels), bytes as lower-case hex, times as UTC ISO 8601
// strings (null when not set).
#ifndef CBX_CLIENT_JSON_OUTPUT_H_
#define CBX_CLIENT_JSON_OUTPUT_H_

#include "cbx/v1/office.pb.h"
#include "client/offence_labels.h"
#include "nlohmann/json.hpp"

namespace cbx::client {

using Json = nlohmann::ordered_json;

Json OffenceJson(const v1::Offence& offence, Lang lang);
Json CaseReferenceJson(const v1::CaseReference& ref, Lang lang);
Json CaseJson(const v1::Case& c, Lang lang);
// {"cases": [...]}
Json CaseListJson(const v1::ListCasesResponse& response, Lang lang);
// {"event": "answer", ...} / {"event": "summary", ...}
Json PeerAnswerJson(const v1::PeerAnswer& answer, Lang lang);
Json QuerySummaryJson(const v1::QuerySummary& summary);
// {"hits": [...]}
Json HitsJson(const v1::ListHitsResponse& response, Lang lang);
// {"notifications": [...]}
Json InboxJson(const v1::ListInboxResponse& response, Lang lang);
// {"directory_version": N, "self": "MK", "peers": [...]}
Json PeersJson(const v1::ListPeersResponse& response);

// The document as printed: compact, one line, then '\n'. Invalid UTF-8 in a
// string is replaced (U+FFFD) rather than aborting the output.
std::string JsonLine(const Json& doc);

}  // namespace cbx::client

#endif  // CBX_CLIENT_JSON_OUTPUT_H_
