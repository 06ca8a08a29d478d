// The command-line form of a perpetrator identifier and its observed window.
//
//   TYPE:VALUE                 phone:+38970123456
//   TYPE@WINDOW:VALUE          phone@2025-01-01..2025-06-30:+38970123456
//
// TYPE is a name from spec/identifiers.md (telegram_user_id,
// telegram_username, telegram_chat, phone, email, platform_handle,
// content_sha256). VALUE is everything after the first ':' and is taken
// verbatim: it may itself contain '@' and ':' ("telegram_username:@name",
// "email:a@b.mk", "platform_handle:instagram:@name"). The window sits between
// the type and the first ':', where no value can reach, so the '@' that
// introduces it can never be confused with an '@' in a value; dates contain
// no ':'.
//
// WINDOW is FROM..TO, FROM.. or ..TO (a side left empty is unknown), or a
// single date D meaning D..D. Each date is YYYY-MM-DD or YYYY-MM, UTC; FROM
// is the first millisecond of its day/month, TO the last (bounds are
// inclusive, as in core/identifiers).
#ifndef CBX_CLIENT_IDENTIFIER_ARG_H_
#define CBX_CLIENT_IDENTIFIER_ARG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cbx/v1/identifiers.pb.h"

namespace cbx::client {

enum class WindowPolicy { kAllowed, kForbidden };

// Parses one --id argument. The value is checked with the node's own
// normalization rule (core/identifiers) so that a typo fails here, before
// anything is sent; the identifier carries the value as entered, since the
// node normalizes it again. INVALID_ARGUMENT with a message that says what
// to fix (unknown type, missing value, malformed window, value that cannot
// be normalized, window given where `policy` forbids one). `home_member`:
// the office's member code ("" unknown), for a refusal in its own country's
// terms.
absl::StatusOr<v1::Identifier> ParseIdentifierArg(
    std::string_view arg, WindowPolicy policy = WindowPolicy::kAllowed,
    std::string_view home_member = "");

// Parses WINDOW as above into [from_ms, to_ms] (0 = unknown side).
struct ObservedWindow {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};
absl::StatusOr<ObservedWindow> ParseWindow(std::string_view text);

// "2025-01-01..2025-06-30", "2025-01-01..", "..2025-06-30", or "" when both
// sides are unknown; dates are the UTC days of the bounds.
std::string FormatWindow(int64_t from_ms, int64_t to_ms);

// The command-line form of `id` (TYPE[@WINDOW]:VALUE); windows that fall on
// day boundaries round-trip through ParseIdentifierArg.
std::string FormatIdentifierArg(const v1::Identifier& id);

}  // namespace cbx::client

#endif  // CBX_CLIENT_IDENTIFIER_ARG_H_
