#include "node/config.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node {
namespace {

using nlohmann::json;

// The longest host:port: a DNS name (253) in brackets, ':' and 5 digits.
constexpr size_t kMaxHostPort = 253 + 2 + 1 + 5;

// Whether `s` is a host of letters, digits, '.', '-', '[', ']' and ':',
// then ':' and a port of 1 to 5 digits, at most kMaxHostPort in all. A loop,
// not std::regex: libstdc++'s regex recurses once per character and a long
// value overflowed the stack.
bool IsHostPort(const std::string& s) {
  if (s.size() > kMaxHostPort) return false;
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const size_t port_digits = s.size() - colon - 1;
  if (port_digits < 1 || port_digits > 5) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool digit = c >= '0' && c <= '9';
    if (i > colon) {
      if (!digit) return false;
      continue;
    }
    const bool host = digit || (c >= 'A' && c <= 'Z') ||
                      (c >= 'a' && c <= 'z') || c == '.' || c == '-' ||
                      c == '[' || c == ']' || c == ':';
    if (!host) return false;
  }
  return true;
}

// `s`, cut to 100 bytes for an error message.
std::string Abbreviated(const std::string& s) {
  return s.size() <= 100 ? s : s.substr(0, 100) + "...";
}

class FieldReader {
 public:
  FieldReader(const json& root, std::string name, std::string base_dir)
      : root_(root), name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  absl::Status Error(const std::string& field, const std::string& problem) {
    return absl::InvalidArgumentError(name_ + ": " + field + ": " + problem);
  }

  // Looks up "a.b" in the document; nullptr if absent.
  const json* Find(const std::string& field) {
    const json* node = &root_;
    size_t start = 0;
    while (true) {
      size_t dot = field.find('.', start);
      std::string key = field.substr(start, dot - start);
      if (!node->is_object() || !node->contains(key)) return nullptr;
      node = &(*node)[key];
      if (dot == std::string::npos) return node;
      start = dot + 1;
    }
  }

  absl::StatusOr<std::string> String(const std::string& field, bool required) {
    const json* v = Find(field);
    if (v == nullptr) {
      if (required) return Error(field, "missing");
      return std::string();
    }
    if (!v->is_string()) return Error(field, "must be a string");
    std::string s = v->get<std::string>();
    if (required && s.empty()) return Error(field, "must not be empty");
    return s;
  }

  absl::StatusOr<std::string> Path(const std::string& field) {
    auto s = String(field, true);
    if (!s.ok()) return s.status();
    std::filesystem::path p(*s);
    if (p.is_relative()) p = std::filesystem::path(base_dir_) / p;
    return p.lexically_normal().string();
  }

  // A key: a path as above, or a PKCS#11 URI (RFC 7512) kept as written.
  absl::StatusOr<std::string> KeyPath(const std::string& field) {
    auto s = String(field, true);
    if (!s.ok()) return s.status();
    if (s->rfind("pkcs11:", 0) == 0) return s;
    return Path(field);
  }

  absl::StatusOr<std::string> Address(const std::string& field, bool required) {
    auto s = String(field, required);
    if (!s.ok() || s->empty()) return s;
    if (!IsHostPort(*s)) {
      return Error(field, "'" + Abbreviated(*s) + "' is not host:port");
    }
    int port = std::stoi(s->substr(s->rfind(':') + 1));
    if (port > 65535)
      return Error(field, "port " + std::to_string(port) + " is out of range");
    return s;
  }

  absl::StatusOr<int64_t> Millis(const std::string& field, int64_t fallback) {
    const json* v = Find(field);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer()) return Error(field, "must be an integer");
    int64_t ms = v->get<int64_t>();
    if (ms < 100 || ms > 86'400'000) {
      return Error(field, "must be between 100 and 86400000 milliseconds");
    }
    return ms;
  }

 private:
  const json& root_;
  std::string name_;
  std::string base_dir_;
};

