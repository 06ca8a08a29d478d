// What only the SQLite backend promises: durability across reopen, its
// pragmas, rollback of failed transactions, and SQLite errors as status
// codes. The shared contract is in storage_conformance_test.cc.
#include "node/storage/sqlite_storage.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "node/storage/sqlite_db.h"
#include "node/storage/sqlite_schema.h"
#include "node/storage/storage_test_util.h"
#include "node/storage/testing/fault_vfs.h"

namespace cbx::node {
namespace {

using testing::ExpectSameCase;
using testing::Ident;
using testing::MakeCase;
using testing::TempDir;
using testing::Y;

StagedOutput Staged(const std::string& value, Tag tag) {
  return StagedOutput{
      {v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, value}, Y(tag + 1'000'000), tag};
}

// Runs `sql` on a separate connection to the file, as an operator's sqlite3
// shell would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class SqliteStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStorage> Open() {
    auto storage = SqliteStorage::Open(path_);
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  // The first column of `sql`'s first row, on a separate connection.
  int64_t Count(const std::string& sql) {
    auto db = sqlite::Database::Open(path_, 1000);
    EXPECT_TRUE(db.ok());
    auto stmt = (*db)->Prepare(sql);
    EXPECT_TRUE(stmt.ok());
    EXPECT_TRUE(*stmt->Step());
    return stmt->ColumnInt(0);
  }

  TempDir dir_;
  std::string path_ = dir_.File("node.db");
};

TEST_F(SqliteStorageTest, EverythingSurvivesCloseAndReopen) {
  StoredCase open_case =
      MakeCase("MK-1", true, {Ident("a", 1), Ident("shared", 2)});
  StoredCase closed_case = MakeCase("MK-2", false, {Ident("b", 3)});
  PeerIndex rs{"RS", 2, 40, {3, 9, 0xFFFFFFFFFFFFFFFFu}, 123};
  {
    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    ASSERT_OK(storage->AddCase(open_case));
    ASSERT_OK(storage->AddCase(closed_case));
    ASSERT_OK(storage->AddCase(MakeCase("MK-3", true, {Ident("shared", 2)})));
    ASSERT_OK(
        storage->UpdateCase(MakeCase("MK-3", false, {Ident("shared", 2)})));
    ASSERT_OK(storage->CompactIndexChanges(1));
    ASSERT_OK(storage->SavePeerIndex(rs));
    ASSERT_OK(storage->RecordMessageId("RS", "m1", 5000));
    ASSERT_OK(storage->ChargeQuota("RS", 20000, 9, 10).status());
    v1::Hit hit;
    hit.set_query_id("q1");
    hit.set_case_number("MK-1");
    ASSERT_OK(storage->AddHit(hit));
    v1::Notification n;
    n.set_from_member("AL");
    n.set_case_number("MK-1");
    ASSERT_OK(storage->AddNotification(n));
    ASSERT_OK(storage->PutSetting("directory_version", "17"));
  }
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_OK_AND_ASSIGN(StoredCase got1, storage->GetCase("MK-1"));
  ExpectSameCase(got1, open_case);
  ASSERT_OK_AND_ASSIGN(StoredCase got2, storage->GetCase("MK-2"));
  ExpectSameCase(got2, closed_case);
  ASSERT_OK_AND_ASSIGN(uint64_t version, storage->OwnIndexVersion());
  EXPECT_EQ(version, 2u);
  ASSERT_OK_AND_ASSIGN(auto tags, storage->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>({1, 2}));
  EXPECT_EQ(CodeOf(storage->OwnIndexChangesSince(0)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto changes, storage->OwnIndexChangesSince(1));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].tag, 2u);
  ASSERT_OK_AND_ASSIGN(PeerIndex got_rs, storage->LoadPeerIndex("RS"));
  EXPECT_EQ(got_rs.tags, rs.tags);
  EXPECT_EQ(got_rs.version, 40u);
  EXPECT_EQ(got_rs.oprf_epoch, 2u);
  EXPECT_EQ(got_rs.synced_at_ms, 123);
  EXPECT_EQ(CodeOf(storage->RecordMessageId("RS", "m1", 5000)),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeOf(storage->ChargeQuota("RS", 20000, 2, 10)),
            absl::StatusCode::kResourceExhausted);
  ASSERT_OK_AND_ASSIGN(uint32_t used, storage->ChargeQuota("RS", 20000, 1, 10));
  EXPECT_EQ(used, 10u);
  ASSERT_OK_AND_ASSIGN(auto hits, storage->ListHits("MK-1"));
  ASSERT_EQ(hits.items.size(), 1u);
  EXPECT_EQ(hits.items[0].query_id(), "q1");
  ASSERT_OK_AND_ASSIGN(auto inbox, storage->ListNotifications(""));
  ASSERT_EQ(inbox.items.size(), 1u);
  EXPECT_EQ(inbox.items[0].from_member(), "AL");
  ASSERT_OK_AND_ASSIGN(auto setting, storage->GetSetting("directory_version"));
  EXPECT_EQ(setting.value_or("none"), "17");
}

