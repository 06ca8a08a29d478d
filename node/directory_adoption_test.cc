// Directory adoption (spec/directory.md §5.3, §8): persist before current,
// and equivocation refused, kept as evidence and raised once.
#include "node/directory_adoption.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "core/crypto/sha256.h"
#include "core/crypto/signer.h"
#include "core/directory/testing/test_federation.h"
#include "core/identifiers/identifiers.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/cosignature.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "gtest/gtest.h"
#include "node/directory_store.h"
#include "node/executor.h"
#include "node/index_sync.h"
#include "node/storage/memory_storage.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/testing/fault_vfs.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

namespace fed = ::cbx::directory::testing;
using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::FaultVfs;
using ::cbx::node::testing::TestNode;
using ::cbx::node::testing::VfsOp;

// Another version 2 that two of the genesis' governance keys signed.
v1::SignedDirectory OtherV2() {
  v1::Directory d = fed::V2Directory();
  d.mutable_policy()->set_max_message_lifetime_s(900);
  return fed::SignAs(d, {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class DirectoryAdoptionTest : public ::testing::Test {
 protected:
  DirectoryAdoptionTest()
      : node_(FakeGenesis()),
        peers_(FakeGenesis(), "MK", &node_.clock()),
        executor_("test", 1),
        sync_(&node_.ctx(), &peers_, &executor_) {
    node_.ctx().AddDirectoryListener([this](const directory::Directory& before,
                                            const directory::Directory& after) {
      told_.emplace_back(before.version(), after.version());
    });
  }
  ~DirectoryAdoptionTest() override { executor_.Shutdown(); }

  uint64_t Current() { return node_.ctx().directory->Current()->version(); }

  TestNode node_;
  FakePeers peers_;
  Executor executor_;
  IndexSync sync_;
  std::vector<std::pair<uint64_t, uint64_t>> told_;
};

// A version pulled from a peer while node.db cannot be written is not used:
// the old version stays current until it can be stored.
TEST_F(DirectoryAdoptionTest, PulledVersionIsNotCurrentUntilStored) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("cbx-adoption-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::create_directories(dir);
  FaultVfs vfs("cbx-fault-adoption");
  SqliteStorage::Options options;
  options.vfs = vfs.name();
  auto storage = SqliteStorage::Open(dir + "/node.db", options);
  ASSERT_TRUE(storage.ok()) << storage.status();
  node_.ctx().storage = *std::move(storage);
  vfs.FailAlways(VfsOp::kWrite, "node.db-wal", FaultVfs::Eio(VfsOp::kWrite));

  peers_.ServeDirectories("RS", {fed::SignedV2()});
  ::testing::internal::CaptureStderr();
  absl::Status s = sync_.SyncDirectory("RS");
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(Current(), 1u);
  EXPECT_TRUE(told_.empty());
  EXPECT_TRUE(absl::StrContains(log, "directory-persist-failed")) << log;

  vfs.Heal();
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(Current(), 2u);
  EXPECT_EQ(told_, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}}));
  // A restart resumes at the stored version.
  auto reloaded = LoadDirectoryState(*node_.ctx().storage, FakeGenesis());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ((*reloaded)->Current()->version(), 2u);
  node_.ctx().storage = std::make_unique<MemoryStorage>();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_F(DirectoryAdoptionTest, FailedCommitLeavesTheOldVersionCurrent) {
  auto* memory = static_cast<MemoryStorage*>(node_.ctx().storage.get());
  memory->FailNextCommit(absl::ResourceExhaustedError("disk full"));
  peers_.ServeDirectories("RS", {fed::SignedV2()});
  EXPECT_EQ(sync_.SyncDirectory("RS").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Current(), 1u);
  auto stored = node_.ctx().storage->GetSetting("directory/2");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(DirectoryAdoptionTest, EquivocationIsRefusedKeptAndRaisedOnce) {
  peers_.ServeDirectories("RS", {fed::SignedV2()});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  ASSERT_EQ(Current(), 2u);
  // AL serves another version 2, validly signed.
  peers_.ServeDirectories("AL", {OtherV2()});
  ::testing::internal::CaptureStderr();
  absl::Status first = sync_.SyncDirectory("AL");
  absl::Status second = sync_.SyncDirectory("AL");
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(first.code(), absl::StatusCode::kFailedPrecondition) << first;
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_EQ(node_.ctx().directory->Current()->signed_directory().directory(),
            fed::SignedV2().directory());
  // One alarm for the one distinct version, naming the peer.
  EXPECT_EQ(Count(log, "ALERT-directory-equivocation"), 1) << log;
  EXPECT_TRUE(absl::StrContains(log, "peer=AL")) << log;
  auto kept = node_.ctx().storage->ListDirectoryEvidence();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].version, 2u);
  EXPECT_EQ((*kept)[0].served_by, "AL");
  EXPECT_EQ((*kept)[0].adopted, fed::SignedV2().SerializeAsString());
  EXPECT_EQ((*kept)[0].conflicting, OtherV2().SerializeAsString());
  auto alert = DirectoryAlert(*node_.ctx().storage, Current());
  ASSERT_TRUE(alert.ok());
  EXPECT_TRUE(absl::StartsWith(
      *alert, "directory equivocation: version 2 served by AL"))
      << *alert;
  EXPECT_EQ(told_.size(), 1u);
}

