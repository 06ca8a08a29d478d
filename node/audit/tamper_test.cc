// Tamper evidence: each way of altering the stored log is refused with
// DATA_LOSS by Open or by the reads that touch it, and by Verify, with a
// message that says what is wrong. A row deleted between the first and the
// last is found by the leaf count Open waits for briefly and leaves to run
// after it on a large log (the tests at the end).
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/ed25519.h"
#include "core/merkle/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/leaf.h"
#include "node/audit/testing/backends.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

using ::cbx::node::audit::testing::RawQuery;
using ::cbx::node::audit::testing::RawSql;
using ::cbx::node::audit::testing::SampleEntry;
using ::cbx::node::audit::testing::ScopedTempDir;
using ::testing::HasSubstr;

MATCHER_P(IsDataLoss, text, "") {
  const absl::Status& status = arg;
  *result_listener << "status " << status;
  return status.code() == absl::StatusCode::kDataLoss &&
         absl::StrContains(status.message(), text);
}

// Flips the lowest bit of the first byte of leaf `seq`'s stored data.
template <typename Backend>
void FlipFirstDataByte(Backend& backend, uint64_t seq) {
  Bytes data = HexDecode(backend.Query(absl::StrCat(
                             "SELECT ", Backend::Hex("data"),
                             " FROM leaves WHERE seq = ", seq)))
                   .value();
  ASSERT_FALSE(data.empty());
  data[0] ^= 1;
  backend.Sql(absl::StrCat("UPDATE leaves SET data = ", Backend::Blob(data),
                           " WHERE seq = ", seq));
}

// Replaces the perfect subtree hashes stored in leaf `seq`'s row.
template <typename Backend>
void SetSubtrees(Backend& backend, uint64_t seq, const Bytes& hashes) {
  backend.Sql(absl::StrCat("UPDATE leaves SET subtrees = ",
                           Backend::Blob(hashes), " WHERE seq = ", seq));
}

// Runs on each store (testing/backends.h); the tests that copy SQLite's
// files (OlderCopyPutBack) are SQLite's alone, below.
template <typename Backend>
class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    db_path_ = dir_ + "/audit.db";
    CBX_AUDIT_BACKEND_SETUP_OR_SKIP(backend_, dir_);
    // Open's leaf count over loopback to PostgreSQL can outlast its 200 ms
    // wait on a loaded machine, and a row deleted in the middle would then
    // be found after Open rather than by it; the tests about the count
    // after Open set their own wait.
    if (std::is_same_v<Backend, testing::PostgresBackend>) {
      options_.open_check_wait = absl::Seconds(30);
    }
  }

  std::unique_ptr<AuditLog> OpenLog() {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = backend_.Open(options_);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  absl::Status OpenStatus() { return backend_.Open(options_).status(); }

  // A log of n entries, closed.
  void MakeLog(uint64_t n) {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (uint64_t i = 0; i < n; ++i)
      ASSERT_TRUE(log->Append(SampleEntry(i)).ok());
  }

  // Every read refuses with the latched status once tampering was found.
  void ExpectRefusesEverything(AuditLog& log, const std::string& text) {
    EXPECT_THAT(log.Health(), IsDataLoss(text));
    EXPECT_THAT(log.LeafData(0).status(), IsDataLoss(text));
    EXPECT_THAT(log.ReadEntries(0, 1).status(), IsDataLoss(text));
    EXPECT_THAT(log.RootAt(1).status(), IsDataLoss(text));
    EXPECT_THAT(log.InclusionProof(0, 1).status(), IsDataLoss(text));
    EXPECT_THAT(log.ConsistencyProof(1, 2).status(), IsDataLoss(text));
    EXPECT_THAT(log.LatestCheckpoint().status(), IsDataLoss(text));
    EXPECT_THAT(log.Append(SampleEntry(0)).status(), IsDataLoss(text));
    EXPECT_THAT(log.Verify(), IsDataLoss(text));
  }

  ScopedTempDir tmp_;
  std::string dir_;
  std::string db_path_;  // SQLite's file; the head file beside it for both
  AuditLogOptions options_;
  Backend backend_;
};

TYPED_TEST_SUITE(AuditTamperTest, testing::AuditBackends,
                 testing::AuditBackendNames);

