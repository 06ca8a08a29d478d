#include "core/util/testing/fault_env.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cbx::testing {

// A file of the base Env whose Append, Sync and Close go through the rules.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::string path,
                    std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  absl::Status Append(std::string_view data) override {
    FaultEnv::Decision d = env_->Next(FileOp::kWrite, path_);
    if (!d.fail) return base_->Append(data);
    if (d.partial) base_->Append(data.substr(0, data.size() / 2)).IgnoreError();
    return FaultEnv::Failure(d, FileOp::kWrite, path_);
  }

  absl::Status Sync() override {
    FaultEnv::Decision d = env_->Next(FileOp::kSync, path_);
    if (d.fail) return FaultEnv::Failure(d, FileOp::kSync, path_);
    return base_->Sync();
  }

  absl::Status Close() override {
    FaultEnv::Decision d = env_->Next(FileOp::kClose, path_);
    // The descriptor goes either way, as with close(2).
    absl::Status closed = base_->Close();
    if (d.fail) return FaultEnv::Failure(d, FileOp::kClose, path_);
    return closed;
  }

 private:
  FaultEnv* const env_;
  const std::string path_;
  const std::unique_ptr<WritableFile> base_;
};

void FaultEnv::Inject(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultEnv::FailNth(FileOp op, int nth, int err) {
  Inject(Fault{.op = op, .err = err, .skip = nth - 1, .times = 1});
}

void FaultEnv::FailAlways(FileOp op, int err) {
  Inject(Fault{.op = op, .err = err, .skip = 0, .times = Fault::kForever});
}

void FaultEnv::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

int64_t FaultEnv::Count(FileOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_[static_cast<size_t>(op)];
}

int64_t FaultEnv::Injected(FileOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_[static_cast<size_t>(op)];
}

FaultEnv::Decision FaultEnv::Next(FileOp op, const std::string& path,
                                  const std::string& other_path) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[static_cast<size_t>(op)];
  Decision decision;
  for (Fault& fault : faults_) {
    if (fault.op != op || fault.times == 0) continue;
    if (!fault.path_contains.empty() &&
        !absl::StrContains(path, fault.path_contains) &&
        !absl::StrContains(other_path, fault.path_contains)) {
      continue;
    }
    if (fault.skip > 0) {
      --fault.skip;
      continue;
    }
    if (decision.fail) continue;  // an earlier rule fails this one
    if (fault.times > 0) --fault.times;
    decision = Decision{true, fault.err, fault.partial};
  }
  if (decision.fail) ++injected_[static_cast<size_t>(op)];
  return decision;
}

absl::Status FaultEnv::Failure(const Decision& decision, FileOp op,
                               const std::string& path) {
  return ErrnoToStatus(decision.err,
                       absl::StrCat("cannot ", std::string(FileOpName(op)), " ",
                                    path, " (injected)"));
}

absl::StatusOr<std::string> FaultEnv::ReadFile(const std::string& path,
                                               size_t max_bytes) {
  Decision d = Next(FileOp::kRead, path);
  if (d.fail) return Failure(d, FileOp::kRead, path);
  return base_->ReadFile(path, max_bytes);
}

absl::StatusOr<FileInfo> FaultEnv::Stat(const std::string& path) {
  Decision d = Next(FileOp::kStat, path);
  if (d.fail) return Failure(d, FileOp::kStat, path);
  return base_->Stat(path);
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultEnv::CreateFile(
    const std::string& path, unsigned mode) {
  Decision d = Next(FileOp::kCreate, path);
  if (d.fail) return Failure(d, FileOp::kCreate, path);
  absl::StatusOr<std::unique_ptr<WritableFile>> file =
      base_->CreateFile(path, mode);
  if (!file.ok()) return file.status();
  return std::unique_ptr<WritableFile>(
      new FaultWritableFile(this, path, *std::move(file)));
}

absl::Status FaultEnv::RenameFile(const std::string& from,
                                  const std::string& to) {
  Decision d = Next(FileOp::kRename, from, to);
  if (d.fail)
    return Failure(d, FileOp::kRename, absl::StrCat(from, " to ", to));
  return base_->RenameFile(from, to);
}

absl::Status FaultEnv::RemoveFile(const std::string& path) {
  Decision d = Next(FileOp::kRemove, path);
  if (d.fail) return Failure(d, FileOp::kRemove, path);
  return base_->RemoveFile(path);
}

absl::Status FaultEnv::SyncDir(const std::string& dir) {
  Decision d = Next(FileOp::kSyncDir, dir);
  if (d.fail) return Failure(d, FileOp::kSyncDir, dir);
  return base_->SyncDir(dir);
}

absl::Status FaultEnv::CreateDir(const std::string& dir, unsigned mode) {
  Decision d = Next(FileOp::kCreateDir, dir);
  if (d.fail) return Failure(d, FileOp::kCreateDir, dir);
  return base_->CreateDir(dir, mode);
}

}  // namespace cbx::testing
