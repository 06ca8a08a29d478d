#include "node/storage/pg/testing/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node::pg::testing {
namespace {

using ::cbx::node::pg::Params;
using ::cbx::node::pg::Result;

constexpr char kDefaultBinDir[] = "/usr/lib/postgresql/15/bin";
constexpr char kRunuser[] = "/usr/sbin/runuser";
// The superuser initdb creates; tests connect as it.
constexpr char kSuperuser[] = "cbx";

bool Executable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

bool RunningAsRoot() { return geteuid() == 0; }

// The tail of the file at `path`, for an error message.
std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  if (text.size() > 1500) text = "..." + text.substr(text.size() - 1500);
  return text;
}

// argv run as the `postgres` user when this process is root.
std::vector<std::string> AsServerUser(std::vector<std::string> argv) {
  if (!RunningAsRoot()) return argv;
  std::vector<std::string> out = {kRunuser, "-u", "postgres", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// Runs `argv` (argv[0] a path) with stdin from /dev/null and its output
// appended to `log`; OK if it exits 0.
absl::Status Run(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", errno));
  if (pid == 0) {
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int in = open("/dev/null", O_RDONLY);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    if (in >= 0) dup2(in, 0);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "),
                                          " failed (status ", status,
                                          "):\n", Tail(log)));
}

// A TCP port on 127.0.0.1 that nothing listens on right now.
absl::StatusOr<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Starts a process that waits for this one to close `*write_fd` (which it
// does on exit, however it exits), then stops the cluster in `dir` and
// removes the folder.
absl::StatusOr<pid_t> StartWatchdog(const std::string& dir,
                                    const std::string& bin, int* write_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  std::string stop = absl::StrJoin(
      AsServerUser({bin + "/pg_ctl", "-D", dir + "/data", "-m", "immediate",
                    "-s", "stop"}),
      " ", [](std::string* out, const std::string& a) {
        out->append(ShellQuote(a));
      });
  const std::string script = absl::StrCat(
      "read _; ", stop, " >/dev/null 2>&1; rm -rf ", ShellQuote(dir));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError("fork");
  }
  if (pid == 0) {
    dup2(fds[0], 0);  // dup2 clears close-on-exec
    setsid();         // not killed with the test's process group
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  *write_fd = fds[1];
  return pid;
}

}  // namespace

std::string PgCluster::BinDir() {
  const char* env = std::getenv("CBX_PG_BIN");
  const std::string dir = env != nullptr && *env != '\0' ? env : kDefaultBinDir;
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (!Executable(dir + "/" + tool)) return "";
  }
  if (RunningAsRoot() &&
      (getpwnam("postgres") == nullptr || !Executable(kRunuser))) {
    return "";
  }
  return dir;
}

