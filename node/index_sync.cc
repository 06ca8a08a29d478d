#include "node/index_sync.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/directory/policy.h"
#include "core/util/status_macros.h"
#include "node/directory_adoption.h"
#include "node/log.h"
#include "node/lookup_responder.h"
#include "node/peer_reply.h"

namespace cbx::node {
namespace {

// A directory pull's deadline, and an index pull's: a whole index at the
// policy's default cap (1,048,576 tags) is 8 MB, 6.4 s at 10 Mbit/s, and on
// a loaded node its stream waits its turn (measured: with 33 nodes on two
// cores pulling 1,056 copies at once, many 8 MB pulls took over 10 s and,
// cut off, were sent again whole).
constexpr int64_t kSyncDeadlineMs = 10'000;
constexpr int64_t kIndexPullDeadlineMs = 30'000;
constexpr int64_t kMsPerDay = 86'400'000;

absl::Status AuditOrFail(const absl::Status& logged) {
  return logged.ok() ? logged : AuditFailure(logged);
}

int64_t UtcDay(int64_t ms) {
  return ms >= 0 ? ms / kMsPerDay : (ms - kMsPerDay + 1) / kMsPerDay;
}

std::string UtcTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

// A copy dropped for an epoch change (OnDirectory): no tags, version 0.
bool IsDroppedCopy(const PeerIndex& held) {
  return held.version == 0 && held.tags.empty() && !held.member.empty();
}

// The growth baseline for a copy held at `today`: the count of the copy
// held when the day began. A copy dropped for an epoch change keeps the
// baseline it had until the new epoch's copy is accepted: a rotation
// neither resets a peer's allowance nor, on a later day, counts its whole
// re-sent index as growth.
uint64_t BaselineCount(const PeerIndex& held, int64_t today) {
  if (IsDroppedCopy(held)) return held.baseline_count;
  return held.baseline_day == today ? held.baseline_count : held.tags.size();
}

// The growth allowed over that baseline: one day's cap, or, when the copy
// was last confirmed current d > 1 UTC days ago (this puller was down, or
// the peer unreachable), d days' — what an honest member may have grown
// meanwhile, so a puller that was away is not locked out.
uint64_t GrowthAllowance(const PeerIndex& held, int64_t today,
                         uint64_t per_day) {
  if (held.baseline_day == today || IsDroppedCopy(held)) return per_day;
  const int64_t days = today - UtcDay(held.synced_at_ms);
  return per_day * static_cast<uint64_t>(std::max<int64_t>(1, days));
}

// A member code from a peer's message as shown in a refusal: itself if it
// has a member code's shape (two of A-Z), else "(N bytes)".
std::string ShownMember(const std::string& code) {
  const bool shaped = code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' &&
                      code[1] >= 'A' && code[1] <= 'Z';
  return shaped ? code : absl::StrCat("(", code.size(), " bytes)");
}

}  // namespace

int64_t IndexSyncIntervalMs(const Config& config, size_t active_peers) {
  constexpr int64_t kDefaultMs = 2000;
  constexpr int64_t kPerPeerMs = 250;
  if (config.index_interval_ms != kDefaultMs) return config.index_interval_ms;
  return std::max(kDefaultMs, static_cast<int64_t>(active_peers) * kPerPeerMs);
}

int64_t DirectorySyncIntervalMs(const Config& config, size_t active_peers) {
  constexpr int64_t kDefaultMs = 10000;
  constexpr int64_t kPerPeerMs = 1000;
  if (config.directory_interval_ms != kDefaultMs) {
    return config.directory_interval_ms;
  }
  return std::max(kDefaultMs, static_cast<int64_t>(active_peers) * kPerPeerMs);
}

// One SyncIndex stream, judged part by part as it arrives (spec/index-sync.md,
// "Caps", in that order): the manifest is opened and checked against the
// caps before any chunk is taken, and each chunk against the manifest, so a
// refused stream is stopped at the part that shows it and at most `count`
// (<= the cap) added tags are ever held. Not thread-safe (one stream).
class IndexSync::Stream {
 public:
  Stream(const NodeContext& ctx, const std::string& member,
         const v1::Message& request, uint32_t epoch, const PeerIndex& held,
         bool have_held, bool have_epoch)
      : ctx_(ctx),
        member_(member),
        request_(request),
        epoch_(epoch),
        held_(held),
        have_held_(have_held),
        have_epoch_(have_epoch) {}

