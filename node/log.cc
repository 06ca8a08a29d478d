#include "node/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpc/support/log.h"
#include "node/metrics.h"

namespace cbx::node {
namespace {

std::atomic<const Clock*> log_clock{nullptr};
std::atomic<LogFormat> log_format{LogFormat::kText};
std::atomic<LogLevel> log_level{LogLevel::kInfo};

bool IsAsciiAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

// A byte a bare value may hold.
bool IsBareValueByte(unsigned char c) {
  return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_' || c == ':' ||
         c == '/' || c == '@' || c == '+' || c == ',';
}

// A byte a time, member, level, event or key may hold.
bool IsNameByte(unsigned char c) {
  return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_' || c == ':';
}

// The length (2-4) of the well-formed UTF-8 sequence (RFC 3629: no overlong
// form, no surrogate, nothing above U+10FFFF) at the start of `s`, its code
// point in *cp; 0 if there is none (a lone or truncated byte).
size_t Utf8SequenceAt(std::string_view s, uint32_t* cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) {
    return i < s.size() && (b(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = b(0);
  size_t n;
  uint32_t min;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, min = 0x80, *cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, min = 0x800, *cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, min = 0x10000, *cp = lead & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; ++i) {
    if (!cont(i)) return 0;
    *cp = (*cp << 6) | (b(i) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// Code points that are valid UTF-8 but end a line or reorder text on a
// terminal: C1 controls, the line and paragraph separators, and the
// bidirectional embeddings, overrides and isolates.
bool IsUnsafeCodePoint(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void AppendHexEscape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append("\\x");
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xF]);
}

// Appends `s` escaped for the inside of a quoted value.
void AppendQuotedBody(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            AppendHexEscape(out, c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = Utf8SequenceAt(s.substr(i), &cp);
    if (n == 0) {
      AppendHexEscape(out, c);
      ++i;
    } else if (IsUnsafeCodePoint(cp)) {
      for (size_t k = 0; k < n; ++k) {
        AppendHexEscape(out, static_cast<unsigned char>(s[i + k]));
      }
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

// Appends `s` with every byte outside IsNameByte replaced by '_'.
void AppendName(std::string& out, std::string_view s) {
  for (char c : s) {
    out.push_back(IsNameByte(static_cast<unsigned char>(c)) ? c : '_');
  }
}

// `value` cut as EscapeLogValue cuts it: the kept prefix, and the
// "…(N bytes)" suffix or "".
std::pair<std::string_view, std::string> CutValue(std::string_view value) {
  if (value.size() <= kMaxLogValueBytes) return {value, ""};
  // Cut at a character boundary: back off over continuation bytes.
  size_t cut = kMaxLogValueBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80 &&
         kMaxLogValueBytes - cut < 3) {
    --cut;
  }
  return {value.substr(0, cut),
          absl::StrCat("\xE2\x80\xA6(", value.size(), " bytes)")};
}

void AppendJsonU(std::string& out, uint32_t cp) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
  out.append(buf);
}

// Appends `s` as the inside of a JSON string (RFC 8259), escaped as the
// file comment of log.h says.
void AppendJsonBody(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"') {
        out.append("\\\"");
      } else if (c == '\\') {
        out.append("\\\\");
      } else if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (c == '\t') {
        out.append("\\t");
      } else if (c < 0x20 || c == 0x7F) {
        AppendJsonU(out, c);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = Utf8SequenceAt(s.substr(i), &cp);
    if (n == 0) {
      out.append("\\");  // a JSON backslash, then the text escape \xNN
      AppendHexEscape(out, c);
      ++i;
    } else if (IsUnsafeCodePoint(cp)) {
      AppendJsonU(out, cp);
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

void AppendJsonMember(std::string& out, std::string_view key,
                      std::string_view value) {
  out.push_back('"');
  AppendName(out, key);
  out.append("\":\"");
  auto [kept, suffix] = CutValue(value);
  AppendJsonBody(out, kept);
  out.append(suffix);
  out.append("\"");
}

std::string Timestamp(int64_t now_ms) {
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  int ms = static_cast<int>(now_ms % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[48];
  size_t len = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + len, sizeof(stamp) - len, ".%03dZ", ms);
  return stamp;
}

LogLevel LevelOf(std::string_view name) {
  absl::StatusOr<LogLevel> level = ParseLogLevel(name);
  return level.ok() ? *level : LogLevel::kError;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("'", std::string(name),
                   "' is not a log level (debug, info, warning, error)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "'", std::string(name), "' is not a log format (text, json)"));
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      break;
  }
  return "error";
}

void SetLogOptions(LogFormat format, LogLevel level) {
  log_format.store(format);
  log_level.store(level);
}

bool LogEnabled(std::string_view level) {
  return LevelOf(level) >= log_level.load();
}

std::string EscapeLogValue(std::string_view value) {
  bool bare = !value.empty() && value.size() <= kMaxLogValueBytes;
  for (size_t i = 0; bare && i < value.size(); ++i) {
    bare = IsBareValueByte(static_cast<unsigned char>(value[i]));
  }
  if (bare) return std::string(value);
  auto [kept, suffix] = CutValue(value);
  std::string out;
  out.reserve(kept.size() + 24);
  out.push_back('"');
  AppendQuotedBody(out, kept);
  out.append(suffix);
  out.push_back('"');
  return out;
}

std::string FormatLogLine(int64_t now_ms, std::string_view member,
                          std::string_view level, std::string_view event,
                          std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(160);
  AppendName(line, Timestamp(now_ms));
  line.push_back(' ');
  AppendName(line, member);
  line.push_back(' ');
  AppendName(line, level);
  line.push_back(' ');
  AppendName(line, event);
  for (const auto& [key, value] : fields) {
    line.push_back(' ');
    AppendName(line, key);
    line.push_back('=');
    line.append(EscapeLogValue(value));
  }
  line.push_back('\n');
  return line;
}

std::string FormatJsonLogLine(int64_t now_ms, std::string_view member,
                              std::string_view level, std::string_view event,
                              std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(200);
  line.push_back('{');
  AppendJsonMember(line, "ts", Timestamp(now_ms));
  line.push_back(',');
  AppendJsonMember(line, "member", member);
  line.push_back(',');
  AppendJsonMember(line, "level", level);
  line.push_back(',');
  AppendJsonMember(line, "event", event);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    const bool reserved =
        key == "ts" || key == "member" || key == "level" || key == "event";
    AppendJsonMember(
        line, reserved ? absl::StrCat("field_", std::string(key)) : key, value);
  }
  line.append("}\n");
  return line;
}

void SetLogClock(const Clock* clock) { log_clock.store(clock); }

void LogEvent(std::string_view member, std::string_view level,
              std::string_view event, std::initializer_list<LogField> fields) {
  // Every ALERT- event is counted for /metrics (cbx_alerts_total).
  if (event.substr(0, 6) == "ALERT-") CountAlert(event);
  if (!LogEnabled(level)) return;
  const Clock* clock = log_clock.load();
  const int64_t now_ms =
      (clock != nullptr ? clock : &SystemClock::Get())->NowMs();
  const std::string line =
      log_format.load() == LogFormat::kJson
          ? FormatJsonLogLine(now_ms, member, level, event, fields)
          : FormatLogLine(now_ms, member, level, event, fields);
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

namespace {

std::atomic<const std::string*> grpc_log_member{nullptr};
std::mutex hint_mu;
std::string& TlsFailureHint() {
  static auto* hint = new std::string;
  return *hint;
}

void GrpcLogToEvent(gpr_log_func_args* args) {
  const char* level = args->severity == GPR_LOG_SEVERITY_ERROR  ? "error"
                      : args->severity == GPR_LOG_SEVERITY_INFO ? "info"
                                                                : "debug";
  if (!LogEnabled(level)) return;
  const std::string* member = grpc_log_member.load();
  const char* file = args->file != nullptr ? args->file : "";
  // gRPC passes paths from its source tree: keep the file's name.
  if (const char* slash = std::strrchr(file, '/')) file = slash + 1;
  const std::string message = args->message != nullptr ? args->message : "";
  const std::string hint = GrpcLogHint(message);
  const std::string where = absl::StrCat(file, ":", args->line);
  if (hint.empty()) {
    LogEvent(member != nullptr ? *member : "", level, "grpc",
             {{"file", where}, {"message", message}});
  } else {
    LogEvent(member != nullptr ? *member : "", level, "grpc",
             {{"file", where}, {"message", message}, {"hint", hint}});
  }
}

}  // namespace

void SetTlsFailureHint(std::string hint) {
  std::lock_guard<std::mutex> lock(hint_mu);
  TlsFailureHint() = std::move(hint);
}

std::string GrpcLogHint(std::string_view message) {
  // OpenSSL's reason texts for a chain that does not verify, as gRPC's
  // ssl_transport_security.cc quotes them in "Handshake failed ...".
  const auto has = [&](std::string_view what) {
    return message.find(what) != std::string_view::npos;
  };
  if (!has("certificate verify failed") && !has("unknown ca") &&
      !has("unable to get local issuer")) {
    return "";
  }
  std::lock_guard<std::mutex> lock(hint_mu);
  return TlsFailureHint();
}

void RouteGrpcLogging(const std::string* member, LogLevel level) {
  grpc_log_member.store(member);
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_verbosity(level == LogLevel::kDebug ? GPR_LOG_SEVERITY_DEBUG
                                                    : GPR_LOG_SEVERITY_ERROR);
  }
  gpr_set_log_function(GrpcLogToEvent);
}

}  // namespace cbx::node