TYPED_TEST(AuditTamperTest, FlippedLeafByte) {
  this->MakeLog(40);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  // Flip the first byte of leaf 5's data behind the log's back.
  FlipFirstDataByte(this->backend_, 5);
  const std::string what =
      "leaf 5: its stored bytes do not hash to its stored leaf hash";
  EXPECT_TRUE(log->LeafData(4).ok());
  EXPECT_THAT(log->LeafData(5).status(), IsDataLoss(what));
  this->ExpectRefusesEverything(*log, what);
  log.reset();

  // Open does not rehash leaves, so it opens; the first read of leaf 5, an
  // export through it, and Verify refuse.
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->ReadEntries(0, 10).status(), IsDataLoss(what));
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->InclusionProof(5, 40).status(), IsDataLoss(what));
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->Verify(), IsDataLoss(what));
}

// A leaf replaced with other bytes *and* their hash: Open trusts the stored
// state (it does not rehash the log), but no proof through that leaf
// reaches the root, and Verify's rebuilt tree differs.
TYPED_TEST(AuditTamperTest, ConsistentlyReplacedLeafAndRestartWithoutRehash) {
  this->MakeLog(64);
  Bytes root;
  {
    auto log = this->OpenLog();
    root = log->Root();
  }
  v1::AuditEntry forged = SampleEntry(999);
  forged.set_sequence(3);
  const std::string leaf = EncodeLeaf(forged).value();
  this->backend_.Sql(absl::StrCat(
      "UPDATE leaves SET data = ", TypeParam::Blob(leaf),
      ", leaf_hash = ", TypeParam::Blob(merkle::LeafHash(leaf)),
      " WHERE seq = 3"));
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Root(), root);
  EXPECT_EQ(log->Stats().leaves_hashed, 0u);
  EXPECT_TRUE(log->LeafData(3).ok());  // the forgery is self-consistent
  EXPECT_THAT(log->InclusionProof(3, 64).status(),
              IsDataLoss("the inclusion proof of leaf 3 in the tree of size "
                         "64 built from the stored hashes does not reach"));
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->Verify(),
              IsDataLoss("perfect subtree (level 1, index 1) differs from the "
                         "one rebuilt from the stored leaves"));
}

TYPED_TEST(AuditTamperTest, SwappedLeaves) {
  this->MakeLog(10);
  this->backend_.Sql(
         "UPDATE leaves SET seq = -1 WHERE seq = 2;"
         "UPDATE leaves SET seq = 2 WHERE seq = 3;"
         "UPDATE leaves SET seq = 3 WHERE seq = -1;");
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->LeafData(2).status(),
              IsDataLoss("leaf 2 holds the entry of sequence 3"));
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->Verify(),
              IsDataLoss("leaf 2 holds the entry of sequence 3"));
}

TYPED_TEST(AuditTamperTest, DeletedLeafRow) {
  this->MakeLog(20);
  {
    auto log = this->OpenLog();
    ASSERT_NE(log, nullptr);
    this->backend_.Sql( "DELETE FROM leaves WHERE seq = 7");
    EXPECT_THAT(log->LeafData(7).status(),
                IsDataLoss("leaf 7 is missing from the audit database"));
    this->ExpectRefusesEverything(*log, "leaf 7 is missing");
  }
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the state says 20 entries, the database holds 19 "
                         "leaf rows with sequences 0 to 19 (rows were "
                         "deleted)"));
}

TYPED_TEST(AuditTamperTest, DeletedLastRowFoundByVerify) {
  this->MakeLog(20);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  this->backend_.Sql( "DELETE FROM leaves WHERE seq = 19");
  EXPECT_THAT(log->Verify(), IsDataLoss("leaf 19 is missing from the audit "
                                        "database: rows were deleted"));
  log.reset();
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("rows were deleted"));
}

TYPED_TEST(AuditTamperTest, DeletedRowFoundByAnExport) {
  this->MakeLog(20);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  this->backend_.Sql( "DELETE FROM leaves WHERE seq = 12");
  EXPECT_TRUE(log->ReadEntries(0, 12).ok());
  EXPECT_THAT(log->ReadEntries(10, 15).status(),
              IsDataLoss("leaf 12 is missing"));
}