  // Takes the next part; false once the stream is refused (see refusal()).
  bool Take(v1::IndexPart&& part) {
    if (!refusal_.ok()) return false;
    if (!manifest_envelope_.has_value()) {
      if (!part.has_manifest()) {
        no_manifest_ = true;
        return Refuse(absl::InvalidArgumentError(
            member_ + " sent no signed index manifest"));
      }
      manifest_envelope_ = std::move(*part.mutable_manifest());
      return OnManifest();
    }
    if (!part.has_chunk()) {
      return Refuse(
          absl::InvalidArgumentError(member_ + " sent a second manifest"));
    }
    return OnChunk(part.chunk());
  }

  // OK unless the stream was refused: then why.
  const absl::Status& refusal() const { return refusal_; }
  // The refusal is a broken cap (alert and evidence).
  bool over_cap() const { return !cap_.empty(); }
  // Which cap and its limit ("count", "growth", "chunk", "announced",
  // "removed").
  const std::string& cap() const { return cap_; }
  uint64_t limit() const { return limit_; }
  // The stream did not open with a manifest.
  bool no_manifest() const { return no_manifest_; }
  const std::optional<v1::Envelope>& manifest_envelope() const {
    return manifest_envelope_;
  }
  // Valid once a manifest was opened.
  bool manifest_opened() const { return opened_; }
  const v1::IndexManifest& manifest() const { return manifest_; }
  std::vector<Tag>& added() { return added_; }
  std::vector<Tag>& removed() { return removed_; }

 private:
  bool Refuse(absl::Status status) {
    refusal_ = std::move(status);
    return false;
  }
  bool OverCap(std::string cap, uint64_t limit, absl::Status status) {
    cap_ = std::move(cap);
    limit_ = limit;
    return Refuse(std::move(status));
  }

  bool OnManifest() {
    auto opened = OpenPeerReply(ctx_, member_, request_, *manifest_envelope_,
                                v1::Message::kIndexManifest);
    if (!opened.ok()) return Refuse(opened.status());
    manifest_ = opened->message.index_manifest();
    opened_ = true;
    // spec/index-sync.md §3: the manifest names the member that serves it
    // and the epoch that was asked for. The member's text is the peer's:
    // only its length is shown unless it is a member code's shape.
    if (manifest_.member() != member_) {
      return Refuse(absl::InvalidArgumentError(
          absl::StrCat(member_, "'s manifest names member ",
                       ShownMember(manifest_.member()), ", not ", member_)));
    }
    if (manifest_.oprf_epoch() != epoch_) {
      return Refuse(absl::InvalidArgumentError(absl::StrCat(
          member_, "'s manifest is for OPRF epoch ", manifest_.oprf_epoch(),
          ", but this node asked for epoch ", epoch_)));
    }
    const v1::Policy& policy = ctx_.directory->Current()->policy();
    const uint64_t cap = directory::MaxIndexTags(policy);
    if (manifest_.count() > cap) {
      return OverCap(
          "count", cap,
          absl::FailedPreconditionError(absl::StrCat(
              member_, "'s index version ", manifest_.version(), " has ",
              manifest_.count(), " tags, over the policy's cap of ", cap)));
    }
    if (have_held_) {
      const int64_t today = UtcDay(ctx_.clock->NowMs());
      const uint64_t growth_cap = GrowthAllowance(
          held_, today, directory::MaxIndexGrowthPerDay(policy));
      const uint64_t baseline = BaselineCount(held_, today);
      if (manifest_.count() > baseline &&
          manifest_.count() - baseline > growth_cap) {
        return OverCap(
            "growth", growth_cap,
            absl::FailedPreconditionError(absl::StrCat(
                member_, "'s index version ", manifest_.version(), " has ",
                manifest_.count(), " tags, ", manifest_.count() - baseline,
                " more than the ", baseline,
                " held when the UTC day began; the policy allows ", growth_cap,
                " since the copy was last current")));
      }
    }
    if (!manifest_.full() &&
        (!have_epoch_ || manifest_.from_version() != held_.version)) {
      return Refuse(absl::InvalidArgumentError(absl::StrCat(
          member_, " sent a delta from version ", manifest_.from_version(),
          " but this node holds version ", held_.version)));
    }
    return true;
  }

