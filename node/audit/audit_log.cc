#include "node/audit/audit_log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/merkle/proof_builder.h"
#include "core/merkle/verify.h"
#include "core/util/status_macros.h"
#include "node/audit/audit_checks.h"
#include "node/audit/leaf.h"
#include "node/audit/sqlite_audit_store.h"
#include "node/audit/stored_hash_source.h"
#include "node/storage/io_health.h"

namespace cbx::node::audit {

// One Append (one entry) or AppendAll (several), committed whole in one
// transaction.
struct AuditLog::Request {
  std::vector<v1::AuditEntry> entries;
  absl::Status status;
  uint64_t sequence = 0;  // of the first entry
  // Set by the writer once `status` and `sequence` are final.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done ABSL_GUARDED_BY(done_mu) = false;
};

namespace {

std::string Short(const Bytes& hash) { return HexEncode(hash).substr(0, 16); }

// The head thread checkpoints the WAL at most this often. A checkpoint run
// by the committing connection (SQLite's default, every 1000 pages) would
// stall every waiting Append for two extra fsyncs.
constexpr auto kWalCheckpointInterval = std::chrono::milliseconds(20);
// The head file is rewritten at most this often (spec/audit-log.md §2.8):
// under load a batch commits every millisecond or two, and a file write,
// fsync and rename per batch cost the node more than the batch itself. The
// head trails the database by at most this long plus one write.
constexpr auto kMinHeadInterval = absl::Milliseconds(10);
// How many checked roots of smaller trees the log keeps (AuditLog::anchored_).
constexpr size_t kAnchoredRoots = 64;

// The code a disk fault is reported with (spec/storage-faults.md): a full
// disk stays RESOURCE_EXHAUSTED; every other failure to write (an I/O
// error, a failed fsync, an outcome that is unknown) is UNAVAILABLE, retry.
absl::StatusCode DiskFaultCode(const absl::Status& cause) {
  return cause.code() == absl::StatusCode::kResourceExhausted
             ? absl::StatusCode::kResourceExhausted
             : absl::StatusCode::kUnavailable;
}

}  // namespace

// --- Open and close ----------------------------------------------------------

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    const std::string& db_path, const AuditLogOptions& options) {
  return Open(std::make_shared<SqliteAuditBackend>(db_path, options.sqlite_vfs),
              options);
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    std::shared_ptr<AuditBackend> backend, const AuditLogOptions& options_in) {
  AuditLogOptions options = options_in;
  if (options.head_path.empty()) options.head_path = backend->DefaultHeadPath();
  if (options.head_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the audit log in ", backend->Describe(), " needs a head file path"));
  }
  if (options.env == nullptr) options.env = Env::Default();
  if (options.max_batch_size == 0) {
    return absl::InvalidArgumentError("max_batch_size must be at least 1");
  }

  // One writer per log: two would each sequence from their own state.
  ASSIGN_OR_RETURN(std::unique_ptr<AuditBackend::WriterLock> lock,
                   backend->LockWriter());
  ASSIGN_OR_RETURN(std::unique_ptr<AuditStore> writer,
                   backend->ConnectWriter());
  RETURN_IF_ERROR(writer->Initialize());
  ASSIGN_OR_RETURN(std::optional<Head> head,
                   ReadHead(options.head_path, options.env));
  ASSIGN_OR_RETURN(merkle::CompactRange range,
                   CheckOnOpen(*writer, head, options.head_path));
  ASSIGN_OR_RETURN(std::unique_ptr<AuditStore> reader, backend->Connect());
  ASSIGN_OR_RETURN(std::unique_ptr<AuditStore> checkpointer,
                   backend->Connect());

  // A head that trails the database (a crash between a commit and the head
  // write) is brought up to date before anything else is committed.
  const Head current{range.size(), range.Root()};
  if (!head.has_value() || *head != current) {
    RETURN_IF_ERROR(WriteHead(options.head_path, current, options.env));
  }
  const absl::Duration wait = options.open_check_wait;
  std::unique_ptr<AuditLog> log(new AuditLog(
      std::move(backend), std::move(options), std::move(lock),
      std::move(writer), std::move(reader), std::move(checkpointer),
      std::move(range)));
  // A log counted within the wait opens as if counted first.
  absl::Status counted;
  if (log->WaitOpenCheck(wait, &counted) &&
      counted.code() == absl::StatusCode::kDataLoss) {
    return counted;
  }
  return log;
}