TEST_F(SqliteStorageTest, UsesWalWithFullSync) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string journal, storage->Pragma("journal_mode"));
  EXPECT_EQ(journal, "wal");
  ASSERT_OK_AND_ASSIGN(std::string sync, storage->Pragma("synchronous"));
  EXPECT_EQ(sync, "2");  // FULL
  ASSERT_OK_AND_ASSIGN(std::string fk, storage->Pragma("foreign_keys"));
  EXPECT_EQ(fk, "1");
  ASSERT_OK_AND_ASSIGN(std::string busy, storage->Pragma("busy_timeout"));
  EXPECT_EQ(busy, "5000");
  ASSERT_OK_AND_ASSIGN(std::string cache, storage->Pragma("cache_size"));
  EXPECT_EQ(cache, "-2000");
  ASSERT_OK_AND_ASSIGN(std::string version, storage->Pragma("user_version"));
  EXPECT_EQ(version, std::to_string(sqlite::kSchemaVersion));
  EXPECT_EQ(CodeOf(storage->Pragma("journal_mode=DELETE")),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStorageTest, FailedTransactionLeavesNothingBehind) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  StoredCase before = MakeCase("MK-1", true, {Ident("a", 1)});
  ASSERT_OK(storage->AddCase(before));
  // Make the last statement of a case change fail, after the case and its
  // identifiers were written in the same transaction.
  RawExec(path_,
          "CREATE TRIGGER fail_changes BEFORE INSERT ON index_changes "
          "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

  EXPECT_EQ(CodeOf(storage->AddCase(MakeCase("MK-2", true, {Ident("b", 2)}))),
            absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(storage->GetCase("MK-2")), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      CodeOf(storage->UpdateCase(MakeCase("MK-1", false, {Ident("a", 1)}))),
      absl::StatusCode::kInternal);
  ASSERT_OK_AND_ASSIGN(StoredCase got, storage->GetCase("MK-1"));
  ExpectSameCase(got, before);
  ASSERT_OK_AND_ASSIGN(auto tags, storage->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>({1}));
  ASSERT_OK_AND_ASSIGN(uint64_t version, storage->OwnIndexVersion());
  EXPECT_EQ(version, 1u);
  ASSERT_OK_AND_ASSIGN(auto all, storage->ListCases(true));
  EXPECT_EQ(all.items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto matches, storage->FindByOutputs({Ident("b", 2).y}));
  EXPECT_TRUE(matches.empty());

  // With the fault gone the same calls succeed.
  RawExec(path_, "DROP TRIGGER fail_changes;");
  ASSERT_OK(storage->AddCase(MakeCase("MK-2", true, {Ident("b", 2)})));
  ASSERT_OK_AND_ASSIGN(version, storage->OwnIndexVersion());
  EXPECT_EQ(version, 2u);
}