  bool OnChunk(const v1::IndexChunk& chunk) {
    const std::string& a = chunk.added_tags();
    const std::string& r = chunk.removed_tags();
    if (a.size() % sizeof(Tag) != 0 || r.size() % sizeof(Tag) != 0) {
      return Refuse(absl::InvalidArgumentError(
          absl::StrCat(member_, " sent a chunk of ", a.size(), " + ", r.size(),
                       " bytes of tags, not a multiple of ", sizeof(Tag))));
    }
    // Sizes first, before a tag is unpacked.
    const uint64_t n_added = a.size() / sizeof(Tag);
    const uint64_t n_removed = r.size() / sizeof(Tag);
    if (n_added > kTagsPerChunk) {
      return OverCap("chunk", kTagsPerChunk,
                     absl::InvalidArgumentError(absl::StrCat(
                         member_, " sent a chunk of ", n_added,
                         " tags; a chunk holds at most ", kTagsPerChunk)));
    }
    if (added_.size() + n_added > manifest_.count()) {
      return OverCap("announced", manifest_.count(),
                     absl::InvalidArgumentError(absl::StrCat(
                         member_, " sent more than the ", manifest_.count(),
                         " tags its manifest for version ", manifest_.version(),
                         " announced")));
    }
    if (manifest_.full() && n_removed > 0) {
      return Refuse(absl::InvalidArgumentError(
          member_ + " sent removed tags in a full copy"));
    }
    // A delta removes at most what is held (removals arrive in the first
    // chunk, spec/index-sync.md).
    if (removed_.size() + n_removed > held_.tags.size()) {
      return OverCap("removed", held_.tags.size(),
                     absl::InvalidArgumentError(
                         absl::StrCat(member_, " removed more tags than the ",
                                      held_.tags.size(), " this node holds")));
    }
    // A full copy's tags in one allocation (count <= the cap); a delta's
    // few grow as they come.
    if (manifest_.full() && added_.empty()) added_.reserve(manifest_.count());
    auto unpacked = UnpackTags(a);
    if (!unpacked.ok()) return Refuse(unpacked.status());
    added_.insert(added_.end(), unpacked->begin(), unpacked->end());
    unpacked = UnpackTags(r);
    if (!unpacked.ok()) return Refuse(unpacked.status());
    removed_.insert(removed_.end(), unpacked->begin(), unpacked->end());
    return true;
  }

  const NodeContext& ctx_;
  const std::string& member_;
  const v1::Message& request_;
  const uint32_t epoch_;
  const PeerIndex& held_;
  const bool have_held_;
  const bool have_epoch_;
  absl::Status refusal_;
  std::string cap_;
  uint64_t limit_ = 0;
  bool no_manifest_ = false;
  std::optional<v1::Envelope> manifest_envelope_;
  bool opened_ = false;
  v1::IndexManifest manifest_;
  std::vector<Tag> added_, removed_;
};

absl::Status IndexSync::LoadStoredIndexes() {
  auto all = ctx_->storage->LoadAllPeerIndexes();
  if (!all.ok()) return all.status();
  std::map<std::string, int64_t> synced_at;
  for (PeerIndex& index : *all) {
    synced_at[index.member] = index.synced_at_ms;
    ctx_->peer_indexes.Put(std::move(index));
  }
  // An alert stands until a later copy is accepted: evidence newer than the
  // held copy raises it again.
  auto evidence = ctx_->storage->ListIndexEvidence("");
  if (!evidence.ok()) return evidence.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const IndexEvidence& e : *evidence) {  // oldest first
    if (e.received_at_ms < synced_at[e.member]) continue;
    Alert& alert = index_alert_[e.member];
    if (alert.since_ms == 0) alert.since_ms = e.received_at_ms;
    alert.reason = absl::StrCat(
        e.reason, " (",
        absl::StatusCodeToString(static_cast<absl::StatusCode>(e.status_code)),
        ")");
  }
  return absl::OkStatus();
}

