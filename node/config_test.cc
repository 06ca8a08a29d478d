#include "node/config.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cbx::node {
namespace {

constexpr char kGood[] = R"({
  "member": "MK",
  "data_dir": "data",
  "peer_listen": "127.0.0.1:7101",
  "office_listen": "127.0.0.1:7201",
  "tls": {"certificate": "node.crt", "private_key": "node.key",
          "office_ca": "/etc/cbx/ca.crt"},
  "keys": {"node_signing_key": "node-signing.key", "oprf_key": "oprf.key"},
  "directory": {"genesis": "../genesis.pb"},
  "sync": {"index_interval_ms": 500}
})";

TEST(ConfigTest, ParsesAndResolvesRelativePaths) {
  auto c = ParseConfig(kGood, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->member, "MK");
  EXPECT_EQ(c->data_dir, "/srv/cbx/mk/data");
  EXPECT_EQ(c->tls_certificate, "/srv/cbx/mk/node.crt");
  EXPECT_EQ(c->office_ca, "/etc/cbx/ca.crt");
  EXPECT_EQ(c->genesis, "/srv/cbx/genesis.pb");
  EXPECT_EQ(c->index_interval_ms, 500);
  EXPECT_EQ(c->directory_interval_ms, 10000);
  EXPECT_TRUE(c->admin_listen.empty());
}

TEST(ConfigTest, ConsoleListenIsOptionalAndMustBeAPortOfItsOwn) {
  EXPECT_TRUE(
      ParseConfig(kGood, "/srv/cbx/mk", "node.json")->console_listen.empty());
  auto with = [](const std::string& value) {
    std::string text = kGood;
    text.replace(text.find("{") + 1, 0,
                 absl::StrCat(R"("console_listen": ")", value, R"(",)"));
    return ParseConfig(text, "/srv/cbx/mk", "node.json");
  };
  auto good = with("0.0.0.0:7443");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->console_listen, "0.0.0.0:7443");
  auto bad = with("7443");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("console_listen"), std::string::npos);
  const std::string peer =
      ParseConfig(kGood, "/srv/cbx/mk", "node.json")->peer_listen;
  auto same = with(peer);
  EXPECT_EQ(same.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(same.status().message().find("console_listen: must differ"),
            std::string::npos)
      << same.status();
}

TEST(ConfigTest, ConsoleMaxUploadBytesHasADefaultAndBounds) {
  EXPECT_EQ(
      ParseConfig(kGood, "/srv/cbx/mk", "node.json")->console_max_upload_bytes,
      int64_t{64} << 20);
  auto with = [](const std::string& console) {
    std::string text = kGood;
    text.replace(text.rfind('}'), 1, ", \"console\": " + console + "}");
    return ParseConfig(text, "/srv/cbx/mk", "node.json");
  };
  auto set = with(R"({"max_upload_bytes": 1048576})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->console_max_upload_bytes, 1048576);
  for (const char* bad :
       {R"({"max_upload_bytes": 1000})", R"({"max_upload_bytes": "64M"})",
        R"({"max_upload_bytes": 4294967296})", R"({"max_upload": 1})"}) {
    auto c = with(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("console.max_upload"),
              std::string::npos)
        << c.status();
  }
}

TEST(ConfigTest, OprfKeyNextIsOptional) {
  auto without = ParseConfig(kGood, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_TRUE(without->oprf_key_next.empty());
  std::string text = kGood;
  const std::string from = R"("oprf_key": "oprf.key")";
  text.replace(text.find(from), from.size(),
               R"("oprf_key": "oprf.key", "oprf_key_next": "oprf-2.key")");
  auto with = ParseConfig(text, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->oprf_key_next, "/srv/cbx/mk/oprf-2.key");
  text.replace(text.find("\"oprf-2.key\""), 12, "7");
  auto bad = ParseConfig(text, "/srv/cbx/mk", "node.json");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("keys.oprf_key_next: must be a string"),
            std::string::npos)
      << bad.status();
}

TEST(ConfigTest, AdminAllowNonLoopbackIsABoolean) {
  std::string text = kGood;
  text.replace(
      text.find("{") + 1, 0,
      R"("admin_listen": "0.0.0.0:7301", "admin_allow_non_loopback": true,)");
  auto c = ParseConfig(text, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->admin_listen, "0.0.0.0:7301");
  EXPECT_TRUE(c->admin_allow_non_loopback);
  EXPECT_FALSE(
      ParseConfig(kGood, "/srv/cbx/mk", "node.json")->admin_allow_non_loopback);
  text.replace(text.find("true"), 4, "\"yes\"");
  auto bad = ParseConfig(text, "/srv/cbx/mk", "node.json");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(
                "admin_allow_non_loopback: must be true or false"),
            std::string::npos)
      << bad.status();
}

