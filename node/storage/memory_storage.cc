#include "node/storage/memory_storage.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/page.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

// Newest first: by time descending, and of equal times the one added last
// first; keyset paging on (time, position + 1). `items` is in insertion
// order. With `keep`, only the items it keeps.
template <typename Message, typename TimeOf>
absl::StatusOr<Page<Message>> NewestFirst(
    const std::vector<Message>& items, const std::string& case_number,
    const PageRequest& page, TimeOf time_of,
    const std::function<bool(const Message&)>& keep = nullptr) {
  std::optional<TimeIdCursor> after;
  if (!page.after.empty()) {
    auto parsed = ParseTimeIdCursor(page.after);
    if (!parsed.ok()) return parsed.status();
    after = *parsed;
  }
  std::vector<std::pair<TimeIdCursor, const Message*>> keyed;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!case_number.empty() && items[i].case_number() != case_number) {
      continue;
    }
    if (keep != nullptr && !keep(items[i])) continue;
    TimeIdCursor key{time_of(items[i]), static_cast<int64_t>(i) + 1};
    if (after.has_value() &&
        std::pair(key.time, key.id) >= std::pair(after->time, after->id)) {
      continue;
    }
    keyed.emplace_back(key, &items[i]);
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.time, a.first.id) >
           std::pair(b.first.time, b.first.id);
  });
  Page<Message> out;
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (page.limit != 0 && out.items.size() == page.limit) {
      out.next = FormatTimeIdCursor(keyed[i - 1].first);
      break;
    }
    out.items.push_back(*keyed[i].second);
  }
  return out;
}

}  // namespace

// --- Transactions ------------------------------------------------------------

struct MemoryStorage::Undo {
  std::map<std::string, StoredCase> cases;
  std::map<Tag, int64_t> own_refs;
  std::vector<IndexChange> changes;
  uint64_t version = 0;
  std::vector<v1::Hit> hits;
  std::vector<v1::Notification> notifications;
  std::map<std::string, Bytes> settings;
  std::map<std::pair<std::string, int64_t>, uint32_t> quotas;
  std::vector<CooperationRow> cooperations;
  MemoryWatches watches;
  MemoryWithdrawals withdrawals;
};

