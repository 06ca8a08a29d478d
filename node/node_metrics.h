// What a running node shows on its admin endpoint (node/admin_http.h):
// the scrape-time metrics read from its state (node/metrics.h collectors)
// and the readiness checks of /readyz. The metric families are listed, with
// their meaning, in docs/operations.md "## Monitoring"; /readyz's checks in
// spec/node-config.md.
//
// Threading: CollectNodeMetrics and CheckReadiness may run on any thread
// while the node serves (the node runs them on its main thread); they only
// read: in-memory state under the modules' own locks, a few small SQLite
// reads and stat() of the data files.
#ifndef CBX_NODE_NODE_METRICS_H_
#define CBX_NODE_NODE_METRICS_H_

#include <string>

#include "node/admin_http.h"
#include "node/cooperation.h"
#include "node/withdrawal.h"
#include "node/index_sync.h"
#include "node/lookup_querier.h"
#include "node/metrics.h"
#include "node/node_context.h"
#include "node/witnessing.h"

namespace cbx::node {

// The modules the metrics read; all must outlive every call below.
struct NodeMetricsSources {
  NodeContext* ctx = nullptr;
  IndexSync* sync = nullptr;
  Witnessing* witnessing = nullptr;
  LookupQuerier* query = nullptr;
  // Optional: cbx_cooperation_overdue_requests when set.
  Cooperation* cooperation = nullptr;
  // Optional: cbx_withdrawals_pending when set.
  Withdrawals* withdrawals = nullptr;
};

// Adds the node's state to `out`: build info, directory, per-peer index
// copies, quotas and witnessing, the audit log and its checkpoints, storage
// file sizes and disk faults.
void CollectNodeMetrics(const NodeMetricsSources& sources, Exposition& out);

// /readyz: 200 "ready" when every check passes, 503 otherwise; the body
// lists each check ("storage", "audit_log", "directory") with "ok" or why
// not, one per line.
AdminHttp::Response CheckReadiness(const NodeMetricsSources& sources);

// Creates cbx_alerts_total{alert=...} at 0 for every ALERT- event the node
// can raise, so that the first one is an increase Prometheus sees.
void RegisterAlertCounters();

// The ALERT- events (without the prefix) the node raises.
const std::vector<std::string>& KnownAlerts();

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_METRICS_H_
