// Helpers shared by the storage tests: status assertions, a temporary
// directory, and builders for cases and identifiers.
#ifndef CBX_NODE_STORAGE_STORAGE_TEST_UTIL_H_
#define CBX_NODE_STORAGE_STORAGE_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "node/storage/storage.h"

#define CBX_TEST_CONCAT_INNER_(a, b) a##b
#define CBX_TEST_CONCAT_(a, b) CBX_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr)                            \
  do {                                             \
    const ::absl::Status cbx_s_ = (expr);          \
    ASSERT_TRUE(cbx_s_.ok()) << cbx_s_.ToString(); \
  } while (0)

#define EXPECT_OK(expr)                            \
  do {                                             \
    const ::absl::Status cbx_s_ = (expr);          \
    EXPECT_TRUE(cbx_s_.ok()) << cbx_s_.ToString(); \
  } while (0)

#define CBX_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();    \
  lhs = std::move(tmp).value()

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                     \
  CBX_ASSERT_OK_AND_ASSIGN_IMPL_(CBX_TEST_CONCAT_(cbx_statusor_, __LINE__), \
                                 lhs, expr)

// The code of a Status or a StatusOr.
inline absl::StatusCode CodeOf(const absl::Status& s) { return s.code(); }
template <typename T>
absl::StatusCode CodeOf(const absl::StatusOr<T>& s) {
  return s.status().code();
}

namespace cbx::node::testing {

// A fresh directory under TMPDIR, removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cbx_storage_XXXXXX")
            .string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }

 private:
  std::string path_;
};

// A 32-byte y derived from `seed`.
inline Bytes Y(uint64_t seed) {
  Bytes y(32, '\0');
  for (int i = 0; i < 32; ++i) {
    y[i] = static_cast<char>((seed >> ((i % 8) * 8)) + i * 31);
  }
  return y;
}

inline StoredIdentifier Ident(
    const std::string& value, Tag tag,
    v1::IdentifierType type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME) {
  StoredIdentifier id;
  id.type = type;
  id.normalized_value = value;
  id.observed_from_ms = 1'700'000'000'000;
  id.observed_to_ms = 1'700'000'100'000;
  id.y = Y(tag * 7919 + value.size());
  id.tag = tag;
  return id;
}

inline StoredCase MakeCase(const std::string& number, bool open,
                           std::vector<StoredIdentifier> identifiers) {
  StoredCase c;
  c.record.set_case_number(number);
  c.record.set_case_token(Bytes(16, static_cast<char>(number.size())));
  c.record.set_office("MK/JOT-Skopje");
  c.record.set_role(v1::PERPETRATOR_ROLE_POSTER);
  c.record.set_contact_point("+389 2 000 000");
  c.record.set_status(open ? v1::CASE_STATUS_OPEN : v1::CASE_STATUS_CLOSED);
  c.record.set_opened_month("2026-03");
  c.record.set_created_at_ms(1'750'000'000'000);
  v1::Offence* offence = c.record.add_offences();
  offence->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  offence->set_minor_victim(true);
  for (const StoredIdentifier& id : identifiers) {
    v1::Identifier* shown = c.record.add_identifiers();
    shown->set_type(id.type);
    shown->set_value(id.normalized_value);
    shown->set_observed_from_ms(id.observed_from_ms);
    shown->set_observed_to_ms(id.observed_to_ms);
  }
  c.identifiers = std::move(identifiers);
  return c;
}

inline bool SameIdentifier(const StoredIdentifier& a,
                           const StoredIdentifier& b) {
  return a.type == b.type && a.normalized_value == b.normalized_value &&
         a.observed_from_ms == b.observed_from_ms &&
         a.observed_to_ms == b.observed_to_ms && a.y == b.y && a.tag == b.tag;
}

inline void ExpectSameCase(const StoredCase& got, const StoredCase& want) {
  EXPECT_EQ(got.record.SerializeAsString(), want.record.SerializeAsString())
      << got.record.DebugString() << "\nvs\n"
      << want.record.DebugString();
  ASSERT_EQ(got.identifiers.size(), want.identifiers.size());
  for (size_t i = 0; i < got.identifiers.size(); ++i) {
    EXPECT_TRUE(SameIdentifier(got.identifiers[i], want.identifiers[i]))
        << "identifier " << i << ": " << got.identifiers[i].normalized_value;
  }
}

}  // namespace cbx::node::testing

#endif  // CBX_NODE_STORAGE_STORAGE_TEST_UTIL_H_