AuditLog::AuditLog(std::shared_ptr<AuditBackend> backend,
                   AuditLogOptions options,
                   std::unique_ptr<AuditBackend::WriterLock> lock,
                   std::unique_ptr<AuditStore> writer,
                   std::unique_ptr<AuditStore> reader,
                   std::unique_ptr<AuditStore> checkpointer,
                   merkle::CompactRange range)
    : backend_(std::move(backend)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      lock_(std::move(lock)),
      size_(range.size()),
      root_(range.Root()),
      writer_(std::move(writer)),
      range_(std::move(range)),
      reader_(std::move(reader)),
      cache_level_(options_.cache_min_level),
      checkpointer_(std::move(checkpointer)) {
  writer_thread_ = std::thread([this] { WriterLoop(); });
  head_thread_ = std::thread([this] { HeadLoop(); });
  check_thread_ = std::thread([this] { OpenCheckLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(check_mu_);
    check_stopping_ = true;
    check_cv_.notify_all();
  }
  check_thread_.join();  // stops between two counted ranges
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_all();
  }
  writer_thread_.join();  // commits what is queued
  {
    std::lock_guard<std::mutex> lock(head_mu_);
    head_stopping_ = true;
    head_cv_.notify_all();
  }
  head_thread_.join();  // writes the last head
}  // lock_ goes last: another writer may open the log from here on

// --- The leaf count after Open -----------------------------------------------

void AuditLog::OpenCheckLoop() {
  auto stopping = [this] {
    std::lock_guard<std::mutex> lock(check_mu_);
    return check_stopping_;
  };
  absl::Status status;
  while (true) {
    absl::StatusOr<std::unique_ptr<AuditStore>> store = backend_->Connect();
    status = store.ok() ? CheckLeafCount(**store, stopping,
                                         options_.open_check_hook_for_testing)
                        : store.status();
    if (status.ok() || status.code() == absl::StatusCode::kDataLoss) break;
    // Busy, closing or a disk fault: again in a second, unless closing.
    std::unique_lock<std::mutex> lock(check_mu_);
    if (check_cv_.wait_for(lock, std::chrono::seconds(1),
                           [this] { return check_stopping_; })) {
      return;
    }
  }
  Fail(status).IgnoreError();  // latches a DATA_LOSS
  // Told before the waiters wake: whoever waits sees the report made.
  if (options_.on_open_check_done) options_.on_open_check_done(status);
  std::lock_guard<std::mutex> lock(check_mu_);
  check_done_ = true;
  check_result_ = status;
  check_cv_.notify_all();
}

size_t AuditLog::CachedSubtreeHashes() {
  std::lock_guard<std::mutex> lock(read_mu_);
  return cache_.size();
}

bool AuditLog::OpenCheckRunning() const {
  std::lock_guard<std::mutex> lock(check_mu_);
  return !check_done_;
}

absl::Status AuditLog::WaitForOpenCheck() {
  std::unique_lock<std::mutex> lock(check_mu_);
  check_cv_.wait(lock, [this] { return check_done_ || check_stopping_; });
  return check_done_ ? check_result_
                     : absl::CancelledError("the audit log is closing");
}

bool AuditLog::WaitOpenCheck(absl::Duration timeout, absl::Status* result) {
  std::unique_lock<std::mutex> lock(check_mu_);
  const bool done = check_cv_.wait_for(
      lock, absl::ToChronoNanoseconds(std::max(timeout, absl::ZeroDuration())),
      [this] { return check_done_; });
  if (done) *result = check_result_;
  return done;
}

// --- Appending ---------------------------------------------------------------

namespace {

// Checks `entry` in the caller's thread, with the widest values the writer
// may give sequence and time, so that the writer's own encoding cannot
// fail.
absl::Status CheckEncodable(v1::AuditEntry& entry) {
  entry.set_sequence(std::numeric_limits<uint64_t>::max());
  entry.set_time_ms(-1);
  return EncodeLeaf(entry).status();
}

}  // namespace

absl::StatusOr<uint64_t> AuditLog::Append(v1::AuditEntry entry) {
  RETURN_IF_ERROR(CheckEncodable(entry));
  Request request;
  request.entries.push_back(std::move(entry));
  RETURN_IF_ERROR(Enqueue(request));
  return request.sequence;
}

absl::StatusOr<uint64_t> AuditLog::AppendAll(
    std::vector<v1::AuditEntry> entries) {
  if (entries.empty()) {
    return absl::InvalidArgumentError("AppendAll needs at least one entry");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::Status status = CheckEncodable(entries[i]);
    if (!status.ok()) {
      return absl::Status(
          status.code(), absl::StrCat("entry ", i, " of ", entries.size(), ": ",
                                      status.message()));
    }
  }
  Request request;
  request.entries = std::move(entries);
  RETURN_IF_ERROR(Enqueue(request));
  return request.sequence;
}

absl::Status AuditLog::Enqueue(Request& request) {
  MaybeRecover();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!tamper_.ok()) return tamper_;
    if (!write_failure_.ok()) return write_failure_;
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) {
      return absl::FailedPreconditionError("the audit log is closing");
    }
    queue_.push_back(&request);
    queued_entries_ += request.entries.size();
    queue_cv_.notify_all();
  }
  std::unique_lock<std::mutex> done(request.done_mu);
  request.done_cv.wait(done, [&request] { return request.done; });
  return request.status;
}