#define CBX_ASSIGN_FIELD(lhs, expr)   \
  do {                                \
    auto v_ = (expr);                 \
    if (!v_.ok()) return v_.status(); \
    lhs = *std::move(v_);             \
  } while (0)

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path, Env* env) {
  return env->ReadFile(path);
}

namespace {

// Refuses a field the config does not define, at the top level and inside
// each section (spec/node-config.md): a misspelt field must never fall back
// to its default silently. A section that is not an object is refused too.
absl::Status RefuseUnknownFields(const json& root, const std::string& name) {
  static const std::map<std::string, std::set<std::string>> kSections = {
      {"member", {}},
      {"data_dir", {}},
      {"peer_listen", {}},
      {"office_listen", {}},
      {"admin_listen", {}},
      {"admin_allow_non_loopback", {}},
      {"console_listen", {}},
      {"console", {"max_upload_bytes"}},
      {"tls", {"certificate", "private_key", "office_ca", "crl_dir"}},
      {"keys",
       {"node_signing_key", "node_signing_key_next", "oprf_key",
        "oprf_key_next"}},
      {"directory", {"genesis"}},
      {"sync", {"index_interval_ms", "directory_interval_ms"}},
      {"audit",
       {"checkpoint_interval_ms", "checkpoint_every_entries",
        "witness_interval_ms"}},
      {"log", {"format", "level"}},
      {"audit_log", {"backend", "conninfo", "schema"}},
      {"storage", {"backend", "conninfo", "schema"}},
      {"leadership", {"name", "lease_ms", "poll_ms", "schema"}},
      {"retention",
       {"closed_case_identifiers_days", "received_references_days",
        "inbox_days", "index_change_log_days", "sweep_interval_ms",
        "batch_size"}},
  };
  for (const auto& [key, value] : root.items()) {
    auto section = kSections.find(key);
    if (section == kSections.end()) {
      return absl::InvalidArgumentError(name + ": " + key + ": unknown field");
    }
    if (section->second.empty()) continue;  // a plain field
    if (!value.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", key, ": must be a JSON object"));
    }
    for (const auto& [field, unused] : value.items()) {
      if (section->second.count(field) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": ", key, ".", field, ": unknown field (", key,
                         " has: ", absl::StrJoin(section->second, ", "), ")"));
      }
    }
  }
  return absl::OkStatus();
}

// An integer field in [min, max] (`unit` names it in the error), or
// `fallback` if absent.
absl::StatusOr<int64_t> Bounded(FieldReader& r, const std::string& field,
                                int64_t min, int64_t max,
                                const std::string& unit, int64_t fallback) {
  const json* v = r.Find(field);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) return r.Error(field, "must be an integer");
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    return r.Error(field,
                   absl::StrCat("must be between ", min, " and ", max,
                                unit.empty() ? "" : " ", unit, ", not ", n));
  }
  return n;
}

// The `retention` section. A period of 1 day at least (a sweep deleting
// what arrived minutes ago is a misconfiguration, not a policy) and at most
// 100 years.
absl::Status ParseRetention(FieldReader& r, RetentionConfig& c) {
  constexpr int64_t kMaxDays = 36'500;
  CBX_ASSIGN_FIELD(c.closed_case_identifiers_days,
                   Bounded(r, "retention.closed_case_identifiers_days", 1,
                           kMaxDays, "days", c.closed_case_identifiers_days));
  CBX_ASSIGN_FIELD(c.received_references_days,
                   Bounded(r, "retention.received_references_days", 1, kMaxDays,
                           "days", c.received_references_days));
  CBX_ASSIGN_FIELD(c.inbox_days, Bounded(r, "retention.inbox_days", 1, kMaxDays,
                                         "days", c.inbox_days));
  CBX_ASSIGN_FIELD(c.index_change_log_days,
                   Bounded(r, "retention.index_change_log_days", 1, kMaxDays,
                           "days", c.index_change_log_days));
  CBX_ASSIGN_FIELD(c.sweep_interval_ms,
                   Bounded(r, "retention.sweep_interval_ms", 1000, 86'400'000,
                           "milliseconds", c.sweep_interval_ms));
  CBX_ASSIGN_FIELD(c.batch_size, Bounded(r, "retention.batch_size", 1, 100'000,
                                         "rows", c.batch_size));
  return absl::OkStatus();
}