TYPED_TEST(AuditTamperTest, TruncatedSubtreeHashes) {
  this->MakeLog(64);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  // Leaf 3 completes (1, 1) and (2, 0); its row holds both.
  SetSubtrees(this->backend_, 3, "");
  const std::string what =
      "the row of leaf 3 holds 0 bytes of perfect subtree hashes; it "
      "completes 2 subtrees";
  // Leaf 5's path has (2, 0) as its level-2 sibling.
  EXPECT_THAT(log->InclusionProof(5, 64).status(), IsDataLoss(what));
  log.reset();
  log = this->OpenLog();  // (2, 0) is not on the right edge of 64: Open is fine
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->Verify(), IsDataLoss(what));
}

TYPED_TEST(AuditTamperTest, CorruptedSubtreeHash) {
  this->MakeLog(64);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  // Subtree (1, 0) is stored in the row of its last leaf, 1.
  SetSubtrees(this->backend_, 1, Bytes(32, '\0'));
  // Leaf 2's path has (1, 0) as its level-1 sibling.
  EXPECT_THAT(log->InclusionProof(2, 64).status(),
              IsDataLoss("does not reach the log's root"));
  this->ExpectRefusesEverything(*log, "does not reach the log's root");
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  // Roots of smaller trees are checked against the current root as well.
  EXPECT_THAT(log->RootAt(2).status(),
              IsDataLoss("which is not consistent with the log's root"));
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->ConsistencyProof(3, 40).status(),
              IsDataLoss("not consistent with the log's root"));
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->Verify(),
              IsDataLoss("perfect subtree (level 1, index 0) differs from the "
                         "one rebuilt from the stored leaves"));
}

TYPED_TEST(AuditTamperTest, CorruptedRightEdgeSubtreeFailsOpen) {
  this->MakeLog(13);  // right edge: (3, 0), (2, 2), (0, 12)
  {
    auto log = this->OpenLog();
    ASSERT_NE(log, nullptr);
    // (2, 2) ends at leaf 11, whose row holds (1, 5) then (2, 2).
    const std::string hex =
        this->backend_.Query(absl::StrCat(
            "SELECT ", TypeParam::Hex("subtrees"), " FROM leaves WHERE seq = 11"));
    Bytes hashes = HexDecode(hex).value();
    ASSERT_EQ(hashes.size(), 64u);
    hashes.replace(32, 32, Bytes(32, '\0'));
    SetSubtrees(this->backend_, 11, hashes);
    EXPECT_THAT(log->Verify(), IsDataLoss("perfect subtree (level 2, index 2) "
                                          "differs"));
  }
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the stored perfect subtrees do not reproduce the "
                         "audit log's state (size 13"));
}

TYPED_TEST(AuditTamperTest, CorruptedStateRow) {
  this->MakeLog(13);
  this->backend_.Sql(
      absl::StrCat("UPDATE state SET root = ", TypeParam::ZeroBlob(32)));
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("the audit state row contradicts "
                                       "itself: size 13"));
  this->backend_.Sql(absl::StrCat("UPDATE state SET compact_range = ",
                                  TypeParam::Blob(Bytes(1, '\0'))));
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the audit state row's compact range is malformed"));
  this->backend_.Sql( "DELETE FROM state");
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("no state row"));
}

TYPED_TEST(AuditTamperTest, RowsAddedBeyondTheSize) {
  this->MakeLog(8);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  this->backend_.Sql(absl::StrCat(
      "INSERT INTO leaves (seq, leaf_hash, data, subtrees) VALUES (8, ",
      TypeParam::ZeroBlob(32), ", ", TypeParam::Blob(Bytes(1, '\0')), ", ",
      TypeParam::Blob(""), ")"));
  EXPECT_THAT(log->Append(SampleEntry(8)).status(),
              IsDataLoss("rows beyond the log's size 8"));
  EXPECT_THAT(log->Verify(), IsDataLoss("rows beyond the log's size 8"));
  log.reset();
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the state says 8 entries, the database holds 9 leaf "
                         "rows with sequences 0 to 8 (rows were added"));
}

// About SQLite's files: an older copy of them put back. (A PostgreSQL
// database restored from an older backup is the same case for the head
// file, but is not something a test can do to a running cluster cheaply.)
class AuditTamperSqliteTest : public AuditTamperTest<testing::SqliteBackend> {};

