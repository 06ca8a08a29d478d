// The online backup of node.db: one consistent snapshot while another
// connection writes, a private file from its creation, never an overwrite,
// and a single file without a WAL beside it.
#include "node/storage/sqlite_backup.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "node/storage/sqlite_schema.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage_test_util.h"

namespace cbx::node::sqlite {
namespace {

using ::cbx::node::testing::Ident;
using ::cbx::node::testing::MakeCase;
using ::cbx::node::testing::TempDir;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class SqliteBackupTest : public ::testing::Test {
 protected:
  // A node.db with `cases` cases, left open as a running node holds it.
  void Fill(int cases) {
    auto opened = SqliteStorage::Open(source_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    storage_ = *std::move(opened);
    ASSERT_OK(storage_->ReadWriteTransaction(
        [&](StorageTransaction& txn) -> absl::Status {
          for (int i = 0; i < cases; ++i) {
            absl::Status added = txn.AddCase(
                MakeCase("MK-" + std::to_string(i), true,
                         {Ident("id-" + std::to_string(i), 10 + i)}));
            if (!added.ok()) return added;
          }
          return absl::OkStatus();
        }));
  }

  // Cases in the database at `path`.
  static int64_t CountCases(const std::string& path) {
    auto db = Database::Open(path, 1000);
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return -1;
    auto stmt = (*db)->Prepare("SELECT COUNT(*) FROM cases");
    EXPECT_TRUE(stmt.ok());
    EXPECT_TRUE(*stmt->Step());
    return stmt->ColumnInt(0);
  }

  TempDir dir_;
  std::string source_ = dir_.File("node.db");
  std::string out_ = dir_.File("backup.db");
  std::unique_ptr<SqliteStorage> storage_;
};

TEST_F(SqliteBackupTest, CopiesALiveDatabaseIntoAPrivateSingleFile) {
  Fill(20);
  // Even with an open umask, the copy is never readable by others.
  const mode_t old_umask = ::umask(0);
  auto report = BackupDatabase(source_, out_);
  ::umask(old_umask);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->schema_version, kSchemaVersion);
  EXPECT_GT(report->pages, 0);

  struct stat st;
  ASSERT_EQ(::stat(out_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(Exists(out_ + ".partial"));
  EXPECT_FALSE(Exists(out_ + "-wal"));
  // A rollback-journal file: it opens on read-only media, alone.
  std::ifstream in(out_, std::ios::binary);
  char header[20];
  in.read(header, sizeof(header));
  EXPECT_EQ(header[18], 1) << "the copy must not be flagged WAL";
  EXPECT_EQ(CountCases(out_), 20);
}

TEST_F(SqliteBackupTest, WritesDuringTheCopyNeitherRestartItNorEnterIt) {
  Fill(200);  // several pages of identifiers
  BackupOptions options;
  options.pages_per_step = 4;
  options.pause_between_steps = absl::ZeroDuration();
  int writes = 0;
  int64_t last_copied = 0;
  bool went_back = false;
  options.progress = [&](int64_t copied, int64_t) {
    // The node goes on writing (another connection, as another process
    // would): each step sees a new commit.
    went_back = went_back || copied < last_copied;
    last_copied = copied;
    ASSERT_OK(storage_->AddCase(
        MakeCase("RS-" + std::to_string(writes), true,
                 {Ident("late-" + std::to_string(writes), 5000 + writes)})));
    ++writes;
  };
  auto report = BackupDatabase(source_, out_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(writes, 3);
  EXPECT_FALSE(went_back) << "the copy restarted";
  EXPECT_EQ(report->steps, (report->pages + 3) / 4);
  // The snapshot taken when the copy began, whole and nothing after it.
  EXPECT_EQ(CountCases(out_), 200);
  auto copy = Database::Open(out_, 1000);
  ASSERT_TRUE(copy.ok());
  EXPECT_OK(CheckIntegrity(**copy));
}

TEST_F(SqliteBackupTest, NeverOverwritesAFile) {
  Fill(1);
  { std::ofstream(out_) << "an earlier backup"; }
  auto report = BackupDatabase(source_, out_);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kAlreadyExists);
  std::ifstream in(out_);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "an earlier backup");
}

TEST_F(SqliteBackupTest, RefusesWhatIsNotADatabaseAndLeavesNoPartialCopy) {
  { std::ofstream(source_) << std::string(8192, 'x'); }
  auto report = BackupDatabase(source_, out_);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss)
      << report.status();
  EXPECT_FALSE(Exists(out_));
  EXPECT_FALSE(Exists(out_ + ".partial"));

  auto missing = BackupDatabase(dir_.File("none.db"), out_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteBackupTest, IntegrityCheckFindsADamagedFile) {
  Fill(300);
  storage_.reset();
  ASSERT_OK(BackupDatabase(source_, out_).status());
  // Scribble over the last page (a leaf of a table or an index): SQLite
  // still opens the file (its header and schema are whole), its integrity
  // check does not pass.
  {
    std::fstream f(out_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    ASSERT_GT(size, 4096 * 3);
    f.seekp(size - 4096 + 8);
    const std::string junk(4096 - 8, '\x5a');
    f.write(junk.data(), junk.size());
  }
  auto db = Database::Open(out_, 1000);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(CheckIntegrity(**db).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cbx::node::sqlite
