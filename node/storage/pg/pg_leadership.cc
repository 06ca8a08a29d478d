#include "node/storage/pg/pg_leadership.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/status_macros.h"

namespace cbx::node::pg {
namespace {

constexpr char kAppPrefix[] = "cbx-node ";

bool PlainIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// The row and the lock's key are made once per database; two nodes
// starting together are serialized by a transaction-scoped lock, since
// CREATE ... IF NOT EXISTS alone races on the catalog.
constexpr char kCreate[] = R"sql(
SET LOCAL client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS %1$s;
CREATE TABLE IF NOT EXISTS %1$s.leader (
  id integer PRIMARY KEY CHECK (id = 1),
  term bigint NOT NULL,
  holder text NOT NULL,
  holder_pid integer NOT NULL,
  server_started timestamptz NOT NULL,
  heartbeat timestamptz NOT NULL
);
INSERT INTO %1$s.leader VALUES (1, 0, '', 0, '-infinity', '-infinity')
  ON CONFLICT (id) DO NOTHING;
)sql";

}  // namespace

std::string MakeInstanceId(const std::string& name) {
  std::random_device rd;
  return absl::StrFormat("%s-%08x", name, rd());
}

void TagConnections(const std::string& instance) {
  ::setenv("PGAPPNAME", absl::StrCat(kAppPrefix, instance).c_str(), 1);
}

bool ConninfoNamesApplication(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return false;
  bool named = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "application_name" &&
        o->val != nullptr && o->val[0] != '\0') {
      named = true;
    }
  }
  PQconninfoFree(options);
  return named;
}

absl::StatusOr<LeaderRow> ReadLeaderRow(Connection& conn,
                                        const std::string& schema) {
  if (!PlainIdentifier(schema)) {
    return absl::InvalidArgumentError(
        "leadership.schema must be a plain lower-case name");
  }
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(conn, Transaction::Mode::kSnapshot));
  LeaderRow row;
  ASSIGN_OR_RETURN(Result table,
                   conn.Query("SELECT to_regclass($1) IS NOT NULL",
                              Params().Text(schema + ".leader")));
  row.exists = table.Bool(0, 0);
  if (row.exists) {
    ASSIGN_OR_RETURN(
        Result r,
        conn.Query(absl::StrFormat(
            "SELECT term, holder, heartbeat::text, CASE WHEN heartbeat = "
            "'-infinity' THEN NULL ELSE (EXTRACT(EPOCH FROM "
            "clock_timestamp() - heartbeat) * 1000)::bigint END "
            "FROM %s.leader WHERE id = 1",
            schema)));
    if (r.rows() == 1) {
      row.term = r.Int(0, 0);
      row.holder = r.String(0, 1);
      row.heartbeat = r.String(0, 2);
      row.heartbeat_age_ms = r.IsNull(0, 3) ? -1 : r.Int(0, 3);
    }
  }
  RETURN_IF_ERROR(txn.Commit());
  return row;
}

absl::StatusOr<std::unique_ptr<Leadership>> Leadership::Create(
    LeadershipOptions options) {
  if (!PlainIdentifier(options.schema)) {
    return absl::InvalidArgumentError(
        "leadership.schema must be a plain lower-case name");
  }
  if (ConninfoNamesApplication(options.conninfo)) {
    return absl::InvalidArgumentError(
        "audit_log.conninfo sets application_name: with a leadership "
        "section the node sets it itself (\"cbx-node <instance>\"), to find "
        "a fenced node's sessions; remove it");
  }
  if (options.lease_ms < 3 * options.poll_ms) {
    return absl::InvalidArgumentError(
        "leadership.lease_ms must be at least 3 times leadership.poll_ms");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   Connection::Open(options.conninfo));
  std::unique_ptr<Leadership> self(
      new Leadership(std::move(options), std::move(conn)));
  RETURN_IF_ERROR(self->EnsureSchema());
  return self;
}

Leadership::~Leadership() { StopRenewing(); }

absl::Status Leadership::EnsureSchema() {
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(*conn_, Transaction::Mode::kWrite));
  RETURN_IF_ERROR(conn_
                      ->Query("SELECT pg_advisory_xact_lock(hashtext($1))",
                              Params().Text(LockKey() + " schema"))
                      .status());
  RETURN_IF_ERROR(conn_->Exec(absl::StrFormat(kCreate, options_.schema)));
  return txn.Commit();
}

std::string Leadership::LockKey() const {
  return absl::StrCat("cbx leadership ", options_.schema);
}