// Every call runs under the mutex ReadWriteTransaction holds.
class MemoryStorage::Txn final : public StorageTransaction {
 public:
  explicit Txn(MemoryStorage* s) : s_(s) {}
  absl::StatusOr<StoredCase> GetCase(const std::string& number) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->GetCaseLocked(number);
  }
  absl::Status AddCase(const StoredCase& c) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->AddCaseLocked(c);
  }
  absl::Status UpdateCase(const StoredCase& c) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->UpdateCaseLocked(c);
  }
  absl::StatusOr<std::vector<OutputMatch>> FindByOutputs(
      const std::vector<Bytes>& ys) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->FindByOutputsLocked(ys);
  }
  absl::StatusOr<uint64_t> OwnIndexVersion() override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->version_;
  }
  absl::Status AddHit(const v1::Hit& hit) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    s_->hits_.push_back(hit);
    return absl::OkStatus();
  }
  absl::Status AddNotification(const v1::Notification& n) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    s_->notifications_.push_back(n);
    return absl::OkStatus();
  }
  absl::StatusOr<uint32_t> ChargeQuota(const std::string& member, int64_t day,
                                       uint32_t count, uint32_t limit) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->ChargeQuotaLocked(member, day, count, limit);
  }
  absl::StatusOr<std::optional<Bytes>> GetSetting(
      const std::string& key) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = s_->settings_.find(key);
    if (it == s_->settings_.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
  }
  absl::Status PutSetting(const std::string& key, const Bytes& value) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    s_->settings_[key] = value;
    return absl::OkStatus();
  }
  absl::StatusOr<StoredCase> GetCaseByToken(const Bytes& token) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->GetCaseByTokenLocked(token);
  }
  absl::Status PutCooperation(const v1::CooperationRecord& r) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->PutCooperationLocked(r);
  }
  absl::StatusOr<v1::CooperationRecord> GetCooperation(
      const std::string& id) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->GetCooperationLocked(id);
  }

  // Standing watches: node/storage/memory_watches.cc.
  absl::Status AddWatch(const StoredWatch& w) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.Add(w);
  }
  absl::StatusOr<StoredWatch> GetWatch(const std::string& id) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.Get(id);
  }
  absl::Status UpdateWatch(const v1::Watch& record) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.Update(record);
  }
  absl::Status DeleteWatch(const std::string& id) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.Delete(id);
  }
  absl::StatusOr<std::vector<v1::Watch>> ListWatches(
      const std::string& office) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.List(office);
  }
  absl::StatusOr<std::vector<WatchedOutput>> WatchOutputsOf(
      const std::string& member) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.OutputsOf(member);
  }
  absl::Status SetWatchOutputResolved(const std::string& id,
                                      const std::string& member,
                                      uint32_t input, uint64_t version) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.SetResolved(id, member, input, version);
  }
  absl::Status DeleteWatchOutputs(const std::string& id,
                                  const std::string& member) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    s_->watches_.DeleteOutputs(id, member);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> ExpiredWatches(
      int64_t now_ms, size_t limit) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->watches_.Expired(now_ms, limit);
  }

  // Withdrawals: node/storage/memory_withdrawals.cc.
  absl::StatusOr<std::vector<std::string>> MembersNotifiedOf(
      const std::string& case_number) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return MembersNotifiedOfIn(s_->notifications_, case_number);
  }
  absl::Status QueueWithdrawal(const QueuedWithdrawal& w) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.Queue(w);
  }
  absl::Status UpdateWithdrawal(const QueuedWithdrawal& w) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.Update(w);
  }
  absl::StatusOr<QueuedWithdrawal> GetWithdrawal(
      const Bytes& case_token, const std::string& member) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.Get(case_token, member);
  }
  absl::StatusOr<std::vector<QueuedWithdrawal>> DueWithdrawals(
      int64_t now_ms, size_t limit) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.Due(now_ms, limit);
  }
  absl::StatusOr<std::vector<QueuedWithdrawal>> ListWithdrawals() override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.List();
  }
  absl::StatusOr<WithdrawnReference> GetWithdrawnReference(
      const std::string& member, const Bytes& case_token) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.GetReference(member, case_token);
  }
  absl::Status PutWithdrawnReference(const WithdrawnReference& w) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.PutReference(w);
  }
  absl::StatusOr<std::vector<WithdrawnReference>> WithdrawnReferencesDue(
      int64_t now_ms, size_t limit) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->withdrawals_.ReferencesDue(now_ms, limit);
  }
  absl::StatusOr<int64_t> WithdrawHits(const std::string& member,
                                       const Bytes& case_token,
                                       int64_t withdrawn_at_ms,
                                       v1::WithdrawalReason reason,
                                       bool delete_reference) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return WithdrawHitsIn(s_->hits_, member, case_token, withdrawn_at_ms,
                          reason, delete_reference);
  }

 private:
  MemoryStorage* s_;
};

absl::Status MemoryStorage::ReadWriteTransaction(
    const TransactionBody& body,
    const CommitFailureHandler& on_commit_failure) {
  std::lock_guard<std::mutex> lock(mu_);
  Undo undo{cases_,         own_refs_, changes_, version_,
            hits_,          notifications_, settings_, quotas_,
            cooperations_, watches_, withdrawals_};
  auto restore = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    cases_ = std::move(undo.cases);
    own_refs_ = std::move(undo.own_refs);
    changes_ = std::move(undo.changes);
    version_ = undo.version;
    hits_ = std::move(undo.hits);
    notifications_ = std::move(undo.notifications);
    settings_ = std::move(undo.settings);
    quotas_ = std::move(undo.quotas);
    cooperations_ = std::move(undo.cooperations);
    watches_ = std::move(undo.watches);
    withdrawals_ = std::move(undo.withdrawals);
  };
  Txn txn(this);
  absl::Status status = body(txn);
  if (!status.ok()) {
    restore();
    return status;
  }
  absl::Status committed = std::exchange(next_commit_, absl::OkStatus());
  if (!committed.ok()) {
    restore();
    if (on_commit_failure != nullptr) on_commit_failure(committed);
  }
  return committed;
}