TEST_F(AuditTamperSqliteTest, OlderCopyPutBack) {
  this->MakeLog(10);
  const std::string copy = this->dir_ + "/copy";
  std::filesystem::create_directory(copy);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (std::filesystem::exists(this->db_path_ + suffix)) {
      std::filesystem::copy_file(this->db_path_ + suffix,
                                 copy + "/audit.db" + suffix);
    }
  }
  {
    auto log = this->OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleEntry(i)).ok());
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(this->db_path_ + suffix);
    if (std::filesystem::exists(copy + "/audit.db" + suffix)) {
      std::filesystem::copy_file(copy + "/audit.db" + suffix,
                                 this->db_path_ + suffix);
    }
  }
  EXPECT_THAT(
      this->OpenStatus(),
      IsDataLoss("the audit database is older than its head file (" + this->db_path_ +
                 ".head): a copy may have been put back (the database "
                 "holds 10 entries, the head file"));
  // A database deleted outright is the oldest copy of all.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(this->db_path_ + suffix);
  }
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("older than its head file"));
}

// The same check while the log runs: Verify compares the head file, the
// committed state and the database.
TYPED_TEST(AuditTamperTest, VerifyComparesTheHeadFile) {
  this->MakeLog(10);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  // A head from a longer history than the database holds.
  ASSERT_TRUE(
      WriteHead(this->db_path_ + ".head", Head{12, merkle::LeafHash("x")}).ok());
  EXPECT_THAT(log->Verify(),
              IsDataLoss("the audit database (10 entries) is older than the "
                         "head file"));
  EXPECT_THAT(log->LeafData(0).status(), IsDataLoss("older than the head"));
}

TYPED_TEST(AuditTamperTest, HeadFileDisagrees) {
  this->MakeLog(10);
  ASSERT_TRUE(
      WriteHead(this->db_path_ + ".head", Head{10, merkle::LeafHash("x")}).ok());
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the audit database does not extend the tree its "
                         "head file"));
  ASSERT_TRUE(
      WriteHead(this->db_path_ + ".head", Head{4, merkle::LeafHash("x")}).ok());
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("does not extend the tree its head"));
  std::filesystem::remove(this->db_path_ + ".head");
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("is missing, but the database holds 10 "
                                       "entries"));
  std::ofstream(this->db_path_ + ".head") << "garbage\n";
  EXPECT_THAT(this->OpenStatus(), IsDataLoss("is malformed"));
}

TYPED_TEST(AuditTamperTest, CheckpointAheadOfTheDatabase) {
  // A checkpoint row of a larger tree than the database holds.
  const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  std::string note;
  TypeParam other_backend;
  {
    CBX_AUDIT_BACKEND_SETUP_OR_SKIP(other_backend, this->dir_, "other");
    auto other = other_backend.Open(this->options_);
    ASSERT_TRUE(other.ok()) << other.status();
    for (int i = 0; i < 12; ++i)
      ASSERT_TRUE((*other)->Append(SampleEntry(i)).ok());
    note = (*other)->SignCheckpoint(key, "cbx/XK/audit").value();
  }
  this->MakeLog(10);
  this->backend_.CopyCheckpointsFrom(other_backend);
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the audit database is older than its latest signed "
                         "checkpoint"));
  // And a checkpoint row whose columns disagree with its signed text.
  this->backend_.Sql("UPDATE checkpoints SET size = 10");
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the stored checkpoint of size 10 says size 12"));
  EXPECT_THAT(note, HasSubstr("cbx/XK/audit\n12\n"));
}

TYPED_TEST(AuditTamperTest, TamperedCheckpointFoundByVerify) {
  const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Append(SampleEntry(i)).ok());
  ASSERT_TRUE(log->SignCheckpoint(key, "cbx/XK/audit").ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Append(SampleEntry(i)).ok());
  ASSERT_TRUE(log->SignCheckpoint(key, "cbx/XK/audit").ok());
  EXPECT_TRUE(log->Verify().ok());
  // Rewrite the first checkpoint's text to another root: no longer signed
  // correctly, and no longer the root of the tree of size 6.
  const std::string note =
      this->backend_.Query("SELECT note FROM checkpoints WHERE size = 6");
  const std::string root_b64 = Base64Encode(log->RootAt(6).value());
  const std::string forged_root = Base64Encode(merkle::LeafHash("forged"));
  std::string forged = note;
  forged.replace(forged.find(root_b64), root_b64.size(), forged_root);
  this->backend_.Sql(
      absl::StrCat("UPDATE checkpoints SET note = '", forged, "', root = ",
                   TypeParam::Blob(merkle::LeafHash("forged")),
                   " WHERE size = 6"));
  EXPECT_THAT(log->Verify(),
              IsDataLoss("the signed checkpoint of size 6 records"));
}