// The `log` section: format and level, each optional.
absl::Status ParseLog(FieldReader& r, Config& c) {
  if (r.Find("log.format") != nullptr) {
    std::string format;
    CBX_ASSIGN_FIELD(format, r.String("log.format", true));
    auto parsed = ParseLogFormat(format);
    if (!parsed.ok())
      return r.Error("log.format", std::string(parsed.status().message()));
    c.log_format = *parsed;
  }
  if (r.Find("log.level") != nullptr) {
    std::string level;
    CBX_ASSIGN_FIELD(level, r.String("log.level", true));
    auto parsed = ParseLogLevel(level);
    if (!parsed.ok())
      return r.Error("log.level", std::string(parsed.status().message()));
    c.log_level = *parsed;
  }
  return absl::OkStatus();
}

// A `section` that says where a database is stored (`audit_log`,
// `storage`): backend, conninfo and schema into `c` (an
// AuditLogStoreConfig or a StorageConfig). Never puts the conninfo (which
// may hold a password) into an error.
template <typename StoreConfig>
absl::Status ParseStore(FieldReader& r, const std::string& section,
                        StoreConfig& c) {
  const std::string backend_field = section + ".backend";
  const std::string conninfo_field = section + ".conninfo";
  const std::string schema_field = section + ".schema";
  std::string backend = "sqlite";
  if (r.Find(backend_field) != nullptr) {
    CBX_ASSIGN_FIELD(backend, r.String(backend_field, true));
  }
  if (backend == "sqlite") {
    c.backend = StoreConfig::Backend::kSqlite;
    for (const std::string& field : {conninfo_field, schema_field}) {
      if (r.Find(field) != nullptr) {
        return r.Error(field, "only with backend \"postgresql\"");
      }
    }
    return absl::OkStatus();
  }
  if (backend != "postgresql") {
    return r.Error(backend_field, "must be \"sqlite\" or \"postgresql\"");
  }
  c.backend = StoreConfig::Backend::kPostgresql;
  CBX_ASSIGN_FIELD(c.conninfo, r.String(conninfo_field, true));
  if (pg::Redacted(c.conninfo) == "<unparseable conninfo>") {
    return r.Error(conninfo_field, "is not a libpq connection string or URI");
  }
  if (r.Find(schema_field) != nullptr) {
    CBX_ASSIGN_FIELD(c.schema, r.String(schema_field, true));
  }
  bool plain = !c.schema.empty() && c.schema.size() <= 63 &&
               !(c.schema[0] >= '0' && c.schema[0] <= '9');
  for (char ch : c.schema) {
    plain = plain &&
            ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
  }
  if (!plain) {
    return r.Error(schema_field,
                   "must be a plain lower-case name ([a-z_][a-z0-9_]*, at "
                   "most 63 bytes)");
  }
  return absl::OkStatus();
}

// node.db and the audit log may share a database, never a schema: both
// have a schema_version table, and each store would take the other's
// tables for its own. Refused by name even when the conninfos differ (two
// conninfos may name one database), which costs only a distinct name.
absl::Status CheckStoresApart(FieldReader& r, const Config& c) {
  const bool both_pg =
      c.storage.backend == StorageConfig::Backend::kPostgresql &&
      c.audit_log.backend == AuditLogStoreConfig::Backend::kPostgresql;
  if (both_pg && c.storage.schema == c.audit_log.schema) {
    return r.Error("storage.schema",
                   "must differ from audit_log.schema (both are \"" +
                       c.storage.schema + "\")");
  }
  return absl::OkStatus();
}