void MemoryStorage::FailNextCommit(absl::Status failure) {
  std::lock_guard<std::mutex> lock(mu_);
  next_commit_ = std::move(failure);
}

void MemoryStorage::ApplyTagDeltasLocked(
    const std::vector<std::pair<Tag, int64_t>>& deltas) {
  for (const auto& [tag, delta] : deltas) {
    auto it = own_refs_.find(tag);
    const int64_t before = it == own_refs_.end() ? 0 : it->second;
    const int64_t after = before + delta;
    if (after == 0) {
      own_refs_.erase(it);
      changes_.push_back(IndexChange{++version_, tag, false});
    } else if (before == 0) {
      own_refs_.emplace(tag, after);
      changes_.push_back(IndexChange{++version_, tag, true});
    } else {
      it->second = after;
    }
  }
}

// --- Cases -------------------------------------------------------------------

absl::Status MemoryStorage::AddCase(const StoredCase& c) {
  std::lock_guard<std::mutex> lock(mu_);
  return AddCaseLocked(c);
}

absl::Status MemoryStorage::AddCaseLocked(const StoredCase& c) {
  RETURN_IF_ERROR(ValidateCase(c));
  const std::string& number = c.record.case_number();
  if (cases_.contains(number)) {
    return absl::AlreadyExistsError(
        absl::StrCat("case ", number, " already exists"));
  }
  cases_.emplace(number, c);
  ApplyTagDeltasLocked(TagDeltas({}, OpenTags(c)));
  return absl::OkStatus();
}

absl::Status MemoryStorage::UpdateCase(const StoredCase& c) {
  std::lock_guard<std::mutex> lock(mu_);
  return UpdateCaseLocked(c);
}

absl::Status MemoryStorage::UpdateCaseLocked(const StoredCase& c) {
  RETURN_IF_ERROR(ValidateCase(c));
  auto it = cases_.find(c.record.case_number());
  if (it == cases_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no case ", c.record.case_number()));
  }
  std::vector<Tag> old_tags = OpenTags(it->second);
  it->second = c;
  ApplyTagDeltasLocked(TagDeltas(old_tags, OpenTags(c)));
  return absl::OkStatus();
}

absl::StatusOr<StoredCase> MemoryStorage::GetCase(const std::string& number) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetCaseLocked(number);
}

absl::StatusOr<StoredCase> MemoryStorage::GetCaseLocked(
    const std::string& number) {
  auto it = cases_.find(number);
  if (it == cases_.end()) {
    return absl::NotFoundError(absl::StrCat("no case ", number));
  }
  return it->second;
}