// --- The leaf count Open leaves to after it (spec/audit-log.md §2.9) --------

// Holds the check thread inside its snapshot until Release, so a test can
// append or look at the log while the count has not run.
class CheckGate {
 public:
  std::function<void()> Hook() {
    return [this] {
      std::unique_lock<std::mutex> lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
    };
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

// A row deleted from the middle, which the ends Open looks at do not show,
// is found by the count after Open: the log serves meanwhile, then goes to
// its damaged state with the message Open gave before, and refuses appends.
TYPED_TEST(AuditTamperTest, DeletedLeafRowFoundByTheCountAfterOpen) {
  this->MakeLog(20);
  this->backend_.Sql( "DELETE FROM leaves WHERE seq = 7");
  CheckGate gate;
  this->options_.open_check_wait = absl::ZeroDuration();
  this->options_.open_check_hook_for_testing = gate.Hook();
  absl::Status reported;
  std::atomic<int> reports{0};
  this->options_.on_open_check_done = [&](const absl::Status& s) {
    reported = s;
    ++reports;
  };
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  gate.WaitEntered();
  EXPECT_TRUE(log->OpenCheckRunning());
  EXPECT_TRUE(log->Health().ok());
  absl::StatusOr<uint64_t> appended = log->Append(SampleEntry(20));
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(*appended, 20u);
  gate.Release();
  const std::string message =
      "the state says 20 entries, the database holds 19 leaf rows with "
      "sequences 0 to 19 (rows were deleted)";
  EXPECT_THAT(log->WaitForOpenCheck(), IsDataLoss(message));
  EXPECT_FALSE(log->OpenCheckRunning());
  EXPECT_EQ(reports.load(), 1);
  EXPECT_THAT(reported, IsDataLoss(message));
  this->ExpectRefusesEverything(*log, message);
}

// Appends while the count runs are outside its snapshot and do not count
// as rows added: the check passes and the log verifies.
TYPED_TEST(AuditTamperTest, AppendsDuringTheCountAfterOpen) {
  this->MakeLog(20);
  CheckGate gate;
  this->options_.open_check_wait = absl::ZeroDuration();
  this->options_.open_check_hook_for_testing = gate.Hook();
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  gate.WaitEntered();
  for (uint64_t i = 20; i < 25; ++i) {
    absl::StatusOr<uint64_t> appended = log->Append(SampleEntry(i));
    ASSERT_TRUE(appended.ok()) << appended.status();
    EXPECT_EQ(*appended, i);
  }
  EXPECT_TRUE(log->OpenCheckRunning());
  gate.Release();
  EXPECT_TRUE(log->WaitForOpenCheck().ok());
  EXPECT_FALSE(log->OpenCheckRunning());
  EXPECT_EQ(log->Size(), 25u);
  EXPECT_TRUE(log->Health().ok());
  EXPECT_TRUE(log->Verify().ok());
}

// The ends are Open's own: a first or last row deleted, or a row added
// beyond the size, fails Open even when it waits for no count.
TYPED_TEST(AuditTamperTest, EndsAreCheckedByOpenItself) {
  this->options_.open_check_wait = absl::ZeroDuration();
  this->MakeLog(20);
  this->backend_.Sql( "DELETE FROM leaves WHERE seq = 0");
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the state says 20 entries, the database holds 19 "
                         "leaf rows with sequences 1 to 19 (rows were "
                         "deleted)"));
}

TYPED_TEST(AuditTamperTest, RowAddedBeyondTheSizeFailsOpenWithoutTheCount) {
  this->options_.open_check_wait = absl::ZeroDuration();
  this->MakeLog(8);
  this->backend_.Sql(absl::StrCat(
      "INSERT INTO leaves (seq, leaf_hash, data, subtrees) VALUES (8, ",
      TypeParam::ZeroBlob(32), ", ", TypeParam::Blob(Bytes(1, '\0')), ", ",
      TypeParam::Blob(""), ")"));
  EXPECT_THAT(this->OpenStatus(),
              IsDataLoss("the state says 8 entries, the database holds 9 leaf "
                         "rows with sequences 0 to 8 (rows were added"));
}

}  // namespace
}  // namespace cbx::node::audit