TEST_F(SqliteStorageTest, AddCasesIsAllOrNothing) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_OK(storage->AddCase(MakeCase("MK-5", true, {Ident("e", 5)})));
  std::vector<StoredCase> batch = {
      MakeCase("MK-1", true, {Ident("a", 1), Ident("s", 9)}),
      MakeCase("MK-2", true, {Ident("s", 9)}),
      MakeCase("MK-5", true, {Ident("x", 7)}),  // taken
  };
  EXPECT_EQ(CodeOf(storage->AddCases(batch)), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeOf(storage->GetCase("MK-1")), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(uint64_t version, storage->OwnIndexVersion());
  EXPECT_EQ(version, 1u);

  batch.pop_back();
  batch.push_back(MakeCase("MK-3", false, {Ident("c", 3)}));
  ASSERT_OK(storage->AddCases(batch));
  ASSERT_OK_AND_ASSIGN(auto tags, storage->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>({1, 5, 9}));
  ASSERT_OK_AND_ASSIGN(version, storage->OwnIndexVersion());
  EXPECT_EQ(version, 3u);
  ASSERT_OK_AND_ASSIGN(auto all, storage->ListCases(true));
  EXPECT_EQ(all.items.size(), 4u);

  std::vector<StoredCase> bad = {MakeCase("MK-7", true, {Ident("g", 7)}),
                                 MakeCase("", true, {})};
  EXPECT_EQ(CodeOf(storage->AddCases(bad)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(storage->GetCase("MK-7")), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStorageTest, NotADatabaseIsDataLoss) {
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto storage = SqliteStorage::Open(path_);
  EXPECT_EQ(CodeOf(storage), absl::StatusCode::kDataLoss) << storage.status();
}

TEST_F(SqliteStorageTest, NewerSchemaIsFailedPrecondition) {
  { ASSERT_NE(Open(), nullptr); }
  RawExec(path_, "PRAGMA user_version = 99;");
  auto storage = SqliteStorage::Open(path_);
  EXPECT_EQ(CodeOf(storage), absl::StatusCode::kFailedPrecondition)
      << storage.status();
}

// Version 6 -> 7 (withdrawals, spec/cooperation.md §2.4): hits stored
// before it get their member and case token, so that a withdrawal finds
// them.
TEST_F(SqliteStorageTest, SchemaVersion6HitsAreFoundByAWithdrawal) {
  v1::Hit hit;
  hit.set_member("RS");
  hit.set_case_number("MK-1");
  hit.mutable_reference()->set_case_token(Bytes(16, 't'));
  {
    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    ASSERT_OK(storage->AddHit(hit));
  }
  RawExec(path_,
          "DROP TABLE hit_tokens; DROP TABLE withdrawals;"
          "DROP TABLE withdrawn_references; PRAGMA user_version = 6;");
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string version, storage->Pragma("user_version"));
  EXPECT_EQ(version, std::to_string(sqlite::kSchemaVersion));
  int64_t marked = 0;
  ASSERT_OK(storage->ReadWriteTransaction([&](StorageTransaction& t) {
    absl::StatusOr<int64_t> n = t.WithdrawHits(
        "RS", Bytes(16, 't'), 5, v1::WITHDRAWAL_REASON_CLOSED, true);
    if (!n.ok()) return n.status();
    marked = *n;
    return absl::OkStatus();
  }));
  EXPECT_EQ(marked, 1);
}

// A node.db written by a build of schema version 1 (before the index caps)
// is migrated in place: its copies load with no baseline, and the new
// tables work.
TEST_F(SqliteStorageTest, SchemaVersion1IsMigrated) {
  {
    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    ASSERT_OK(storage->SavePeerIndex(PeerIndex{"RS", 1, 4, {1, 2, 3}, 9}));
  }
  RawExec(path_,
          "DROP TABLE peer_index_baselines; DROP TABLE index_evidence;"
          "DROP TABLE directory_evidence;"  // schema 4 (issue 10)
          "PRAGMA user_version = 1;");
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string version, storage->Pragma("user_version"));
  EXPECT_EQ(version, std::to_string(sqlite::kSchemaVersion));
  ASSERT_OK_AND_ASSIGN(PeerIndex rs, storage->LoadPeerIndex("RS"));
  EXPECT_EQ(rs.version, 4u);
  EXPECT_EQ(rs.tags, std::vector<Tag>({1, 2, 3}));
  EXPECT_EQ(rs.baseline_day, 0);
  EXPECT_EQ(rs.baseline_count, 0u);
  rs.baseline_day = 20'000;
  rs.baseline_count = 3;
  ASSERT_OK(storage->SavePeerIndex(rs));
  IndexEvidence e;
  e.member = "RS";
  e.manifest = "signed";
  ASSERT_OK(storage->AddIndexEvidence(e));
  storage.reset();
  storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_OK_AND_ASSIGN(PeerIndex reopened, storage->LoadPeerIndex("RS"));
  EXPECT_EQ(reopened.baseline_count, 3u);
  ASSERT_OK_AND_ASSIGN(auto evidence, storage->ListIndexEvidence("RS"));
  EXPECT_EQ(evidence.size(), 1u);
}

