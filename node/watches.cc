#include "node/watches.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/crypto/random.h"
#include "core/directory/policy.h"
#include "core/identifiers/identifiers.h"
#include "core/util/status_macros.h"
#include "node/admission.h"
#include "node/log.h"
#include "node/log_before_effect.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

constexpr int64_t kDayMs = 86'400'000;
// Expired watches deleted per ExpireDue transaction batch.
constexpr size_t kExpiryBatch = 100;

// The quota row counting `member`'s watch resolves per day: not a member
// code (two capital letters), so it never mixes with a peer's own usage.
std::string ResolveQuotaKey(const std::string& member) {
  return absl::StrCat("watch-resolve/", member);
}

bool SamePurpose(const v1::Purpose& a, const v1::Purpose& b) {
  return a.case_number() == b.case_number() &&
         a.legal_basis() == b.legal_basis() && a.offence() == b.offence();
}

// The outputs one peer's verified evaluation gave, and its OPRF epoch.
struct PeerOutputs {
  uint32_t epoch = 0;
  std::vector<Bytes> ys;
};

// The watch Add stores, made at `now_ms` from `request` and the first
// evaluation (`first`'s answers, `outputs` per peer; `ctx` for the peers'
// index copies): its record, with the references found as its hits, and
// per peer and identifier the output y with its tag. An identifier the first
// evaluation already found is not found again: its output counts as
// resolved at the copy it hit in.
StoredWatch WatchOf(const v1::AddWatchRequest& request,
                    const std::string& office, std::string watch_id,
                    int64_t now_ms, const v1::AddWatchResponse& first,
                    const std::map<std::string, PeerOutputs>& outputs,
                    NodeContext& ctx) {
  StoredWatch watch;
  v1::Watch& record = watch.record;
  record.set_watch_id(std::move(watch_id));
  record.set_office(office);
  *record.mutable_purpose() = request.purpose();
  for (const v1::Identifier& id : request.identifiers()) {
    record.add_identifier_types(id.type());
  }
  record.set_created_at_ms(now_ms);
  record.set_expires_at_ms(now_ms + int64_t{request.duration_s()} * 1000);
  std::map<std::string, std::set<uint32_t>> found;
  uint32_t references = 0;
  for (const v1::PeerAnswer& answer : first.answers()) {
    for (const v1::CaseReference& ref : answer.references()) {
      ++references;
      for (const v1::MatchedIdentifier& m : ref.matched()) {
        found[answer.member()].insert(m.input_index());
      }
    }
  }
  for (const auto& [member, peer] : outputs) {
    record.add_peers(member);
    std::shared_ptr<const PeerIndex> copy = ctx.peer_indexes.Share(member);
    const uint64_t at =
        copy != nullptr ? std::max<uint64_t>(copy->version, 1) : 1;
    for (uint32_t i = 0; i < peer.ys.size(); ++i) {
      WatchOutput o;
      o.member = member;
      o.input = i;
      o.oprf_epoch = peer.epoch;
      o.y = peer.ys[i];
      o.tag = identifiers::TagOf(peer.ys[i]);
      o.resolved_version = found[member].count(i) != 0 ? at : 0;
      watch.outputs.push_back(std::move(o));
    }
  }
  record.set_hits(references);
  return watch;
}

}  // namespace

uint32_t WatchMaxS(const v1::Policy& policy) {
  return policy.watch_max_s() != 0 ? policy.watch_max_s() : kDefaultWatchMaxS;
}

absl::Status Watches::Refuse(std::string_view rpc, std::string_view kind,
                             const std::string& office,
                             const absl::Status& refusal,
                             const std::string& person) {
  absl::Status logged =
      ctx_->audit_trail->Call(v1::AUDIT_DIRECTION_LOCAL, "", rpc, kind, office,
                              refusal.code(), {}, "", person);
  return logged.ok() ? refusal : AuditFailure(logged);
}

absl::Status Watches::Logged(
    std::string_view rpc, std::string_view kind, const std::string& office,
    AuditCounts counts,
    const std::function<absl::Status(StorageTransaction&)>& change,
    const std::string& person) {
  auto append = [&](std::string_view k, absl::StatusCode code,
                    const AuditCounts& c) {
    return ctx_->audit_trail->Call(v1::AUDIT_DIRECTION_LOCAL, "", rpc, k,
                                   office, code, c, "", person);
  };
  return ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change = change,
       .append = [&] { return append(kind, absl::StatusCode::kOk, counts); },
       .append_refusal =
           [&](const absl::Status& refusal) {
             return append(kind, refusal.code(), {});
           },
       .append_void =
           [&](const absl::Status& failure) {
             return append("not_applied", failure.code(), counts);
           }});
}