absl::Status IndexSync::SyncIndex(const std::string& member) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const v1::Member* m = dir->FindMember(member);
  if (m == nullptr) return absl::NotFoundError(member + " is not a member");
  const uint32_t epoch = m->oprf_key().epoch();
  // Shared, not copied: a million tags are 8 MB.
  std::shared_ptr<const PeerIndex> held_copy = ctx_->peer_indexes.Share(member);
  static const PeerIndex kNone;
  const PeerIndex& held = held_copy != nullptr ? *held_copy : kNone;
  const bool have_epoch = held_copy != nullptr && held.oprf_epoch == epoch;
  // Whatever the peer signs in answer, it signs after this.
  const int64_t started_ms = ctx_->clock->NowMs();

  v1::Message msg;
  *msg.mutable_header() = ctx_->NewHeader(member, /*office=*/"");
  msg.mutable_index_request()->set_oprf_epoch(epoch);
  msg.mutable_index_request()->set_since_version(have_epoch ? held.version : 0);
  ASSIGN_OR_RETURN(const v1::Envelope request, ctx_->signing_keys->Seal(msg));
  RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.SyncIndex", request,
      absl::StatusCode::kOk)));
  // Each part is judged as it arrives; the first one refused stops the call.
  Stream stream(*ctx_, member, msg, epoch, held, held_copy != nullptr,
                have_epoch);
  absl::Status finished = transport_->SyncIndex(
      member, request, kIndexPullDeadlineMs,
      [&](v1::IndexPart&& part) { return stream.Take(std::move(part)); });
  if (!stream.manifest_envelope().has_value()) {
    absl::Status failure = !stream.refusal().ok() ? stream.refusal()
                           : finished.ok()
                               ? absl::InvalidArgumentError(
                                     member + " sent no signed index manifest")
                               : finished;
    RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, member, "Peer.SyncIndex", "call_failed", "",
        failure.code(), {}, envelope::EnvelopeSha256(request))));
    return failure;
  }
  // The stream's own refusal comes first: it is why the call was stopped.
  absl::Status outcome =
      !stream.refusal().ok() ? stream.refusal()
      : !finished.ok()
          ? finished
          : ApplyIndexStream(member, epoch, held, have_epoch, stream);
  // The manifest is logged as received with the outcome of applying it.
  RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_RECEIVED, member, "Peer.SyncIndex",
      *stream.manifest_envelope(), outcome.code())));
  if (stream.over_cap()) RaiseAlert(member, stream);
  if (outcome.ok()) {
    ClearAlert(member);
    std::shared_ptr<const PeerIndex> now = ctx_->peer_indexes.Share(member);
    ctx_->PeerIndexSynced(
        {now, now != nullptr && (now->version != held.version || !have_epoch),
         started_ms});
  }
  return outcome;
}

