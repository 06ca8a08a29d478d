#include "client/office_commands.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/json_output.h"
#include "client/rpc_calls.h"
#include "client/strings.h"
#include "client/table.h"
#include "client/time_format.h"
#include "grpcpp/client_context.h"

namespace cbx::client {

absl::StatusOr<OfficeIdentity> ParseOfficeIdentity(const std::string& uri) {
  constexpr std::string_view kPrefix = "spiffe://cbx/office/";
  if (!std::string_view(uri).starts_with(kPrefix)) {
    return absl::InvalidArgumentError("not an office URI: " + uri);
  }
  const absl::string_view rest = absl::string_view(uri).substr(kPrefix.size());
  const std::vector<std::string> parts =
      absl::StrSplit(rest, absl::ByChar('/'));
  const bool person_form = parts.size() == 5 && parts[3] == "person";
  if (parts.size() != 3 && !person_form) {
    return absl::InvalidArgumentError(absl::StrCat(
        "office URI ", uri,
        " is not spiffe://cbx/office/<CC>/<office>/<role>[/person/<id>]"));
  }
  OfficeIdentity id{parts[0], parts[1], parts[2], person_form ? parts[4] : ""};
  return id;
}

absl::StatusOr<std::string> WhoAmI(const std::vector<std::string>& uris,
                                   bool json) {
  for (const std::string& uri : uris) {
    if (!uri.starts_with("spiffe://cbx/office/")) continue;
    absl::StatusOr<OfficeIdentity> id = ParseOfficeIdentity(uri);
    if (!id.ok()) return id.status();
    if (json) {
      Json j;
      j["country"] = id->country;
      j["office"] = id->country + "/" + id->office;
      j["role"] = id->role;
      j["person"] = id->person;
      j["uri"] = uri;
      return JsonLine(j);
    }
    return absl::StrCat(
        "office  ", SanitizeForTerminal(id->country + "/" + id->office), "\n",
        "role    ", SanitizeForTerminal(id->role), "\n", "person  ",
        id->person.empty()
            ? std::string("(none: a role-only certificate; the audit log "
                          "records no person)")
            : SanitizeForTerminal(id->person),
        "\n");
  }
  return absl::InvalidArgumentError(
      "the certificate names no office (expected a URI SAN "
      "spiffe://cbx/office/<CC>/<office>/<role>[/person/<id>])");
}

std::string CountsText(const v1::GetCountsResponse& response) {
  if (response.offices().empty()) return "no office holds anything\n";
  Table table({"OFFICE", "CASES OPEN", "CLOSED", "HITS", "INBOX",
               "REQUESTS SENT", "RECEIVED", "OVERDUE", "WATCHES"});
  for (const v1::OfficeCounts& c : response.offices()) {
    table.AddRow({SanitizeForTerminal(c.office()),
                  std::to_string(c.cases_open()),
                  std::to_string(c.cases_closed()), std::to_string(c.hits()),
                  std::to_string(c.inbox()), std::to_string(c.requests_sent()),
                  std::to_string(c.requests_received()),
                  std::to_string(c.requests_overdue()),
                  std::to_string(c.watches())});
  }
  return table.Render();
}

namespace {

Json CountsDocument(const v1::GetCountsResponse& response) {
  Json offices = Json::array();
  for (const v1::OfficeCounts& c : response.offices()) {
    Json o;
    o["office"] = c.office();
    o["cases_open"] = c.cases_open();
    o["cases_closed"] = c.cases_closed();
    o["hits"] = c.hits();
    o["inbox"] = c.inbox();
    o["requests_sent"] = c.requests_sent();
    o["requests_received"] = c.requests_received();
    o["requests_overdue"] = c.requests_overdue();
    o["watches"] = c.watches();
    offices.push_back(std::move(o));
  }
  Json j;
  j["offices"] = std::move(offices);
  j["counted_at_ms"] = response.counted_at_ms();
  return j;
}

}  // namespace

std::string CountsJson(const v1::GetCountsResponse& response) {
  return JsonLine(CountsDocument(response));
}

int GetCounts(CommandContext& ctx, const v1::GetCountsRequest& request) {
  return Unary<v1::GetCountsRequest, v1::GetCountsResponse>(
      ctx, "counting the offices' items", request,
      [&](grpc::ClientContext* c, const v1::GetCountsRequest& r,
          v1::GetCountsResponse* out) { return ctx.stub.GetCounts(c, r, out); },
      &CountsText, &CountsDocument);
}

}  // namespace cbx::client