TEST_F(DirectoryAdoptionTest, BadlySignedOtherVersionIsRefusedWithoutAlarm) {
  peers_.ServeDirectories("RS", {fed::SignedV2()});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  v1::Directory d = fed::V2Directory();
  d.mutable_policy()->set_max_message_lifetime_s(900);
  peers_.ServeDirectories("AL", {fed::SignAs(d, {{"AL", "AL/governance/1"}})});
  ::testing::internal::CaptureStderr();
  absl::Status s = sync_.SyncDirectory("AL");
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_FALSE(absl::StrContains(log, "ALERT")) << log;
  auto kept = node_.ctx().storage->ListDirectoryEvidence();
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->empty());
  auto alert = DirectoryAlert(*node_.ctx().storage, Current());
  ASSERT_TRUE(alert.ok());
  EXPECT_EQ(*alert, "");
}

TEST_F(DirectoryAdoptionTest, OperatorInstallIsAdoptedAndEquivocationKept) {
  Storage& storage = *node_.ctx().storage;
  auto installed = InstallDirectory(storage, FakeGenesis(), fed::SignedV2());
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_EQ(*installed, 2u);
  // Installing it again is reported as done (ALREADY_EXISTS, which
  // cbx-node --install-directory reports with exit 0; issue 12 — it was
  // FAILED_PRECONDITION); another validly signed version 2 is refused and
  // kept as evidence.
  EXPECT_EQ(
      InstallDirectory(storage, FakeGenesis(), fed::SignedV2()).status().code(),
      absl::StatusCode::kAlreadyExists);
  absl::Status other =
      InstallDirectory(storage, FakeGenesis(), OtherV2()).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(other.message(), "equivocation")) << other;
  auto kept = storage.ListDirectoryEvidence();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].served_by, kOperatorInstall);

  // The running node adopts the installed version at its next check.
  auto adopted = AdoptInstalledVersions(node_.ctx());
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  EXPECT_EQ(*adopted, 1);
  EXPECT_EQ(Current(), 2u);
  EXPECT_EQ(told_, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}}));
}

// A version 2, signed by a threshold of governance keys, in which MK's audit
// log jumps to generation 3 with no witnessed predecessor: the governance
// signatures hold, but the generation rule (spec/directory.md §5.2) does
// not, so neither an operator's install nor a peer's copy is adopted. On
// the code before the rule was applied by the node, both were adopted.
v1::SignedDirectory V2SkippingAGeneration() {
  v1::Directory d = fed::V2Directory();
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() == "MK") m.mutable_audit_log()->set_generation(3);
  }
  return fed::SignAs(d, {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

TEST_F(DirectoryAdoptionTest, AVersionBreakingTheLogGenerationRuleIsRefused) {
  absl::Status installed = InstallDirectory(*node_.ctx().storage, FakeGenesis(),
                                            V2SkippingAGeneration())
                               .status();
  EXPECT_EQ(installed.code(), absl::StatusCode::kInvalidArgument) << installed;
  EXPECT_TRUE(absl::StrContains(installed.message(), "MK")) << installed;
  auto stored = node_.ctx().storage->GetSetting("directory/2");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());

  peers_.ServeDirectories("AL", {V2SkippingAGeneration()});
  EXPECT_EQ(sync_.SyncDirectory("AL").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Current(), 1u);
  EXPECT_TRUE(told_.empty());
}

// A version 2 in which MK lists `standby` as its standby_endpoints.
v1::SignedDirectory V2WithMkStandby(const std::vector<std::string>& standby) {
  v1::Directory d = fed::V2Directory();
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "MK") continue;
    for (const std::string& ep : standby) m.add_standby_endpoints(ep);
  }
  return fed::SignAs(d, {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

// spec/directory.md §3 rule 6.9: a bad list of standby endpoints refuses
// the whole version, with the reason; a good one is adopted and used.
TEST_F(DirectoryAdoptionTest, BadStandbyEndpointsRefuseTheUpdate) {
  peers_.ServeDirectories(
      "AL",
      {V2WithMkStandby({"cbx-b.mk.example:7443", "cbx-b.mk.example:7443"})});
  absl::Status s = sync_.SyncDirectory("AL");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(),
      "standby endpoint 1 \"cbx-b.mk.example:7443\" is listed twice"))
      << s;
  EXPECT_EQ(Current(), 1u);
  EXPECT_TRUE(told_.empty());

  peers_.ServeDirectories("AL", {V2WithMkStandby({"cbx-b.mk.example:7443"})});
  ASSERT_TRUE(sync_.SyncDirectory("AL").ok());
  EXPECT_EQ(Current(), 2u);
  EXPECT_EQ(
      node_.ctx().directory->Current()->FindMember("MK")->standby_endpoints(0),
      "cbx-b.mk.example:7443");
}