absl::Status IndexSync::ApplyIndexStream(const std::string& member,
                                         uint32_t epoch, const PeerIndex& held,
                                         bool have_epoch, Stream& stream) {
  const v1::IndexManifest& manifest = stream.manifest();
  std::vector<Tag>& added = stream.added();
  std::vector<Tag>& removed = stream.removed();
  if (!manifest.full() && manifest.version() == held.version && added.empty() &&
      removed.empty()) {
    // Nothing changed: the copy was checked against a signed manifest when
    // it was taken; confirm its size and mark it current.
    if (manifest.count() != held.tags.size()) {
      return absl::DataLossError(absl::StrCat(
          member, "'s manifest says ", manifest.count(), " tags at version ",
          manifest.version(), "; this node holds ", held.tags.size()));
    }
    ctx_->peer_indexes.Touch(member, ctx_->clock->NowMs());
    return absl::OkStatus();
  }
  const int64_t now_ms = ctx_->clock->NowMs();
  const int64_t today = UtcDay(now_ms);
  PeerIndex next;
  next.member = member;
  next.oprf_epoch = epoch;
  next.version = manifest.version();
  next.synced_at_ms = now_ms;
  if (manifest.full()) {
    next.tags = std::move(added);
    std::sort(next.tags.begin(), next.tags.end());
    next.tags.erase(std::unique(next.tags.begin(), next.tags.end()),
                    next.tags.end());
  } else {
    // The delta's from_version was checked against the held copy with the
    // manifest.
    next.tags = ApplyTagDelta(held.tags, std::move(added), std::move(removed));
  }
  if (next.tags.size() != manifest.count() ||
      IndexDigest(next.tags) != manifest.digest()) {
    return absl::DataLossError(absl::StrCat(
        member, "'s index does not match its signed manifest (version ",
        manifest.version(), ", ", manifest.count(), " tags); copy unchanged"));
  }
  // The day's baseline: the copy held when it began, or this one if none
  // was held.
  next.baseline_day = today;
  next.baseline_count =
      !held.member.empty() ? BaselineCount(held, today) : next.tags.size();
  const bool changed = next.version != held.version || !have_epoch;
  if (changed) {
    absl::Status saved = ctx_->storage->SavePeerIndex(next);
    if (!saved.ok()) return saved;
    LogEvent(ctx_->self(), "info", "index-synced",
             {{"peer", member},
              {"version", std::to_string(next.version)},
              {"count", std::to_string(next.tags.size())},
              {"full", manifest.full() ? "yes" : "no"}});
  }
  ctx_->peer_indexes.Put(std::move(next));
  return absl::OkStatus();
}

void IndexSync::RaiseAlert(const std::string& member, const Stream& stream) {
  const v1::IndexManifest& manifest = stream.manifest();
  const int64_t now_ms = ctx_->clock->NowMs();
  const std::string reason(stream.refusal().message());
  const std::string key =
      absl::StrCat(manifest.version(), "/", manifest.count(), "/",
                   manifest.full() ? "full" : "delta", "/",
                   manifest.from_version(), "/", manifest.digest());
  {
    std::lock_guard<std::mutex> lock(mu_);
    Alert& alert = index_alert_[member];
    if (alert.since_ms == 0) alert.since_ms = now_ms;
    alert.reason = absl::StrCat(
        reason, " (", absl::StatusCodeToString(stream.refusal().code()), ")");
    if (alert.manifest_key == key) return;  // alerted already
    alert.manifest_key = key;
  }
  LogEvent(ctx_->self(), "alert", "ALERT-index-over-cap",
           {{"peer", member},
            {"version", std::to_string(manifest.version())},
            {"count", std::to_string(manifest.count())},
            {"cap", stream.cap()},
            {"limit", std::to_string(stream.limit())},
            {"code", absl::StatusCodeToString(stream.refusal().code())},
            {"reason", reason}});
  IndexEvidence evidence;
  evidence.member = member;
  evidence.version = manifest.version();
  evidence.count = manifest.count();
  evidence.received_at_ms = now_ms;
  evidence.status_code = static_cast<int32_t>(stream.refusal().code());
  evidence.reason = reason;
  evidence.manifest = stream.manifest_envelope()->SerializeAsString();
  absl::Status kept = ctx_->storage->AddIndexEvidence(evidence);
  if (!kept.ok()) {
    LogEvent(ctx_->self(), "warn", "index-evidence-not-stored",
             {{"peer", member}, {"reason", kept.ToString()}});
  }
}

void IndexSync::ClearAlert(const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  index_alert_.erase(member);
}

std::string IndexSync::IndexAlert(const std::string& member) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_alert_.find(member);
  if (it == index_alert_.end()) return "";
  return absl::StrCat("since ", UtcTime(it->second.since_ms), ": ",
                      it->second.reason);
}