TEST_F(SqliteStorageTest, UnopenablePathIsUnavailable) {
  auto storage = SqliteStorage::Open(dir_.File("no/such/dir/node.db"));
  EXPECT_EQ(CodeOf(storage), absl::StatusCode::kUnavailable)
      << storage.status();
}

TEST_F(SqliteStorageTest, DamagedStoredDataIsDataLoss) {
  {
    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    ASSERT_OK(storage->SavePeerIndex(PeerIndex{"RS", 1, 1, {1, 2, 3}, 0}));
    ASSERT_OK(storage->SavePeerIndex(PeerIndex{"AL", 1, 1, {1, 2, 3}, 0}));
    ASSERT_OK(storage->AddCase(MakeCase("MK-1", true, {Ident("a", 1)})));
  }
  RawExec(path_,
          "UPDATE peer_indexes SET tag_count = 4 WHERE member = 'RS';"
          "UPDATE peer_indexes SET tags = zeroblob(24) WHERE member = 'AL';"
          "UPDATE cases SET record = x'ffffffff' WHERE number = 'MK-1';");
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(CodeOf(storage->LoadPeerIndex("RS")), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CodeOf(storage->LoadPeerIndex("AL")), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CodeOf(storage->LoadAllPeerIndexes()), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CodeOf(storage->GetCase("MK-1")), absl::StatusCode::kDataLoss);
}

TEST_F(SqliteStorageTest, AnotherWritersLockIsUnavailable) {
  SqliteStorage::Options options;
  options.busy_timeout_ms = 50;
  auto opened = SqliteStorage::Open(path_, options);
  ASSERT_OK(opened.status());
  SqliteStorage& storage = **opened;
  ASSERT_OK_AND_ASSIGN(std::string busy, storage.Pragma("busy_timeout"));
  EXPECT_EQ(busy, "50");

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(CodeOf(storage.PutSetting("k", "v")),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(storage.ChargeQuota("RS", 1, 1, 10)),
            absl::StatusCode::kUnavailable);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);

  ASSERT_OK(storage.PutSetting("k", "v"));
  ASSERT_OK_AND_ASSIGN(uint32_t used, storage.ChargeQuota("RS", 1, 1, 10));
  EXPECT_EQ(used, 1u);
}

TEST(SqliteErrorStatusTest, MapsResultCodes) {
  using sqlite::ErrorStatus;
  EXPECT_EQ(ErrorStatus(SQLITE_CONSTRAINT_PRIMARYKEY, nullptr, "x").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorStatus(SQLITE_CONSTRAINT_UNIQUE, nullptr, "x").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorStatus(SQLITE_CONSTRAINT_FOREIGNKEY, nullptr, "x").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorStatus(SQLITE_BUSY, nullptr, "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorStatus(SQLITE_IOERR_FSYNC, nullptr, "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorStatus(SQLITE_FULL, nullptr, "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorStatus(SQLITE_CORRUPT, nullptr, "x").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrorStatus(SQLITE_NOTADB, nullptr, "x").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrorStatus(SQLITE_READONLY, nullptr, "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorStatus(SQLITE_MISUSE, nullptr, "x").code(),
            absl::StatusCode::kInternal);
  absl::Status s = ErrorStatus(SQLITE_CORRUPT, nullptr, "reading cases");
  EXPECT_NE(s.message().find("reading cases"), absl::string_view::npos);
  EXPECT_NE(s.message().find("malformed"), absl::string_view::npos) << s;
}

TEST_F(SqliteStorageTest, ATransactionIsDurableOrAbsentAfterReopen) {
  {
    std::unique_ptr<SqliteStorage> s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_OK(s->ReadWriteTransaction([](StorageTransaction& txn) {
      return txn.AddCase(MakeCase("KEPT", true, {Ident("a", 1)}));
    }));
    EXPECT_EQ(s->ReadWriteTransaction([](StorageTransaction& txn) {
                 absl::Status added =
                     txn.AddCase(MakeCase("GONE", true, {Ident("b", 2)}));
                 if (!added.ok()) return added;
                 return absl::UnavailableError("the audit log failed");
               }).code(),
              absl::StatusCode::kUnavailable);
  }
  std::unique_ptr<SqliteStorage> s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->GetCase("KEPT").ok());
  EXPECT_EQ(CodeOf(s->GetCase("GONE")), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto tags, s->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>{1});
}

// Outputs per key generation (schema version 5): a node stopped half way
// through staging resumes where it was, and one stopped after the switch
// opens with the new outputs current.
TEST_F(SqliteStorageTest, StagingResumesAndTheSwitchSurvivesReopen) {
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_OK(s->AddCase(MakeCase("A", true, {Ident("a", 1), Ident("b", 2)})));
    ASSERT_OK(s->AddCase(MakeCase("B", true, {Ident("c", 3)})));
    ASSERT_OK(s->StageOutputs({Staged("a", 11)}, {{"oprf/cursor", "a"}}));
  }
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_OK_AND_ASSIGN(auto cursor, s->GetSetting("oprf/cursor"));
    EXPECT_EQ(cursor, std::optional<Bytes>("a"));
    ASSERT_OK_AND_ASSIGN(uint64_t staged, s->CountStagedOutputs());
    EXPECT_EQ(staged, 1u);
    ASSERT_OK_AND_ASSIGN(auto rest, s->ListUnstagedIdentifiers({}));
    ASSERT_EQ(rest.items.size(), 2u);
    EXPECT_EQ(rest.items[0].normalized_value, "b");
    ASSERT_OK(s->StageOutputs({Staged("b", 12), Staged("c", 13)}, {}));
    ASSERT_OK(s->PromoteStagedOutputs({{"oprf/epoch", "2"}}));
  }
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_OK_AND_ASSIGN(auto tags, s->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>({11, 12, 13}));
  ASSERT_OK_AND_ASSIGN(auto match, s->FindByOutputs({Y(1'000'013)}));
  ASSERT_EQ(match.size(), 1u);
  EXPECT_EQ(match[0].case_number, "B");
  ASSERT_OK_AND_ASSIGN(auto translated,
                       s->TranslatePreviousOutputs({Ident("a", 1).y}));
  EXPECT_EQ(translated, std::vector<Bytes>({Y(1'000'011)}));
}