bool AuditLog::QueueReady() const { return !queue_.empty() || stopping_; }

bool AuditLog::BatchFullOrStopping() const {
  return queued_entries_ >= options_.max_batch_size || stopping_;
}

bool AuditLog::HeadReady() const {
  return head_next_.has_value() || head_stopping_;
}

void AuditLog::WriterLoop() {
  while (true) {
    std::vector<Request*> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return QueueReady(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      if (options_.max_batch_delay > absl::ZeroDuration() &&
          !BatchFullOrStopping()) {
        queue_cv_.wait_for(lock,
                           absl::ToChronoNanoseconds(options_.max_batch_delay),
                           [this] { return BatchFullOrStopping(); });
      }
      // Whole requests, up to max_batch_size entries; at least one, so an
      // AppendAll larger than that commits alone.
      size_t entries = 0;
      while (!queue_.empty()) {
        const size_t next = queue_.front()->entries.size();
        if (!batch.empty() && entries + next > options_.max_batch_size) break;
        entries += next;
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      queued_entries_ -= entries;
    }
    CommitBatch(batch);
  }
}

// Encodes the batch's entries as leaves after `range`, which it extends.
// A request whose entries do not encode fails alone (Append checked them;
// kept for safety) before it has used a sequence; a full tree fails the
// whole batch (nothing of it commits).
absl::Status AuditLog::EncodeBatch(std::vector<Request*>& batch,
                                   merkle::CompactRange& range,
                                   std::vector<LeafRow>& leaves) {
  for (Request* request : batch) {
    const uint64_t first = range.size();
    std::vector<std::string> encoded;
    encoded.reserve(request->entries.size());
    for (v1::AuditEntry& entry : request->entries) {
      entry.set_sequence(first + encoded.size());
      entry.set_time_ms(clock_.NowMs());
      absl::StatusOr<std::string> leaf = EncodeLeaf(entry);
      if (!leaf.ok()) {
        request->status = leaf.status();
        break;
      }
      encoded.push_back(*std::move(leaf));
    }
    if (!request->status.ok()) continue;
    request->sequence = first;
    for (std::string& leaf : encoded) {
      Bytes hash = merkle::LeafHash(leaf);
      absl::StatusOr<std::vector<merkle::PerfectSubtree>> completed =
          range.Append(hash);
      if (!completed.ok()) {  // a full tree: nothing of the batch commits
        return completed.status();
      }
      // Level 0 is the leaf hash; the rest, lowest first, go in its row.
      Bytes subtrees;
      for (size_t i = 1; i < completed->size(); ++i) {
        subtrees += (*completed)[i].hash;
      }
      leaves.push_back(LeafRow{range.size() - 1, std::move(hash),
                               std::move(leaf), std::move(subtrees)});
    }
  }
  return absl::OkStatus();
}

// After a failed commit of a batch: a failure before COMMIT rolled back
// cleanly; one in COMMIT may or may not have reached the disk, and only the
// state row tells, read on a fresh connection if the failure was a disk
// fault (what the failed connection caches is not trusted). Latches
// tampering (DATA_LOSS) or an unknown outcome (until Recover) and returns
// what the batch's requests are told.
absl::Status AuditLog::AfterFailedCommit(const absl::Status& failure) {
  absl::Status status = failure;
  absl::Status reopened = writer_->ReopenIfFaulted();
  absl::StatusOr<StateRow> state =
      reopened.ok() ? writer_->ReadState() : absl::StatusOr<StateRow>(reopened);
  std::lock_guard<std::mutex> lock(state_mu_);
  if (failure.code() == absl::StatusCode::kDataLoss) {
    if (tamper_.ok()) tamper_ = failure;  // SQLite found corruption
    status = tamper_;
  } else if (failure.code() == absl::StatusCode::kAlreadyExists) {
    if (tamper_.ok()) {
      tamper_ = absl::DataLossError(absl::StrCat(
          "the audit database holds rows beyond the log's size ", range_.size(),
          ": rows were added (", failure.message(), ")"));
    }
    status = tamper_;
  } else if (!state.ok() || state->size != range_.size() ||
             state->root != root_) {
    status = LatchWriteFailure(
        failure, "an audit log commit failed and its outcome is unknown");
  }
  return status;
}

absl::Status AuditLog::LatchWriteFailure(const absl::Status& cause,
                                         std::string_view what) {
  if (write_failure_.ok()) {
    write_failure_ = absl::Status(
        DiskFaultCode(cause),
        absl::StrCat(absl::string_view(what.data(), what.size()),
                     "; the log retries by itself when the disk works (",
                     cause.message(), ")"));
  }
  return write_failure_;
}

void AuditLog::MaybeRecover() {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (write_failure_.ok() || !tamper_.ok()) return;
    const int64_t now = clock_.NowMs();
    if (last_recovery_ms_ != 0 &&
        now - last_recovery_ms_ <
            absl::ToInt64Milliseconds(options_.recovery_interval)) {
      return;
    }
    last_recovery_ms_ = now;
  }
  Recover().IgnoreError();  // the latched status is what Enqueue returns
}

