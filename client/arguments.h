// Command-line arguments to Office API requests. Everything here is a pure
// function: it checks what the user typed and either builds the request or
// returns INVALID_ARGUMENT whose message names the option and says what to
// fix. Nothing is sent unless every argument converts.
#ifndef CBX_CLIENT_ARGUMENTS_H_
#define CBX_CLIENT_ARGUMENTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"

namespace cbx::client {

// CODE[+attempted][+ai][+minor]: a short offence name (offence_labels.h) and
// any of the three parameters, each at most once, in any order.
absl::StatusOr<v1::Offence> ParseOffenceArg(std::string_view arg);

// A member code: two ASCII letters (ISO 3166-1 alpha-2, XK for Kosovo),
// either case; returned upper-case.
absl::StatusOr<std::string> ParseMemberArg(std::string_view arg);

// A case number as the node accepts it: 1 to 64 ASCII letters, digits and
// / . _ -, starting with a letter or digit ("MK-2026-0142", "KO-123/25").
absl::Status ValidateCaseNumber(std::string_view number);

// `cbx case add NUMBER --id ... --offence ... --role ROLE --contact TEXT
// [--opened YYYY-MM]`.
struct AddCaseArgs {
  std::string number;
  std::vector<std::string> ids;
  std::vector<std::string> offences;
  std::string role;
  std::string contact;
  std::string opened;  // empty: the node sets the current month
};
// `home_member` (the office's member code, "" if unknown) words a refused
// identifier in the office's own country's terms (core/identifiers).
absl::StatusOr<v1::AddCaseRequest> BuildAddCaseRequest(
    const AddCaseArgs& a, std::string_view home_member = "");

// `cbx case amend NUMBER [--add-id ...] [--remove-id ...] [--offence ...]
// [--role ROLE] [--contact TEXT]`; at least one change.
struct AmendCaseArgs {
  std::string number;
  std::vector<std::string> add_ids;
  std::vector<std::string> remove_ids;
  std::vector<std::string> offences;
  std::string role;
  std::string contact;
};
absl::StatusOr<v1::AmendCaseRequest> BuildAmendCaseRequest(
    const AmendCaseArgs& a, std::string_view home_member = "");

absl::StatusOr<v1::CloseCaseRequest> BuildCloseCaseRequest(
    std::string_view number);

// `cbx query --id ... --case NUMBER --legal-basis TEXT --offence CODE
// [--peer CC ...]`. The purpose's offence is a bare code (no parameters).
struct QueryArgs {
  std::vector<std::string> ids;
  std::string case_number;
  std::string legal_basis;
  std::string offence;
  std::vector<std::string> peers;
  // --both-types: a Telegram username is also asked as a chat and a chat as
  // a username (a name like smokva_grupa, or a t.me/ link, can be either),
  // when the value is valid as both.
  bool both_types = false;
  // --ids-file: the identifiers come from this file (a bulk check,
  // bulk_query.h) instead of --id.
  std::string ids_file;
};
// With both_types, each twin follows its identifier in the request.
absl::StatusOr<v1::QueryRequest> BuildQueryRequest(
    const QueryArgs& a, std::string_view home_member = "");
// The request's purpose and peers alone, checked as BuildQueryRequest
// does; its identifiers are left to the caller (a bulk check's file,
// bulk_query.h).
absl::StatusOr<v1::QueryRequest> BuildQueryPurpose(const QueryArgs& a);

// The other type a value of `type` may be meant as (a Telegram username or
// chat: the other one); IDENTIFIER_TYPE_UNSPECIFIED for the other types.
v1::IdentifierType TwinType(v1::IdentifierType type);

// `cbx hits [--case NUMBER]` and `cbx inbox [--case NUMBER]`: an empty
// number asks for everything.
absl::StatusOr<v1::ListHitsRequest> BuildListHitsRequest(
    std::string_view number);
absl::StatusOr<v1::ListInboxRequest> BuildListInboxRequest(
    std::string_view number);

}  // namespace cbx::client

#endif  // CBX_CLIENT_ARGUMENTS_H_
