#include "core/logcheck/log_generation.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "core/note/cosignature.h"
#include "core/note/signer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::logcheck {
namespace {

namespace fed = directory::testing;
using ::testing::HasSubstr;

template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) std::abort();  // Test fixture misuse.
  return *std::move(v);
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

std::shared_ptr<const directory::Directory> Genesis() {
  return Must(directory::Directory::FromGenesis(fed::SignedGenesis()));
}

note::Checkpoint Cp(uint64_t size, std::string origin = "cbx/MK/audit") {
  return note::Checkpoint{std::move(origin),
                          size,
                          crypto::Sha256("root " + std::to_string(size)),
                          {}};
}

// MK's checkpoint `cp`, signed by MK/node/1 and cosigned by `witnesses`.
std::string SignedNote(const note::Checkpoint& cp,
                       std::vector<std::string> witnesses) {
  note::Note n;
  n.text = Must(note::FormatCheckpoint(cp));
  n.signatures.push_back(
      Must(Must(note::NoteSigner::Create(cp.origin, fed::TestKey("MK/node/1")))
               .Sign(n.text)));
  for (const std::string& w : witnesses) {
    n.signatures.push_back(
        Must(Must(note::Cosigner::Create(WitnessName(w),
                                         fed::TestKey(w + "/node/1")))
                 .Cosign(n.text, fed::kNowMs / 1000)));
  }
  return Must(note::FormatNote(n));
}

// The genesis as the next version, MK announcing generation `generation`
// with `predecessor` as its predecessor.
v1::Directory NextWith(uint32_t generation, const note::Checkpoint& predecessor,
                       const std::string& note) {
  v1::Directory next = Genesis()->proto();
  next.set_version(2);
  for (v1::Member& m : *next.mutable_members()) {
    if (m.code() != "MK") continue;
    v1::AuditLogGeneration* g = m.mutable_audit_log();
    g->set_generation(generation);
    g->set_predecessor_origin(predecessor.origin);
    g->set_predecessor_size(predecessor.size);
    g->set_predecessor_root_hash(predecessor.root_hash);
    g->set_predecessor_checkpoint(note);
  }
  return next;
}

TEST(LogGenerationTest, OriginsByGeneration) {
  EXPECT_EQ(LogOrigin("MK", 0), "cbx/MK/audit");
  EXPECT_EQ(LogOrigin("MK", 1), "cbx/MK/audit");
  EXPECT_EQ(LogOrigin("MK", 2), "cbx/MK/audit/2");
  v1::Member m;
  EXPECT_EQ(GenerationOf(m), 1u);
  m.mutable_audit_log()->set_generation(3);
  EXPECT_EQ(GenerationOf(m), 3u);
}

TEST(LogGenerationTest, KeysFollowTheDirectorysGeneration) {
  LogKeys first = Must(KeysOfLog(*Genesis(), "MK"));
  EXPECT_EQ(first.origin, "cbx/MK/audit");
  EXPECT_EQ(first.generation, 1u);
  // The auditor's view of an older generation under any version.
  EXPECT_EQ(Must(KeysOfLog(*Genesis(), "MK", 2)).origin, "cbx/MK/audit/2");
}

TEST(LogGenerationTest, AWitnessedPredecessorIsAccepted) {
  const note::Checkpoint old = Cp(12);
  v1::Directory next = NextWith(2, old, SignedNote(old, {"RS", "AL"}));
  EXPECT_TRUE(CheckGenerationSuccessor(Genesis()->proto(), next).ok());
  const v1::Member* mk = nullptr;
  for (const v1::Member& m : next.members()) {
    if (m.code() == "MK") mk = &m;
  }
  ASSERT_NE(mk, nullptr);
  Predecessor p = Must(PredecessorOf(*mk));
  EXPECT_EQ(p.origin, "cbx/MK/audit");
  EXPECT_EQ(p.size, 12u);
  EXPECT_THAT(DescribeRecovery("MK", 2, p),
              HasSubstr("generation 2 (cbx/MK/audit/2) starts from empty"));
}

TEST(LogGenerationTest, AnUnwitnessedPredecessorIsRefused) {
  // Only the member's own node key signed it: a thief of that key could
  // make it.
  const note::Checkpoint old = Cp(12);
  v1::Directory next = NextWith(2, old, SignedNote(old, {}));
  absl::Status s = CheckGenerationSuccessor(Genesis()->proto(), next);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("must be witnessed"));
}

TEST(LogGenerationTest, FieldsThatDisagreeWithTheNoteAreRefused) {
  const note::Checkpoint old = Cp(12);
  v1::Directory next = NextWith(2, old, SignedNote(Cp(11), {"RS", "AL"}));
  absl::Status s = CheckGenerationSuccessor(Genesis()->proto(), next);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("is not the checkpoint"));
}

TEST(LogGenerationTest, SkippingAGenerationIsRefused) {
  const note::Checkpoint old = Cp(12, "cbx/MK/audit/2");
  v1::Directory skip = NextWith(3, old, SignedNote(old, {"RS", "AL"}));
  absl::Status s = CheckGenerationSuccessor(Genesis()->proto(), skip);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("skips generations"));
}

TEST(LogGenerationTest, APredecessorOfAnotherOriginIsRefused) {
  const note::Checkpoint old = Cp(12, "cbx/RS/audit");
  v1::Directory next = NextWith(2, old, "");
  absl::Status s = CheckGenerationSuccessor(Genesis()->proto(), next);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("predecessor_origin must be \"cbx/MK/audit\""));
}

}  // namespace
}  // namespace cbx::logcheck