absl::Status Watches::CheckDuration(uint32_t duration_s) const {
  if (duration_s == 0) {
    return absl::InvalidArgumentError(
        "duration_s: give how long to watch, in seconds");
  }
  const uint32_t max_s = WatchMaxS(ctx_->directory->Current()->policy());
  if (duration_s > max_s) {
    return absl::OutOfRangeError(
        absl::StrCat("duration_s: ", duration_s, " s is over the policy's ",
                     "watch_max_s of ", max_s, " s (", max_s / 86400,
                     " days); renew the watch before it ends instead"));
  }
  return absl::OkStatus();
}

absl::Status Watches::CheckPurposeCase(const v1::Purpose& purpose,
                                       const std::string& office) {
  RETURN_IF_ERROR(CheckPurpose(purpose));
  absl::StatusOr<StoredCase> c = ctx_->storage->GetCase(purpose.case_number());
  if (absl::IsNotFound(c.status()) ||
      (c.ok() && (c->record.office() != office || !IsOpen(c->record)))) {
    return absl::FailedPreconditionError(
        absl::StrCat("purpose.case_number: ", purpose.case_number(),
                     " is not an open case of ", office,
                     "; a watch serves one of your office's open cases"));
  }
  return c.status();
}

absl::StatusOr<StoredWatch> Watches::Owned(const std::string& id,
                                           const OfficeCaller& caller) {
  absl::StatusOr<StoredWatch> w = ctx_->storage->GetWatch(id);
  if (!w.ok()) return w.status();
  if (w->record.office() != caller.Name()) {
    return absl::PermissionDeniedError(
        absl::StrCat("watch ", id, " belongs to another office"));
  }
  return w;
}

absl::StatusOr<v1::AddWatchResponse> Watches::Add(
    const v1::AddWatchRequest& request, const OfficeCaller& caller) {
  constexpr std::string_view kRpc = "Office.AddWatch";
  constexpr std::string_view kKind = "watch_created";
  const std::string office = caller.Name();
  absl::Status checked = CheckDuration(request.duration_s());
  if (checked.ok()) checked = CheckPurposeCase(request.purpose(), office);
  if (!checked.ok()) {
    return Refuse(kRpc, kKind, office, checked, caller.person);
  }

  v1::QueryRequest query;
  *query.mutable_identifiers() = request.identifiers();
  *query.mutable_purpose() = request.purpose();
  *query.mutable_peers() = request.peers();
  const std::string watch_id = HexEncode(crypto::RandomBytes(8));
  std::mutex mu;
  std::map<std::string, PeerOutputs> outputs;  // guarded by mu
  LookupQuerier::WatchHooks hooks;
  hooks.watch_id = watch_id;
  hooks.on_outputs = [&](const std::string& member, uint32_t epoch,
                         const std::vector<Bytes>& ys) {
    std::lock_guard<std::mutex> lock(mu);
    outputs[member] = {epoch, ys};
  };
  v1::AddWatchResponse response;
  absl::Status ran = querier_->Run(
      query, caller,
      [&](const v1::QueryEvent& event) {
        if (event.has_answer()) *response.add_answers() = event.answer();
        return true;
      },
      &hooks);
  if (!ran.ok()) return Refuse(kRpc, kKind, office, ran, caller.person);
  if (outputs.empty()) {
    return Refuse(kRpc, kKind, office,
                  absl::UnavailableError(
                      "no peer gave a verified evaluation; nothing to watch "
                      "(the answers say why); try again"),
                  caller.person);
  }

  const StoredWatch watch =
      WatchOf(request, office, watch_id, ctx_->clock->NowMs(), response,
              outputs, *ctx_);
  const v1::Watch& record = watch.record;
  RETURN_IF_ERROR(Logged(
      kRpc, kKind, office,
      {static_cast<uint32_t>(request.identifiers_size()),
       static_cast<uint32_t>(record.peers_size()), record.hits()},
      [&](StorageTransaction& txn) { return txn.AddWatch(watch); },
      caller.person));
  LogEvent(ctx_->self(), "info", "watch-created",
           {{"watch", record.watch_id()},
            {"office", office},
            {"identifiers", std::to_string(request.identifiers_size())},
            {"peers", std::to_string(record.peers_size())},
            {"expires_at_ms", std::to_string(record.expires_at_ms())}});
  *response.mutable_watch() = record;
  return response;
}

absl::StatusOr<std::vector<v1::Watch>> Watches::List(
    const OfficeCaller& caller) {
  RETURN_IF_ERROR(ExpireDue().status());
  absl::StatusOr<std::vector<v1::Watch>> watches =
      ctx_->storage->ListWatches(caller.Name());
  absl::Status logged = ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_LOCAL, "", "Office.ListWatches", "list_watches",
      caller.Name(), watches.status().code(),
      {watches.ok() ? static_cast<uint32_t>(watches->size()) : 0, 0, 0}, "",
      caller.person);
  if (!logged.ok()) return AuditFailure(logged);
  return watches;
}