// --- The audit log generation rule (spec/directory.md §5.2 step 8, §5.3) ---
//
// Versions validly signed by the governance in which RS's audit log
// generation breaks the rule. Each is refused, the node stays on its
// version, ALERT-directory-log-generation names RS once however often the
// version is served, and the directory alert of `cbx peers` and the
// console shows it. On the code before this alert, each was refused
// silently (only the sync's error), so these tests failed there.

// RS's first log's checkpoint at size 7, signed by `signer`'s key under
// RS's origin and cosigned by each of `witnesses` (node keys X/node/1).
std::string RsCheckpoint(const std::vector<std::string>& witnesses,
                         const std::string& signer = "RS/node/1") {
  const note::Checkpoint cp{"cbx/RS/audit", 7, crypto::Sha256("rs root"), {}};
  note::Note n;
  n.text = *note::FormatCheckpoint(cp);
  auto own = note::NoteSigner::Create(cp.origin, fed::TestKey(signer));
  n.signatures.push_back(*own->Sign(n.text));
  for (const std::string& w : witnesses) {
    auto cosigner = note::Cosigner::Create(logcheck::WitnessName(w),
                                           fed::TestKey(w + "/node/1"));
    n.signatures.push_back(*cosigner->Cosign(n.text, fed::kNowMs / 1000));
  }
  return *note::FormatNote(n);
}

// `d` with RS's log at `generation` after `checkpoint`, named with
// `origin` as the predecessor's origin.
v1::Directory WithRsLog(v1::Directory d, uint32_t generation,
                        const std::string& checkpoint,
                        const std::string& origin = "cbx/RS/audit") {
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "RS") continue;
    v1::AuditLogGeneration* g = m.mutable_audit_log();
    g->set_generation(generation);
    g->set_predecessor_origin(origin);
    g->set_predecessor_size(7);
    g->set_predecessor_root_hash(crypto::Sha256("rs root"));
    g->set_predecessor_checkpoint(checkpoint);
  }
  return d;
}

