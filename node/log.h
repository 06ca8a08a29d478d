// The node's event log: one line per event on stderr, "key=value" fields.
//
// Rule (spec/lookup.md, "What a node may record"): no identifier value, no
// blinded or evaluated element and no OPRF output is ever passed to this log.
//
// Values often come from outside (a peer's office name, an office's case
// number, an error message quoting either): every value is escaped so that
// no input can start a new line, fake a field or drive the terminal. The
// line format (README, "The node's log"):
//
//   <UTC time> <member> <level> <event> key=value key="quoted value" ...
//
// A value made only of letters, digits and - . _ : / @ + , is written bare;
// any other value (or an empty one) is written in double quotes, with
// `"` and `\` escaped as \" and \\, LF, CR and TAB as \n, \r and \t, and
// every other control byte, every byte that is not part of valid UTF-8 and
// the UTF-8 of U+0080-U+009F, U+2028-U+2029, U+202A-U+202E and
// U+2066-U+2069 (line separators and bidirectional overrides) as \xNN per
// byte. A value longer than kMaxLogValueBytes is cut there (at a character
// boundary) and ends in "…(N bytes)", N its whole length. The time, member,
// level, event and keys are written with every byte outside
// [A-Za-z0-9_.:-] replaced by '_'.
//
// Thread-safe.
#ifndef CBX_NODE_LOG_H_
#define CBX_NODE_LOG_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "core/util/clock.h"

namespace cbx::node {

using LogField = std::pair<std::string_view, std::string>;

// The longest value a log line carries before it is cut (bytes of input).
inline constexpr size_t kMaxLogValueBytes = 512;

// Writes "<UTC time> <member> <level> <event> k=v ..." to stderr, the time
// read from the log's clock (see SetLogClock), every part escaped as the
// file comment says.
void LogEvent(std::string_view member, std::string_view level,
              std::string_view event, std::initializer_list<LogField> fields);

// The line LogEvent writes for an event at `now_ms`, ending in "\n".
// Exposed for tests.
std::string FormatLogLine(int64_t now_ms, std::string_view member,
                          std::string_view level, std::string_view event,
                          std::initializer_list<LogField> fields);

// `value` as a log line carries it: bare, or quoted and escaped. Exposed for
// tests.
std::string EscapeLogValue(std::string_view value);

// The clock LogEvent stamps lines with: the node's injected clock (Node
// sets it), SystemClock until then. `clock` must outlive every later
// LogEvent; nullptr restores SystemClock. Thread-safe.
void SetLogClock(const Clock* clock);

}  // namespace cbx::node

#endif  // CBX_NODE_LOG_H_