absl::StatusOr<v1::Watch> Watches::Remove(const std::string& id,
                                          const OfficeCaller& caller) {
  constexpr std::string_view kRpc = "Office.RemoveWatch";
  constexpr std::string_view kKind = "watch_removed";
  absl::StatusOr<StoredWatch> w = Owned(id, caller);
  if (!w.ok()) {
    return Refuse(kRpc, kKind, caller.Name(), w.status(), caller.person);
  }
  RETURN_IF_ERROR(Logged(
      kRpc, kKind, caller.Name(),
      {static_cast<uint32_t>(w->outputs.size()), 0, 0},
      [&](StorageTransaction& txn) { return txn.DeleteWatch(id); },
      caller.person));
  return w->record;
}

absl::StatusOr<v1::Watch> Watches::Renew(const v1::RenewWatchRequest& request,
                                         const OfficeCaller& caller) {
  constexpr std::string_view kRpc = "Office.RenewWatch";
  constexpr std::string_view kKind = "watch_renewed";
  const std::string office = caller.Name();
  absl::StatusOr<StoredWatch> w = Owned(request.watch_id(), caller);
  absl::Status checked = w.status();
  if (checked.ok()) checked = CheckDuration(request.duration_s());
  if (checked.ok() && SamePurpose(request.purpose(), w->record.purpose())) {
    checked = absl::InvalidArgumentError(
        "purpose: a renewal needs a new purpose (another legal basis, "
        "offence or case), not the one the watch has");
  }
  if (checked.ok()) checked = CheckPurposeCase(request.purpose(), office);
  if (!checked.ok()) {
    return Refuse(kRpc, kKind, office, checked, caller.person);
  }
  const int64_t now_ms = ctx_->clock->NowMs();
  v1::Watch record;
  RETURN_IF_ERROR(Logged(
      kRpc, kKind, office, {},
      [&](StorageTransaction& txn) {
        // Read again in the transaction: a hit may have counted since.
        ASSIGN_OR_RETURN(StoredWatch now, txn.GetWatch(request.watch_id()));
        record = now.record;
        *record.mutable_purpose() = request.purpose();
        record.set_renewed_at_ms(now_ms);
        record.set_expires_at_ms(now_ms +
                                 int64_t{request.duration_s()} * 1000);
        return txn.UpdateWatch(record);
      },
      caller.person));
  return record;
}

absl::StatusOr<int64_t> Watches::ExpireDue() {
  std::lock_guard<std::mutex> lock(expiry_mu_);
  int64_t expired = 0;
  while (true) {
    const int64_t now_ms = ctx_->clock->NowMs();
    std::vector<std::string> due;
    RETURN_IF_ERROR(
        ctx_->storage->ReadWriteTransaction([&](StorageTransaction& txn) {
          ASSIGN_OR_RETURN(due, txn.ExpiredWatches(now_ms, kExpiryBatch));
          return absl::OkStatus();
        }));
    for (const std::string& id : due) {
      absl::StatusOr<StoredWatch> w = ctx_->storage->GetWatch(id);
      if (absl::IsNotFound(w.status())) continue;  // removed meanwhile
      RETURN_IF_ERROR(w.status());
      RETURN_IF_ERROR(Logged(
          "Node.WatchExpiry", "watch_expired", w->record.office(),
          {static_cast<uint32_t>(w->outputs.size()), w->record.hits(), 0},
          [&](StorageTransaction& txn) { return txn.DeleteWatch(id); }));
      LogEvent(ctx_->self(), "info", "watch-expired",
               {{"watch", id}, {"office", w->record.office()}});
      ++expired;
    }
    if (due.size() < kExpiryBatch) return expired;
  }
}

void Watches::OnPeerIndex(const std::shared_ptr<const PeerIndex>& copy) {
  if (copy == nullptr) return;
  absl::Status status = ExpireDue().status();
  std::set<std::string> ids;
  if (status.ok()) {
    absl::StatusOr<std::vector<WatchedOutput>> outputs =
        ctx_->storage->WatchOutputsOf(copy->member);
    status = outputs.status();
    if (outputs.ok()) {
      for (const WatchedOutput& o : *outputs) ids.insert(o.watch_id);
    }
  }
  for (const std::string& id : ids) {
    if (!status.ok()) break;
    status = TestWatch(id, copy);
  }
  if (!status.ok()) {
    LogEvent(ctx_->self(), "error", "watch-test-failed",
             {{"peer", copy->member},
              {"version", std::to_string(copy->version)},
              {"reason", std::string(status.message())}});
  }
}

