#include "node/audit/audit_log.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "core/merkle/verify.h"
#include "gtest/gtest.h"
#include "node/audit/leaf.h"
#include "node/audit/testing/backends.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

using ::cbx::node::audit::testing::SampleEntry;
using ::cbx::node::audit::testing::ScopedTempDir;

constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01T00:00:00Z

// Runs on each store (testing/backends.h).
template <typename Backend>
class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    db_path_ = dir_ + "/audit.db";
    options_.clock = &clock_;
    CBX_AUDIT_BACKEND_SETUP_OR_SKIP(backend_, dir_);
  }

  absl::StatusOr<std::unique_ptr<AuditLog>> Open() {
    return backend_.Open(options_);
  }

  std::unique_ptr<AuditLog> OpenLog() {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = Open();
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // Appends n sample entries one by one, mirroring them in `tree`.
  void AppendSamples(AuditLog& log, uint64_t n, merkle::InMemoryTree& tree) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t want = log.Size();
      absl::StatusOr<uint64_t> seq = log.Append(SampleEntry(want));
      ASSERT_TRUE(seq.ok()) << seq.status();
      ASSERT_EQ(*seq, want);
      absl::StatusOr<std::string> leaf = log.LeafData(*seq);
      ASSERT_TRUE(leaf.ok()) << leaf.status();
      tree.AppendLeaf(*leaf);
      clock_.AdvanceMs(3);
    }
  }

  ScopedTempDir tmp_;
  std::string dir_;
  std::string db_path_;  // SQLite's file; the head file beside it for both
  FakeClock clock_{kStartMs};
  AuditLogOptions options_;
  Backend backend_;
};

TYPED_TEST_SUITE(AuditLogTest, testing::AuditBackends,
                 testing::AuditBackendNames);