absl::StatusOr<Page<StoredCase>> MemoryStorage::ListCases(
    bool include_closed, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  Page<StoredCase> out;
  for (auto it = cases_.upper_bound(page.after); it != cases_.end(); ++it) {
    if (!include_closed && !IsOpen(it->second.record)) continue;
    if (page.limit != 0 && out.items.size() == page.limit) {
      out.next = out.items.back().record.case_number();
      break;
    }
    out.items.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::vector<OutputMatch>> MemoryStorage::FindByOutputs(
    const std::vector<Bytes>& ys) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindByOutputsLocked(ys);
}

std::vector<OutputMatch> MemoryStorage::FindByOutputsLocked(
    const std::vector<Bytes>& ys) {
  std::vector<OutputMatch> out;
  for (const Bytes& y : ys) {
    for (const auto& [number, c] : cases_) {
      if (!IsOpen(c.record)) continue;
      for (const StoredIdentifier& id : c.identifiers) {
        if (id.y == y) out.push_back(OutputMatch{y, number, id});
      }
    }
  }
  return out;
}

absl::Status MemoryStorage::ReplaceAllOutputs(
    const std::vector<std::pair<std::string, StoredIdentifier>>&
        case_and_identifier) {
  RETURN_IF_ERROR(ValidateOutputs(case_and_identifier));
  std::lock_guard<std::mutex> lock(mu_);
  // Check everything first, then write: a failure changes nothing.
  std::vector<StoredIdentifier*> targets;
  targets.reserve(case_and_identifier.size());
  for (const auto& [number, id] : case_and_identifier) {
    auto it = cases_.find(number);
    StoredIdentifier* target = nullptr;
    if (it != cases_.end()) {
      for (StoredIdentifier& stored : it->second.identifiers) {
        if (stored.type == id.type &&
            stored.normalized_value == id.normalized_value) {
          target = &stored;
          break;
        }
      }
    }
    if (target == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "case ", number, " has no identifier ", id.normalized_value));
    }
    targets.push_back(target);
  }
  size_t stored = 0;
  for (const auto& [number, c] : cases_) stored += c.identifiers.size();
  if (stored != case_and_identifier.size()) {
    return absl::AbortedError(absl::StrCat(
        "the node holds ", stored, " identifiers but ",
        case_and_identifier.size(), " were given; read the cases again"));
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    targets[i]->y = case_and_identifier[i].second.y;
    targets[i]->tag = case_and_identifier[i].second.tag;
  }
  own_refs_.clear();
  for (const auto& [number, c] : cases_) {
    for (Tag tag : OpenTags(c)) ++own_refs_[tag];
  }
  changes_.clear();
  ++version_;
  compacted_through_ = version_;
  return absl::OkStatus();
}

// --- Own index ---------------------------------------------------------------

// --- OPRF key rotation
// --------------------------------------------------------

absl::StatusOr<Page<IdentifierKey>> MemoryStorage::ListUnstagedIdentifiers(
    const PageRequest& page) {
  std::optional<ValueKey> after;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(IdentifierCursor cursor,
                     ParseIdentifierCursor(page.after));
    after = ValueKey(cursor.type, cursor.normalized_value);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::set<ValueKey> unstaged;
  for (const auto& [number, c] : cases_) {
    for (const StoredIdentifier& id : c.identifiers) {
      ValueKey key(id.type, id.normalized_value);
      if (after.has_value() && key <= *after) continue;
      if (staged_.count(key) == 0) unstaged.insert(std::move(key));
    }
  }
  Page<IdentifierKey> out;
  for (const ValueKey& key : unstaged) {
    if (page.limit != 0 && out.items.size() == page.limit) {
      const IdentifierKey& last = out.items.back();
      out.next = FormatIdentifierCursor({last.type, last.normalized_value});
      break;
    }
    out.items.push_back(
        {static_cast<v1::IdentifierType>(key.first), key.second});
  }
  return out;
}

