#include "client/arguments.h"

#include <optional>
#include <set>
#include <utility>

#include "client/identifier_arg.h"
#include "client/names.h"
#include "client/offence_labels.h"
#include "client/strings.h"
#include "client/time_format.h"
#include "core/identifiers/identifiers.h"

namespace cbx::client {
namespace {

constexpr size_t kMaxCaseNumber = 64;
constexpr size_t kMaxText = 512;

// "--id 'x': <why>".
absl::Status OptionError(std::string_view option, std::string_view arg,
                         const absl::Status& why) {
  return absl::InvalidArgumentError(std::string(option) + " " + Quoted(arg) +
                                    ": " + std::string(why.message()));
}

absl::Status OptionError(std::string_view option, std::string_view why) {
  return absl::InvalidArgumentError(std::string(option) + ": " +
                                    std::string(why));
}

bool HasControlCharacter(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Free text (contact point, legal basis): not blank, one line, bounded.
absl::Status ValidateText(std::string_view option, std::string_view text) {
  if (text.find_first_not_of(' ') == std::string_view::npos) {
    return OptionError(option, "must not be empty");
  }
  if (HasControlCharacter(text)) {
    return OptionError(option, "must be one line without control characters");
  }
  if (text.size() > kMaxText) {
    return OptionError(option,
                       "is longer than " + std::to_string(kMaxText) + " bytes");
  }
  return absl::OkStatus();
}

absl::Status AddIdentifiers(
    std::string_view option, const std::vector<std::string>& args,
    WindowPolicy policy, std::string_view home_member,
    google::protobuf::RepeatedPtrField<v1::Identifier>* out) {
  for (const std::string& arg : args) {
    auto id = ParseIdentifierArg(arg, policy, home_member);
    if (!id.ok()) return OptionError(option, arg, id.status());
    *out->Add() = *std::move(id);
  }
  return absl::OkStatus();
}

absl::Status AddOffences(const std::vector<std::string>& args,
                         google::protobuf::RepeatedPtrField<v1::Offence>* out) {
  std::set<int> seen;
  for (const std::string& arg : args) {
    auto offence = ParseOffenceArg(arg);
    if (!offence.ok()) return OptionError("--offence", arg, offence.status());
    if (!seen.insert(offence->code()).second) {
      return OptionError(
          "--offence", arg,
          absl::InvalidArgumentError(
              "offence " + std::string(OffenceCodeName(offence->code())) +
              " is given twice; give each offence once with all its "
              "parameters"));
    }
    *out->Add() = *std::move(offence);
  }
  return absl::OkStatus();
}

absl::Status CheckCaseNumber(std::string_view option, std::string_view number) {
  absl::Status s = ValidateCaseNumber(number);
  if (!s.ok()) return OptionError(option, number, s);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Offence> ParseOffenceArg(std::string_view arg) {
  v1::Offence offence;
  size_t plus = arg.find('+');
  auto code = ParseOffenceCodeName(arg.substr(0, plus));
  if (!code.ok()) return code.status();
  offence.set_code(*code);
  while (plus != std::string_view::npos) {
    size_t next = arg.find('+', plus + 1);
    std::string_view name = next == std::string_view::npos
                                ? arg.substr(plus + 1)
                                : arg.substr(plus + 1, next - plus - 1);
    std::optional<Qualifier> qualifier = ParseQualifierName(name);
    if (!qualifier) {
      return absl::InvalidArgumentError(
          "unknown offence parameter '+" + std::string(name) +
          "'; use +attempted, +ai (AI-manipulated) or +minor (minor victim)");
    }
    if (HasQualifier(offence, *qualifier)) {
      return absl::InvalidArgumentError("'+" + std::string(name) +
                                        "' is given twice");
    }
    SetQualifier(offence, *qualifier);
    plus = next;
  }
  return offence;
}

absl::StatusOr<std::string> ParseMemberArg(std::string_view arg) {
  bool letters = arg.size() == 2;
  for (char c : arg) {
    letters = letters && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
  }
  if (!letters) {
    return absl::InvalidArgumentError(
        "a member is a two-letter country code such as RS, HR, BA, ME, AL, "
        "XK, SI");
  }
  return AsciiUpper(arg);
}

absl::Status ValidateCaseNumber(std::string_view number) {
  // The node's rule (spec/office-api.md): ^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}$.
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
  };
  bool ok = !number.empty() && number.size() <= kMaxCaseNumber &&
            alnum(number.front());
  for (char c : number) {
    ok = ok && (alnum(c) || c == '/' || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "a case number has 1 to 64 characters: ASCII letters, digits and "
        "/ . _ -, starting with a letter or digit (e.g. MK-2026-0142)");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::AddCaseRequest> BuildAddCaseRequest(
    const AddCaseArgs& a, std::string_view home_member) {
  v1::AddCaseRequest request;
  v1::Case& c = *request.mutable_case_();
  if (absl::Status s = CheckCaseNumber("NUMBER", a.number); !s.ok()) return s;
  c.set_case_number(a.number);
  if (a.ids.empty()) {
    return OptionError("--id", "give at least one identifier, e.g. --id " +
                                   std::string("phone:+38970123456"));
  }
  if (absl::Status s = AddIdentifiers("--id", a.ids, WindowPolicy::kAllowed,
                                      home_member, c.mutable_identifiers());
      !s.ok()) {
    return s;
  }
  if (a.offences.empty()) {
    return OptionError("--offence", "give at least one offence code");
  }
  if (absl::Status s = AddOffences(a.offences, c.mutable_offences()); !s.ok()) {
    return s;
  }
  auto role = ParseRoleName(a.role);
  if (!role.ok()) return OptionError("--role", a.role, role.status());
  c.set_role(*role);
  if (absl::Status s = ValidateText("--contact", a.contact); !s.ok()) return s;
  c.set_contact_point(a.contact);
  if (!a.opened.empty()) {
    if (absl::Status s = ValidateMonth(a.opened); !s.ok()) {
      return OptionError("--opened", a.opened, s);
    }
    c.set_opened_month(a.opened);
  }
  return request;
}

absl::StatusOr<v1::AmendCaseRequest> BuildAmendCaseRequest(
    const AmendCaseArgs& a, std::string_view home_member) {
  v1::AmendCaseRequest request;
  if (absl::Status s = CheckCaseNumber("NUMBER", a.number); !s.ok()) return s;
  request.set_case_number(a.number);
  if (a.add_ids.empty() && a.remove_ids.empty() && a.offences.empty() &&
      a.role.empty() && a.contact.empty()) {
    return absl::InvalidArgumentError(
        "nothing to amend: give --add-id, --remove-id, --offence, --role or "
        "--contact");
  }
  if (absl::Status s =
          AddIdentifiers("--add-id", a.add_ids, WindowPolicy::kAllowed,
                         home_member, request.mutable_add_identifiers());
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          AddIdentifiers("--remove-id", a.remove_ids, WindowPolicy::kForbidden,
                         home_member, request.mutable_remove_identifiers());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddOffences(a.offences, request.mutable_offences());
      !s.ok()) {
    return s;
  }
  if (!a.role.empty()) {
    auto role = ParseRoleName(a.role);
    if (!role.ok()) return OptionError("--role", a.role, role.status());
    request.set_role(*role);
  }
  if (!a.contact.empty()) {
    if (absl::Status s = ValidateText("--contact", a.contact); !s.ok()) {
      return s;
    }
    request.set_contact_point(a.contact);
  }
  return request;
}

absl::StatusOr<v1::CloseCaseRequest> BuildCloseCaseRequest(
    std::string_view number) {
  v1::CloseCaseRequest request;
  if (absl::Status s = CheckCaseNumber("NUMBER", number); !s.ok()) return s;
  request.set_case_number(std::string(number));
  return request;
}

v1::IdentifierType TwinType(v1::IdentifierType type) {
  switch (type) {
    case v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME:
      return v1::IDENTIFIER_TYPE_TELEGRAM_CHAT;
    case v1::IDENTIFIER_TYPE_TELEGRAM_CHAT:
      return v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
    default:
      return v1::IDENTIFIER_TYPE_UNSPECIFIED;
  }
}

namespace {

// --both-types: after each Telegram username or chat, the same value as the
// other type, if it is valid as that type and not asked already.
void AddTwins(v1::QueryRequest& request) {
  std::set<std::pair<int, std::string>> asked;
  for (const v1::Identifier& id : request.identifiers()) {
    auto n = identifiers::Normalize(id.type(), id.value());
    if (n.ok()) asked.insert({id.type(), *n});
  }
  google::protobuf::RepeatedPtrField<v1::Identifier> with_twins;
  for (const v1::Identifier& id : request.identifiers()) {
    *with_twins.Add() = id;
    const v1::IdentifierType twin = TwinType(id.type());
    if (twin == v1::IDENTIFIER_TYPE_UNSPECIFIED) continue;
    auto n = identifiers::Normalize(twin, id.value());
    if (!n.ok() || !asked.insert({twin, *n}).second) continue;
    v1::Identifier* added = with_twins.Add();
    *added = id;
    added->set_type(twin);
  }
  *request.mutable_identifiers() = std::move(with_twins);
}

}  // namespace

absl::StatusOr<v1::QueryRequest> BuildQueryRequest(
    const QueryArgs& a, std::string_view home_member) {
  if (a.ids.empty()) {
    return OptionError("--id",
                       "give at least one identifier to look for "
                       "(or --ids-file FILE for a bulk check)");
  }
  absl::StatusOr<v1::QueryRequest> request = BuildQueryPurpose(a);
  if (!request.ok()) return request.status();
  if (absl::Status s =
          AddIdentifiers("--id", a.ids, WindowPolicy::kAllowed, home_member,
                         request->mutable_identifiers());
      !s.ok()) {
    return s;
  }
  if (a.both_types) AddTwins(*request);
  return request;
}

absl::StatusOr<v1::QueryRequest> BuildQueryPurpose(const QueryArgs& a) {
  v1::QueryRequest request;
  v1::Purpose& purpose = *request.mutable_purpose();
  if (absl::Status s = CheckCaseNumber("--case", a.case_number); !s.ok()) {
    return s;
  }
  purpose.set_case_number(a.case_number);
  if (absl::Status s = ValidateText("--legal-basis", a.legal_basis); !s.ok()) {
    return s;
  }
  purpose.set_legal_basis(a.legal_basis);
  if (a.offence.find('+') != std::string::npos) {
    return OptionError("--offence", a.offence,
                       absl::InvalidArgumentError(
                           "the purpose of a query names a bare offence code "
                           "without +parameters"));
  }
  auto code = ParseOffenceCodeName(a.offence);
  if (!code.ok()) return OptionError("--offence", a.offence, code.status());
  purpose.set_offence(*code);
  std::set<std::string> seen;
  for (const std::string& peer : a.peers) {
    auto member = ParseMemberArg(peer);
    if (!member.ok()) return OptionError("--peer", peer, member.status());
    if (!seen.insert(*member).second) {
      return OptionError("--peer", peer,
                         absl::InvalidArgumentError("given twice"));
    }
    request.add_peers(*member);
  }
  return request;
}

absl::StatusOr<v1::ListHitsRequest> BuildListHitsRequest(
    std::string_view number) {
  v1::ListHitsRequest request;
  if (!number.empty()) {
    if (absl::Status s = CheckCaseNumber("--case", number); !s.ok()) return s;
    request.set_case_number(std::string(number));
  }
  return request;
}

absl::StatusOr<v1::ListInboxRequest> BuildListInboxRequest(
    std::string_view number) {
  v1::ListInboxRequest request;
  if (!number.empty()) {
    if (absl::Status s = CheckCaseNumber("--case", number); !s.ok()) return s;
    request.set_case_number(std::string(number));
  }
  return request;
}

}  // namespace cbx::client