// The `leadership` section: a name of letters, digits, '-' and '_' (it
// goes into application_name, at most 63 bytes with its prefix and random
// part), a lease of 1 to 600 s, a poll period of 50 ms up to a third of the
// lease (a standby must look several times per lease), and the audit log in
// PostgreSQL (the term row and the fence live in its database).
absl::Status ParseLeadership(FieldReader& r, Config& c) {
  if (r.Find("leadership") == nullptr) return absl::OkStatus();
  LeadershipConfig& l = c.leadership;
  l.enabled = true;
  CBX_ASSIGN_FIELD(l.name, r.String("leadership.name", true));
  static const std::regex kName("^[A-Za-z0-9_-]{1,32}$");
  if (!std::regex_match(l.name, kName)) {
    return r.Error("leadership.name",
                   "must be 1 to 32 letters, digits, '-' or '_'");
  }
  CBX_ASSIGN_FIELD(l.lease_ms, Bounded(r, "leadership.lease_ms", 1000, 600'000,
                                       "milliseconds", l.lease_ms));
  CBX_ASSIGN_FIELD(
      l.poll_ms, Bounded(r, "leadership.poll_ms", 50, l.lease_ms / 3,
                         "milliseconds", std::min(l.poll_ms, l.lease_ms / 3)));
  if (r.Find("leadership.schema") != nullptr) {
    CBX_ASSIGN_FIELD(l.schema, r.String("leadership.schema", true));
  }
  static const std::regex kSchema("^[a-z_][a-z0-9_]{0,62}$");
  if (!std::regex_match(l.schema, kSchema)) {
    return r.Error("leadership.schema",
                   "must be a plain lower-case name ([a-z_][a-z0-9_]*, at "
                   "most 63 bytes)");
  }
  if (c.audit_log.backend != AuditLogStoreConfig::Backend::kPostgresql) {
    return r.Error("leadership",
                   "needs audit_log.backend \"postgresql\": the pair's term "
                   "and fence live in the audit log's database");
  }
  if (c.storage.backend != StorageConfig::Backend::kPostgresql) {
    return r.Error("leadership",
                   "needs storage.backend \"postgresql\": the two nodes of a "
                   "pair share node.db, which an SQLite file on one machine "
                   "cannot be");
  }
  if (l.schema == c.audit_log.schema ||
      (c.storage.backend == StorageConfig::Backend::kPostgresql &&
       l.schema == c.storage.schema)) {
    return r.Error("leadership.schema",
                   "must differ from audit_log.schema and storage.schema");
  }
  return absl::OkStatus();
}

// The listening addresses (`peer_listen`, `office_listen`, `admin_listen`,
// `admin_allow_non_loopback`, `console_listen`), each port its own, and
// the console's upload bound.
absl::Status ParseListeners(FieldReader& r, Config& c) {
  CBX_ASSIGN_FIELD(c.peer_listen, r.Address("peer_listen", true));
  CBX_ASSIGN_FIELD(c.office_listen, r.Address("office_listen", true));
  CBX_ASSIGN_FIELD(c.admin_listen, r.Address("admin_listen", false));
  if (const json* remote = r.Find("admin_allow_non_loopback")) {
    if (!remote->is_boolean()) {
      return r.Error("admin_allow_non_loopback", "must be true or false");
    }
    c.admin_allow_non_loopback = remote->get<bool>();
  }
  CBX_ASSIGN_FIELD(c.console_listen, r.Address("console_listen", false));
  if (c.peer_listen == c.office_listen) {
    return r.Error("office_listen", "must differ from peer_listen");
  }
  if (!c.console_listen.empty() && (c.console_listen == c.peer_listen ||
                                    c.console_listen == c.office_listen ||
                                    c.console_listen == c.admin_listen)) {
    return r.Error("console_listen",
                   "must differ from peer_listen, office_listen and "
                   "admin_listen");
  }
  // At least a form's 64 KiB; at most the 2 GiB an export file may have.
  CBX_ASSIGN_FIELD(
      c.console_max_upload_bytes,
      Bounded(r, "console.max_upload_bytes", int64_t{64} << 10,
              int64_t{2} << 30, "bytes", c.console_max_upload_bytes));
  return absl::OkStatus();
}