absl::StatusOr<int> Leadership::TerminateHolder(const std::string& holder) {
  if (holder.empty()) return 0;
  ASSIGN_OR_RETURN(
      Result r,
      conn_->Query("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                   "FROM pg_stat_activity WHERE application_name = $1 AND "
                   "pid <> pg_backend_pid()",
                   Params().Text(absl::StrCat(kAppPrefix, holder))));
  return static_cast<int>(r.Int(0, 0));
}

absl::StatusOr<int> Leadership::FenceExpiredHolder() {
  // Read without a lock (MVCC: a paused holder's FOR SHARE does not block
  // it). A holder that renews between this read and the termination loses
  // its sessions and reconnects; the locked look below then sees its fresh
  // heartbeat and leaves it the term.
  ASSIGN_OR_RETURN(
      Result r,
      conn_->Query("SELECT holder FROM " + options_.schema +
                       ".leader WHERE id = 1 AND holder <> '' AND heartbeat < "
                       "clock_timestamp() - $1 * interval '1 millisecond'",
                   Params().Int(options_.lease_ms)));
  if (r.rows() != 1) return 0;
  return TerminateHolder(r.String(0, 0));
}

// Over 80 lines on purpose: the takeover rule (header comment) in one
// place, in the order it is decided.
absl::StatusOr<int64_t> Leadership::TryTakeOver() {
  RETURN_IF_ERROR(conn_->ReconnectIfBroken());
  if (!lock_held_) {
    ASSIGN_OR_RETURN(Result got,
                     conn_->Query("SELECT pg_try_advisory_lock(hashtext($1))",
                                  Params().Text(LockKey())));
    lock_held_ = got.Bool(0, 0);
  }
  // A holder past its lease is fenced before the row is locked: it may be
  // paused inside a transaction that holds the row FOR SHARE (every audit
  // append checks its term so, §4), and FOR UPDATE would wait on that for
  // as long as the holder stays paused.
  ASSIGN_OR_RETURN(const int fenced_early, FenceExpiredHolder());
  ASSIGN_OR_RETURN(Transaction txn,
                   Transaction::Begin(*conn_, Transaction::Mode::kWrite));
  // And never wait on the row for more than a lease (an error: the next
  // look tries again).
  RETURN_IF_ERROR(conn_->Exec(
      absl::StrCat("SET LOCAL lock_timeout = ", options_.lease_ms)));
  ASSIGN_OR_RETURN(
      Result row,
      conn_->Query(
          "SELECT term, holder, server_started = pg_postmaster_start_time(), "
          "heartbeat < clock_timestamp() - $1 * interval '1 millisecond' "
          "FROM " +
              options_.schema + ".leader WHERE id = 1 FOR UPDATE",
          Params().Int(options_.lease_ms)));
  if (row.rows() != 1) {
    return absl::DataLossError("the leadership row is missing");
  }
  const int64_t term = row.Int(0, 0);
  const std::string holder = row.String(0, 1);
  const bool same_server = row.Bool(0, 2);
  const bool expired = row.Bool(0, 3);
  // The lock is free and the holder took it on this server start: its
  // session ended, so it is gone. Without the lock, only an expired lease
  // lets a standby in.
  const bool holder_gone = lock_held_ && same_server;
  if (!holder_gone && !expired) {
    if (lock_held_) {
      // A database that failed over lost every lock: the holder may be
      // alive and renewing. Leave the lock for it and wait for its lease.
      RETURN_IF_ERROR(conn_
                          ->Query("SELECT pg_advisory_unlock(hashtext($1))",
                                  Params().Text(LockKey()))
                          .status());
      lock_held_ = false;
    }
    return 0;  // rolls back
  }
  ASSIGN_OR_RETURN(int terminated, TerminateHolder(holder));
  terminated += fenced_early;
  if (expired && !holder.empty() && options_.log) {
    options_.log("warn", "leadership-fencing",
                 absl::StrCat("the heartbeat of ", holder, " (term ", term,
                              ") is older than the lease (", options_.lease_ms,
                              " ms): ", terminated,
                              " of its database sessions terminated"));
  }
  if (!lock_held_) {
    // The fenced holder's session held it; it goes as its backend exits.
    ASSIGN_OR_RETURN(Result got,
                     conn_->Query("SELECT pg_try_advisory_lock(hashtext($1))",
                                  Params().Text(LockKey())));
    lock_held_ = got.Bool(0, 0);
    if (!lock_held_) return 0;  // next look
  }
  ASSIGN_OR_RETURN(
      Result won,
      conn_->Query("UPDATE " + options_.schema +
                       ".leader SET term = term + 1, holder = $1, holder_pid "
                       "= pg_backend_pid(), server_started = "
                       "pg_postmaster_start_time(), heartbeat = "
                       "clock_timestamp() WHERE id = 1 RETURNING term",
                   Params().Text(options_.instance)));
  RETURN_IF_ERROR(txn.Commit());
  term_.store(won.Int(0, 0));
  if (options_.log) {
    options_.log("info", "leadership-acquired",
                 absl::StrCat("term ", term_.load(), " (previous holder: ",
                              holder.empty() ? "none" : holder,
                              holder_gone ? ", its session ended"
                              : expired   ? ", its lease expired"
                                          : "",
                              ")"));
  }
  return term_.load();
}

