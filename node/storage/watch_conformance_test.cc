// The Storage contract for standing watches (storage.h, "Standing
// watches"), run against every backend.
#include <memory>
#include <string>
#include <vector>

#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/storage/memory_storage.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage.h"
#include "node/storage/storage_test_util.h"
#include "node/storage/testing/storage_backends.h"

namespace cbx::node {
namespace {

using testing::TempDir;
using testing::Y;

WatchOutput Output(const std::string& member, uint32_t input, uint64_t seed) {
  WatchOutput o;
  o.member = member;
  o.input = input;
  o.oprf_epoch = 1;
  o.y = Y(seed);
  o.tag = seed * 7919;
  return o;
}

StoredWatch MakeWatch(const std::string& id, const std::string& office,
                      int64_t expires_at_ms) {
  StoredWatch w;
  w.record.set_watch_id(id);
  w.record.set_office(office);
  w.record.mutable_purpose()->set_case_number("MK-2026-1");
  w.record.set_expires_at_ms(expires_at_ms);
  w.record.add_peers("RS");
  w.record.add_peers("HR");
  w.outputs = {Output("RS", 1, 11), Output("HR", 0, 12), Output("RS", 0, 13)};
  return w;
}

template <typename Backend>
class WatchStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_STORAGE_BACKEND_OR_SKIP(Backend);
    storage_ = Backend::Make(dir_);
    ASSERT_NE(storage_, nullptr);
  }
  Storage& s() { return *storage_; }
  absl::Status Txn(const Storage::TransactionBody& body) {
    return storage_->ReadWriteTransaction(body);
  }
  absl::Status Add(const StoredWatch& w) {
    return Txn([&](StorageTransaction& t) { return t.AddWatch(w); });
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TYPED_TEST_SUITE(WatchStorageTest, testing::StorageBackends,
                 testing::StorageBackendNames);

TYPED_TEST(WatchStorageTest, AddedWatchReadsBackWithOrderedOutputs) {
  ASSERT_TRUE(this->Add(MakeWatch("w1", "MK/PPO", 1000)).ok());
  auto got = this->s().GetWatch("w1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.office(), "MK/PPO");
  EXPECT_EQ(got->record.expires_at_ms(), 1000);
  ASSERT_EQ(got->outputs.size(), 3u);
  EXPECT_EQ(got->outputs[0].member, "HR");
  EXPECT_EQ(got->outputs[1].member, "RS");
  EXPECT_EQ(got->outputs[1].input, 0u);
  EXPECT_EQ(got->outputs[1].y, Y(13));
  EXPECT_EQ(got->outputs[1].tag, 13u * 7919);
  EXPECT_EQ(got->outputs[2].input, 1u);
  EXPECT_EQ(got->outputs[2].resolved_version, 0u);
}

TYPED_TEST(WatchStorageTest, RefusesBadWatchesAndChangesNothing) {
  StoredWatch no_id = MakeWatch("", "MK/PPO", 1);
  EXPECT_EQ(this->Add(no_id).code(), absl::StatusCode::kInvalidArgument);
  StoredWatch no_office = MakeWatch("w", "", 1);
  EXPECT_EQ(this->Add(no_office).code(), absl::StatusCode::kInvalidArgument);
  StoredWatch short_y = MakeWatch("w", "MK/PPO", 1);
  short_y.outputs[0].y.resize(31);
  EXPECT_EQ(this->Add(short_y).code(), absl::StatusCode::kInvalidArgument);
  StoredWatch twice = MakeWatch("w", "MK/PPO", 1);
  twice.outputs.push_back(Output("RS", 1, 99));
  EXPECT_EQ(this->Add(twice).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->s().GetWatch("w").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(this->Add(MakeWatch("w", "MK/PPO", 1)).ok());
  EXPECT_EQ(this->Add(MakeWatch("w", "MK/Other", 2)).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(this->s().GetWatch("w")->record.office(), "MK/PPO");
}

TYPED_TEST(WatchStorageTest, ListsByOfficeInIdOrder) {
  ASSERT_TRUE(this->Add(MakeWatch("b", "MK/PPO", 1)).ok());
  ASSERT_TRUE(this->Add(MakeWatch("a", "MK/PPO", 1)).ok());
  ASSERT_TRUE(this->Add(MakeWatch("c", "MK/Other", 1)).ok());
  auto mine = this->s().ListWatches("MK/PPO");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].watch_id(), "a");
  EXPECT_EQ((*mine)[1].watch_id(), "b");
  EXPECT_EQ(this->s().ListWatches("")->size(), 3u);
  EXPECT_TRUE(this->s().ListWatches("MK/None")->empty());
}

TYPED_TEST(WatchStorageTest, OutputsOfOnePeerAcrossWatches) {
  ASSERT_TRUE(this->Add(MakeWatch("b", "MK/PPO", 1)).ok());
  ASSERT_TRUE(this->Add(MakeWatch("a", "MK/PPO", 1)).ok());
  auto rs = this->s().WatchOutputsOf("RS");
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->size(), 4u);
  EXPECT_EQ((*rs)[0].watch_id, "a");
  EXPECT_EQ((*rs)[0].output.input, 0u);
  EXPECT_EQ((*rs)[1].output.input, 1u);
  EXPECT_EQ((*rs)[2].watch_id, "b");
  EXPECT_TRUE(this->s().WatchOutputsOf("AL")->empty());
}

TYPED_TEST(WatchStorageTest, UpdateResolveAndDeleteOutputs) {
  ASSERT_TRUE(this->Add(MakeWatch("w", "MK/PPO", 1)).ok());
  ASSERT_TRUE(this->Txn([](StorageTransaction& t) {
                    return t.SetWatchOutputResolved("w", "RS", 1, 42);
                  })
                  .ok());
  EXPECT_EQ(this->Txn([](StorageTransaction& t) {
                  return t.SetWatchOutputResolved("w", "RS", 9, 42);
                })
                .code(),
            absl::StatusCode::kNotFound);
  v1::Watch record = this->s().GetWatch("w")->record;
  record.set_expires_at_ms(5000);
  record.add_needs_refresh("HR");
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) {
                    RETURN_IF_ERROR(t.UpdateWatch(record));
                    return t.DeleteWatchOutputs("w", "HR");
                  })
                  .ok());
  auto got = this->s().GetWatch("w");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.expires_at_ms(), 5000);
  ASSERT_EQ(got->record.needs_refresh_size(), 1);
  ASSERT_EQ(got->outputs.size(), 2u);
  EXPECT_EQ(got->outputs[1].resolved_version, 42u);
  v1::Watch unknown;
  unknown.set_watch_id("nope");
  EXPECT_EQ(
      this->Txn([&](StorageTransaction& t) { return t.UpdateWatch(unknown); })
          .code(),
      absl::StatusCode::kNotFound);
}