// A switch whose commit fails (the disk refuses the WAL's sync) leaves the
// old generation current, also after a restart; the next attempt switches.
TEST_F(SqliteStorageTest, AFailedSwitchLeavesTheOldGenerationCurrent) {
  testing::FaultVfs vfs("cbx-fault-switch");
  SqliteStorage::Options options;
  options.vfs = vfs.name();
  {
    auto opened = SqliteStorage::Open(path_, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    SqliteStorage& s = **opened;
    ASSERT_OK(s.AddCase(MakeCase("A", true, {Ident("a", 1)})));
    ASSERT_OK(s.StageOutputs({Staged("a", 11)}, {}));
    vfs.FailAlways(testing::VfsOp::kSync, "node.db-wal",
                   testing::FaultVfs::Eio(testing::VfsOp::kSync));
    EXPECT_EQ(CodeOf(s.PromoteStagedOutputs({{"oprf/epoch", "2"}})),
              absl::StatusCode::kUnavailable);
    vfs.Heal();
    // A committed write tells IoHealth the disk is healthy again.
    ASSERT_OK(s.AddCase(MakeCase("PROBE", false, {})));
    ASSERT_OK_AND_ASSIGN(auto tags, s.OwnIndexTags());
    EXPECT_EQ(tags, std::vector<Tag>({1}));
  }
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_OK_AND_ASSIGN(auto tags, s->OwnIndexTags());
    EXPECT_EQ(tags, std::vector<Tag>({1}));
    ASSERT_OK_AND_ASSIGN(auto epoch, s->GetSetting("oprf/epoch"));
    EXPECT_EQ(epoch, std::nullopt);
    ASSERT_OK(s->PromoteStagedOutputs({{"oprf/epoch", "2"}}));
    ASSERT_OK_AND_ASSIGN(tags, s->OwnIndexTags());
    EXPECT_EQ(tags, std::vector<Tag>({11}));
  }
}

