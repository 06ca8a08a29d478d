#include "node/audit/leaf.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

using ::cbx::node::audit::testing::SampleEntry;

TEST(AuditLeafTest, RoundTripsAndWritesFieldsInNumberOrder) {
  v1::AuditEntry entry = SampleEntry(4);
  entry.set_sequence(300);
  entry.set_time_ms(1767225600000);
  absl::StatusOr<std::string> leaf = EncodeLeaf(entry);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  // sequence (field 1, varint) first: tag 0x08, then 300 = 0xac 0x02;
  // time_ms (field 2, varint) next: tag 0x10.
  ASSERT_GE(leaf->size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>((*leaf)[0]), 0x08);
  EXPECT_EQ(static_cast<uint8_t>((*leaf)[1]), 0xac);
  EXPECT_EQ(static_cast<uint8_t>((*leaf)[2]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>((*leaf)[3]), 0x10);
  EXPECT_EQ(*leaf, entry.SerializeAsString());

  absl::StatusOr<v1::AuditEntry> back = DecodeLeaf(*leaf);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), *leaf);
  EXPECT_EQ(back->user(), entry.user());
  // Encoding is a function of the entry.
  EXPECT_EQ(*EncodeLeaf(*back), *leaf);
}

TEST(AuditLeafTest, RejectsInvalidUtf8) {
  v1::AuditEntry entry = SampleEntry(1);
  entry.set_office(std::string("MK/\xff\xfe", 5));
  absl::StatusOr<std::string> leaf = EncodeLeaf(entry);
  EXPECT_EQ(leaf.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AuditLeafTest, RejectsOversizedEntries) {
  v1::AuditEntry entry = SampleEntry(1);
  entry.set_user(std::string(kMaxLeafSize, 'u'));
  EXPECT_EQ(EncodeLeaf(entry).status().code(),
            absl::StatusCode::kInvalidArgument);
  entry.set_user(std::string(kMaxLeafSize / 2, 'u'));
  EXPECT_TRUE(EncodeLeaf(entry).ok());
}

TEST(AuditLeafTest, RejectsUnknownFields) {
  // Field 99, varint 1: unknown to AuditEntry.
  v1::AuditEntry entry;
  ASSERT_TRUE(entry.ParseFromString(std::string("\x98\x06\x01", 3)));
  EXPECT_EQ(EncodeLeaf(entry).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AuditLeafTest, DecodeRejectsGarbage) {
  EXPECT_EQ(DecodeLeaf(std::string("\x0a\x05"
                                   "ab",
                                   4))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::node::audit