absl::Status Watches::MarkNeedsRefresh(const std::string& id,
                                       const std::string& member,
                                       uint32_t outputs) {
  absl::StatusOr<StoredWatch> w = ctx_->storage->GetWatch(id);
  if (!w.ok()) return w.status();
  RETURN_IF_ERROR(Logged(
      "Node.WatchRefresh", "watch_needs_refresh", w->record.office(),
      {outputs, 0, 0}, [&](StorageTransaction& txn) {
        ASSIGN_OR_RETURN(StoredWatch now, txn.GetWatch(id));
        v1::Watch& r = now.record;
        auto& peers = *r.mutable_peers();
        peers.erase(std::remove(peers.begin(), peers.end(), member),
                    peers.end());
        if (std::find(r.needs_refresh().begin(), r.needs_refresh().end(),
                      member) == r.needs_refresh().end()) {
          r.add_needs_refresh(member);
        }
        RETURN_IF_ERROR(txn.UpdateWatch(r));
        return txn.DeleteWatchOutputs(id, member);
      }));
  LogEvent(ctx_->self(), "warning", "watch-needs-refresh",
           {{"watch", id}, {"peer", member}});
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Watches::ChargeResolves(const std::string& member,
                                                 uint32_t wanted) {
  const uint32_t limit = directory::ResolvesPerPeerPerDay(
      ctx_->directory->Current()->policy());
  const int64_t day = ctx_->clock->NowMs() / kDayMs;
  const std::string key = ResolveQuotaKey(member);
  ASSIGN_OR_RETURN(uint32_t used, ctx_->storage->QuotaUsed(key, day));
  const uint32_t allowed = used >= limit ? 0 : std::min(wanted, limit - used);
  if (allowed > 0) {
    RETURN_IF_ERROR(
        ctx_->storage->ChargeQuota(key, day, allowed, limit).status());
  }
  return allowed;
}

absl::Status Watches::TestWatch(const std::string& id,
                                const std::shared_ptr<const PeerIndex>& copy) {
  const std::string& member = copy->member;
  absl::StatusOr<StoredWatch> w = ctx_->storage->GetWatch(id);
  if (absl::IsNotFound(w.status())) return absl::OkStatus();  // just ended
  RETURN_IF_ERROR(w.status());
  std::vector<const WatchOutput*> stale, hits;
  for (const WatchOutput& o : w->outputs) {
    if (o.member != member) continue;
    if (o.oprf_epoch != copy->oprf_epoch) {
      stale.push_back(&o);
    } else if (o.resolved_version == 0 &&
               std::binary_search(copy->tags.begin(), copy->tags.end(),
                                  o.tag)) {
      hits.push_back(&o);
    }
  }
  if (!stale.empty()) {
    return MarkNeedsRefresh(id, member, static_cast<uint32_t>(stale.size()));
  }
  if (hits.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(uint32_t allowed,
                   ChargeResolves(member, static_cast<uint32_t>(hits.size())));
  if (allowed < hits.size()) {
    LogEvent(ctx_->self(), "warning", "watch-resolve-deferred",
             {{"watch", id},
              {"peer", member},
              {"deferred", std::to_string(hits.size() - allowed)}});
  }
  if (allowed == 0) return absl::OkStatus();
  hits.resize(allowed);
  std::vector<Bytes> ys;
  for (const WatchOutput* o : hits) ys.push_back(o->y);
  ASSIGN_OR_RETURN(v1::PeerAnswer answer,
                   querier_->ResolveForWatch(member, copy, ys,
                                             w->record.purpose(),
                                             w->record.office(), id));
  const uint32_t references = static_cast<uint32_t>(answer.references_size());
  RETURN_IF_ERROR(Logged(
      "Node.WatchHit", "watch_hit", w->record.office(),
      {static_cast<uint32_t>(ys.size()), static_cast<uint32_t>(ys.size()),
       references},
      [&](StorageTransaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(StoredWatch now, txn.GetWatch(id));
        now.record.set_hits(now.record.hits() + references);
        RETURN_IF_ERROR(txn.UpdateWatch(now.record));
        for (const WatchOutput* o : hits) {
          RETURN_IF_ERROR(
              txn.SetWatchOutputResolved(id, member, o->input, copy->version));
        }
        return absl::OkStatus();
      }));
  LogEvent(ctx_->self(), "info", "watch-hit",
           {{"watch", id},
            {"peer", member},
            {"version", std::to_string(copy->version)},
            {"references", std::to_string(references)}});
  return absl::OkStatus();
}

}  // namespace cbx::node