absl::Status IndexSync::SyncDirectory(const std::string& member) {
  std::shared_ptr<const directory::Directory> before =
      ctx_->directory->Current();
  v1::GetDirectoryRequest req;
  // Ask from the version before ours, so that the peer serves the version we
  // hold too and a different one with its number is seen (equivocation,
  // spec/directory.md §8). The pinned genesis needs no such check.
  req.set_since_version(before->version() > 1 ? before->version() - 1
                                              : before->version());
  absl::StatusOr<v1::GetDirectoryResponse> resp =
      transport_->GetDirectory(member, req, kSyncDeadlineMs);
  RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.GetDirectory", "get_directory",
      "", resp.status().code(),
      {resp.ok() ? static_cast<uint32_t>(resp->versions_size()) : 0, 0, 0})));
  if (!resp.ok()) return resp.status();
  if (resp->versions().empty()) return absl::OkStatus();
  // Verified, persisted, then current; listeners told (directory_adoption).
  return AdoptDirectoryVersions(
      *ctx_, {resp->versions().begin(), resp->versions().end()}, member);
}

void IndexSync::SyncAll(bool directory) {
  for (const std::string& member :
       ctx_->directory->Current()->ActiveMemberCodes()) {
    if (member == ctx_->self()) continue;
    if (!PostSync(member, directory)) return;
  }
}

void IndexSync::OnDirectory(const directory::Directory& before,
                            const directory::Directory& after) {
  const int64_t now_ms = ctx_->clock->NowMs();
  for (const v1::Member& m : after.proto().members()) {
    if (m.code() == ctx_->self()) continue;
    std::shared_ptr<const PeerIndex> held = ctx_->peer_indexes.Share(m.code());
    if (held == nullptr || held->oprf_epoch == m.oprf_key().epoch() ||
        IsDroppedCopy(*held)) {
      continue;
    }
    // No tag of the old epoch can match a query of the new one: drop the
    // copy now rather than hold it until the next pull.
    PeerIndex dropped;
    dropped.member = m.code();
    dropped.oprf_epoch = held->oprf_epoch;
    dropped.synced_at_ms = held->synced_at_ms;
    dropped.baseline_day = UtcDay(now_ms);
    dropped.baseline_count = BaselineCount(*held, UtcDay(now_ms));
    absl::Status saved = ctx_->storage->SavePeerIndex(dropped);
    if (!saved.ok()) {
      LogEvent(ctx_->self(), "warn", "index-drop-not-stored",
               {{"peer", m.code()}, {"reason", saved.ToString()}});
    }
    ctx_->peer_indexes.Put(std::move(dropped));
    LogEvent(ctx_->self(), "info", "index-epoch-changed",
             {{"peer", m.code()},
              {"from_epoch", std::to_string(held->oprf_epoch)},
              {"to_epoch", std::to_string(m.oprf_key().epoch())}});
    if (m.status() == v1::MEMBER_STATUS_ACTIVE) {
      PostSync(m.code(), /*directory=*/false);
    }
  }
  (void)before;  // the held copy's epoch is what is compared
}

bool IndexSync::PostSync(const std::string& member, bool directory) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!in_flight_.insert(member).second) return true;
  }
  {
    const bool posted = executor_->Post([this, member, directory] {
      if (directory) {
        absl::Status d = SyncDirectory(member);
        if (!d.ok() && d.code() != absl::StatusCode::kUnavailable) {
          LogEvent(ctx_->self(), "warn", "directory-sync-failed",
                   {{"peer", member}, {"reason", std::string(d.message())}});
        }
      }
      Record(member, SyncIndex(member));
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_.erase(member);
      idle_.notify_all();
    });
    if (!posted) {  // shutting down: nothing more starts
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_.erase(member);
      idle_.notify_all();
      return false;
    }
  }
  return true;
}

void IndexSync::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return in_flight_.empty(); });
}

void IndexSync::Record(const std::string& member, const absl::Status& status) {
  std::string error =
      status.ok() ? ""
                  : absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                                 status.message());
  std::string previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = last_error_[member];
    last_error_[member] = error;
  }
  // Log a failure once, not at every interval.
  if (!error.empty() && error != previous) {
    LogEvent(ctx_->self(), "warn", "index-sync-failed",
             {{"peer", member}, {"reason", error}});
  }
}

std::string IndexSync::LastError(const std::string& member) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_error_.find(member);
  return it == last_error_.end() ? "" : it->second;
}

}  // namespace cbx::node
