#include "node/node_metrics.h"

#include <dirent.h>
#include <malloc.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "node/directory_adoption.h"
#include "node/lookup_responder.h"
#include "node/storage/io_health.h"

#ifndef CBX_VERSION
#define CBX_VERSION "unknown"
#endif

namespace cbx::node {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// The data files whose size and disk-fault state are shown.
std::vector<std::string> DataFiles() {
  return {"node.db", "node.db-wal", "audit.db", "audit.db-wal",
          "audit.db.head"};
}

void CollectPeers(const NodeMetricsSources& s, Exposition& out) {
  NodeContext& ctx = *s.ctx;
  std::shared_ptr<const directory::Directory> dir = ctx.directory->Current();
  const int64_t now = ctx.clock->NowMs();
  const int64_t day = now / kDayMs;
  const uint32_t evaluations = dir->policy().evaluations_per_peer_per_day();
  const uint32_t resolves = directory::ResolvesPerPeerPerDay(dir->policy());
  for (const v1::Member& m : dir->proto().members()) {
    if (m.code() == ctx.self()) continue;
    const MetricLabels peer = {{"peer", m.code()}};
    out.Gauge("cbx_peer_active",
              "1 if the peer is an active member in the current directory, 0 "
              "if suspended.",
              peer, m.status() == v1::MEMBER_STATUS_ACTIVE ? 1 : 0);
    const std::string in_use = ctx.peer_endpoints->InUse(m.code());
    const std::vector<std::string> endpoints = MemberEndpoints(m);
    auto at = std::find(endpoints.begin(), endpoints.end(), in_use);
    if (at != endpoints.end()) {
      out.Gauge("cbx_peer_endpoint_in_use",
                "Which endpoint of the peer answered this node last "
                "(spec/directory.md 7.1): 0 its directory endpoint, i its "
                "i-th standby_endpoints entry; absent before any answer.",
                peer, static_cast<double>(at - endpoints.begin()));
    }
    PeerIndexSet::Info held = ctx.peer_indexes.Describe(m.code());
    out.Gauge("cbx_peer_index_held",
              "1 if this node holds a copy of the peer's index.", peer,
              held.held ? 1 : 0);
    if (held.held) {
      out.Gauge("cbx_peer_index_version",
                "Version of the peer's index copy this node holds.", peer,
                static_cast<double>(held.version));
      out.Gauge("cbx_peer_index_tags",
                "Tags in the peer's index copy this node holds.", peer,
                static_cast<double>(held.count));
      out.Gauge("cbx_peer_index_sync_lag_seconds",
                "Seconds since the peer's index copy was last synced or "
                "confirmed current.",
                peer, static_cast<double>(now - held.synced_at_ms) / 1000.0);
    }
    if (s.sync != nullptr) {
      out.Gauge("cbx_peer_index_over_cap",
                "1 while the peer's last index manifest broke the policy's "
                "caps (ALERT-index-over-cap).",
                peer, s.sync->IndexAlert(m.code()).empty() ? 0 : 1);
    }
    for (const auto& [quota, account, limit] :
         {std::tuple<const char*, std::string, uint32_t>{"evaluations",
                                                         m.code(), evaluations},
          {"resolves", ResolveQuotaAccount(m.code()), resolves}}) {
      absl::StatusOr<uint32_t> used = ctx.storage->QuotaUsed(account, day);
      if (!used.ok()) continue;
      const MetricLabels labels = {{"peer", m.code()}, {"quota", quota}};
      out.Gauge("cbx_peer_quota_used",
                "What the peer used today (UTC) of its daily quota at this "
                "node: blinded elements evaluated, or Resolve outputs.",
                labels, *used);
      out.Gauge("cbx_peer_quota_left",
                "What is left today (UTC) of the peer's daily quota at this "
                "node.",
                labels, *used >= limit ? 0 : limit - *used);
    }
    if (s.witnessing != nullptr) {
      absl::StatusOr<WitnessedPeer> w = s.witnessing->Describe(m.code());
      if (w.ok()) {
        out.Gauge("cbx_peer_witness_cosigned_tree_size",
                  "Tree size of the peer's audit log checkpoint this node "
                  "last cosigned.",
                  peer, static_cast<double>(w->cosigned_size));
        out.Gauge("cbx_peer_witness_alert",
                  "1 while this node refuses the peer's checkpoints as "
                  "inconsistent (ALERT-inconsistent-checkpoint).",
                  peer, w->alert.empty() ? 0 : 1);
      }
    }
    if (s.query != nullptr) {
      const HitStats::PeerView seen = s.query->PeerStats(m.code());
      out.Counter("cbx_peer_phantom_hits_total",
                  "Phantom hits from the peer since this node started "
                  "(ALERT-phantom-hit).",
                  peer, static_cast<double>(seen.phantoms));
      out.Gauge("cbx_peer_hit_rate_alert",
                "1 while the peer's hit rate alarm is raised "
                "(ALERT-peer-hit-rate).",
                peer, seen.alert.empty() ? 0 : 1);
    }
  }
}

void CollectAudit(const NodeMetricsSources& s, Exposition& out) {
  NodeContext& ctx = *s.ctx;
  const absl::Status health = ctx.audit_trail != nullptr
                                  ? ctx.audit_trail->Health()
                                  : absl::UnavailableError("no audit log");
  out.Gauge("cbx_audit_log_damaged",
            "1 if the audit log failed its tamper checks "
            "(ALERT-audit-log-damaged): every exchange is refused.",
            {}, health.code() == absl::StatusCode::kDataLoss ? 1 : 0);
  out.Gauge("cbx_audit_log_writable",
            "1 if the audit log can record exchanges now.", {},
            health.ok() ? 1 : 0);
  if (ctx.audit == nullptr) return;
  out.Gauge("cbx_audit_log_entries", "Entries in the audit log.", {},
            static_cast<double>(ctx.audit->Size()));
  out.Gauge("cbx_audit_log_check_running",
            "1 while the leaf count the audit log runs after it opens has "
            "not completed (spec/audit-log.md 2.9).",
            {}, ctx.audit->OpenCheckRunning() ? 1 : 0);
  std::shared_ptr<const directory::Directory> dir = ctx.directory->Current();
  out.Gauge("cbx_audit_witness_threshold",
            "Cosignatures that make a checkpoint witnessed (the policy's "
            "witness_threshold).",
            {}, dir->policy().witness_threshold());
  absl::StatusOr<audit::AuditLog::CheckpointSummary> latest =
      ctx.audit->LatestCheckpointSummary();
  if (!latest.ok()) return;
  out.Gauge(
      "cbx_audit_last_checkpoint_age_seconds",
      "Seconds since the latest checkpoint of the audit log was signed.", {},
      static_cast<double>(ctx.clock->NowMs() - latest->signed_ms) / 1000.0);
  out.Gauge("cbx_audit_last_checkpoint_tree_size",
            "Tree size of the latest checkpoint of the audit log.", {},
            static_cast<double>(latest->size));
  out.Gauge("cbx_audit_last_checkpoint_cosignatures",
            "Cosignatures collected on the latest checkpoint.", {},
            static_cast<double>(latest->cosignatures));
}

void CollectStorage(const NodeMetricsSources& s, Exposition& out) {
  const std::string& data_dir = s.ctx->config.data_dir;
  for (const std::string& file : DataFiles()) {
    const std::string path = data_dir + "/" + file;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      out.Gauge("cbx_storage_file_bytes", "Size of one of the node's files.",
                {{"file", file}}, static_cast<double>(st.st_size));
    }
  }
  for (const std::string& file :
       {std::string("node.db"), std::string("audit.db"),
        std::string("audit.db.head")}) {
    out.Gauge("cbx_storage_failing",
              "1 while writes to the file fail (ALERT-storage-failing).",
              {{"file", file}},
              IoHealth::Get().IsFailing(data_dir + "/" + file) ? 1 : 0);
  }
}