TYPED_TEST(AuditLogTest, EmptyLog) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Size(), 0u);
  EXPECT_EQ(log->Root(), merkle::EmptyRoot());
  EXPECT_EQ(log->RootAt(0).value(), merkle::EmptyRoot());
  EXPECT_EQ(log->RootAt(1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log->LeafData(0).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log->InclusionProof(0, 1).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log->InclusionProof(0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->ConsistencyProof(0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(log->ReadEntries(0, 0).value().empty());
  EXPECT_TRUE(log->Verify().ok());
  EXPECT_TRUE(log->Health().ok());
}

TYPED_TEST(AuditLogTest, AssignsSequenceAndTimeAndKeepsTheRest) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  for (uint64_t i = 0; i < 3; ++i) {
    v1::AuditEntry entry = SampleEntry(i);
    entry.set_sequence(77);    // overwritten
    entry.set_time_ms(12345);  // overwritten
    ASSERT_EQ(log->Append(entry).value(), i);
    this->clock_.AdvanceMs(10);
  }
  for (uint64_t i = 0; i < 3; ++i) {
    absl::StatusOr<v1::AuditEntry> entry = DecodeLeaf(log->LeafData(i).value());
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->sequence(), i);
    EXPECT_EQ(entry->time_ms(), kStartMs + 10 * static_cast<int64_t>(i));
    v1::AuditEntry want = SampleEntry(i);
    want.set_sequence(i);
    want.set_time_ms(entry->time_ms());
    EXPECT_EQ(entry->SerializeAsString(), want.SerializeAsString());
  }
}

TYPED_TEST(AuditLogTest, RejectsBadEntriesWithoutUsingASequence) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  v1::AuditEntry bad = SampleEntry(0);
  bad.set_user(std::string("\xc3\x28", 2));  // invalid UTF-8
  EXPECT_EQ(log->Append(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = SampleEntry(0);
  bad.set_office(std::string(kMaxLeafSize, 'o'));
  EXPECT_EQ(log->Append(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append(SampleEntry(0)).value(), 0u);
  EXPECT_EQ(log->Size(), 1u);
}

// The proof cache stays under its bound however long the log grows: once
// full it drops its lowest level, and proofs stay right.
TYPED_TEST(AuditLogTest, ProofCacheStaysBounded) {
  this->options_.cache_min_level = 0;
  this->options_.cache_max_entries = 24;
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  merkle::InMemoryTree tree;
  this->AppendSamples(*log, 300, tree);
  std::mt19937_64 rng(20261206);
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t size = 1 + rng() % 300;
    const uint64_t index = rng() % size;
    absl::StatusOr<std::vector<Bytes>> proof = log->InclusionProof(index, size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, merkle::InclusionProof(tree, index, size).value());
    absl::StatusOr<std::vector<Bytes>> consistency =
        log->ConsistencyProof(size, 300);
    ASSERT_TRUE(consistency.ok()) << consistency.status();
    EXPECT_EQ(*consistency, merkle::ConsistencyProof(tree, size, 300).value());
    // Bounded before each use; one call's own reads (a few times log2(300)
    // hashes) may go over it until the next. Without the bound: ~600.
    ASSERT_LE(log->CachedSubtreeHashes(), 64u);
  }
  EXPECT_GT(log->CachedSubtreeHashes(), 0u);
}

// Root, RootAt, proofs and leaves against core/merkle's in-memory tree, for
// sizes around powers of two and random ones.
TYPED_TEST(AuditLogTest, MatchesInMemoryTree) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  merkle::InMemoryTree tree;
  std::mt19937_64 rng(20260101);
  std::vector<uint64_t> sizes = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33};
  for (int i = 0; i < 4; ++i) sizes.push_back(34 + rng() % 200);
  std::sort(sizes.begin(), sizes.end());
  for (uint64_t size : sizes) {
    this->AppendSamples(*log, size - log->Size(), tree);
    ASSERT_EQ(log->Size(), size);
    ASSERT_EQ(log->Root(), merkle::RootHash(tree, size).value())
        << "size " << size;
  }
  const uint64_t n = log->Size();
  for (uint64_t size = 0; size <= n; ++size) {
    ASSERT_EQ(log->RootAt(size).value(), merkle::RootHash(tree, size).value())
        << "size " << size;
  }
  // Inclusion of random leaves in random trees, and every leaf in the last.
  for (int trial = 0; trial < 300; ++trial) {
    const uint64_t size = 1 + rng() % n;
    const uint64_t index =
        trial < static_cast<int>(n) ? trial % size : rng() % size;
    absl::StatusOr<std::vector<Bytes>> proof = log->InclusionProof(index, size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, merkle::InclusionProof(tree, index, size).value());
    EXPECT_TRUE(merkle::VerifyInclusion(
                    index, size, merkle::LeafHash(log->LeafData(index).value()),
                    *proof, log->RootAt(size).value())
                    .ok());
  }
  for (int trial = 0; trial < 300; ++trial) {
    uint64_t size1 = 1 + rng() % n;
    uint64_t size2 = 1 + rng() % n;
    if (size1 > size2) std::swap(size1, size2);
    absl::StatusOr<std::vector<Bytes>> proof =
        log->ConsistencyProof(size1, size2);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, merkle::ConsistencyProof(tree, size1, size2).value());
    EXPECT_TRUE(merkle::VerifyConsistency(size1, size2, *proof,
                                          log->RootAt(size1).value(),
                                          log->RootAt(size2).value())
                    .ok());
  }
  EXPECT_EQ(log->ConsistencyProof(n, n + 1).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log->ConsistencyProof(3, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->InclusionProof(n, n).status().code(),
            absl::StatusCode::kInvalidArgument);

  // ReadEntries gives the same bytes as LeafData.
  absl::StatusOr<std::vector<std::string>> entries = log->ReadEntries(5, 40);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 35u);
  for (uint64_t i = 5; i < 40; ++i) {
    EXPECT_EQ((*entries)[i - 5], log->LeafData(i).value());
  }
  EXPECT_EQ(log->ReadEntries(6, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->ReadEntries(0, n + 1).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(log->Verify().ok()) << log->Verify();
}

TYPED_TEST(AuditLogTest, RestartResumesFromTheStoredState) {
  merkle::InMemoryTree tree;
  Bytes root;
  {
    auto log = this->OpenLog();
    ASSERT_NE(log, nullptr);
    this->AppendSamples(*log, 300, tree);
    root = log->Root();
  }
  // The head file records what was committed.
  absl::StatusOr<std::optional<Head>> head = ReadHead(this->db_path_ + ".head");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ(**head, (Head{300, root}));

  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Size(), 300u);
  EXPECT_EQ(log->Root(), root);
  // Open hashed no leaf: it loaded the compact range from the state row.
  EXPECT_EQ(log->Stats().leaves_hashed, 0u);
  EXPECT_EQ(log->InclusionProof(17, 300).value(),
            merkle::InclusionProof(tree, 17, 300).value());
  this->AppendSamples(*log, 45, tree);
  EXPECT_EQ(log->Root(), merkle::RootHash(tree, 345).value());
  EXPECT_EQ(log->ConsistencyProof(300, 345).value(),
            merkle::ConsistencyProof(tree, 300, 345).value());
  EXPECT_TRUE(log->Verify().ok());
  // One proof, 45 LeafData calls, then Verify's 345.
  EXPECT_EQ(log->Stats().leaves_hashed, 1u + 45u + 345u);
}