struct BadCase {
  std::string from, to, message;
};

TEST(ConfigTest, EveryErrorNamesTheFieldAndTheProblem) {
  const std::vector<BadCase> cases = {
      {R"("member": "MK")", R"("member": "mk")",
       "member: 'mk' is not an ISO 3166-1 alpha-2 code"},
      {R"("member": "MK",)", "", "member: missing"},
      {R"("peer_listen": "127.0.0.1:7101")", R"("peer_listen": "nowhere")",
       "peer_listen: 'nowhere' is not host:port"},
      {R"("peer_listen": "127.0.0.1:7101")",
       R"("peer_listen": "127.0.0.1:99999")", "peer_listen: port 99999"},
      {R"("office_listen": "127.0.0.1:7201")",
       R"("office_listen": "127.0.0.1:7101")",
       "office_listen: must differ from peer_listen"},
      {R"("certificate": "node.crt", )", "", "tls.certificate: missing"},
      {R"("oprf_key": "oprf.key")", R"("oprf_key": 7)",
       "keys.oprf_key: must be a string"},
      {R"("index_interval_ms": 500)", R"("index_interval_ms": 5)",
       "sync.index_interval_ms: must be between"},
      {R"("index_interval_ms": 500)", R"("index_interval_ms": "fast")",
       "sync.index_interval_ms: must be an integer"},
      {R"("data_dir": "data",)", R"("data_dir": "data", "colour": "red",)",
       "colour: unknown field"},
      // Misspelt fields inside a section are refused too (they used to fall
      // back to their defaults silently).
      {R"("index_interval_ms": 500)", R"("index_intervall_ms": 500)",
       "sync.index_intervall_ms: unknown field (sync has: "},
      {R"("office_ca": )", R"("ofice_ca": )",
       "tls.ofice_ca: unknown field (tls has: certificate, crl_dir, "
       "office_ca, private_key)"},
      {R"("genesis": )", R"("genesis": "../genesis.pb", "genisis": )",
       "directory.genisis: unknown field"},
      {R"("sync": {"index_interval_ms": 500})", R"("sync": 500)",
       "sync: must be a JSON object"},
  };
  for (const BadCase& bad : cases) {
    std::string text = kGood;
    size_t at = text.find(bad.from);
    ASSERT_NE(at, std::string::npos) << bad.from;
    text.replace(at, bad.from.size(), bad.to);
    auto c = ParseConfig(text, "/srv", "node.json");
    ASSERT_FALSE(c.ok()) << bad.message;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("node.json: " + bad.message),
              std::string::npos)
        << c.status().message();
  }
}

