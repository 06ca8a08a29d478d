// Leadership of an active/standby pair held through PostgreSQL
// (spec/active-standby.md): two cbx-node processes of one member on one
// database; exactly one is active. The state is one row, replicated with
// the rest of the database:
//
//   <schema>.leader (term, holder, holder_pid, server_started, heartbeat)
//
// plus a session advisory lock, which only says, quickly, that the
// holder's session is gone (its process died): a lock is lost when the
// database fails over, and a paused or partitioned process keeps its
// session, so the lock alone never decides. A node becomes active, in one
// transaction holding the row FOR UPDATE, by incrementing the term and
// recording itself when either
//   - it holds the lock and the holder recorded itself on this same server
//     start (the holder's lock session has ended: it died), or
//   - the holder's heartbeat is older than the lease (it is paused,
//     partitioned, or the database failed over): every backend tagged with
//     the holder's instance is terminated first (pg_terminate_backend), so
//     its open transactions roll back and its locks go.
// Every connection of a node carries application_name "cbx-node
// <instance>" (TagConnections), which is how those backends are found.
// The heartbeat is the server's clock, so the two machines' clocks never
// meet.
//
// Threading: AwaitLeadership runs on the caller's thread; after it,
// StartRenewing runs the heartbeat on a thread of its own until the
// destructor. fence() is thread-safe.
#ifndef CBX_NODE_STORAGE_PG_PG_LEADERSHIP_H_
#define CBX_NODE_STORAGE_PG_PG_LEADERSHIP_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_fence.h"

namespace cbx::node::pg {

struct LeadershipOptions {
  // The database holding the term row (the audit log's).
  std::string conninfo;
  std::string schema = "cbx_leadership";
  // This process's instance: unique per start (MakeInstanceId).
  std::string instance;
  // A holder whose heartbeat is older than this is fenced; it renews every
  // lease_ms / 3. A standby looks every poll_ms.
  int64_t lease_ms = 6000;
  int64_t poll_ms = 500;
  // Log lines (node/log.h's LogEvent, bound to the member).
  std::function<void(const std::string& level, const std::string& event,
                     const std::string& detail)>
      log;
};

// "<name>-<8 hex digits>": a node's configured name and a random part, so
// that a restarted process is a new instance (its old sessions fenced).
std::string MakeInstanceId(const std::string& name);

// Sets PGAPPNAME so that every libpq connection this process opens from
// now on carries application_name "cbx-node <instance>" (a conninfo that
// names application_name itself overrides it: ConninfoNamesApplication).
void TagConnections(const std::string& instance);
bool ConninfoNamesApplication(const std::string& conninfo);

// The term row as it stands, for cbx-node --check: read in a READ ONLY
// transaction, so nothing is made or changed (not even the schema).
struct LeaderRow {
  // The table <schema>.leader exists (the first node that starts makes it).
  bool exists = false;
  int64_t term = 0;
  std::string holder;     // the active instance; "" before the first term
  std::string heartbeat;  // the holder's last renewal, the server's text
  // Milliseconds since that renewal by the server's clock; -1 if none.
  int64_t heartbeat_age_ms = -1;
};
// INVALID_ARGUMENT for a schema that is not a plain lower-case name;
// the database's error otherwise.
absl::StatusOr<LeaderRow> ReadLeaderRow(Connection& conn,
                                        const std::string& schema);

class Leadership {
 public:
  // Connects and creates the schema and its row if missing. UNAVAILABLE if
  // the server cannot be reached; INVALID_ARGUMENT for a conninfo that sets
  // application_name.
  static absl::StatusOr<std::unique_ptr<Leadership>> Create(
      LeadershipOptions options);
  ~Leadership();

  // Blocks, looking every poll_ms, until this instance is the holder;
  // returns its term. CANCELLED once `stopping` returns true. Database
  // errors are logged and retried.
  absl::StatusOr<int64_t> AwaitLeadership(
      const std::function<bool()>& stopping);

  // The heartbeat, every lease_ms / 3, on a thread of its own. `on_lost`
  // is called once, from that thread, when the row names another term or
  // the heartbeat could not be renewed for a whole lease (the standby may
  // have taken over by then).
  void StartRenewing(std::function<void(const std::string& reason)> on_lost);

  // A clean stop of the active node: the heartbeat set to the past and the
  // lock released, so that the standby takes over at its next look rather
  // than after a lease. Stops the renewal thread first.
  void Release();

  // The term won (0 before) and the fence for the audit log's appends.
  int64_t term() const { return term_.load(); }
  Fence MakeFence(std::function<void(const absl::Status&)> on_fenced) const;

 private:
  explicit Leadership(LeadershipOptions options,
                      std::unique_ptr<Connection> conn)
      : options_(std::move(options)), conn_(std::move(conn)) {}

  absl::Status EnsureSchema();
  // One look of a standby: the term won, or 0 if not (yet).
  absl::StatusOr<int64_t> TryTakeOver();
  // Fences the holder named in the row: terminates its backends.
  absl::StatusOr<int> TerminateHolder(const std::string& holder);
  // Terminates the sessions of a holder whose heartbeat is older than the
  // lease, read without locking the row; how many.
  absl::StatusOr<int> FenceExpiredHolder();
  // One heartbeat; OK, the reason leadership is lost (FAILED_PRECONDITION),
  // or a database error.
  absl::Status Renew();
  void RenewLoop(std::function<void(const std::string&)> on_lost);
  void StopRenewing();
  std::string LockKey() const;

  const LeadershipOptions options_;
  std::unique_ptr<Connection> conn_;  // the lock's session
  bool lock_held_ = false;
  std::atomic<int64_t> term_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread renewer_;
};

}  // namespace cbx::node::pg

#endif  // CBX_NODE_STORAGE_PG_PG_LEADERSHIP_H_