absl::Status MemoryStorage::StageOutputs(
    const std::vector<StagedOutput>& outputs, const SettingWrites& settings) {
  for (const StagedOutput& o : outputs) {
    if (o.y.size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("a staged y is 32 bytes, not ", o.y.size()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const StagedOutput& o : outputs) {
    staged_[ValueKey(o.key.type, o.key.normalized_value)] = o;
  }
  for (const auto& [key, value] : settings) settings_[key] = value;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MemoryStorage::CountStagedOutputs() {
  std::lock_guard<std::mutex> lock(mu_);
  return staged_.size();
}

absl::Status MemoryStorage::ClearStagedOutputs() {
  std::lock_guard<std::mutex> lock(mu_);
  staged_.clear();
  return absl::OkStatus();
}

absl::Status MemoryStorage::PromoteStagedOutputs(
    const SettingWrites& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  // Check everything first, then write: a failure changes nothing.
  for (const auto& [number, c] : cases_) {
    for (const StoredIdentifier& id : c.identifiers) {
      if (staged_.count(ValueKey(id.type, id.normalized_value)) == 0) {
        return absl::AbortedError(
            absl::StrCat("case ", number,
                         " has an identifier with no staged output; "
                         "stage it and retry"));
      }
    }
  }
  previous_.clear();
  for (auto& [number, c] : cases_) {
    for (StoredIdentifier& id : c.identifiers) {
      ValueKey key(id.type, id.normalized_value);
      const StagedOutput& next = staged_.at(key);
      previous_[id.y] = key;
      id.y = next.y;
      id.tag = next.tag;
    }
  }
  staged_.clear();
  own_refs_.clear();
  for (const auto& [number, c] : cases_) {
    for (Tag tag : OpenTags(c)) ++own_refs_[tag];
  }
  changes_.clear();
  ++version_;
  compacted_through_ = version_;
  for (const auto& [key, value] : settings) settings_[key] = value;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Bytes>> MemoryStorage::TranslatePreviousOutputs(
    const std::vector<Bytes>& ys) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Bytes> out(ys.size());
  for (size_t i = 0; i < ys.size(); ++i) {
    auto prev = previous_.find(ys[i]);
    if (prev == previous_.end()) continue;
    for (const auto& [number, c] : cases_) {
      for (const StoredIdentifier& id : c.identifiers) {
        if (ValueKey(id.type, id.normalized_value) == prev->second) {
          out[i] = id.y;
          break;
        }
      }
      if (!out[i].empty()) break;
    }
  }
  return out;
}

absl::Status MemoryStorage::DropPreviousOutputs(const SettingWrites& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  previous_.clear();
  for (const auto& [key, value] : settings) settings_[key] = value;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MemoryStorage::OwnIndexVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

absl::StatusOr<std::vector<Tag>> MemoryStorage::OwnIndexTags() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Tag> tags;
  tags.reserve(own_refs_.size());
  for (const auto& [tag, refs] : own_refs_) tags.push_back(tag);
  return tags;
}

absl::StatusOr<std::vector<IndexChange>> MemoryStorage::OwnIndexChangesSince(
    uint64_t since) {
  std::lock_guard<std::mutex> lock(mu_);
  if (since < compacted_through_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "changes up to version ", compacted_through_,
        " were compacted; fetch a full copy of version ", version_));
  }
  if (since > version_) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", since, " is newer than the index's ", version_,
                     "; fetch a full copy"));
  }
  auto first = std::upper_bound(
      changes_.begin(), changes_.end(), since,
      [](uint64_t v, const IndexChange& c) { return v < c.version; });
  return std::vector<IndexChange>(first, changes_.end());
}

absl::Status MemoryStorage::CompactIndexChanges(uint64_t keep_after) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t through = std::min(keep_after, version_);
  if (through <= compacted_through_) return absl::OkStatus();
  std::erase_if(changes_,
                [&](const IndexChange& c) { return c.version <= through; });
  compacted_through_ = through;
  return absl::OkStatus();
}

// --- Peer indexes ------------------------------------------------------------

absl::Status MemoryStorage::SavePeerIndex(const PeerIndex& index) {
  RETURN_IF_ERROR(ValidatePeerIndex(index));
  std::lock_guard<std::mutex> lock(mu_);
  peers_[index.member] = index;
  return absl::OkStatus();
}

absl::StatusOr<PeerIndex> MemoryStorage::LoadPeerIndex(
    const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(member);
  if (it == peers_.end()) {
    return absl::NotFoundError(absl::StrCat("no index copy of ", member));
  }
  return it->second;
}