absl::Status AuditLog::Recover() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!tamper_.ok()) return tamper_;
    if (write_failure_.ok()) return absl::OkStatus();
  }
  // Open's checks, with what this log acknowledged as the head: the stored
  // log must not be behind it and must be consistent with it. A fresh
  // connection, so that the state row comes from the file.
  const Head acknowledged{range_.size(), range_.Root()};
  // The writer lock first: if it went with the database session, take it
  // again (or stay latched while another writer holds it).
  absl::Status status = lock_->Renew();
  if (status.ok()) status = writer_->Reopen();
  absl::StatusOr<merkle::CompactRange> range =
      status.ok() ? CheckOnOpen(*writer_, acknowledged, options_.head_path)
                  : absl::StatusOr<merkle::CompactRange>(status);
  if (!range.ok()) return Fail(range.status());  // DATA_LOSS latches
  if (range->size() > acknowledged.size) {
    // Stays latched if the voids cannot be appended; the next try reads
    // them back if they were stored after all.
    status = VoidUnacknowledged(acknowledged.size, *range);
    if (!status.ok()) return status;
  }
  const Head current{range->size(), range->Root()};
  status = WriteHead(options_.head_path, current, options_.env);
  if (!status.ok()) {
    IoHealth::Get().Failed(options_.head_path, status);
    return status;
  }
  range_ = *std::move(range);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    size_ = current.size;
    root_ = current.root;
    write_failure_ = absl::OkStatus();
    ++recoveries_;
  }
  IoHealth::Get().Succeeded(options_.head_path);
  return absl::OkStatus();
}

