#include "node/console_calls.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace cbx::node {

absl::StatusOr<OfficeCaller> OfficeCallerOf(const console::Caller& caller) {
  const size_t slash = caller.office.find('/');
  if (slash == std::string::npos || slash == 0 ||
      slash + 1 == caller.office.size()) {
    return absl::InternalError(absl::StrCat(
        "console caller office '", caller.office, "' is not COUNTRY/OFFICE"));
  }
  OfficeCaller out;
  out.country = caller.office.substr(0, slash);
  out.office = caller.office.substr(slash + 1);
  out.person = caller.person;
  for (OfficeRole role :
       {OfficeRole::kProsecutor, OfficeRole::kAuditor, OfficeRole::kOperator}) {
    if (RoleName(role) == caller.role) {
      out.role = role;
      return out;
    }
  }
  return absl::InternalError(
      absl::StrCat("console caller role '", caller.role, "' is not a role"));
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return 503;
    default:
      return 500;
  }
}

absl::Status ProsecutorReadFor(
    OfficeService& office, const console::Caller& caller, std::string_view rpc,
    std::string_view kind,
    const std::function<absl::Status(const OfficeCaller&)>& body) {
  absl::StatusOr<OfficeCaller> who = OfficeCallerOf(caller);
  if (!who.ok()) return who.status();
  return office.ServeFor(
      *who, rpc, kind, {OfficeRole::kProsecutor},
      [&body](const OfficeCaller& c, OfficeService::OfficeAudit&) {
        return body(c);
      });
}

absl::StatusOr<v1::Case> ProsecutorChangeFor(
    OfficeService& office, const console::Caller& caller, std::string_view rpc,
    std::string_view kind,
    const std::function<absl::StatusOr<v1::Case>(const OfficeCaller&)>&
        change) {
  absl::StatusOr<OfficeCaller> who = OfficeCallerOf(caller);
  if (!who.ok()) return who.status();
  std::optional<v1::Case> changed;
  absl::Status status = office.ServeFor(
      *who, rpc, kind, {OfficeRole::kProsecutor},
      [&](const OfficeCaller& c, OfficeService::OfficeAudit& audit) {
        // The case book logs the call before effect (or `change` never
        // reached it); ServeFor logs only a refused role.
        audit.logged = true;
        absl::StatusOr<v1::Case> out = change(c);
        if (!out.ok()) return out.status();
        changed = *std::move(out);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return *std::move(changed);
}

absl::Status ProsecutorCallFor(OfficeService& office,
                               const console::Caller& caller,
                               OfficeCallName call,
                               const OfficeService::Body& body) {
  absl::StatusOr<OfficeCaller> who = OfficeCallerOf(caller);
  if (!who.ok()) return who.status();
  return office.ServeFor(*who, call.rpc, call.kind, {OfficeRole::kProsecutor},
                         body);
}

}  // namespace cbx::node