// Every section refuses a field it does not define (issue 12: --check must
// catch a misspelling at every level): one misspelt field per section.
TEST(ConfigTest, EverySectionRefusesAnUnknownField) {
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"tls", R"({"certificate": "c", "private_key": "k", "office_ca": "o",
                  "crl_dirr": "x"})"},
      {"keys",
       R"({"node_signing_key": "s", "oprf_key": "o", "opfr_key_next": "n"})"},
      {"directory", R"({"genesis": "g", "genisis": "g"})"},
      {"sync", R"({"directory_intervall_ms": 500})"},
      {"audit", R"({"witness_interval": 500})"},
      {"log", R"({"levle": "debug"})"},
  };
  for (const auto& [section, body] : sections) {
    std::string text = kGood;
    text.replace(text.rfind('}'), 1, ", \"" + section + "\": " + body + "}");
    auto c = ParseConfig(text, "/srv", "node.json");
    ASSERT_FALSE(c.ok()) << section;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("node.json: " + section + "."),
              std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find("unknown field"), std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigTest, LogFormatAndLevel) {
  auto plain = ParseConfig(kGood, "/srv", "node.json");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->log_format, LogFormat::kText);
  EXPECT_EQ(plain->log_level, LogLevel::kInfo);
  std::string text = kGood;
  text.replace(text.rfind('}'), 1,
               R"(, "log": {"format": "json", "level": "warning"}})");
  auto json = ParseConfig(text, "/srv", "node.json");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->log_format, LogFormat::kJson);
  EXPECT_EQ(json->log_level, LogLevel::kWarn);
  for (const auto& [bad, message] :
       std::vector<std::pair<std::string, std::string>>{
           {R"({"format": "xml"})", "log.format: 'xml' is not a log format"},
           {R"({"level": "verbose"})",
            "log.level: 'verbose' is not a log level"},
           {R"({"level": 3})", "log.level: must be a string"},
           {R"("debug")", "log: must be a JSON object"}}) {
    std::string t = kGood;
    t.replace(t.rfind('}'), 1, R"(, "log": )" + bad + "}");
    auto c = ParseConfig(t, "/srv", "node.json");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("node.json: " + message),
              std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigTest, RejectsNonJsonAndMissingFile) {
  EXPECT_EQ(ParseConfig("{", "/", "x.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseConfig("[]", "/", "x.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadConfig("/nonexistent/cbx.json").status().code(),
            absl::StatusCode::kNotFound);
}

// Found by fuzz/config_json_fuzz: a long host:port value used to overflow
// the stack in std::regex (a crash at start-up instead of an error).
TEST(ConfigTest, LongAddressIsRefusedNotACrash) {
  for (const std::string& value :
       {std::string(200000, 'a') + ":7101", std::string(200000, '1')}) {
    std::string text = kGood;
    const std::string from = R"("peer_listen": "127.0.0.1:7101")";
    text.replace(text.find(from), from.size(),
                 R"("peer_listen": ")" + value + "\"");
    auto c = ParseConfig(text, "/srv", "node.json");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("peer_listen: "), std::string::npos);
  }
}

// The host:port rule as before: a host of letters, digits, '.', '-', '[',
// ']' and ':', then ':' and a port of 1 to 5 digits up to 65535.
TEST(ConfigTest, AddressRule) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"127.0.0.1:7101", true},
      {"[::1]:7101", true},
      {"node.mk:0", true},
      {"a:65535", true},
      {"::1:80", true},
      {"a:65536", false},
      {"a:123456", false},
      {":7101", false},
      {"a:", false},
      {"a", false},
      {"a b:1", false},
      {"a:1x", false},
      {"host_name:1", false},
      {"", false},
  };
  for (const auto& [value, ok] : cases) {
    std::string text = kGood;
    const std::string from = R"("peer_listen": "127.0.0.1:7101")";
    text.replace(text.find(from), from.size(),
                 R"("peer_listen": ")" + value + "\"");
    auto c = ParseConfig(text, "/srv", "node.json");
    EXPECT_EQ(c.ok(), ok) << value << ": " << c.status();
  }
}

}  // namespace
}  // namespace cbx::node

namespace cbx::node {
namespace {

// kGood with an "audit_log" section `section` (a JSON object's text).
std::string WithAuditLog(const std::string& section) {
  std::string text = kGood;
  text.replace(text.find("{") + 1, 0, "\"audit_log\": " + section + ",");
  return text;
}

TEST(ConfigTest, AuditLogIsSqliteByDefault) {
  auto c = ParseConfig(kGood, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->audit_log.backend, AuditLogStoreConfig::Backend::kSqlite);
  auto explicit_sqlite = ParseConfig(WithAuditLog(R"({"backend": "sqlite"})"),
                                     "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(explicit_sqlite.ok()) << explicit_sqlite.status();
  EXPECT_EQ(explicit_sqlite->audit_log.backend,
            AuditLogStoreConfig::Backend::kSqlite);
}

TEST(ConfigTest, AuditLogOnPostgresql) {
  auto c = ParseConfig(WithAuditLog(R"({"backend": "postgresql",
                       "conninfo": "host=db1,db2 dbname=cbx target_session_attrs=read-write",
                       "schema": "cbx_audit_mk"})"),
                       "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->audit_log.backend, AuditLogStoreConfig::Backend::kPostgresql);
  EXPECT_EQ(c->audit_log.schema, "cbx_audit_mk");
  EXPECT_NE(c->audit_log.conninfo.find("target_session_attrs"),
            std::string::npos);
  auto default_schema = ParseConfig(
      WithAuditLog(R"({"backend": "postgresql", "conninfo": "dbname=cbx"})"),
      "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(default_schema.ok()) << default_schema.status();
  EXPECT_EQ(default_schema->audit_log.schema, "cbx_audit");
}

TEST(ConfigTest, AuditLogErrorsNameTheFieldAndNeverThePassword) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"backend": "mysql"})", "audit_log.backend: must be"},
      {R"({"backend": "postgresql"})", "audit_log.conninfo: missing"},
      {R"({"backend": "postgresql", "conninfo": "host='s3cret"})",
       "audit_log.conninfo: is not a libpq connection string"},
      {R"({"backend": "postgresql", "conninfo": "password=s3cret",
           "schema": "Audit-Log"})",
       "audit_log.schema: must be a plain lower-case name"},
      {R"({"conninfo": "password=s3cret"})",
       "audit_log.conninfo: only with backend \"postgresql\""},
      {R"({"backend": "postgresql", "conninfo": "password=s3cret",
           "pasword": "x"})",
       "audit_log.pasword: unknown field"},
  };
  for (const auto& [section, want] : cases) {
    auto c = ParseConfig(WithAuditLog(section), "/srv/cbx/mk", "node.json");
    ASSERT_FALSE(c.ok()) << section;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status();
    EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos)
        << c.status();
  }
}