absl::StatusOr<int64_t> Leadership::AwaitLeadership(
    const std::function<bool()>& stopping) {
  bool reported = false;
  while (!stopping()) {
    absl::StatusOr<int64_t> won = TryTakeOver();
    if (won.ok() && *won > 0) return *won;
    if (!won.ok() && options_.log) {
      options_.log("warn", "leadership-check-failed",
                   std::string(won.status().message()));
    } else if (!reported && options_.log) {
      reported = true;
      options_.log("info", "standby",
                   "another node of the pair is active; watching its "
                   "heartbeat");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_ms));
  }
  return absl::CancelledError("stopped while standby");
}

absl::Status Leadership::Renew() {
  const bool reconnected = conn_->broken();
  RETURN_IF_ERROR(conn_->ReconnectIfBroken());
  if (reconnected) lock_held_ = false;
  ASSIGN_OR_RETURN(
      Result r,
      conn_->Query("UPDATE " + options_.schema +
                       ".leader SET heartbeat = clock_timestamp() WHERE id = "
                       "1 AND term = $1 AND holder = $2",
                   Params().Int(term_.load()).Text(options_.instance)));
  if (r.affected() != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database no longer records term ", term_.load(),
                     " for ", options_.instance, ": another node took over"));
  }
  if (!lock_held_) {
    // A new session (the database failed over or the connection broke):
    // take the lock again so that a standby sees this node alive quickly.
    ASSIGN_OR_RETURN(Result got,
                     conn_->Query("SELECT pg_try_advisory_lock(hashtext($1))",
                                  Params().Text(LockKey())));
    lock_held_ = got.Bool(0, 0);
    if (lock_held_) {
      RETURN_IF_ERROR(
          conn_
              ->Query("UPDATE " + options_.schema +
                          ".leader SET holder_pid = pg_backend_pid(), "
                          "server_started = pg_postmaster_start_time() WHERE "
                          "id = 1 AND term = $1 AND holder = $2",
                      Params().Int(term_.load()).Text(options_.instance))
              .status());
    }
  }
  return absl::OkStatus();
}

void Leadership::RenewLoop(std::function<void(const std::string&)> on_lost) {
  using Clock = std::chrono::steady_clock;
  const auto period = std::chrono::milliseconds(options_.lease_ms / 3);
  auto last_renewed = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    absl::Status s = Renew();
    lock.lock();
    if (s.ok()) {
      last_renewed = Clock::now();
      continue;
    }
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      on_lost(std::string(s.message()));
      return;
    }
    if (Clock::now() - last_renewed >=
        std::chrono::milliseconds(options_.lease_ms)) {
      on_lost(
          absl::StrCat("the heartbeat could not be renewed for a whole "
                       "lease (",
                       options_.lease_ms, " ms): ", s.message()));
      return;
    }
  }
}

void Leadership::StartRenewing(
    std::function<void(const std::string&)> on_lost) {
  renewer_ =
      std::thread([this, on_lost = std::move(on_lost)] { RenewLoop(on_lost); });
}

void Leadership::StopRenewing() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

void Leadership::Release() {
  StopRenewing();
  if (term_.load() == 0) return;
  conn_
      ->Query("UPDATE " + options_.schema +
                  ".leader SET heartbeat = '-infinity' WHERE id = 1 AND term "
                  "= $1 AND holder = $2",
              Params().Int(term_.load()).Text(options_.instance))
      .IgnoreError();
  if (lock_held_) {
    conn_
        ->Query("SELECT pg_advisory_unlock(hashtext($1))",
                Params().Text(LockKey()))
        .IgnoreError();
    lock_held_ = false;
  }
}

Fence Leadership::MakeFence(
    std::function<void(const absl::Status&)> on_fenced) const {
  return Fence{options_.schema, term_.load(), options_.instance,
               std::move(on_fenced)};
}

}  // namespace cbx::node::pg