v1::SignedDirectory ByRsAl(const v1::Directory& d) {
  return fed::SignAs(d, {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
}

class LogGenerationRuleTest : public DirectoryAdoptionTest {
 protected:
  // Serves `bad` from AL twice; expects it refused with one alert naming
  // RS and the node still on `stays`; returns the log.
  std::string ExpectRefusedWithOneAlert(const v1::SignedDirectory& bad,
                                        uint64_t stays) {
    const size_t told = told_.size();
    peers_.ServeDirectories("AL", {bad});
    ::testing::internal::CaptureStderr();
    absl::Status first = sync_.SyncDirectory("AL");
    absl::Status second = sync_.SyncDirectory("AL");
    std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(first.code(), absl::StatusCode::kInvalidArgument) << first;
    EXPECT_EQ(second.code(), absl::StatusCode::kInvalidArgument) << second;
    EXPECT_EQ(Current(), stays);
    EXPECT_EQ(told_.size(), told);
    EXPECT_EQ(Count(log, "ALERT-directory-log-generation"), 1) << log;
    EXPECT_TRUE(absl::StrContains(log, "member=RS")) << log;
    EXPECT_TRUE(absl::StrContains(log, "peer=AL")) << log;
    auto alert = DirectoryAlert(*node_.ctx().storage, Current());
    EXPECT_TRUE(alert.ok()) << alert.status();
    if (alert.ok()) {
      EXPECT_TRUE(absl::StrContains(
          *alert, absl::StrCat("directory version ", stays + 1)))
          << *alert;
      EXPECT_TRUE(absl::StrContains(*alert,
                                    "served by AL not adopted: "
                                    "member RS: "))
          << *alert;
    }
    return log;
  }
};

TEST_F(LogGenerationRuleTest, AWitnessedSuccessorIsAdoptedWithoutAlert) {
  peers_.ServeDirectories(
      "AL",
      {ByRsAl(WithRsLog(fed::V2Directory(), 2, RsCheckpoint({"MK", "AL"})))});
  ::testing::internal::CaptureStderr();
  absl::Status s = sync_.SyncDirectory("AL");
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Current(), 2u);
  EXPECT_EQ(Count(log, "ALERT-"), 0) << log;
  auto alert = DirectoryAlert(*node_.ctx().storage, Current());
  ASSERT_TRUE(alert.ok());
  EXPECT_EQ(*alert, "");
}

TEST_F(LogGenerationRuleTest, AGenerationThatSkipsIsRefusedAndRaised) {
  std::string log = ExpectRefusedWithOneAlert(
      ByRsAl(WithRsLog(fed::V2Directory(), 3, RsCheckpoint({"MK", "AL"}))), 1);
  EXPECT_TRUE(absl::StrContains(log, "skips generations")) << log;
}

TEST_F(LogGenerationRuleTest, AGenerationGoingBackIsRefusedAndRaised) {
  peers_.ServeDirectories(
      "RS",
      {ByRsAl(WithRsLog(fed::V2Directory(), 2, RsCheckpoint({"MK", "AL"})))});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  ASSERT_EQ(Current(), 2u);
  // Version 3 lists RS at generation 1 again (signed with v2's keys).
  v1::Directory v3 = fed::V3Directory();
  std::string log = ExpectRefusedWithOneAlert(
      fed::SignAs(v3, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/2"}}),
      2);
  EXPECT_TRUE(absl::StrContains(log, "never goes back")) << log;
  // Once a version 3 is adopted the refusal is history: no alert for it.
  auto later = RefusedVersionAlert(*node_.ctx().storage, 3);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later, "");
}

TEST_F(LogGenerationRuleTest, APredecessorOfAnotherOriginIsRefusedAndRaised) {
  std::string log = ExpectRefusedWithOneAlert(
      ByRsAl(WithRsLog(fed::V2Directory(), 2, RsCheckpoint({"MK", "AL"}),
                       "cbx/MK/audit")),
      1);
  EXPECT_TRUE(absl::StrContains(log, "predecessor_origin must be")) << log;
}

TEST_F(LogGenerationRuleTest, APredecessorNotSignedByTheLogKeyIsRefused) {
  // The note claims RS's origin but MK's node key signed it.
  std::string log = ExpectRefusedWithOneAlert(
      ByRsAl(WithRsLog(fed::V2Directory(), 2,
                       RsCheckpoint({"MK", "AL"}, "MK/node/1"))),
      1);
  EXPECT_TRUE(absl::StrContains(log, "does not verify")) << log;
}

TEST_F(LogGenerationRuleTest, APredecessorBelowTheWitnessThresholdIsRefused) {
  // The witness threshold is 2: MK's cosignature alone is not enough.
  std::string log = ExpectRefusedWithOneAlert(
      ByRsAl(WithRsLog(fed::V2Directory(), 2, RsCheckpoint({"MK"}))), 1);
  EXPECT_TRUE(absl::StrContains(log, "must be witnessed")) << log;
}

// The operator installed a version 2 while a peer served another one: the
// node does not overwrite the stored one, and adopts it.
TEST_F(DirectoryAdoptionTest, StoredInstallWinsOverAPulledVersion) {
  ASSERT_TRUE(
      InstallDirectory(*node_.ctx().storage, FakeGenesis(), fed::SignedV2())
          .ok());
  peers_.ServeDirectories("AL", {OtherV2()});
  EXPECT_EQ(sync_.SyncDirectory("AL").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Current(), 1u);
  ASSERT_TRUE(AdoptInstalledVersions(node_.ctx()).ok());
  EXPECT_EQ(node_.ctx().directory->Current()->signed_directory().directory(),
            fed::SignedV2().directory());
  // Served again, it now shows as the equivocation it is.
  EXPECT_EQ(sync_.SyncDirectory("AL").code(),
            absl::StatusCode::kFailedPrecondition);
  auto kept = node_.ctx().storage->ListDirectoryEvidence();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 1u);
}

