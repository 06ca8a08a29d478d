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
// With log.format "json" (spec/node-config.md) each event is instead one
// JSON object per line (JSON Lines):
//
//   {"ts":"<UTC time>","member":"MK","level":"info","event":"ready",...}
//
// the fields following as string members in their order; a field named
// ts, member, level or event is written as field_<name>. Values are cut
// like text values; control bytes, U+2028-U+2029, U+202A-U+202E and
// U+2066-U+2069 are written \uXXXX, and a byte that is not part of valid
// UTF-8 as the six characters \\xNN (JSON text must be UTF-8).
//
// Levels, least to most severe: debug, info, warn (also spelt warning),
// error. Events below the level set with SetLogOptions (info unless told)
// are not written. Every event keeps its name whatever the format and
// level; docs/operations.md "## Logs" lists them with their levels.
//
// gRPC's own log lines (gpr_log) are routed here by RouteGrpcLogging, as
// the event `grpc`.
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

#include "absl/status/statusor.h"
#include "core/util/clock.h"

namespace cbx::node {

using LogField = std::pair<std::string_view, std::string>;

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn" or "warning", "error" (the config's log.level and
// --log-level). INVALID_ARGUMENT naming the accepted values otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name);
// "text" or "json". INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name);
// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);

// Sets the format and the least level written, for every later LogEvent.
// Thread-safe; the node calls it once at start (text and info until then).
void SetLogOptions(LogFormat format, LogLevel level);

// Whether an event at `level` ("debug", "info", ...) is written now. An
// unknown level name counts as error (it is always written).
bool LogEnabled(std::string_view level);

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

// The JSON line LogEvent writes with log.format "json", ending in "\n".
// Exposed for tests.
std::string FormatJsonLogLine(int64_t now_ms, std::string_view member,
                              std::string_view level, std::string_view event,
                              std::initializer_list<LogField> fields);

// `value` as a log line carries it: bare, or quoted and escaped. Exposed for
// tests.
std::string EscapeLogValue(std::string_view value);

// The clock LogEvent stamps lines with: the node's injected clock (Node
// sets it), SystemClock until then. `clock` must outlive every later
// LogEvent; nullptr restores SystemClock. Thread-safe.
void SetLogClock(const Clock* clock);

// Routes gRPC's own log lines (gpr_log) through LogEvent as the event
// `grpc`, with `file` (file:line) and `message` fields and the severity
// mapped (gRPC ERROR -> error, INFO -> info, DEBUG -> debug). Unless the
// environment sets GRPC_VERBOSITY, gRPC's verbosity follows `level`: DEBUG
// for debug, ERROR otherwise (gRPC's INFO lines are its internals'
// chatter). A line saying a TLS handshake failed to verify a certificate
// gets a `hint` field naming the likely cause (see SetTlsFailureHint).
// Call once, before the first gRPC object is made; `member` must outlive
// the process (the node passes its config's).
void RouteGrpcLogging(const std::string* member, LogLevel level);

// The text RouteGrpcLogging adds as `hint` to a gRPC line reporting a
// certificate that failed verification: the node sets it from each adopted
// directory version (which version is in use, which members it added).
// Thread-safe.
void SetTlsFailureHint(std::string hint);

// The `hint` for a gRPC log message: the TLS failure hint if `message`
// reports a certificate that failed verification, else empty. Exposed for
// tests.
std::string GrpcLogHint(std::string_view message);

}  // namespace cbx::node

#endif  // CBX_NODE_LOG_H_
