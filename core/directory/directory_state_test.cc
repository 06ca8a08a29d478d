#include "core/directory/directory_state.h"

#include <atomic>
#include <thread>

#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"

namespace cbx::directory {
namespace {

using ::cbx::directory::testing::SignAs;
using ::cbx::directory::testing::SignedGenesis;
using ::cbx::directory::testing::SignedV2;
using ::cbx::directory::testing::SignedV3;
using ::cbx::directory::testing::V2Directory;
using ::cbx::directory::testing::V3Directory;

// Another version 2, signed like SignedV2 by two of the genesis' governance
// keys: an equivocation.
v1::SignedDirectory OtherV2() {
  v1::Directory d = V2Directory();
  d.mutable_policy()->set_max_message_lifetime_s(900);
  return SignAs(d, {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

std::shared_ptr<const Directory> Genesis() {
  auto g = Directory::FromGenesis(SignedGenesis());
  EXPECT_TRUE(g.ok()) << g.status();
  return *g;
}

TEST(DirectoryStateTest, AdoptsInOrder) {
  DirectoryState state(Genesis());
  EXPECT_EQ(state.Current()->version(), 1u);
  ASSERT_TRUE(state.Update({SignedV2(), SignedV3()}).ok());
  EXPECT_EQ(state.Current()->version(), 3u);
}

TEST(DirectoryStateTest, SkipsOlderVersionsSilently) {
  DirectoryState state(Genesis());
  ASSERT_TRUE(state.Update({SignedV2()}).ok());
  // Peers answer GetDirectory with everything after the version we asked
  // for; overlap with what we hold is normal.
  ASSERT_TRUE(state.Update({SignedGenesis(), SignedV2(), SignedV3()}).ok());
  EXPECT_EQ(state.Current()->version(), 3u);
  ASSERT_TRUE(state.Update({SignedGenesis()}).ok());
  EXPECT_EQ(state.Current()->version(), 3u);
}

TEST(DirectoryStateTest, GapIsFailedPrecondition) {
  DirectoryState state(Genesis());
  EXPECT_EQ(state.Update({SignedV3()}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state.Current()->version(), 1u);
}

TEST(DirectoryStateTest, BadVersionStopsButEarlierOnesStay) {
  DirectoryState state(Genesis());
  v1::SignedDirectory bad_v3 =
      SignAs(V3Directory(), {{"MK", "MK/governance/1"}});
  EXPECT_EQ(state.Update({SignedV2(), bad_v3, SignedV3()}).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(state.Current()->version(), 2u);
  v1::SignedDirectory garbage;
  garbage.set_directory("\xff");
  EXPECT_EQ(state.Update({garbage}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state.Current()->version(), 2u);
}

TEST(DirectoryStateTest, VersionsAfter) {
  DirectoryState state(Genesis());
  ASSERT_TRUE(state.Update({SignedV2(), SignedV3()}).ok());
  auto all = state.VersionsAfter(0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].SerializeAsString(), SignedGenesis().SerializeAsString());
  EXPECT_EQ(all[2].SerializeAsString(), SignedV3().SerializeAsString());
  auto after1 = state.VersionsAfter(1);
  ASSERT_EQ(after1.size(), 2u);
  EXPECT_EQ(after1[0].SerializeAsString(), SignedV2().SerializeAsString());
  EXPECT_TRUE(state.VersionsAfter(3).empty());
  EXPECT_TRUE(state.VersionsAfter(100).empty());
}

TEST(DirectoryStateTest, VersionsAfterStartsAtTheStartVersion) {
  auto v2 = Genesis()->Adopt(SignedV2());
  ASSERT_TRUE(v2.ok());
  DirectoryState state(*v2);
  auto all = state.VersionsAfter(0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].SerializeAsString(), SignedV2().SerializeAsString());
}

TEST(DirectoryStateTest, ReadersSeeOnlyWholeVersionsWhileUpdating) {
  DirectoryState state(Genesis());
  std::atomic<bool> done{false};
  std::atomic<bool> went_back{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      auto current = state.Current();
      if (current->version() < last) went_back = true;
      last = current->version();
    }
  });
  std::thread updater1([&] { (void)state.Update({SignedV2(), SignedV3()}); });
  std::thread updater2([&] { (void)state.Update({SignedV2()}); });
  updater1.join();
  updater2.join();
  done = true;
  reader.join();
  EXPECT_FALSE(went_back.load());
  EXPECT_EQ(state.Current()->version(), 3u);
  EXPECT_EQ(state.VersionsAfter(0).size(), 3u);
}

TEST(DirectoryStateTest, ValidlySignedOtherVersionIsAnEquivocation) {
  DirectoryState state(Genesis());
  ASSERT_TRUE(state.Update({SignedV2()}).ok());
  DirectoryState::UpdateResult r =
      state.AdoptVersions({OtherV2(), SignedV3()}, nullptr);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition) << r.status;
  EXPECT_NE(r.status.message().find("equivocation"), std::string::npos);
  ASSERT_EQ(r.equivocations.size(), 1u);
  EXPECT_EQ(r.equivocations[0].version, 2u);
  EXPECT_EQ(r.equivocations[0].adopted.SerializeAsString(),
            SignedV2().SerializeAsString());
  EXPECT_EQ(r.equivocations[0].conflicting.SerializeAsString(),
            OtherV2().SerializeAsString());
  // Refused, and nothing after it in the batch is looked at.
  EXPECT_EQ(r.adopted, 0);
  EXPECT_EQ(state.Current()->version(), 2u);
  EXPECT_EQ(state.Current()->signed_directory().SerializeAsString(),
            SignedV2().SerializeAsString());
}

TEST(DirectoryStateTest, SameBytesOtherSignersIsNoEquivocation) {
  DirectoryState state(Genesis());
  ASSERT_TRUE(state.Update({SignedV2()}).ok());
  v1::SignedDirectory resigned = SignAs(
      V2Directory(), {{"MK", "MK/governance/1"}, {"AL", "AL/governance/1"}});
  DirectoryState::UpdateResult r = state.AdoptVersions({resigned}, nullptr);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.equivocations.empty());
}

TEST(DirectoryStateTest, BadlySignedOtherVersionIsRefusedWithoutAlarm) {
  DirectoryState state(Genesis());
  ASSERT_TRUE(state.Update({SignedV2()}).ok());
  v1::Directory d = V2Directory();
  d.mutable_policy()->set_max_message_lifetime_s(900);
  // One signature where the genesis asks for two.
  DirectoryState::UpdateResult r =
      state.AdoptVersions({SignAs(d, {{"RS", "RS/governance/1"}})}, nullptr);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnauthenticated) << r.status;
  EXPECT_TRUE(r.equivocations.empty());
  EXPECT_EQ(state.Current()->signed_directory().SerializeAsString(),
            SignedV2().SerializeAsString());
}

TEST(DirectoryStateTest, PersistsBeforeMakingCurrent) {
  DirectoryState state(Genesis());
  std::vector<uint64_t> persisted;
  DirectoryState::UpdateResult r =
      state.AdoptVersions({SignedV2(), SignedV3()}, [&](const Directory& next) {
        // Not current yet while it is being written.
        EXPECT_EQ(state.Current()->version(), next.version() - 1);
        persisted.push_back(next.version());
        return absl::OkStatus();
      });
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.adopted, 2);
  EXPECT_EQ(persisted, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(state.Current()->version(), 3u);
}

TEST(DirectoryStateTest, FailingPersistLeavesTheOldVersionCurrent) {
  DirectoryState state(Genesis());
  DirectoryState::UpdateResult r =
      state.AdoptVersions({SignedV2(), SignedV3()}, [](const Directory& next) {
        return next.version() == 3 ? absl::UnavailableError("disk full")
                                   : absl::OkStatus();
      });
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(r.persist_failed);
  EXPECT_EQ(r.adopted, 1);
  EXPECT_EQ(state.Current()->version(), 2u);
  EXPECT_EQ(state.VersionsAfter(0).size(), 2u);
}

}  // namespace
}  // namespace cbx::directory