// --- Members changing at runtime (spec/directory.md §6) ----------------------

// Version 3 without AL, signed with version 2's keys.
v1::SignedDirectory V3WithoutAl() {
  v1::Directory d = fed::V3Directory();
  auto* members = d.mutable_members();
  for (int i = 0; i < members->size(); ++i) {
    if (members->Get(i).code() == "AL") members->erase(members->begin() + i);
  }
  d.mutable_policy()->set_witness_threshold(1);  // only RS can cosign now
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/2"}});
}

// The test federation's version 2 with AL active again, as version 3.
v1::SignedDirectory V3AlReactivated() {
  v1::Directory d = fed::V3Directory();
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() == "AL") m.set_status(v1::MEMBER_STATUS_ACTIVE);
  }
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/2"}});
}

class MembershipTest : public DirectoryAdoptionTest {
 protected:
  MembershipTest() {
    WatchMembership(node_.ctx());
    // Version 2 ends MK/node/1's validity and lists MK/node/2: this node
    // holds both, as an operator rotating its key would (spec/keys.md §4),
    // so it can still sign its requests after adopting it.
    std::vector<NodeSigningKeys::Key> keys;
    for (const auto& [field, label] :
         {std::pair<const char*, const char*>{"keys.node_signing_key",
                                              "MK/node/1"},
          {"keys.node_signing_key_next", "MK/node/2"}}) {
      crypto::Ed25519PrivateKey key = fed::TestKey(label);
      NodeSigningKeys::Key k;
      k.field = field;
      k.key_id = directory::NodeKeyId(key.public_key().bytes());
      k.signer = std::make_shared<crypto::Ed25519Signer>(std::move(key));
      keys.push_back(std::move(k));
    }
    node_.ctx().signing_keys = std::make_unique<NodeSigningKeys>(
        "MK", std::move(keys), node_.ctx().directory.get(), &node_.clock());
  }
  void GiveCase(const std::string& member, const std::string& email) {
    auto input =
        identifiers::NormalizedOprfInput(v1::IDENTIFIER_TYPE_EMAIL, email);
    ASSERT_TRUE(input.ok());
    v1::CaseReference ref;
    ref.set_case_token(email);
    peers_.AddCase(member, *input, v1::IDENTIFIER_TYPE_EMAIL, ref);
  }
  void SyncRound() {
    sync_.SyncAll(/*directory=*/false);
    sync_.Drain();
  }
};

TEST_F(MembershipTest, SuspendedIsNotSyncedAndReactivatedResyncs) {
  GiveCase("AL", "a@example.org");
  SyncRound();
  ASSERT_TRUE(node_.ctx().peer_indexes.Describe("AL").held);
  const int calls = peers_.Calls("AL", "SyncIndex");
  // Version 2 suspends AL: no longer synced (nor asked, nor witnessed: the
  // same list of active members drives the queries and the witness rounds).
  peers_.ServeDirectories("RS", {fed::SignedV2()});
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(log, "member-suspended")) << log;
  EXPECT_FALSE(node_.ctx().directory->Current()->IsActive("AL"));
  SyncRound();
  EXPECT_EQ(peers_.Calls("AL", "SyncIndex"), calls);
  // Version 3 reactivates it: synced again from the next round.
  GiveCase("AL", "b@example.org");
  peers_.ServeDirectories("RS", {fed::SignedV2(), V3AlReactivated()});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(Current(), 3u);
  SyncRound();
  EXPECT_EQ(peers_.Calls("AL", "SyncIndex"), calls + 1);
  EXPECT_EQ(node_.ctx().peer_indexes.Describe("AL").count, 2u);
}

TEST_F(MembershipTest, RemovedMembersIndexCopyIsDeleted) {
  GiveCase("AL", "a@example.org");
  SyncRound();
  ASSERT_TRUE(node_.ctx().peer_indexes.Describe("AL").held);
  ASSERT_TRUE(node_.ctx().storage->LoadPeerIndex("AL").ok());
  peers_.ServeDirectories("RS", {fed::SignedV2(), V3WithoutAl()});
  ASSERT_TRUE(sync_.SyncDirectory("RS").ok());
  EXPECT_EQ(Current(), 3u);
  EXPECT_FALSE(node_.ctx().peer_indexes.Describe("AL").held);
  EXPECT_EQ(node_.ctx().storage->LoadPeerIndex("AL").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(node_.ctx().peer_indexes.Describe("RS").held);  // untouched
}

}  // namespace
}  // namespace cbx::node