TYPED_TEST(AuditLogTest, OneWriterPerLog) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  absl::StatusOr<std::unique_ptr<AuditLog>> second =
      this->Open();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  log.reset();
  EXPECT_TRUE(this->Open().ok());
}

// A closed log's writer lock is free at once (PostgreSQL: unlocked before
// its session closes, not when the server notices the disconnect).
TYPED_TEST(AuditLogTest, ReopensRightAfterClose) {
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = this->Open();
    ASSERT_TRUE(log.ok()) << "open " << i << ": " << log.status();
  }
}

TYPED_TEST(AuditLogTest, AHeadThatTrailsTheDatabaseIsBroughtUpToDate) {
  Bytes root_at_5;
  {
    auto log = this->OpenLog();
    ASSERT_NE(log, nullptr);
    merkle::InMemoryTree tree;
    this->AppendSamples(*log, 5, tree);
    root_at_5 = log->Root();
    this->AppendSamples(*log, 6, tree);
  }
  // As after a crash between a commit and the head write.
  ASSERT_TRUE(WriteHead(this->db_path_ + ".head", Head{5, root_at_5}).ok());
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Size(), 11u);
  EXPECT_EQ(ReadHead(this->db_path_ + ".head").value()->size, 11u);
}

TYPED_TEST(AuditLogTest, ConcurrentAppendsAreContiguousDurableAndBatched) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::vector<std::vector<uint64_t>> got(kThreads);
  {
    auto log = this->OpenLog();
    ASSERT_NE(log, nullptr);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          absl::StatusOr<uint64_t> seq =
              log->Append(SampleEntry(static_cast<uint64_t>(t * 1000 + i)));
          ASSERT_TRUE(seq.ok()) << seq.status();
          got[t].push_back(*seq);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    const AuditLogStats stats = log->Stats();
    EXPECT_EQ(stats.appended, uint64_t{kThreads * kPerThread});
    // Group commit: fewer transactions than entries.
    EXPECT_LT(stats.commits, stats.appended);
    EXPECT_GT(stats.largest_batch, 1u);
    EXPECT_LE(stats.largest_batch, uint64_t{kThreads});
    std::printf("  %d appends in %llu commits (largest batch %llu)\n",
                kThreads * kPerThread,
                static_cast<unsigned long long>(stats.commits),
                static_cast<unsigned long long>(stats.largest_batch));
  }
  // Each caller's sequences increase; together they are 0 .. n-1.
  std::set<uint64_t> all;
  for (const auto& seqs : got) {
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
    all.insert(seqs.begin(), seqs.end());
  }
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*all.rbegin(), uint64_t{kThreads * kPerThread - 1});

  // All of it durable and correct after a restart.
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->Size(), uint64_t{kThreads * kPerThread});
  merkle::InMemoryTree tree;
  absl::StatusOr<std::vector<std::string>> leaves =
      log->ReadEntries(0, log->Size());
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  for (const std::string& leaf : *leaves) tree.AppendLeaf(leaf);
  EXPECT_EQ(log->Root(), merkle::RootHash(tree, tree.size()).value());
  EXPECT_TRUE(log->Verify().ok());
}

