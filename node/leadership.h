// Runs cbx-node as one node of an active/standby pair (the config's
// `leadership` section; spec/active-standby.md): standby first (the
// StandbyServer answers, nothing is opened), then, once this process holds
// the term in the database (node/storage/pg/pg_leadership.h), the node as
// usual with the term's fence on every audit append.
//
// Losing the term steps down by exiting with kExitLostLeadership, after one
// ALERT-leadership-lost line: the service manager restarts the process,
// which comes back as the standby. Exiting, rather than closing the
// node's modules in place, is what guarantees that nothing started under
// the old term (a call in flight, a timer) outlives it.
//
// Threading: RunPair runs on the main thread and returns when the process
// should exit.
#ifndef CBX_NODE_LEADERSHIP_H_
#define CBX_NODE_LEADERSHIP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/config.h"

namespace cbx::node {

// The exit status after losing the term (EX_TEMPFAIL: try again later).
inline constexpr int kExitLostLeadership = 75;

// The process's exit status: 0 after a signal, 2 for a config the pair
// refuses, 1 if a port cannot be bound or the node cannot be built,
// kExitLostLeadership after losing the term.
int RunPair(const Config& config);

// cbx-node --check of a config with a `leadership` section, without serving
// and without writing: the section's values, that node.db and the audit
// log are in PostgreSQL (FAILED_PRECONDITION if not: a pair cannot share
// SQLite files), that audit_log.conninfo leaves application_name to the
// node (INVALID_ARGUMENT), and, read-only, the term row: absent, or its
// term, holder and heartbeat. UNAVAILABLE if the database cannot be
// reached. The lines to print on success.
absl::StatusOr<std::vector<std::string>> CheckLeadership(const Config& config);

}  // namespace cbx::node

#endif  // CBX_NODE_LEADERSHIP_H_
