// Perpetrator identifiers: their types, the one normalization rule of each
// type, the OPRF input they are evaluated on and the index tag of an OPRF
// output. The normative text is spec/identifiers.md; its vectors are
// spec/vectors/identifiers.json.
//
// Everything here is a pure function of its arguments: thread-safe, no I/O.
//
// Refusals are INVALID_ARGUMENT whose message quotes the value as entered
// (e.g. "phone: '070 123 456' has no country code; ..."), so that the office
// can correct it. Such a message is as sensitive as the identifier itself:
// return it to the office that entered the value, never to a peer, and do
// not log it where identifiers may not be kept.
#ifndef CBX_CORE_IDENTIFIERS_IDENTIFIERS_H_
#define CBX_CORE_IDENTIFIERS_IDENTIFIERS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/identifiers.pb.h"
#include "core/util/bytes.h"

namespace cbx::identifiers {

// The type's name in the OPRF input, the spec and the CLI:
// "telegram_user_id", "telegram_username", "telegram_chat", "phone", "email",
// "platform_handle", "content_sha256"; "" for unspecified/unknown values.
std::string_view TypeName(v1::IdentifierType type);

// Inverse of TypeName (exact, case-sensitive match). INVALID_ARGUMENT naming
// the valid types otherwise, including for "".
absl::StatusOr<v1::IdentifierType> ParseType(std::string_view name);

// Applies the one normalization rule of `type` to `value` as an office
// entered it, returning the normalized value (always non-empty printable
// ASCII). INVALID_ARGUMENT, with a message a prosecutor can act on, when the
// value cannot be normalized or `type` is unspecified/unknown. Never crashes
// on any input. `home_member` is the member code of the office that entered
// the value ("" when unknown): it changes only the wording of a refusal (a
// phone number in national form gets that country's fix), never a result.
absl::StatusOr<std::string> Normalize(v1::IdentifierType type,
                                      std::string_view value,
                                      std::string_view home_member = "");

// The members whose offices write national phone numbers with a known
// trunk prefix (the ones Normalize's hint names), with their country
// calling codes, by member code: what a form's country selector offers.
struct PhoneCountry {
  std::string member;        // "MK"
  std::string calling_code;  // "389"
};
std::vector<PhoneCountry> PhoneCountries();

// `value` as a phone number of `member`'s country written in national form
// ("069 555 0111", its trunk prefix first) turned into international form
// ("+38969555011"), as Normalize's hint tells an office to write it; any
// other value (already international, not a number as written, another
// prefix, a member not among PhoneCountries) is returned unchanged, for
// Normalize to judge.
std::string InternationalPhone(std::string_view value, std::string_view member);

// Largest value Normalize accepts, in bytes before trimming.
inline constexpr size_t kMaxValueSize = 1024;

// "cbx/v1/id" || 0x00 || TypeName(type) || 0x00 || normalized_value.
// Checks nothing: `type` must be one of the seven types and
// `normalized_value` the output of Normalize. For values from outside the
// process use NormalizedOprfInput.
Bytes OprfInput(v1::IdentifierType type, std::string_view normalized_value);

// Normalize, then OprfInput. Errors as Normalize.
absl::StatusOr<Bytes> NormalizedOprfInput(v1::IdentifierType type,
                                          std::string_view value,
                                          std::string_view home_member = "");

inline constexpr size_t kTagSize = 8;

// The index tag of an OPRF output y: the first 8 bytes of
// SHA-256("cbx/v1/tag" || y), read big-endian.
uint64_t TagOf(std::string_view y);

// The tag's 8-byte big-endian wire form.
Bytes TagBytes(uint64_t tag);
// Inverse of TagBytes; INVALID_ARGUMENT unless `bytes` is exactly 8 bytes.
absl::StatusOr<uint64_t> TagFromBytes(std::string_view bytes);

// The observed-from/to window of an identifier (Identifier.observed_from_ms,
// observed_to_ms): milliseconds since the Unix epoch, 0 meaning "unknown"
// (the window is open on that side). OK when both bounds are >= 0 and, if
// both are known, from <= to; INVALID_ARGUMENT otherwise.
absl::Status ValidateObservedWindow(int64_t from_ms, int64_t to_ms);

// Whether two valid observed windows share at least one millisecond; an
// unknown bound is open (so a window with both bounds unknown overlaps
// every window). Bounds are inclusive.
bool ObservedWindowsOverlap(int64_t a_from_ms, int64_t a_to_ms,
                            int64_t b_from_ms, int64_t b_to_ms);

}  // namespace cbx::identifiers

#endif  // CBX_CORE_IDENTIFIERS_IDENTIFIERS_H_