// Verify reads the head, the committed state and the database in an order
// where each can only trail the next, so appends running meanwhile raise
// no false alarm; proofs served meanwhile verify too.
TYPED_TEST(AuditLogTest, VerifyAndProofsWhileAppending) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop; ++i) {
        ASSERT_TRUE(log->Append(SampleEntry(t * 100000 + i)).ok());
      }
    });
  }
  while (log->Size() < 50) std::this_thread::yield();
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(log->Verify().ok()) << log->Verify();
    const uint64_t size = log->Size();
    const Bytes root = log->RootAt(size).value();
    const uint64_t index = size / 2;
    EXPECT_TRUE(merkle::VerifyInclusion(
                    index, size, merkle::LeafHash(log->LeafData(index).value()),
                    log->InclusionProof(index, size).value(), root)
                    .ok());
  }
  stop = true;
  for (std::thread& writer : writers) writer.join();
  EXPECT_TRUE(log->Verify().ok());
  EXPECT_TRUE(log->Health().ok());
}

TYPED_TEST(AuditLogTest, BatchesRespectTheirLimits) {
  this->options_.max_batch_size = 3;
  this->options_.max_batch_delay = absl::Milliseconds(20);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(log->Append(SampleEntry(t)).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const AuditLogStats stats = log->Stats();
  EXPECT_EQ(stats.appended, 120u);
  EXPECT_LE(stats.largest_batch, 3u);
  EXPECT_GE(stats.commits, 40u);
  EXPECT_TRUE(log->Verify().ok());
}

TYPED_TEST(AuditLogTest, ABatchDelayLetsALoneAppendThrough) {
  this->options_.max_batch_delay = absl::Milliseconds(5);
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Append(SampleEntry(0)).value(), 0u);
  EXPECT_EQ(log->Append(SampleEntry(1)).value(), 1u);
  EXPECT_EQ(log->Stats().commits, 2u);
}

TYPED_TEST(AuditLogTest, AppendAllCommitsEveryEntryInOneTransaction) {
  this->options_.max_batch_size = 3;  // AppendAll may exceed it
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  merkle::InMemoryTree tree;
  this->AppendSamples(*log, 5, tree);
  const uint64_t commits = log->Stats().commits;
  std::vector<v1::AuditEntry> entries;
  for (uint64_t i = 0; i < 40; ++i) {
    entries.push_back(SampleEntry(100 + i));
    entries.back().set_sequence(77);  // overwritten
  }
  absl::StatusOr<uint64_t> first = log->AppendAll(entries);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 5u);
  EXPECT_EQ(log->Size(), 45u);
  EXPECT_EQ(log->Stats().commits, commits + 1);
  EXPECT_EQ(log->Stats().largest_batch, 40u);
  for (uint64_t i = 0; i < 40; ++i) {
    absl::StatusOr<v1::AuditEntry> entry =
        DecodeLeaf(log->LeafData(5 + i).value());
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->sequence(), 5 + i);
    EXPECT_EQ(entry->time_ms(), this->clock_.NowMs());
    v1::AuditEntry want = entries[i];
    want.set_sequence(5 + i);
    want.set_time_ms(entry->time_ms());
    EXPECT_EQ(entry->SerializeAsString(), want.SerializeAsString());
    tree.AppendLeaf(log->LeafData(5 + i).value());
  }
  // The same tree, subtrees and state as appending one by one.
  EXPECT_EQ(log->Root(), merkle::RootHash(tree, 45).value());
  EXPECT_EQ(log->InclusionProof(7, 45).value(),
            merkle::InclusionProof(tree, 7, 45).value());
  EXPECT_EQ(log->ConsistencyProof(5, 45).value(),
            merkle::ConsistencyProof(tree, 5, 45).value());
  EXPECT_TRUE(log->Verify().ok()) << log->Verify();
  EXPECT_EQ(log->Append(SampleEntry(0)).value(), 45u);
  log.reset();
  log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Size(), 46u);
  EXPECT_TRUE(log->Verify().ok()) << log->Verify();
}