// The process's memory, split so that a growth can be told apart: the
// resident set (/proc/self/statm), what the C allocator hands out and what
// it keeps free (mallinfo2; free pages it keeps are resident but unused),
// and SQLite's own allocations (page caches, statements) across every
// connection of the process. Open descriptors too. The load soak reads them
// (README "Load soak").
void CollectProcess(Exposition& out) {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    out.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
              {},
              static_cast<double>(resident_pages) *
                  static_cast<double>(::sysconf(_SC_PAGESIZE)));
  }
  if (DIR* fds = ::opendir("/proc/self/fd"); fds != nullptr) {
    uint64_t open = 0;
    while (dirent* e = ::readdir(fds)) {
      if (e->d_name[0] != '.') ++open;
    }
    ::closedir(fds);
    out.Gauge("process_open_fds", "Number of open file descriptors.", {},
              static_cast<double>(open > 0 ? open - 1 : 0));  // less opendir's
  }
  const struct mallinfo2 heap = ::mallinfo2();
  out.Gauge("cbx_process_heap_in_use_bytes",
            "Bytes the C allocator has handed out and not had back "
            "(mallinfo2 uordblks + hblkhd).",
            {}, static_cast<double>(heap.uordblks + heap.hblkhd));
  out.Gauge("cbx_process_heap_free_bytes",
            "Bytes the C allocator holds free in its arenas (mallinfo2 "
            "fordblks): resident once touched, reusable, not leaked.",
            {}, static_cast<double>(heap.fordblks));
  out.Gauge("cbx_sqlite_memory_bytes",
            "Bytes SQLite has allocated in this process (sqlite3_memory_used: "
            "page caches, statements, schema).",
            {}, static_cast<double>(::sqlite3_memory_used()));
}

}  // namespace

const std::vector<std::string>& KnownAlerts() {
  static const std::vector<std::string> kAlerts = {"audit-entry-without-effect",
                                                   "audit-log-damaged",
                                                   "crl-expired",
                                                   "directory-equivocation",
                                                   "inconsistent-checkpoint",
                                                   "index-over-cap",
                                                   "node-key-invalid",
                                                   "oprf-key-missing",
                                                   "peer-hit-rate",
                                                   "phantom-hit",
                                                   "storage-failing",
                                                   "withdrawal-undelivered"};
  return kAlerts;
}