// Retention of watches: an expired watch found, deleted with every y it
// kept, in one transaction; a rolled-back delete leaves all of it.
TYPED_TEST(WatchStorageTest, ExpiredWatchesGoWithTheirOutputs) {
  ASSERT_TRUE(this->Add(MakeWatch("late", "MK/PPO", 3000)).ok());
  ASSERT_TRUE(this->Add(MakeWatch("early", "MK/PPO", 1000)).ok());
  ASSERT_TRUE(this->Add(MakeWatch("mid", "MK/PPO", 2000)).ok());
  std::vector<std::string> due;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) {
                    ASSIGN_OR_RETURN(due, t.ExpiredWatches(2000, 0));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(due, (std::vector<std::string>{"early", "mid"}));
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) {
                    ASSIGN_OR_RETURN(due, t.ExpiredWatches(5000, 1));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(due, (std::vector<std::string>{"early"}));

  EXPECT_EQ(this->Txn([](StorageTransaction& t) {
                  RETURN_IF_ERROR(t.DeleteWatch("early"));
                  return absl::AbortedError("rolled back");
                })
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE(this->s().GetWatch("early").ok());

  ASSERT_TRUE(
      this->Txn([](StorageTransaction& t) { return t.DeleteWatch("early"); })
          .ok());
  EXPECT_EQ(this->s().GetWatch("early").status().code(),
            absl::StatusCode::kNotFound);
  // No y of the deleted watch is left behind.
  // Held in a local: a range-for over *WatchOutputsOf(...) would walk the
  // vector of a StatusOr destroyed before the loop's first step.
  ASSERT_OK_AND_ASSIGN(std::vector<WatchedOutput> left,
                       this->s().WatchOutputsOf("RS"));
  for (const WatchedOutput& o : left) {
    EXPECT_NE(o.watch_id, "early");
  }
  EXPECT_EQ(this->s().WatchOutputsOf("RS")->size(), 4u);
  EXPECT_EQ(
      this->Txn([](StorageTransaction& t) { return t.DeleteWatch("early"); })
          .code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cbx::node