namespace {

// Whether `void_entry` (kind not_applied) voids `entry`, as an auditor
// reads it (spec/audit-log.md §2.10).
bool Voids(const v1::AuditEntry& void_entry, const v1::AuditEntry& entry) {
  return void_entry.rpc() == entry.rpc() &&
         void_entry.peer() == entry.peer() &&
         void_entry.office() == entry.office() &&
         (void_entry.envelope_sha256().empty() ||
          void_entry.envelope_sha256() == entry.envelope_sha256());
}

}  // namespace

// Why the entries past the acknowledged head are voided: each was appended
// by a batch whose callers were told the append failed (a COMMIT whose
// answer was lost, then read back as stored). By log before effect and
// before answer (§2.5, §2.10) none of those calls changed anything or was
// answered, so the log would otherwise over-state them. The voids go in
// newest first, so that each voids the latest earlier entry still open.
absl::Status AuditLog::VoidUnacknowledged(uint64_t begin,
                                          merkle::CompactRange& range) {
  absl::StatusOr<std::vector<LeafRow>> rows =
      writer_->ReadLeaves(begin, range.size());
  if (!rows.ok()) return Fail(rows.status());
  std::vector<v1::AuditEntry> open;
  for (const LeafRow& row : *rows) {
    absl::StatusOr<v1::AuditEntry> entry = DecodeLeaf(row.data);
    if (!entry.ok()) return Fail(absl::DataLossError(entry.status().message()));
    if (entry->kind() == kNotAppliedKind) {
      for (auto it = open.rbegin(); it != open.rend(); ++it) {
        if (Voids(*entry, *it)) {
          open.erase(std::next(it).base());
          break;
        }
      }
      continue;
    }
    if (entry->outcome().status_code() != 0 || entry->has_log_predecessor()) {
      continue;  // a refusal changed nothing; a predecessor is not a call
    }
    open.push_back(*std::move(entry));
  }
  if (open.empty()) return absl::OkStatus();
  Request request;
  for (auto it = open.rbegin(); it != open.rend(); ++it) {
    v1::AuditEntry voiding;
    voiding.set_direction(v1::AUDIT_DIRECTION_LOCAL);
    voiding.set_peer(it->peer());
    voiding.set_rpc(it->rpc());
    voiding.set_kind(std::string(kNotAppliedKind));
    voiding.set_envelope_sha256(it->envelope_sha256());
    voiding.set_office(it->office());
    voiding.set_user(it->user());
    voiding.mutable_outcome()->set_status_code(
        static_cast<int32_t>(absl::StatusCode::kUnavailable));
    request.entries.push_back(std::move(voiding));
  }
  std::vector<Request*> batch{&request};
  merkle::CompactRange extended = range;
  std::vector<LeafRow> leaves;
  RETURN_IF_ERROR(EncodeBatch(batch, extended, leaves));
  RETURN_IF_ERROR(request.status);
  RETURN_IF_ERROR(writer_->AppendBatch(leaves, extended));
  range = std::move(extended);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    stats_.appended += leaves.size();
    ++stats_.commits;
    stats_.voided_unacknowledged += leaves.size();
  }
  if (options_.on_unacknowledged_voided) {
    options_.on_unacknowledged_voided(request.sequence, leaves.size());
  }
  return absl::OkStatus();
}

void AuditLog::CommitBatch(std::vector<Request*>& batch) {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    status = !tamper_.ok() ? tamper_ : write_failure_;
  }
  if (status.ok()) {
    std::lock_guard<std::mutex> lock(write_mu_);
    // A writer lock lost with its database session (the server went, a
    // replica took its place): another writer may have appended since, so
    // nothing is written until Recover has taken the lock again and
    // re-read the stored state.
    status = lock_->Check();
    if (!status.ok()) {
      std::lock_guard<std::mutex> state(state_mu_);
      status =
          LatchWriteFailure(status, "the audit log's writer lock was lost");
    }
  }
  if (status.ok()) {
    std::lock_guard<std::mutex> lock(write_mu_);
    merkle::CompactRange range = range_;
    std::vector<LeafRow> leaves;
    status = EncodeBatch(batch, range, leaves);
    if (status.ok() && !leaves.empty()) {
      status = writer_->AppendBatch(leaves, range);
    }
    if (status.ok() && !leaves.empty()) {
      range_ = std::move(range);
      const Head head{range_.size(), range_.Root()};
      {
        std::lock_guard<std::mutex> state(state_mu_);
        size_ = head.size;
        root_ = head.root;
        stats_.appended += leaves.size();
        ++stats_.commits;
        stats_.largest_batch =
            std::max<uint64_t>(stats_.largest_batch, leaves.size());
      }
      std::lock_guard<std::mutex> lock_head(head_mu_);
      head_next_ = head;
      head_cv_.notify_all();
    } else if (!status.ok()) {
      status = AfterFailedCommit(status);
    }
  }
  for (Request* request : batch) {
    if (request->status.ok()) request->status = status;
    std::lock_guard<std::mutex> done(request->done_mu);
    request->done = true;
    request->done_cv.notify_all();
  }
}