void RegisterAlertCounters() {
  for (const std::string& alert : KnownAlerts()) {
    DeclareAlert("ALERT-" + alert);
  }
}

void CollectNodeMetrics(const NodeMetricsSources& s, Exposition& out) {
  out.Gauge("cbx_build_info", "The cbx-node build: 1, labelled by version.",
            {{"version", CBX_VERSION}}, 1);
  std::shared_ptr<const directory::Directory> dir = s.ctx->directory->Current();
  out.Gauge("cbx_directory_version",
            "Version of the directory this node has adopted.", {},
            static_cast<double>(dir->version()));
  absl::StatusOr<std::string> equivocation = EquivocationAlert(*s.ctx->storage);
  out.Gauge("cbx_directory_equivocation",
            "1 once this node has seen two validly signed directory versions "
            "with one number (ALERT-directory-equivocation).",
            {}, equivocation.ok() && equivocation->empty() ? 0 : 1);
  absl::StatusOr<std::string> refused =
      RefusedVersionAlert(*s.ctx->storage, dir->version());
  out.Gauge("cbx_directory_version_refused",
            "1 while a newer directory version is refused because it breaks "
            "the audit log generation rule (ALERT-directory-log-generation).",
            {}, refused.ok() && refused->empty() ? 0 : 1);
  CollectPeers(s, out);
  CollectAudit(s, out);
  CollectStorage(s, out);
  CollectProcess(out);
  if (s.cooperation != nullptr) {
    if (absl::StatusOr<int64_t> overdue = s.cooperation->CountOverdue();
        overdue.ok()) {
      out.Gauge("cbx_cooperation_overdue_requests",
                "Cooperation requests, sent and received, overdue now "
                "(spec/cooperation.md §3).",
                {}, static_cast<double>(*overdue));
    }
  }
  if (s.withdrawals != nullptr) {
    if (absl::StatusOr<int64_t> pending = s.withdrawals->CountPending();
        pending.ok()) {
      out.Gauge("cbx_withdrawals_pending",
                "Withdrawals of closed cases' references queued and not yet "
                "acknowledged by a deletion receipt nor given up "
                "(spec/cooperation.md §2.4).",
                {}, static_cast<double>(*pending));
    }
  }
}

AdminHttp::Response CheckReadiness(const NodeMetricsSources& s) {
  NodeContext& ctx = *s.ctx;
  std::vector<std::pair<std::string, std::string>> checks;
  // storage: node.db answers a read and its writes are not failing.
  {
    std::string state = "ok";
    if (ctx.storage == nullptr) {
      state = "not open";
    } else if (absl::StatusOr<uint64_t> v = ctx.storage->OwnIndexVersion();
               !v.ok()) {
      state = absl::StrCat("unreadable: ", v.status().message());
    } else if (IoHealth::Get().IsFailing(ctx.config.data_dir + "/node.db")) {
      state = "node.db writes are failing";
    }
    checks.emplace_back("storage", state);
  }
  // audit_log: open, not damaged, no write failure latched, and the leaf
  // count after open completed.
  {
    absl::Status health = ctx.audit_trail != nullptr
                              ? ctx.audit_trail->Health()
                              : absl::UnavailableError("not open");
    std::string state = "ok";
    if (health.code() == absl::StatusCode::kDataLoss) {
      state = absl::StrCat("damaged: ", health.message());
    } else if (!health.ok()) {
      state = absl::StrCat("not writable: ", health.message());
    } else if (ctx.audit != nullptr && ctx.audit->OpenCheckRunning()) {
      // Serving and appending, but not yet counted (spec/audit-log.md §2.9).
      state = "audit log check running";
    }
    checks.emplace_back("audit_log", state);
  }
  // directory: this member is listed and active in the adopted version.
  {
    std::shared_ptr<const directory::Directory> dir =
        ctx.directory != nullptr ? ctx.directory->Current() : nullptr;
    std::string state = "ok";
    const v1::Member* me =
        dir != nullptr ? dir->FindMember(ctx.self()) : nullptr;
    if (dir == nullptr) {
      state = "no directory";
    } else if (me == nullptr) {
      state = absl::StrCat(ctx.self(), " is not in directory version ",
                           dir->version());
    } else if (me->status() != v1::MEMBER_STATUS_ACTIVE) {
      state = absl::StrCat(ctx.self(), " is not active in directory version ",
                           dir->version());
    } else {
      state = absl::StrCat("ok (version ", dir->version(), ")");
    }
    checks.emplace_back("directory", state);
  }
  bool ready = true;
  std::string body;
  for (const auto& [name, state] : checks) {
    if (state.rfind("ok", 0) != 0) ready = false;
    absl::StrAppend(&body, name, ": ", state, "\n");
  }
  AdminHttp::Response r;
  r.status = ready ? 200 : 503;
  r.body = absl::StrCat(ready ? "ready\n" : "not ready\n", body);
  return r;
}

}  // namespace cbx::node
