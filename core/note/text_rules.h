// Character rules shared by the signed-note parsers (internal to core/note).
//
// c2sp.org/signed-note: a note MUST be valid UTF-8 with no ASCII control
// character other than newline; key names MUST be non-empty and contain no
// Unicode space and no '+'.
#ifndef CBX_CORE_NOTE_TEXT_RULES_H_
#define CBX_CORE_NOTE_TEXT_RULES_H_

#include <string_view>

#include "absl/status/status.h"

namespace cbx::note {

// OK if `text` is valid UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF) and holds no code point below U+0020 except newline.
// INVALID_ARGUMENT otherwise; `what` names the text in the message.
absl::Status CheckNoteCharacters(std::string_view text, std::string_view what);

// True if `name` is a valid key name: non-empty, valid UTF-8, no control
// character, no Unicode white space (Go's unicode.IsSpace set) and no '+'.
bool IsValidKeyName(std::string_view name);

}  // namespace cbx::note

#endif  // CBX_CORE_NOTE_TEXT_RULES_H_