void AuditLog::HeadLoop() {
  auto last_checkpoint = std::chrono::steady_clock::now();
  while (true) {
    Head head;
    {
      std::unique_lock<std::mutex> lock(head_mu_);
      head_cv_.wait(lock, [this] { return HeadReady(); });
      if (!head_next_.has_value()) return;  // stopping, nothing left
      head = *std::move(head_next_);
      head_next_.reset();
    }
    uint64_t recoveries;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      recoveries = recoveries_;
    }
    const absl::Status status =
        WriteHead(options_.head_path, head, options_.env);
    bool report = status.ok();
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (status.ok()) {
        ++stats_.head_writes;
      } else if (recoveries_ == recoveries) {
        // Without a current head file, a database put back would go
        // unnoticed: stop appending until the head can be written
        // (Recover). Not if Recover has run since this write began: it
        // wrote a newer head after the disk healed.
        LatchWriteFailure(status, "cannot write the audit head file")
            .IgnoreError();  // what Appends will get
        report = true;
      }
    }
    if (report && status.ok()) IoHealth::Get().Succeeded(options_.head_path);
    if (report && !status.ok()) {
      IoHealth::Get().Failed(options_.head_path, status);
    }
    {
      // Let the next batches coalesce; stopping cuts the wait short.
      std::unique_lock<std::mutex> lock(head_mu_);
      head_cv_.wait_for(lock, absl::ToChronoNanoseconds(kMinHeadInterval),
                        [this] { return head_stopping_; });
    }
    // A failed checkpoint is retried next time, and the writer's backstop
    // remains; it costs nothing but WAL size.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint >= kWalCheckpointInterval) {
      last_checkpoint = now;
      absl::StatusOr<bool> maintained = checkpointer_->Maintain();
      if (maintained.ok() && *maintained) {
        std::lock_guard<std::mutex> lock(state_mu_);
        ++stats_.wal_checkpoints;
      }
    }
  }
}

// --- State -------------------------------------------------------------------

AuditLog::Snapshot AuditLog::Current() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return Snapshot{size_, root_};
}

uint64_t AuditLog::Size() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return size_;
}

Bytes AuditLog::Root() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return root_;
}

absl::Status AuditLog::Health() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!tamper_.ok()) return tamper_;
  return write_failure_;
}

absl::Status AuditLog::ReadableStatus() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return tamper_;
}

absl::Status AuditLog::Fail(absl::Status status) const {
  if (status.code() != absl::StatusCode::kDataLoss) return status;
  std::lock_guard<std::mutex> lock(state_mu_);
  if (tamper_.ok()) tamper_ = status;
  return status;
}

AuditLogStats AuditLog::Stats() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return stats_;
}

// --- Reads -------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<AuditStore::ReadSnapshot>>
AuditLog::BeginRead() {
  absl::StatusOr<std::unique_ptr<AuditStore::ReadSnapshot>> txn =
      reader_->BeginRead();
  if (!txn.ok()) return Fail(txn.status());
  return txn;
}

absl::StatusOr<LeafRow> AuditLog::CheckedLeaf(uint64_t index) {
  absl::StatusOr<std::optional<LeafRow>> row = reader_->ReadLeaf(index);
  if (!row.ok()) return Fail(row.status());
  if (!row->has_value()) {
    return Fail(absl::DataLossError(
        absl::StrCat("leaf ", index,
                     " is missing from the audit database: rows were "
                     "deleted")));
  }
  RETURN_IF_ERROR(CheckLeafRow(**row, index));
  return **std::move(row);
}

