// What the web console's pages share to reach the node's domain layer
// (spec/web-console.md §1): the caller the console authenticated, as the
// Office port's OfficeCaller, so that a page runs its work through
// OfficeService::ServeFor / AuditedFor and is checked and logged exactly as
// the same call made with `cbx`; and how a page runs that work off the
// io_context's thread.
//
// Threading: pure functions and a callable type.
#ifndef CBX_NODE_CONSOLE_CALLS_H_
#define CBX_NODE_CONSOLE_CALLS_H_

#include <functional>

#include "absl/status/statusor.h"
#include "node/console/console_server.h"
#include "node/identity.h"
#include "node/office_service.h"

namespace cbx::node {

// Runs `work` later, off the io_context's thread (the node: its lookup
// executor; tests: inline); false if it cannot (the node is stopping).
using ConsoleRunner = std::function<bool(std::function<void()> work)>;

// The Office port's caller for `caller` ("MK/PPO-Skopje", "auditor",
// person). INTERNAL if it is not of the form the node's authenticate
// callback makes (it never is: the console takes callers from it only).
absl::StatusOr<OfficeCaller> OfficeCallerOf(const console::Caller& caller);

// The HTTP status a page answers a domain refusal with: 400 for the
// caller's input (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE), 403
// (PERMISSION_DENIED, UNAUTHENTICATED), 404 (NOT_FOUND), 409
// (ALREADY_EXISTS, ABORTED), 429 (RESOURCE_EXHAUSTED), 503 (UNAVAILABLE,
// DEADLINE_EXCEEDED, CANCELLED), 500 otherwise (DATA_LOSS: a damaged log).
int HttpStatusOf(absl::StatusCode code);

// A prosecutor's read made from a console page: `body` runs for `caller`
// through office.ServeFor as the Office call `rpc` of `kind` — a role other
// than prosecutor is refused (PERMISSION_DENIED) and every outcome is
// logged with the office and person, as the same call made with `cbx`.
// INTERNAL if `caller` is not of the node's form (OfficeCallerOf).
absl::Status ProsecutorReadFor(
    OfficeService& office, const console::Caller& caller, std::string_view rpc,
    std::string_view kind,
    const std::function<absl::Status(const OfficeCaller&)>& body);

// A prosecutor's change of a case made from a console page: `change` runs
// for `caller` through office.ServeFor as the Office call `rpc` of `kind`
// ("Office.AmendCase", "amend_case"). A role other than prosecutor is
// refused (PERMISSION_DENIED) before `change` runs and logged as the Office
// port logs it, so an auditor's POST is in the audit log as the call it
// stands for. `change` calls the case book, which logs the call itself
// before effect; a change `change` refuses before it reaches the case book
// (a form that does not parse) is not logged, as `cbx` sends nothing for
// an argument it cannot read. INTERNAL if `caller` is not of the node's
// form (OfficeCallerOf).
absl::StatusOr<v1::Case> ProsecutorChangeFor(
    OfficeService& office, const console::Caller& caller, std::string_view rpc,
    std::string_view kind,
    const std::function<absl::StatusOr<v1::Case>(const OfficeCaller&)>& change);

// A prosecutor's Office call `call` made from a console page: `body` (the
// Office service's own body of that call, or a page's check before it)
// runs for `caller` through office.ServeFor as `call` — a role other than
// prosecutor is refused (PERMISSION_DENIED) before `body` runs and logged
// as the Office port logs it; otherwise the call is logged as the port
// logs it unless `body` marks it logged (a page's own refusal of a form it
// cannot read: nothing sent, nothing logged, as `cbx` sends nothing for an
// argument it cannot read). INTERNAL if `caller` is not of the node's form.
absl::Status ProsecutorCallFor(OfficeService& office,
                               const console::Caller& caller,
                               OfficeCallName call,
                               const OfficeService::Body& body);

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_CALLS_H_
