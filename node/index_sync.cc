#include "node/index_sync.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/directory_store.h"
#include "node/log.h"
#include "node/peer_reply.h"

namespace cbx::node {
namespace {

constexpr int64_t kSyncDeadlineMs = 10'000;

absl::Status AuditOrFail(const absl::Status& logged) {
  return logged.ok() ? logged : AuditFailure(logged);
}

}  // namespace

absl::Status IndexSync::LoadStoredIndexes() {
  auto all = ctx_->storage->LoadAllPeerIndexes();
  if (!all.ok()) return all.status();
  for (PeerIndex& index : *all) ctx_->peer_indexes.Put(std::move(index));
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

  v1::Message msg;
  *msg.mutable_header() = ctx_->NewHeader(member, /*office=*/"");
  msg.mutable_index_request()->set_oprf_epoch(epoch);
  msg.mutable_index_request()->set_since_version(have_epoch ? held.version : 0);
  const v1::Envelope request = envelope::Seal(msg, *ctx_->signing_key);
  RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.SyncIndex", request,
      absl::StatusCode::kOk)));
  // The whole stream is read before its content is judged (a full copy of
  // a million tags is 8 MB), so the call is finished whatever it holds.
  std::optional<v1::Envelope> manifest_envelope;
  bool first = true;
  bool second_manifest = false;
  std::vector<v1::IndexChunk> chunks;
  absl::Status finished = transport_->SyncIndex(
      member, request, kSyncDeadlineMs, [&](v1::IndexPart&& part) {
        if (first) {
          first = false;
          if (part.has_manifest()) {
            manifest_envelope = std::move(*part.mutable_manifest());
          }
        } else if (!manifest_envelope.has_value()) {
          // A stream that did not open with a manifest is refused whole.
        } else if (part.has_chunk()) {
          chunks.push_back(std::move(*part.mutable_chunk()));
        } else {
          second_manifest = true;
        }
      });
  if (!manifest_envelope.has_value()) {
    absl::Status failure = finished.ok()
                               ? absl::InvalidArgumentError(
                                     member + " sent no signed index manifest")
                               : finished;
    RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, member, "Peer.SyncIndex", "call_failed", "",
        failure.code(), {}, envelope::EnvelopeSha256(request))));
    return failure;
  }
  absl::Status outcome =
      !finished.ok() ? finished
      : second_manifest
          ? absl::InvalidArgumentError(member + " sent a second manifest")
          : ApplyIndexStream(member, msg, epoch, held, have_epoch,
                             *manifest_envelope, chunks);
  // The manifest is logged as received with the outcome of applying it.
  RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_RECEIVED, member, "Peer.SyncIndex",
      *manifest_envelope, outcome.code())));
  return outcome;
}

absl::Status IndexSync::ApplyIndexStream(
    const std::string& member, const v1::Message& msg, uint32_t epoch,
    const PeerIndex& held, bool have_epoch,
    const v1::Envelope& manifest_envelope,
    const std::vector<v1::IndexChunk>& chunks) {
  auto opened = OpenPeerReply(*ctx_, member, msg, manifest_envelope,
                              v1::Message::kIndexManifest);
  if (!opened.ok()) return opened.status();
  const v1::IndexManifest manifest = opened->message.index_manifest();
  if (manifest.member() != member || manifest.oprf_epoch() != epoch) {
    return absl::InvalidArgumentError(absl::StrCat(
        member, "'s manifest is for ", manifest.member(), " epoch ",
        manifest.oprf_epoch(), ", expected epoch ", epoch));
  }
  std::vector<Tag> added, removed;
  for (const v1::IndexChunk& chunk : chunks) {
    auto a = UnpackTags(chunk.added_tags());
    auto r = UnpackTags(chunk.removed_tags());
    if (!a.ok()) return a.status();
    if (!r.ok()) return r.status();
    added.insert(added.end(), a->begin(), a->end());
    removed.insert(removed.end(), r->begin(), r->end());
  }
  if (!manifest.full() && have_epoch &&
      manifest.from_version() == held.version &&
      manifest.version() == held.version && added.empty() && removed.empty()) {
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
  PeerIndex next;
  next.member = member;
  next.oprf_epoch = epoch;
  next.version = manifest.version();
  next.synced_at_ms = ctx_->clock->NowMs();
  if (manifest.full()) {
    next.tags = std::move(added);
  } else {
    if (!have_epoch || manifest.from_version() != held.version) {
      return absl::InvalidArgumentError(absl::StrCat(
          member, " sent a delta from version ", manifest.from_version(),
          " but this node holds version ", held.version));
    }
    std::sort(removed.begin(), removed.end());
    next.tags.reserve(held.tags.size() + added.size());
    for (Tag t : held.tags) {
      if (!std::binary_search(removed.begin(), removed.end(), t)) {
        next.tags.push_back(t);
      }
    }
    next.tags.insert(next.tags.end(), added.begin(), added.end());
  }
  std::sort(next.tags.begin(), next.tags.end());
  next.tags.erase(std::unique(next.tags.begin(), next.tags.end()),
                  next.tags.end());
  if (next.tags.size() != manifest.count() ||
      IndexDigest(next.tags) != manifest.digest()) {
    return absl::DataLossError(absl::StrCat(
        member, "'s index does not match its signed manifest (version ",
        manifest.version(), ", ", manifest.count(), " tags); copy unchanged"));
  }
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

absl::Status IndexSync::SyncDirectory(const std::string& member) {
  std::shared_ptr<const directory::Directory> before =
      ctx_->directory->Current();
  v1::GetDirectoryRequest req;
  req.set_since_version(before->version());
  absl::StatusOr<v1::GetDirectoryResponse> resp =
      transport_->GetDirectory(member, req, kSyncDeadlineMs);
  RETURN_IF_ERROR(AuditOrFail(ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_SENT, member, "Peer.GetDirectory", "get_directory",
      "", resp.status().code(),
      {resp.ok() ? static_cast<uint32_t>(resp->versions_size()) : 0, 0, 0})));
  if (!resp.ok()) return resp.status();
  if (resp->versions().empty()) return absl::OkStatus();
  std::vector<v1::SignedDirectory> versions(resp->versions().begin(),
                                            resp->versions().end());
  absl::Status updated = ctx_->directory->Update(versions);
  // Persist whatever was adopted, even if a later version was refused; the
  // state verified them already.
  std::shared_ptr<const directory::Directory> after =
      ctx_->directory->Current();
  RETURN_IF_ERROR(
      SaveAdoptedVersions(*ctx_->storage, *ctx_->directory, before->version()));
  if (after->version() > req.since_version()) {
    LogEvent(ctx_->self(), "info", "directory-adopted",
             {{"from", member}, {"version", std::to_string(after->version())}});
  }
  return updated;
}

void IndexSync::SyncAll(bool directory) {
  for (const std::string& member :
       ctx_->directory->Current()->ActiveMemberCodes()) {
    if (member == ctx_->self()) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!in_flight_.insert(member).second) continue;
    }
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
      return;
    }
  }
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
