// Helpers shared by the audit log's tests: a fresh folder per test, sample
// entries, and raw SQL against a log's database (to tamper with it).
#ifndef CBX_NODE_AUDIT_TESTING_TEST_UTIL_H_
#define CBX_NODE_AUDIT_TESTING_TEST_UTIL_H_

#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cbx/v1/audit.pb.h"
#include "gtest/gtest.h"

namespace cbx::node::audit::testing {

// The number in environment variable `name`, or `fallback` if it is unset
// or not a number (the crash loops' cycle counts and seeds).
inline uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  uint64_t out = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &out)) return fallback;
  return out;
}

// A new empty folder under the test's temporary directory.
inline std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::path(::testing::TempDir()) / "cbx_audit_XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  return pattern;
}

// A new empty folder, removed with everything in it when this goes.
class ScopedTempDir {
 public:
  ScopedTempDir() : path_(MakeTempDir()) {}
  ~ScopedTempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An entry like the ones the node writes, varied by `i`.
inline v1::AuditEntry SampleEntry(uint64_t i) {
  v1::AuditEntry entry;
  static const char* const kPeers[] = {"RS", "BA", "HR", "ME", "AL", "XK"};
  switch (i % 3) {
    case 0:
      entry.set_direction(v1::AUDIT_DIRECTION_SENT);
      entry.set_peer(kPeers[i % 6]);
      entry.set_rpc("Peer.Evaluate");
      entry.set_kind("evaluate_request");
      entry.set_envelope_sha256(std::string(32, static_cast<char>(i)));
      entry.set_message_id(std::string(16, static_cast<char>(i + 1)));
      entry.mutable_outcome()->set_elements(static_cast<uint32_t>(i % 5 + 1));
      break;
    case 1:
      entry.set_direction(v1::AUDIT_DIRECTION_RECEIVED);
      entry.set_peer(kPeers[i % 6]);
      entry.set_rpc("Peer.Evaluate");
      entry.set_kind("evaluate_response");
      entry.set_envelope_sha256(std::string(32, static_cast<char>(i * 7)));
      entry.set_message_id(std::string(16, static_cast<char>(i + 2)));
      entry.set_in_reply_to(std::string(16, static_cast<char>(i)));
      entry.mutable_outcome()->set_hits(static_cast<uint32_t>(i % 2));
      break;
    default:
      entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
      entry.set_rpc("Office.Query");
      entry.set_kind("query");
      entry.mutable_outcome()->set_status_code(static_cast<int32_t>(i % 17));
      break;
  }
  entry.set_office("MK/PPO-Skopje");
  entry.set_user(absl::StrCat("prosecutor-", i % 4));
  return entry;
}

// Runs `sql` on the database at `path` through a connection of its own.
inline void RawSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// The first column of the first row of `sql`, as text ("" if none).
inline std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

}  // namespace cbx::node::audit::testing

#endif  // CBX_NODE_AUDIT_TESTING_TEST_UTIL_H_