// Rows of a generation no longer in use (left by a node stopped between a
// switch and the deletion that follows it) are deleted when it opens;
// dropping the previous outputs deletes them too.
TEST_F(SqliteStorageTest, OldGenerationsAreDeleted) {
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_OK(s->AddCase(MakeCase("A", true, {Ident("a", 1), Ident("b", 2)})));
    ASSERT_OK(s->StageOutputs({Staged("a", 11), Staged("b", 12)}, {}));
    ASSERT_OK(s->PromoteStagedOutputs({}));
  }
  // Generations 1 (previous) and 2 (current) hold two rows each.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outputs"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM own_index WHERE generation = 1"), 0);
  RawExec(path_,
          "INSERT INTO outputs (case_id, position, generation, y, tag) "
          "SELECT case_id, position, 0, y, tag FROM outputs "
          "WHERE generation = 1;"
          "INSERT INTO own_index (generation, tag, refs) VALUES (7, 5, 1);");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outputs"), 6);
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outputs"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM own_index"), 2);
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_OK(s->DropPreviousOutputs({}));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outputs"), 2);
  EXPECT_EQ(Count("SELECT previous IS NULL FROM oprf_generations"), 1);
}

// Retention strips a closed case of its outputs in every key generation,
// not only of its identifier rows: the y values are as personal as the
// values, and a switch must still wait for every live identifier's staged
// output (the staged-row counts stay those of live identifiers).
TEST_F(SqliteStorageTest, RetentionDeletesEveryGenerationsOutputs) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  StoredCase closed = MakeCase("C", false, {Ident("c", 3), Ident("d", 4)});
  closed.record.set_updated_at_ms(1000);
  ASSERT_OK(s->AddCase(closed));
  ASSERT_OK(s->AddCase(MakeCase("A", true, {Ident("a", 1)})));
  // A rotation under way: the closed case's rows are staged too.
  ASSERT_OK(s->StageOutputs({Staged("c", 13), Staged("d", 14)}, {}));
  ASSERT_OK_AND_ASSIGN(Storage::PurgeProgress p,
                       s->PurgeClosedCases(2000, {"", 10}, [](int64_t) {
                         return SettingWrites{};
                       }));
  EXPECT_EQ(p.purged, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outputs o JOIN cases c ON c.id = "
                  "o.case_id WHERE c.number = 'C'"),
            0);
  // A's identifier has no staged output: the switch is still refused.
  EXPECT_EQ(s->PromoteStagedOutputs({}).code(), absl::StatusCode::kAborted);
  ASSERT_OK(s->StageOutputs({Staged("a", 11)}, {}));
  ASSERT_OK(s->PromoteStagedOutputs({}));
  ASSERT_OK_AND_ASSIGN(auto matches, s->FindByOutputs({Y(11 + 1'000'000)}));
  EXPECT_EQ(matches.size(), 1u);
}

// A node.db of schema version 4 in the middle of a rotation (a staged and
// a previous output) keeps both in the generations of version 5.
TEST_F(SqliteStorageTest, SchemaVersion4RotationStateIsMigrated) {
  std::filesystem::copy_file(
      std::string(CBX_SCHEMA_FIXTURES_DIR) + "/node-v4.db", path_);
  const Bytes staged_y = Y(77), previous_y = Y(66);
  RawExec(path_,
          "INSERT INTO staged_outputs (type, normalized_value, y, tag) "
          "SELECT type, normalized_value, X'" +
              absl::BytesToHexString(staged_y) +
              "', 77 FROM identifiers;"
              "INSERT INTO previous_outputs (y, type, normalized_value) "
              "SELECT X'" +
              absl::BytesToHexString(previous_y) +
              "', type, normalized_value FROM identifiers;");
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_OK_AND_ASSIGN(Page<StoredCase> cases, s->ListCases(true, {}));
  ASSERT_EQ(cases.items.size(), 1u);
  ASSERT_EQ(cases.items[0].identifiers.size(), 1u);
  const Bytes current_y = cases.items[0].identifiers[0].y;
  ASSERT_OK_AND_ASSIGN(auto translated,
                       s->TranslatePreviousOutputs({previous_y}));
  EXPECT_EQ(translated, std::vector<Bytes>({current_y}));
  ASSERT_OK_AND_ASSIGN(uint64_t staged, s->CountStagedOutputs());
  EXPECT_EQ(staged, 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t version, s->OwnIndexVersion());
  ASSERT_OK(s->PromoteStagedOutputs({}));
  ASSERT_OK_AND_ASSIGN(auto tags, s->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>({77}));
  ASSERT_OK_AND_ASSIGN(uint64_t after, s->OwnIndexVersion());
  EXPECT_EQ(after, version + 1);
  ASSERT_OK_AND_ASSIGN(translated, s->TranslatePreviousOutputs({current_y}));
  EXPECT_EQ(translated, std::vector<Bytes>({staged_y}));
}

}  // namespace
}  // namespace cbx::node