// The files the node reads: the `tls` section, the `keys` section (the
// next keys optional) and `directory.genesis`.
absl::Status ParseFiles(FieldReader& r, Config& c) {
  CBX_ASSIGN_FIELD(c.tls_certificate, r.Path("tls.certificate"));
  CBX_ASSIGN_FIELD(c.tls_private_key, r.Path("tls.private_key"));
  CBX_ASSIGN_FIELD(c.office_ca, r.Path("tls.office_ca"));
  if (r.Find("tls.crl_dir") != nullptr) {
    CBX_ASSIGN_FIELD(c.crl_dir, r.Path("tls.crl_dir"));
  }
  CBX_ASSIGN_FIELD(c.node_signing_key, r.KeyPath("keys.node_signing_key"));
  if (r.Find("keys.node_signing_key_next") != nullptr) {
    CBX_ASSIGN_FIELD(c.node_signing_key_next,
                     r.KeyPath("keys.node_signing_key_next"));
  }
  CBX_ASSIGN_FIELD(c.oprf_key, r.Path("keys.oprf_key"));
  if (r.Find("keys.oprf_key_next") != nullptr) {
    CBX_ASSIGN_FIELD(c.oprf_key_next, r.Path("keys.oprf_key_next"));
  }
  CBX_ASSIGN_FIELD(c.genesis, r.Path("directory.genesis"));
  return absl::OkStatus();
}

// The background work's intervals: the `sync` and `audit` sections.
absl::Status ParseIntervals(FieldReader& r, Config& c) {
  CBX_ASSIGN_FIELD(c.index_interval_ms,
                   r.Millis("sync.index_interval_ms", c.index_interval_ms));
  CBX_ASSIGN_FIELD(
      c.directory_interval_ms,
      r.Millis("sync.directory_interval_ms", c.directory_interval_ms));
  CBX_ASSIGN_FIELD(
      c.checkpoint_interval_ms,
      r.Millis("audit.checkpoint_interval_ms", c.checkpoint_interval_ms));
  CBX_ASSIGN_FIELD(c.witness_interval_ms, r.Millis("audit.witness_interval_ms",
                                                   c.witness_interval_ms));
  if (const json* every = r.Find("audit.checkpoint_every_entries")) {
    if (!every->is_number_integer() || every->get<int64_t>() < 1) {
      return r.Error("audit.checkpoint_every_entries",
                     "must be a positive integer");
    }
    c.checkpoint_every_entries = every->get<int64_t>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(const std::string& text,
                                   const std::string& base_dir,
                                   const std::string& name) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::InvalidArgumentError(name + ": not valid JSON");
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(name + ": must be a JSON object");
  }
  RETURN_IF_ERROR(RefuseUnknownFields(root, name));
  FieldReader r(root, name, base_dir);
  Config c;
  CBX_ASSIGN_FIELD(c.member, r.String("member", true));
  static const std::regex kCode("^[A-Z]{2}$");
  if (!std::regex_match(c.member, kCode)) {
    return r.Error("member", "'" + c.member +
                                 "' is not an ISO 3166-1 alpha-2 code "
                                 "(two capital letters, e.g. MK)");
  }
  CBX_ASSIGN_FIELD(c.data_dir, r.Path("data_dir"));
  RETURN_IF_ERROR(ParseListeners(r, c));
  RETURN_IF_ERROR(ParseFiles(r, c));
  RETURN_IF_ERROR(ParseIntervals(r, c));
  RETURN_IF_ERROR(ParseLog(r, c));
  RETURN_IF_ERROR(ParseStore(r, "storage", c.storage));
  RETURN_IF_ERROR(ParseStore(r, "audit_log", c.audit_log));
  RETURN_IF_ERROR(CheckStoresApart(r, c));
  RETURN_IF_ERROR(ParseLeadership(r, c));
  RETURN_IF_ERROR(ParseRetention(r, c.retention));
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::filesystem::path p(path);
  std::string base = p.has_parent_path() ? p.parent_path().string() : ".";
  return ParseConfig(*text, std::filesystem::absolute(base).string(),
                     p.filename().string());
}

}  // namespace cbx::node
