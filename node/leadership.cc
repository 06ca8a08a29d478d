#include "node/leadership.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "node/log.h"
#include "node/node.h"
#include "node/standby.h"
#include "node/storage/pg/pg_leadership.h"

namespace cbx::node {
namespace {

volatile std::sig_atomic_t g_stop_standby = 0;

void OnStandbySignal(int) { g_stop_standby = 1; }

// One line, then the exit: the service manager restarts the process as the
// standby. _exit: no destructor of a module that ran under the lost term
// runs (they may block on the database or on calls in flight).
[[noreturn]] void StepDown(const std::string& member, int64_t term,
                           const std::string& instance,
                           const std::string& reason) {
  LogEvent(member, "error", "ALERT-leadership-lost",
           {{"term", std::to_string(term)},
            {"instance", instance},
            {"reason", reason},
            {"action", "exiting; restarted, this node becomes the standby"}});
  std::cerr.flush();
  ::_exit(kExitLostLeadership);
}

// Standby until this process holds the term: the term, or 0 if a signal
// came first.
int64_t WaitAsStandby(const Config& config, pg::Leadership& leadership,
                      const std::string& instance, int* exit_code) {
  absl::StatusOr<std::unique_ptr<StandbyServer>> standby =
      StandbyServer::Start(config, instance);
  if (!standby.ok()) {
    std::cerr << "cbx-node: " << standby.status().message() << "\n";
    *exit_code = 1;
    return 0;
  }
  std::signal(SIGTERM, OnStandbySignal);
  std::signal(SIGINT, OnStandbySignal);
  absl::StatusOr<int64_t> term =
      leadership.AwaitLeadership([] { return g_stop_standby != 0; });
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  if (!term.ok()) {
    LogEvent(config.member, "info", "stopped", {{"state", "standby"}});
    *exit_code = 0;
    return 0;
  }
  return *term;
}

}  // namespace

int RunPair(const Config& config) {
  const std::string instance = pg::MakeInstanceId(config.leadership.name);
  // Before any connection: the tag that lets the other node fence ours.
  pg::TagConnections(instance);
  static std::atomic<bool> active{false};
  RegisterActiveGauge(&active);
  pg::LeadershipOptions options;
  options.conninfo = config.audit_log.conninfo;
  options.schema = config.leadership.schema;
  options.instance = instance;
  options.lease_ms = config.leadership.lease_ms;
  options.poll_ms = config.leadership.poll_ms;
  options.log = [member = config.member, instance](const std::string& level,
                                                   const std::string& event,
                                                   const std::string& detail) {
    LogEvent(member, level, event,
             {{"instance", instance}, {"detail", detail}});
  };
  auto leadership = pg::Leadership::Create(options);
  if (!leadership.ok()) {
    std::cerr << "cbx-node: leadership: " << leadership.status().message()
              << "\n";
    return leadership.status().code() == absl::StatusCode::kInvalidArgument ? 2
                                                                            : 1;
  }
  pg::Leadership& lead = **leadership;
  int exit_code = 0;
  const int64_t term = WaitAsStandby(config, lead, instance, &exit_code);
  if (term == 0) return exit_code;
  auto fence = std::make_shared<const pg::Fence>(lead.MakeFence(
      [member = config.member, term, instance](const absl::Status& fenced) {
        StepDown(member, term, instance, std::string(fenced.message()));
      }));
  lead.StartRenewing(
      [member = config.member, term, instance](const std::string& reason) {
        StepDown(member, term, instance, reason);
      });
  auto node = Node::Create(config, fence);
  if (!node.ok()) {
    std::cerr << "cbx-node: " << node.status().message() << "\n";
    return 2;
  }
  if (absl::Status s = (*node)->Start(); !s.ok()) {
    std::cerr << "cbx-node: " << s.message() << "\n";
    return 1;
  }
  active = true;
  LogEvent(config.member, "info", "active",
           {{"term", std::to_string(term)}, {"instance", instance}});
  (*node)->Run();
  active = false;
  // The standby takes over at its next look instead of after a lease.
  lead.Release();
  LogEvent(config.member, "info", "leadership-released",
           {{"term", std::to_string(term)}, {"instance", instance}});
  return 0;
}

absl::StatusOr<std::vector<std::string>> CheckLeadership(const Config& config) {
  const LeadershipConfig& l = config.leadership;
  std::vector<std::string> notes;
  notes.push_back(absl::StrCat("leadership: name ", l.name, ", lease ",
                               l.lease_ms, " ms, poll ", l.poll_ms,
                               " ms, term row in schema ", l.schema));
  if (config.storage.backend != StorageConfig::Backend::kPostgresql ||
      config.audit_log.backend != AuditLogStoreConfig::Backend::kPostgresql) {
    return absl::FailedPreconditionError(
        "leadership: needs storage.backend and audit_log.backend "
        "\"postgresql\": the two nodes of a pair share node.db and the audit "
        "log, which SQLite files on one machine cannot be");
  }
  if (pg::ConninfoNamesApplication(config.audit_log.conninfo)) {
    return absl::InvalidArgumentError(
        "audit_log.conninfo sets application_name: with a leadership "
        "section the node sets it itself; remove it");
  }
  auto conn = pg::Connection::Open(config.audit_log.conninfo);
  if (!conn.ok()) {
    return absl::Status(conn.status().code(),
                        absl::StrCat("leadership: ", conn.status().message()));
  }
  auto row = pg::ReadLeaderRow(**conn, l.schema);
  if (!row.ok()) {
    return absl::Status(row.status().code(),
                        absl::StrCat("leadership: ", row.status().message()));
  }
  const std::string table = l.schema + ".leader";
  if (!row->exists) {
    notes.push_back(table +
                    ": absent (made by the first node of the pair that "
                    "starts)");
  } else if (row->holder.empty()) {
    notes.push_back(absl::StrCat(table, ": term ", row->term,
                                 ", no node of the pair has been active yet"));
  } else {
    std::string state;
    if (row->heartbeat_age_ms < 0) {
      state = "released at a clean stop: the next node to look takes over";
    } else if (row->heartbeat_age_ms <= l.lease_ms) {
      state = absl::StrCat(row->heartbeat_age_ms,
                           " ms ago, within the lease: that node is active");
    } else {
      state = absl::StrCat(row->heartbeat_age_ms,
                           " ms ago, past the lease: the next node to look "
                           "takes over");
    }
    notes.push_back(absl::StrCat(table, ": term ", row->term, ", held by ",
                                 row->holder, ", heartbeat ", row->heartbeat,
                                 " (", state, ")"));
  }
  return notes;
}

}  // namespace cbx::node
