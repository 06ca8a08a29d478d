#include "node/storage/testing/fault_vfs.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/match.h"

namespace cbx::node::testing {
namespace {

// A file opened through the FaultVfs: our header, then the base VFS's own
// file structure (szOsFile of the base), which does the real work. Every
// method is forwarded to `real` (the base methods expect their own struct);
// xWrite, xSync and xTruncate consult the FaultVfs first.
struct FaultFile {
  sqlite3_file base;           // pMethods = &methods
  sqlite3_io_methods methods;  // the base's iVersion, our forwarders
  FaultVfs* vfs;
  std::string* name;  // owned; "" for a temporary file
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

FaultFile* Cast(sqlite3_file* file) {
  return reinterpret_cast<FaultFile*>(file);
}
const sqlite3_io_methods& Real(sqlite3_file* file) {
  return *Cast(file)->real()->pMethods;
}

// The fault for a call, if any: sets errno as the failing system call
// would have, for xGetLastError.
int Fault(sqlite3_file* file, VfsOp op) {
  FaultFile* f = Cast(file);
  VfsError error = f->vfs->Next(op, *f->name);
  if (error.rc != SQLITE_OK) errno = error.err;
  return error.rc;
}

int Close(sqlite3_file* file) {
  FaultFile* f = Cast(file);
  int rc =
      f->real()->pMethods != nullptr ? Real(file).xClose(f->real()) : SQLITE_OK;
  delete f->name;
  f->name = nullptr;
  return rc;
}
int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  return Real(file).xRead(Cast(file)->real(), data, amount, offset);
}
int Write(sqlite3_file* file, const void* data, int amount,
          sqlite3_int64 offset) {
  if (int rc = Fault(file, VfsOp::kWrite); rc != SQLITE_OK) return rc;
  return Real(file).xWrite(Cast(file)->real(), data, amount, offset);
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = Fault(file, VfsOp::kTruncate); rc != SQLITE_OK) return rc;
  return Real(file).xTruncate(Cast(file)->real(), size);
}
int Sync(sqlite3_file* file, int flags) {
  if (int rc = Fault(file, VfsOp::kSync); rc != SQLITE_OK) return rc;
  return Real(file).xSync(Cast(file)->real(), flags);
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file).xFileSize(Cast(file)->real(), size);
}
int Lock(sqlite3_file* file, int level) {
  return Real(file).xLock(Cast(file)->real(), level);
}
int Unlock(sqlite3_file* file, int level) {
  return Real(file).xUnlock(Cast(file)->real(), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file).xCheckReservedLock(Cast(file)->real(), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file).xFileControl(Cast(file)->real(), op, arg);
}
int SectorSize(sqlite3_file* file) {
  return Real(file).xSectorSize(Cast(file)->real());
}
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file).xDeviceCharacteristics(Cast(file)->real());
}
int ShmMap(sqlite3_file* file, int region, int size, int extend,
           void volatile** out) {
  return Real(file).xShmMap(Cast(file)->real(), region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file).xShmLock(Cast(file)->real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  Real(file).xShmBarrier(Cast(file)->real());
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file).xShmUnmap(Cast(file)->real(), delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return Real(file).xFetch(Cast(file)->real(), offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  return Real(file).xUnfetch(Cast(file)->real(), offset, p);
}

FaultVfs* Owner(sqlite3_vfs* vfs) {
  return static_cast<FaultVfs*>(vfs->pAppData);
}
sqlite3_vfs* Base(sqlite3_vfs* vfs) { return Owner(vfs)->base(); }

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  FaultFile* f = Cast(file);
  f->base.pMethods = nullptr;
  f->vfs = Owner(vfs);
  f->name = new std::string(name != nullptr ? name : "");
  sqlite3_file* real = f->real();
  std::memset(real, 0, static_cast<size_t>(Base(vfs)->szOsFile));
  if (flags & SQLITE_OPEN_MAIN_DB) Owner(vfs)->CountOpen();
  int rc = Base(vfs)->xOpen(Base(vfs), name, real, flags, out_flags);
  if (real->pMethods == nullptr) {  // nothing to close
    delete f->name;
    f->name = nullptr;
    return rc;
  }
  const sqlite3_io_methods& m = *real->pMethods;
  f->methods = sqlite3_io_methods{};
  f->methods.iVersion = m.iVersion < 3 ? m.iVersion : 3;
  f->methods.xClose = Close;
  f->methods.xRead = Read;
  f->methods.xWrite = Write;
  f->methods.xTruncate = Truncate;
  f->methods.xSync = Sync;
  f->methods.xFileSize = FileSize;
  f->methods.xLock = Lock;
  f->methods.xUnlock = Unlock;
  f->methods.xCheckReservedLock = CheckReservedLock;
  f->methods.xFileControl = FileControl;
  f->methods.xSectorSize = SectorSize;
  f->methods.xDeviceCharacteristics = DeviceCharacteristics;
  if (m.iVersion >= 2) {
    f->methods.xShmMap = ShmMap;
    f->methods.xShmLock = ShmLock;
    f->methods.xShmBarrier = ShmBarrier;
    f->methods.xShmUnmap = ShmUnmap;
  }
  if (m.iVersion >= 3) {
    f->methods.xFetch = Fetch;
    f->methods.xUnfetch = Unfetch;
  }
  f->base.pMethods = &f->methods;
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return Base(vfs)->xDlOpen(Base(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int n, char* out) {
  Base(vfs)->xDlError(Base(vfs), n, out);
}
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Base(vfs)->xDlSym(Base(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) {
  Base(vfs)->xDlClose(Base(vfs), handle);
}
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) {
  return Base(vfs)->xSleep(Base(vfs), micros);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return Base(vfs)->xCurrentTime(Base(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}

}  // namespace

VfsError FaultVfs::Enospc(VfsOp op) {
  switch (op) {
    case VfsOp::kWrite:
      return {SQLITE_FULL, ENOSPC};
    case VfsOp::kSync:
      return {SQLITE_IOERR_FSYNC, ENOSPC};
    case VfsOp::kTruncate:
      return {SQLITE_IOERR_TRUNCATE, ENOSPC};
  }
  return {SQLITE_FULL, ENOSPC};
}

VfsError FaultVfs::Eio(VfsOp op) {
  switch (op) {
    case VfsOp::kWrite:
      return {SQLITE_IOERR_WRITE, EIO};
    case VfsOp::kSync:
      return {SQLITE_IOERR_FSYNC, EIO};
    case VfsOp::kTruncate:
      return {SQLITE_IOERR_TRUNCATE, EIO};
  }
  return {SQLITE_IOERR_WRITE, EIO};
}

FaultVfs::FaultVfs(std::string name)
    : name_(std::move(name)), base_(sqlite3_vfs_find(nullptr)) {
  if (base_ == nullptr) std::abort();
  vfs_ = sqlite3_vfs{};
  // Version 2: xCurrentTimeInt64, which SQLite prefers; the system-call
  // hooks of version 3 are for SQLite's own tests.
  vfs_.iVersion = 2;
  vfs_.szOsFile = static_cast<int>(sizeof(FaultFile)) + base_->szOsFile;
  vfs_.mxPathname = base_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = Open;
  vfs_.xDelete = Delete;
  vfs_.xAccess = Access;
  vfs_.xFullPathname = FullPathname;
  vfs_.xDlOpen = DlOpen;
  vfs_.xDlError = DlError;
  vfs_.xDlSym = DlSym;
  vfs_.xDlClose = DlClose;
  vfs_.xRandomness = Randomness;
  vfs_.xSleep = Sleep;
  vfs_.xCurrentTime = CurrentTime;
  vfs_.xGetLastError = GetLastError;
  vfs_.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&vfs_, /*makeDflt=*/0) != SQLITE_OK) std::abort();
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&vfs_); }

void FaultVfs::Inject(VfsFault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultVfs::FailNth(VfsOp op, const std::string& suffix, int nth,
                       VfsError error) {
  Inject(VfsFault{op, suffix, error, nth - 1, 1});
}

void FaultVfs::FailAlways(VfsOp op, const std::string& suffix, VfsError error) {
  Inject(VfsFault{op, suffix, error, 0, VfsFault::kForever});
}

void FaultVfs::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

int64_t FaultVfs::Count(VfsOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_[static_cast<int>(op)];
}

int64_t FaultVfs::Injected(VfsOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_[static_cast<int>(op)];
}

int64_t FaultVfs::Opens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opens_;
}

void FaultVfs::CountOpen() {
  std::lock_guard<std::mutex> lock(mu_);
  ++opens_;
}

VfsError FaultVfs::Next(VfsOp op, const std::string& file) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[static_cast<int>(op)];
  VfsError result{SQLITE_OK, 0};
  for (VfsFault& fault : faults_) {
    if (fault.op != op || !absl::EndsWith(file, fault.suffix)) continue;
    if (fault.skip > 0) {
      --fault.skip;
      continue;
    }
    if (fault.times == 0 || result.rc != SQLITE_OK) continue;
    if (fault.times > 0) --fault.times;
    result = fault.error;
  }
  if (result.rc != SQLITE_OK) ++injected_[static_cast<int>(op)];
  return result;
}

}  // namespace cbx::node::testing