// kGood with node.db and the audit log in PostgreSQL and a "leadership"
// section `section` (a JSON object's text; empty: none).
std::string WithLeadership(const std::string& section) {
  std::string text =
      WithAuditLog(R"({"backend": "postgresql", "conninfo": "dbname=cbx"})");
  text.replace(text.find("{") + 1, 0,
               R"("storage": {"backend": "postgresql", "conninfo": )"
               R"("dbname=cbx"},)");
  if (!section.empty()) {
    text.replace(text.find("{") + 1, 0, "\"leadership\": " + section + ",");
  }
  return text;
}

TEST(ConfigTest, LeadershipMakesThePairAndHasDefaults) {
  auto alone = ParseConfig(WithLeadership(""), "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_FALSE(alone->leadership.enabled);
  auto c = ParseConfig(WithLeadership(R"({"name": "a"})"), "/srv/cbx/mk",
                       "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->leadership.enabled);
  EXPECT_EQ(c->leadership.name, "a");
  EXPECT_EQ(c->leadership.lease_ms, 6000);
  EXPECT_EQ(c->leadership.poll_ms, 500);
  EXPECT_EQ(c->leadership.schema, "cbx_leadership");
  auto set =
      ParseConfig(WithLeadership(R"({"name": "db-host_2", "lease_ms": 3000,
                         "poll_ms": 200, "schema": "cbx_pair"})"),
                  "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->leadership.lease_ms, 3000);
  EXPECT_EQ(set->leadership.poll_ms, 200);
  EXPECT_EQ(set->leadership.schema, "cbx_pair");
}

TEST(ConfigTest, LeadershipErrorsNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({})", "leadership.name: missing"},
      {R"({"name": "a b"})", "leadership.name: must be 1 to 32"},
      {R"({"name": "a", "lease_ms": 500})",
       "leadership.lease_ms: must be between 1000 and 600000"},
      {R"({"name": "a", "lease_ms": 3000, "poll_ms": 1500})",
       "leadership.poll_ms: must be between 50 and 1000"},
      {R"({"name": "a", "schema": "cbx_audit"})",
       "leadership.schema: must differ"},
      {R"({"name": "a", "lease": 3000})", "leadership.lease: unknown field"},
  };
  for (const auto& [section, want] : cases) {
    auto c = ParseConfig(WithLeadership(section), "/srv/cbx/mk", "node.json");
    ASSERT_FALSE(c.ok()) << section;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status();
  }
  // The term row and the fence live in the audit log's database.
  std::string sqlite = kGood;
  sqlite.replace(sqlite.find("{") + 1, 0, R"("leadership": {"name": "a"},)");
  auto c = ParseConfig(sqlite, "/srv/cbx/mk", "node.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(
                "leadership: needs audit_log.backend \"postgresql\""),
            std::string::npos)
      << c.status();
  // node.db in SQLite: each node of the pair would have its own.
  std::string sqlite_db =
      WithAuditLog(R"({"backend": "postgresql", "conninfo": "dbname=cbx"})");
  sqlite_db.replace(sqlite_db.find("{") + 1, 0,
                    R"("leadership": {"name": "a"},)");
  auto own_db = ParseConfig(sqlite_db, "/srv/cbx/mk", "node.json");
  ASSERT_FALSE(own_db.ok());
  EXPECT_EQ(own_db.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(own_db.status().message().find(
                "leadership: needs storage.backend \"postgresql\""),
            std::string::npos)
      << own_db.status();
}

// kGood with a "storage" section `section` (a JSON object's text).
std::string WithStorage(const std::string& section) {
  std::string text = kGood;
  text.replace(text.find("{") + 1, 0, "\"storage\": " + section + ",");
  return text;
}

TEST(ConfigTest, StorageIsSqliteByDefault) {
  auto c = ParseConfig(kGood, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.backend, StorageConfig::Backend::kSqlite);
  auto explicit_sqlite = ParseConfig(WithStorage(R"({"backend": "sqlite"})"),
                                     "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(explicit_sqlite.ok()) << explicit_sqlite.status();
  EXPECT_EQ(explicit_sqlite->storage.backend, StorageConfig::Backend::kSqlite);
}

TEST(ConfigTest, StorageOnPostgresqlBesideTheAuditLog) {
  auto c = ParseConfig(WithStorage(R"({"backend": "postgresql",
                      "conninfo": "host=db1,db2 dbname=cbx target_session_attrs=read-write",
                      "schema": "cbx_node_mk"})"),
                       "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.backend, StorageConfig::Backend::kPostgresql);
  EXPECT_EQ(c->storage.schema, "cbx_node_mk");
  EXPECT_NE(c->storage.conninfo.find("target_session_attrs"),
            std::string::npos);
  // The audit log stays where its own section says (SQLite here).
  EXPECT_EQ(c->audit_log.backend, AuditLogStoreConfig::Backend::kSqlite);
  // Both in one database: each in its own schema, by default cbx_node and
  // cbx_audit.
  std::string both =
      WithAuditLog(R"({"backend": "postgresql", "conninfo": "dbname=cbx"})");
  both.replace(
      both.find("{") + 1, 0,
      R"("storage": {"backend": "postgresql", "conninfo": "dbname=cbx"},)");
  auto shared = ParseConfig(both, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(shared->storage.schema, "cbx_node");
  EXPECT_EQ(shared->audit_log.schema, "cbx_audit");
}

TEST(ConfigTest, StorageAndAuditLogNeverShareASchema) {
  std::string text = WithAuditLog(
      R"({"backend": "postgresql", "conninfo": "dbname=cbx password=s3cret",
          "schema": "cbx"})");
  text.replace(text.find("{") + 1, 0,
               R"("storage": {"backend": "postgresql", "schema": "cbx",
                   "conninfo": "dbname=cbx password=s3cret"},)");
  auto c = ParseConfig(text, "/srv/cbx/mk", "node.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(
                "storage.schema: must differ from audit_log.schema"),
            std::string::npos)
      << c.status();
  EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos);
}