TYPED_TEST(AuditLogTest, AppendAllWithABadEntryAppendsNothing) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->AppendAll({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<v1::AuditEntry> entries = {SampleEntry(0), SampleEntry(1),
                                         SampleEntry(2)};
  entries[1].set_user(std::string("\xc3\x28", 2));  // invalid UTF-8
  absl::Status status = log->AppendAll(entries).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("entry 1 of 3"), std::string::npos) << status;
  EXPECT_EQ(log->Size(), 0u);
  EXPECT_EQ(log->Stats().commits, 0u);
  entries[1] = SampleEntry(1);
  EXPECT_EQ(log->AppendAll(entries).value(), 0u);
  EXPECT_EQ(log->Size(), 3u);
}

TYPED_TEST(AuditLogTest, AppendAllAndAppendsAtOnceStayContiguous) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> firsts(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        std::vector<v1::AuditEntry> entries;
        for (int k = 0; k <= (t + i) % 5; ++k) {
          entries.push_back(SampleEntry(t * 1000 + i));
        }
        absl::StatusOr<uint64_t> first = entries.size() == 1
                                             ? log->Append(entries[0])
                                             : log->AppendAll(entries);
        ASSERT_TRUE(first.ok()) << first.status();
        // Each call's entries are consecutive: check them by sequence.
        for (uint64_t k = 0; k < entries.size(); ++k) {
          v1::AuditEntry got =
              DecodeLeaf(log->LeafData(*first + k).value()).value();
          EXPECT_EQ(got.user(), entries[k].user());
        }
        firsts[t].push_back(*first);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& f : firsts) EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
  EXPECT_EQ(log->Stats().appended, log->Size());
  EXPECT_TRUE(log->Verify().ok()) << log->Verify();
}

// Checked roots of smaller trees are reused; proofs are still checked
// against them, so an altered hash is found by the first proof using it.
TYPED_TEST(AuditLogTest, ReusedRootsStillCatchAnAlteredHash) {
  auto log = this->OpenLog();
  ASSERT_NE(log, nullptr);
  merkle::InMemoryTree tree;
  this->AppendSamples(*log, 64, tree);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t size = 1; size < 64; ++size) {
      ASSERT_EQ(log->RootAt(size).value(),
                merkle::RootHash(tree, size).value());
      ASSERT_EQ(log->InclusionProof(size - 1, size).value(),
                merkle::InclusionProof(tree, size - 1, size).value());
    }
  }
  // Subtree (1, 0) is stored in the row of its last leaf, 1; it is the
  // level-1 sibling on leaf 2's path.
  this->backend_.Sql(absl::StrCat("UPDATE leaves SET subtrees = ",
                                  TypeParam::ZeroBlob(32), " WHERE seq = 1"));
  const absl::Status status = log->InclusionProof(2, 40).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("does not reach the log's root"),
            std::string::npos)
      << status;
}

TYPED_TEST(AuditLogTest, RejectsAZeroBatchSize) {
  this->options_.max_batch_size = 0;
  EXPECT_EQ(this->Open().status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(AuditLogTest, RefusesADatabaseOfAnotherFormat) {
  this->backend_.MakeOtherFormat(7);
  EXPECT_EQ(this->Open().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// docs/operations.md "Upgrades": a newer file is refused with both
// versions named, and left as it was.
TYPED_TEST(AuditLogTest, RefusesAnAuditDbOfANewerSchemaNamingBothVersions) {
  {
    auto log = this->Open();
    ASSERT_TRUE(log.ok()) << log.status();
  }
  const int newer = kAuditSchemaVersion + 1;
  this->backend_.SetSchemaVersion(newer);
  const absl::Status status = this->Open().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(absl::StrCat(
                this->backend_.StoreName(),
                " was written by a newer cbx (schema ", newer,
                "); this binary understands up to ", kAuditSchemaVersion)),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace cbx::node::audit