absl::StatusOr<std::vector<PeerIndex>> MemoryStorage::LoadAllPeerIndexes() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PeerIndex> out;
  out.reserve(peers_.size());
  for (const auto& [member, index] : peers_) out.push_back(index);
  return out;
}

absl::Status MemoryStorage::AddIndexEvidence(const IndexEvidence& evidence) {
  RETURN_IF_ERROR(ValidateIndexEvidence(evidence));
  std::lock_guard<std::mutex> lock(mu_);
  evidence_.push_back(evidence);
  size_t held = 0;
  for (const IndexEvidence& e : evidence_) held += e.member == evidence.member;
  for (auto it = evidence_.begin();
       held > kMaxIndexEvidencePerMember && it != evidence_.end();) {
    if (it->member == evidence.member) {
      it = evidence_.erase(it);
      --held;
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IndexEvidence>> MemoryStorage::ListIndexEvidence(
    const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<IndexEvidence> out;
  for (const IndexEvidence& e : evidence_) {
    if (member.empty() || e.member == member) out.push_back(e);
  }
  return out;
}

absl::Status MemoryStorage::DeletePeerIndex(const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  peers_.erase(member);
  return absl::OkStatus();
}

absl::Status MemoryStorage::AddDirectoryEvidence(
    const DirectoryEvidence& evidence) {
  RETURN_IF_ERROR(ValidateDirectoryEvidence(evidence));
  std::lock_guard<std::mutex> lock(mu_);
  for (const DirectoryEvidence& e : directory_evidence_) {
    if (e.version == evidence.version &&
        e.conflicting == evidence.conflicting) {
      return absl::AlreadyExistsError(
          "this directory evidence is kept already");
    }
  }
  directory_evidence_.push_back(evidence);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DirectoryEvidence>>
MemoryStorage::ListDirectoryEvidence() {
  std::lock_guard<std::mutex> lock(mu_);
  return directory_evidence_;
}

// --- Replay cache and quotas -------------------------------------------------

absl::Status MemoryStorage::RecordMessageId(const std::string& sender,
                                            const Bytes& message_id,
                                            int64_t expires_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!replay_.emplace(std::make_pair(sender, message_id), expires_at_ms)
           .second) {
    return absl::AlreadyExistsError(
        absl::StrCat("message id already recorded for ", sender));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryStorage::SweepMessageIds(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(std::erase_if(
      replay_, [&](const auto& entry) { return entry.second < now_ms; }));
}

absl::StatusOr<uint32_t> MemoryStorage::QuotaUsed(const std::string& member,
                                                  int64_t day) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = quotas_.find(std::make_pair(member, day));
  return it == quotas_.end() ? 0u : it->second;
}

absl::StatusOr<uint32_t> MemoryStorage::ChargeQuota(const std::string& member,
                                                    int64_t day, uint32_t count,
                                                    uint32_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return ChargeQuotaLocked(member, day, count, limit);
}

absl::StatusOr<uint32_t> MemoryStorage::ChargeQuotaLocked(
    const std::string& member, int64_t day, uint32_t count, uint32_t limit) {
  auto key = std::make_pair(member, day);
  auto it = quotas_.find(key);
  const uint64_t used = it == quotas_.end() ? 0 : it->second;
  const uint64_t after = used + count;
  if (after > limit) {
    return absl::ResourceExhaustedError(
        absl::StrCat(member, " has used ", used, " of ", limit, " for day ",
                     day, "; ", count, " more would exceed it"));
  }
  quotas_[key] = static_cast<uint32_t>(after);
  return static_cast<uint32_t>(after);
}

absl::StatusOr<Storage::AdmitOutcome> MemoryStorage::RecordMessageIdAndCharge(
    const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
    const std::optional<QuotaCharge>& charge) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!replay_.emplace(std::make_pair(sender, message_id), expires_at_ms)
           .second) {
    return AdmitOutcome::kAlreadyRecorded;
  }
  if (charge.has_value() &&
      !ChargeQuotaLocked(sender, charge->day, charge->count, charge->limit)
           .ok()) {
    return AdmitOutcome::kOverQuota;
  }
  return AdmitOutcome::kAccepted;
}

// --- What the office sees ----------------------------------------------------

absl::Status MemoryStorage::AddHit(const v1::Hit& hit) {
  std::lock_guard<std::mutex> lock(mu_);
  hits_.push_back(hit);
  return absl::OkStatus();
}

absl::StatusOr<Page<v1::Hit>> MemoryStorage::ListHits(
    const std::string& case_number, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  return NewestFirst(hits_, case_number, page,
                     [](const v1::Hit& h) { return h.received_at_ms(); });
}

absl::Status MemoryStorage::AddNotification(const v1::Notification& n) {
  std::lock_guard<std::mutex> lock(mu_);
  notifications_.push_back(n);
  return absl::OkStatus();
}

absl::StatusOr<Page<v1::Notification>> MemoryStorage::ListNotifications(
    const std::string& case_number, const PageRequest& page) {
  std::lock_guard<std::mutex> lock(mu_);
  return NewestFirst(notifications_, case_number, page,
                     [](const v1::Notification& n) { return n.at_ms(); });
}

// --- Offices see their own ----------------------------------------------------

absl::StatusOr<Page<StoredCase>> MemoryStorage::ListOfficeCases(
    const std::string& office, bool include_closed, const PageRequest& page) {
  if (office.empty()) return absl::InvalidArgumentError("no office given");
  std::lock_guard<std::mutex> lock(mu_);
  Page<StoredCase> out;
  for (auto it = cases_.upper_bound(page.after); it != cases_.end(); ++it) {
    if (it->second.record.office() != office) continue;
    if (!include_closed && !IsOpen(it->second.record)) continue;
    if (page.limit != 0 && out.items.size() == page.limit) {
      out.next = out.items.back().record.case_number();
      break;
    }
    out.items.push_back(it->second);
  }
  return out;
}

bool MemoryStorage::IsOfficeCaseLocked(const std::string& office,
                                       const std::string& number) const {
  auto it = cases_.find(number);
  return it != cases_.end() && it->second.record.office() == office;
}

absl::StatusOr<Page<v1::Hit>> MemoryStorage::ListOfficeHits(
    const std::string& office, const std::string& case_number,
    const PageRequest& page) {
  if (office.empty()) return absl::InvalidArgumentError("no office given");
  std::lock_guard<std::mutex> lock(mu_);
  return NewestFirst<v1::Hit>(
      hits_, case_number, page,
      [](const v1::Hit& h) { return h.received_at_ms(); },
      [&](const v1::Hit& h) {
        return IsOfficeCaseLocked(office, h.case_number());
      });
}

absl::StatusOr<Page<v1::Notification>> MemoryStorage::ListOfficeNotifications(
    const std::string& office, const std::string& case_number,
    const PageRequest& page) {
  if (office.empty()) return absl::InvalidArgumentError("no office given");
  std::lock_guard<std::mutex> lock(mu_);
  return NewestFirst<v1::Notification>(
      notifications_, case_number, page,
      [](const v1::Notification& n) { return n.at_ms(); },
      [&](const v1::Notification& n) {
        return IsOfficeCaseLocked(office, n.case_number());
      });
}

// --- Settings ----------------------------------------------------------------

absl::StatusOr<std::optional<Bytes>> MemoryStorage::GetSetting(
    const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = settings_.find(key);
  if (it == settings_.end()) return std::optional<Bytes>();
  return std::optional<Bytes>(it->second);
}

absl::Status MemoryStorage::PutSetting(const std::string& key,
                                       const Bytes& value) {
  std::lock_guard<std::mutex> lock(mu_);
  settings_[key] = value;
  return absl::OkStatus();
}

}  // namespace cbx::node