std::string PgCluster::SkipReason() {
  return absl::StrCat(
      "PostgreSQL 15's server binaries are not installed (initdb, pg_ctl "
      "and postgres in $CBX_PG_BIN or ",
      kDefaultBinDir,
      "; as root also the postgres user and runuser): run "
      "scripts/install-deps.sh");
}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::Start(
    const PgClusterOptions& options) {
  return Create(
      options, "", [](const std::string& dir, const std::string& log) {
        return Run(
            AsServerUser({BinDir() + "/initdb", "-D", dir + "/data", "-U",
                          kSuperuser, "-A", "trust", "-E", "UTF8", "--locale=C",
                          "--no-sync", "--no-instructions"}),
            log);
      });
}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::Create(
    const PgClusterOptions& options, const std::string& extra_options,
    const std::function<absl::Status(const std::string& dir,
                                     const std::string& log)>& make_data) {
  const std::string bin = BinDir();
  if (bin.empty()) return absl::FailedPreconditionError(SkipReason());
  const absl::Time began = absl::Now();
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cbx_pg_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  const std::string dir = pattern;
  if (RunningAsRoot()) {
    const passwd* pw = getpwnam("postgres");
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("chown ", dir, ": ",
                                              std::strerror(errno)));
    }
  }
  chmod(dir.c_str(), 0700);
  int watchdog_fd = -1;
  absl::StatusOr<pid_t> watchdog = StartWatchdog(dir, bin, &watchdog_fd);
  if (!watchdog.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return watchdog.status();
  }
  // From here the cluster object owns the folder (and stops the server).
  std::unique_ptr<PgCluster> cluster;
  const std::string log = dir + "/tools.log";
  absl::Status started = make_data(dir, log);
  for (int attempt = 0; started.ok() && cluster == nullptr && attempt < 3;
       ++attempt) {
    absl::StatusOr<int> port = FreePort();
    if (!port.ok()) {
      started = port.status();
      continue;
    }
    std::string server_options = absl::StrCat(
        "-c listen_addresses=127.0.0.1 -c port=", *port,
        " -c unix_socket_directories=", dir,
        " -c max_connections=200 -c shared_buffers=32MB", extra_options);
    if (!options.fsync) {
      absl::StrAppend(&server_options, " -c fsync=off -c full_page_writes=off");
    }
    started = Run(AsServerUser({bin + "/pg_ctl", "-D", dir + "/data", "-l",
                                dir + "/server.log", "-w", "-t", "30", "-s",
                                "-o", server_options, "start"}),
                  log);
    if (started.ok()) {
      cluster.reset(new PgCluster(dir, *port, *watchdog, watchdog_fd));
    } else if (attempt < 2) {
      started = absl::OkStatus();  // another port
    } else {
      started = absl::Status(started.code(),
                             absl::StrCat(started.message(), "\nserver log:\n",
                                          Tail(dir + "/server.log")));
    }
  }
  if (cluster == nullptr) {
    close(watchdog_fd);  // the watchdog removes the folder
    waitpid(*watchdog, nullptr, 0);
    return started;
  }
  cluster->start_time_ = absl::Now() - began;
  return cluster;
}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::StartReplica(
    absl::Duration wait) {
  // The primary's walsender knows the standby by its application_name,
  // which a walreceiver takes from cluster_name.
  constexpr char kStandbyName[] = "cbx_replica";
  const std::string source = Conninfo();
  PgClusterOptions options;
  ASSIGN_OR_RETURN(
      std::unique_ptr<PgCluster> replica,
      Create(
          options,
          absl::StrCat(" -c cluster_name=", kStandbyName, " -c hot_standby=on"),
          [&](const std::string& dir, const std::string& log) {
            // -R writes primary_conninfo and standby.signal; -X stream
            // copies the WAL written during the copy too.
            return Run(AsServerUser({BinDir() + "/pg_basebackup", "-d", source,
                                     "-D", dir + "/data", "-R", "-X", "stream",
                                     "--no-sync"}),
                       log);
          }));
  // Only now, so that the replica's copy of postgresql.auto.conf does not
  // name itself.
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(source));
  // Two calls: a multi-statement string is one transaction, and ALTER
  // SYSTEM refuses to run in one.
  RETURN_IF_ERROR(conn->Exec(absl::StrCat(
      "ALTER SYSTEM SET synchronous_standby_names = '", kStandbyName, "'")));
  RETURN_IF_ERROR(conn->Exec("SELECT pg_reload_conf()"));
  const absl::Time deadline = absl::Now() + wait;
  while (true) {
    ASSIGN_OR_RETURN(Result r,
                     conn->Query("SELECT sync_state FROM pg_stat_replication "
                                 "WHERE application_name = $1",
                                 Params().Text(kStandbyName)));
    if (r.rows() == 1 && r.String(0, 0) == "sync") break;
    if (absl::Now() > deadline) {
      return absl::InternalError(
          absl::StrCat("the replica did not become synchronous within ",
                       absl::FormatDuration(wait), "; its log:\n",
                       Tail(replica->dir() + "/server.log")));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return replica;
}

absl::Status PgCluster::StopImmediately() {
  return Run(AsServerUser({BinDir() + "/pg_ctl", "-D", dir_ + "/data", "-m",
                           "immediate", "-s", "-w", "stop"}),
             dir_ + "/tools.log");
}

absl::Status PgCluster::Promote() {
  return Run(AsServerUser({BinDir() + "/pg_ctl", "-D", dir_ + "/data", "-w",
                           "-t", "30", "-s", "promote"}),
             dir_ + "/tools.log");
}

std::string PgCluster::MultiHostConninfo(const PgCluster& first,
                                         const PgCluster& second,
                                         const std::string& dbname) {
  return absl::StrCat("host=127.0.0.1,127.0.0.1 port=", first.port(), ",",
                      second.port(), " user=", kSuperuser, " dbname=", dbname,
                      " target_session_attrs=read-write");
}

PgCluster::~PgCluster() {
  Run(AsServerUser({BinDir() + "/pg_ctl", "-D", dir_ + "/data", "-m",
                    "immediate", "-s", "stop"}),
      "/dev/null")
      .IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  close(watchdog_fd_);  // the watchdog finds nothing left to do
  waitpid(watchdog_, nullptr, 0);
}

std::string PgCluster::Conninfo(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=", kSuperuser,
                      " dbname=", dbname);
}

absl::StatusOr<std::string> PgCluster::CreateDatabase(const std::string& name) {
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a database name: ", name));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   Connection::Open(Conninfo()));
  RETURN_IF_ERROR(conn->Exec(absl::StrCat("CREATE DATABASE ", name)));
  return Conninfo(name);
}

namespace {

std::mutex shared_mu;
bool shared_failed = false;

}  // namespace

PgCluster* SharedPgCluster() {
  // Destroyed with the other statics when the binary exits, which stops
  // the server.
  static std::unique_ptr<PgCluster> cluster;
  std::lock_guard<std::mutex> lock(shared_mu);
  if (cluster != nullptr) return cluster.get();
  if (shared_failed || PgCluster::BinDir().empty()) return nullptr;
  absl::StatusOr<std::unique_ptr<PgCluster>> started = PgCluster::Start();
  if (!started.ok()) {
    shared_failed = true;
    ADD_FAILURE() << "cannot start the test PostgreSQL cluster: "
                  << started.status();
    return nullptr;
  }
  cluster = *std::move(started);
  std::printf("  (test PostgreSQL cluster on 127.0.0.1:%d started in %s)\n",
              cluster->port(),
              absl::FormatDuration(cluster->start_time()).c_str());
  return cluster.get();
}

absl::StatusOr<std::string> FreshDatabase() {
  static std::atomic<int> next{0};
  PgCluster* cluster = SharedPgCluster();
  if (cluster == nullptr) {
    return absl::FailedPreconditionError(
        "no test PostgreSQL cluster (see the failure above)");
  }
  return cluster->CreateDatabase(absl::StrCat("cbx_test_", next++));
}

absl::StatusOr<PgSchema> FreshSchema() {
  static std::atomic<int> next{0};
  static std::once_flag once;
  static absl::StatusOr<std::string>* shared = nullptr;
  std::call_once(once, [] {
    shared = new absl::StatusOr<std::string>(FreshDatabase());
  });
  if (!shared->ok()) return shared->status();
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   Connection::Open(**shared));
  PgSchema out{**shared, absl::StrCat("cbx_test_", next++)};
  RETURN_IF_ERROR(conn->Exec(absl::StrCat("CREATE SCHEMA ", out.schema)));
  return out;
}

}  // namespace cbx::node::pg::testing