absl::Status AuditLog::CheckLeafRow(const LeafRow& row, uint64_t index) {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    ++stats_.leaves_hashed;
  }
  if (merkle::LeafHash(row.data) != row.leaf_hash) {
    return Fail(absl::DataLossError(absl::StrCat(
        "leaf ", index,
        ": its stored bytes do not hash to its stored leaf hash")));
  }
  absl::StatusOr<v1::AuditEntry> entry = DecodeLeaf(row.data);
  if (!entry.ok() || entry->sequence() != index) {
    return Fail(absl::DataLossError(absl::StrCat(
        "leaf ", index,
        entry.ok()
            ? absl::StrCat(" holds the entry of sequence ", entry->sequence())
            : std::string(" does not parse as an AuditEntry"))));
  }
  return absl::OkStatus();
}

StoredHashSource AuditLog::CachedSource(uint64_t size) {
  // Level 64 caches nothing, whatever the bound.
  while (cache_level_ < 64 && cache_.size() >= options_.cache_max_entries) {
    // Its lowest level holds about half of its hashes.
    const uint64_t dropped = cache_level_++;
    for (auto it = cache_.begin(); it != cache_.end();) {
      if (it->first.first <= dropped) {
        cache_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  return StoredHashSource(*reader_, size, &cache_, cache_level_);
}

absl::StatusOr<Bytes> AuditLog::AnchoredRoot(uint64_t size,
                                             const Snapshot& current) {
  if (size == current.size) return current.root;
  if (size == 0) return merkle::EmptyRoot();
  if (auto it = anchored_.find(size); it != anchored_.end()) return it->second;
  StoredHashSource source = CachedSource(current.size);
  absl::StatusOr<Bytes> root = merkle::RootHash(source, size);
  if (!root.ok()) return Fail(root.status());
  absl::StatusOr<std::vector<Bytes>> proof =
      merkle::ConsistencyProof(source, size, current.size);
  if (!proof.ok()) return Fail(proof.status());
  absl::Status status = merkle::VerifyConsistency(size, current.size, *proof,
                                                  *root, current.root);
  if (!status.ok()) {
    return Fail(absl::DataLossError(absl::StrCat(
        "the stored perfect subtrees give root ", Short(*root), "... at size ",
        size, ", which is not consistent with the log's root ",
        Short(current.root), "... at size ", current.size,
        ": a stored hash was altered (", status.message(), ")")));
  }
  if (anchored_order_.size() >= kAnchoredRoots) {
    anchored_.erase(anchored_order_.front());
    anchored_order_.pop_front();
  }
  anchored_.emplace(size, *root);
  anchored_order_.push_back(size);
  return root;
}

absl::StatusOr<Bytes> AuditLog::RootAt(uint64_t size) {
  RETURN_IF_ERROR(ReadableStatus());
  const Snapshot current = Current();
  if (size > current.size) {
    return absl::OutOfRangeError(absl::StrCat(
        "the audit log has ", current.size, " entries, not ", size));
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(auto read, BeginRead());
  return AnchoredRoot(size, current);
}

absl::StatusOr<std::string> AuditLog::LeafData(uint64_t index) {
  RETURN_IF_ERROR(ReadableStatus());
  const Snapshot current = Current();
  if (index >= current.size) {
    return absl::OutOfRangeError(absl::StrCat(
        "the audit log has ", current.size, " entries; no leaf ", index));
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(auto read, BeginRead());
  ASSIGN_OR_RETURN(LeafRow row, CheckedLeaf(index));
  return std::move(row.data);
}

absl::StatusOr<std::vector<std::string>> AuditLog::ReadEntries(uint64_t begin,
                                                               uint64_t end) {
  RETURN_IF_ERROR(ReadableStatus());
  if (begin > end) {
    return absl::InvalidArgumentError(
        absl::StrCat("range [", begin, ", ", end, ") is reversed"));
  }
  const Snapshot current = Current();
  if (end > current.size) {
    return absl::OutOfRangeError(absl::StrCat(
        "the audit log has ", current.size, " entries, not ", end));
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(auto read, BeginRead());
  absl::StatusOr<std::vector<LeafRow>> rows = reader_->ReadLeaves(begin, end);
  if (!rows.ok()) return Fail(rows.status());
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (LeafRow& row : *rows) {
    const uint64_t index = begin + out.size();
    if (row.sequence != index) {
      return Fail(absl::DataLossError(
          absl::StrCat("leaf ", index,
                       " is missing from the audit database: rows were "
                       "deleted")));
    }
    RETURN_IF_ERROR(CheckLeafRow(row, index));
    out.push_back(std::move(row.data));
  }
  if (out.size() != end - begin) {
    return Fail(absl::DataLossError(absl::StrCat(
        "leaf ", begin + out.size(),
        " is missing from the audit database: rows were deleted")));
  }
  return out;
}

absl::StatusOr<std::vector<Bytes>> AuditLog::InclusionProof(uint64_t index,
                                                            uint64_t size) {
  RETURN_IF_ERROR(ReadableStatus());
  const Snapshot current = Current();
  if (size > current.size) {
    return absl::OutOfRangeError(absl::StrCat(
        "the audit log has ", current.size, " entries, not ", size));
  }
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf ", index, " is not in the tree of size ", size));
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(auto read, BeginRead());
  ASSIGN_OR_RETURN(LeafRow leaf, CheckedLeaf(index));
  StoredHashSource source = CachedSource(current.size);
  absl::StatusOr<std::vector<Bytes>> proof =
      merkle::InclusionProof(source, index, size);
  if (!proof.ok()) return Fail(proof.status());
  ASSIGN_OR_RETURN(Bytes root, AnchoredRoot(size, current));
  absl::Status status =
      merkle::VerifyInclusion(index, size, leaf.leaf_hash, *proof, root);
  if (!status.ok()) {
    return Fail(absl::DataLossError(absl::StrCat(
        "the inclusion proof of leaf ", index, " in the tree of size ", size,
        " built from the stored hashes does not reach the log's root: a "
        "stored leaf or hash was altered (",
        status.message(), ")")));
  }
  return proof;
}

absl::StatusOr<std::vector<Bytes>> AuditLog::ConsistencyProof(uint64_t size1,
                                                              uint64_t size2) {
  RETURN_IF_ERROR(ReadableStatus());
  const Snapshot current = Current();
  if (size2 > current.size) {
    return absl::OutOfRangeError(absl::StrCat(
        "the audit log has ", current.size, " entries, not ", size2));
  }
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from size ", size1, " to size ", size2));
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  ASSIGN_OR_RETURN(auto read, BeginRead());
  StoredHashSource source = CachedSource(current.size);
  absl::StatusOr<std::vector<Bytes>> proof =
      merkle::ConsistencyProof(source, size1, size2);
  if (!proof.ok()) return Fail(proof.status());
  ASSIGN_OR_RETURN(Bytes root1, AnchoredRoot(size1, current));
  ASSIGN_OR_RETURN(Bytes root2, AnchoredRoot(size2, current));
  absl::Status status =
      merkle::VerifyConsistency(size1, size2, *proof, root1, root2);
  if (!status.ok()) {
    return Fail(absl::DataLossError(absl::StrCat(
        "the consistency proof from size ", size1, " to size ", size2,
        " built from the stored hashes does not verify: a stored hash was "
        "altered (",
        status.message(), ")")));
  }
  return proof;
}

// --- Verify ------------------------------------------------------------------

absl::Status AuditLog::Verify() {
  RETURN_IF_ERROR(ReadableStatus());
  FullCheckInput input;
  input.head_path = options_.head_path;
  // The head, then the committed state, then the database's snapshot: each
  // can only trail the next.
  absl::StatusOr<std::optional<Head>> head =
      ReadHead(options_.head_path, options_.env);
  if (!head.ok()) return Fail(head.status());
  input.head = *std::move(head);
  const Snapshot current = Current();
  input.committed_size = current.size;
  input.committed_root = current.root;

  ASSIGN_OR_RETURN(std::unique_ptr<AuditStore> store, backend_->Connect());
  uint64_t hashed = 0;
  absl::Status status = CheckEverything(*store, input, &hashed);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    stats_.leaves_hashed += hashed;
  }
  return Fail(status);
}

}  // namespace cbx::node::audit