TEST(ConfigTest, StorageErrorsNameTheFieldAndNeverThePassword) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"backend": "mysql"})", "storage.backend: must be"},
      {R"({"backend": 1})", "storage.backend: must be a string"},
      {R"("postgresql")", "storage: must be a JSON object"},
      {R"({"backend": "postgresql"})", "storage.conninfo: missing"},
      {R"({"backend": "postgresql", "conninfo": ""})",
       "storage.conninfo: must not be empty"},
      {R"({"backend": "postgresql", "conninfo": "host='s3cret"})",
       "storage.conninfo: is not a libpq connection string"},
      {R"({"backend": "postgresql", "conninfo": "postgresql://u:s3cret@h/d?no_such_key=1"})",
       "storage.conninfo: is not a libpq connection string"},
      {R"({"backend": "postgresql", "conninfo": "password=s3cret",
           "schema": "Node-DB"})",
       "storage.schema: must be a plain lower-case name"},
      {R"({"backend": "postgresql", "conninfo": "password=s3cret",
           "schema": "1node"})",
       "storage.schema: must be a plain lower-case name"},
      {R"({"conninfo": "password=s3cret"})",
       "storage.conninfo: only with backend \"postgresql\""},
      {R"({"schema": "cbx_node"})",
       "storage.schema: only with backend \"postgresql\""},
      {R"({"backend": "postgresql", "conninfo": "password=s3cret",
           "pasword": "s3cret"})",
       "storage.pasword: unknown field"},
  };
  for (const auto& [section, want] : cases) {
    auto c = ParseConfig(WithStorage(section), "/srv/cbx/mk", "node.json");
    ASSERT_FALSE(c.ok()) << section;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status();
    EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos)
        << c.status();
  }
}

}  // namespace
}  // namespace cbx::node
