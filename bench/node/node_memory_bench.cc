// cbx_node_memory_bench: start time and resident memory of a real cbx-node
// holding 1,000,000 own identifiers and copies of seven peers' indexes of
// 1,000,000 tags each (issue "A federation that answers": start < 5 s,
// resident < 300 MB).
//
// The harness makes an 8-country federation (tests/integration) without
// starting it. This program fills MK's database (data_dir/node.db) through
// node/storage: cases of five identifiers with random y and tags, and one
// index copy per other member at that member's directory OPRF epoch. Then it
// starts MK's cbx-node `--runs` times (stopping it in between) and measures
// the time from spawning the process until its Office port answers an
// authenticated call (the harness polls with gRPC wait-for-ready, so the
// figure can be up to ~0.1 s late), and the node's VmRSS
// (/proc/<pid>/status). After the last start it also measures VmRSS after
// the node served one full index sync (this program asks as RS, which makes
// the node load its own index) and after some seconds of idle syncing. The
// other nodes stay stopped: MK's sync attempts fail and are logged, which is
// expected.
//
// Baselines measured in the same run, with the files in the page cache as
// they are for the node (this program just wrote them): reading the same
// tags (8 bytes each: the own index and the seven copies) from a plain file
// into vectors, and reading the whole node.db file.
//
//   cbx_node_memory_bench [--identifiers N] [--peer-tags M] [--runs R]
//       [--idle-seconds S]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/node/node_bench_util.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "core/envelope/envelope.h"
#include "core/util/clock.h"
#include "grpcpp/client_context.h"
#include "node/audit/audit_log.h"
#include "node/storage/sqlite_storage.h"
#include "tests/integration/federation.h"

namespace cbx::bench {
namespace {

using node::PeerIndex;
using node::SqliteStorage;
using node::StoredCase;
using node::StoredIdentifier;
using node::Tag;

constexpr char kNode[] = "MK";
constexpr char kAsker[] = "RS";  // whose identity asks for MK's index
constexpr double kStartGoalSeconds = 5.0;
constexpr double kRssGoalMb = 300.0;
constexpr int kIdentifiersPerCase = 5;
const std::vector<std::string> kCountries = {"MK", "RS", "BA", "HR",
                                             "ME", "AL", "XK", "SI"};

struct Options {
  int64_t identifiers = 1'000'000;
  int64_t peer_tags = -1;  // default: as many as identifiers
  int64_t runs = 3;
  double idle_seconds = 15;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double Mb(int64_t kb) { return kb / 1024.0; }

Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = rng();
    std::memcpy(out.data() + i, &r, std::min<size_t>(8, n - i));
  }
  return out;
}

uint64_t BigEndian(uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    return __builtin_bswap64(v);
  } else {
    return v;
  }
}

// --- Populating MK's database ----------------------------------------------

struct Populated {
  std::vector<std::vector<Tag>> sets;  // own index first, then each copy
  double cases_seconds = 0;
  double peers_seconds = 0;
};

// A node refuses a node.db that holds cases beside no audit log (a node.db
// restored without its log, node/data_consistency.h). The cases above were
// written past the log, so the log gets one entry standing for the load.
void LogTheBulkLoad(const std::string& audit_path) {
  auto log = node::audit::AuditLog::Open(audit_path, {});
  if (!log.ok()) Die("opening " + audit_path + ": " + log.status().ToString());
  v1::AuditEntry entry;
  entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
  entry.set_rpc("Office.AddCase");
  entry.set_kind("add_case");
  entry.set_office(std::string(kNode) + "/bench");
  if (auto appended = (*log)->Append(entry); !appended.ok()) {
    Die("appending to " + audit_path + ": " + appended.status().ToString());
  }
}

Populated Populate(const std::string& db_path, const nlohmann::json& spec,
                   int64_t identifiers, int64_t peer_tags) {
  SqliteStorage::Options options;
  options.cache_size_kib = 256 * 1024;  // holds the y index while importing
  auto opened = SqliteStorage::Open(db_path, options);
  if (!opened.ok())
    Die("opening " + db_path + ": " + opened.status().ToString());
  std::unique_ptr<SqliteStorage> storage = *std::move(opened);
  std::mt19937_64 rng(20260301);
  Populated out;

  double start = NowSeconds();
  {
    // One transaction: committing batches would rewrite most pages of the
    // (random) y index again and again.
    std::vector<StoredCase> cases;
    cases.reserve(identifiers / kIdentifiersPerCase + 1);
    int64_t made = 0;
    while (made < identifiers) {
      StoredCase& c = cases.emplace_back();
      c.record.set_case_number(absl::StrFormat("MK-%08d", cases.size()));
      c.record.set_case_token(RandomBytes(rng, 16));
      c.record.set_office("MK/PPO-Skopje");
      c.record.set_status(v1::CASE_STATUS_OPEN);
      c.record.set_opened_month("2026-03");
      c.record.set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
      c.record.set_contact_point("+389 2 000 000 (24/7, fictional)");
      c.record.add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
      for (int k = 0; k < kIdentifiersPerCase && made < identifiers;
           ++k, ++made) {
        StoredIdentifier& id = c.identifiers.emplace_back();
        id.type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
        id.normalized_value = absl::StrCat("user", made);
        id.y = RandomBytes(rng, 32);
        id.tag = rng();
        v1::Identifier* shown = c.record.add_identifiers();
        shown->set_type(id.type);
        shown->set_value(id.normalized_value);
      }
    }
    if (absl::Status s = storage->AddCases(cases); !s.ok()) {
      Die("adding cases: " + s.ToString());
    }
  }
  out.cases_seconds = NowSeconds() - start;
  auto own = storage->OwnIndexTags();
  if (!own.ok()) Die("reading own tags: " + own.status().ToString());
  out.sets.push_back(*std::move(own));

  start = NowSeconds();
  for (const nlohmann::json& m : spec["members"]) {
    const std::string code = m["code"].get<std::string>();
    if (code == kNode) continue;
    PeerIndex index;
    index.member = code;
    index.oprf_epoch = m.value("oprf_epoch", 1u);
    index.version = 1;
    index.synced_at_ms = SystemClock::Get().NowMs();
    index.tags.resize(peer_tags);
    for (Tag& t : index.tags) t = rng();
    std::sort(index.tags.begin(), index.tags.end());
    index.tags.erase(std::unique(index.tags.begin(), index.tags.end()),
                     index.tags.end());
    if (absl::Status s = storage->SavePeerIndex(index); !s.ok()) {
      Die("saving " + code + "'s index: " + s.ToString());
    }
    out.sets.push_back(std::move(index.tags));
  }
  out.peers_seconds = NowSeconds() - start;
  return out;  // closing the storage checkpoints the WAL into node.db
}

// --- Baselines ---------------------------------------------------------------

// The tags as 8-byte big-endian values, one set after another.
void WriteTagFile(const std::string& path,
                  const std::vector<std::vector<Tag>>& sets) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& set : sets) {
    std::vector<uint64_t> be(set.size());
    std::transform(set.begin(), set.end(), be.begin(), BigEndian);
    out.write(reinterpret_cast<const char*>(be.data()),
              static_cast<std::streamsize>(be.size() * sizeof(uint64_t)));
  }
  if (!out) Die("writing " + path);
}

void ReadFully(int fd, char* dst, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t got = read(fd, dst, n);
    if (got <= 0) Die("reading " + path);
    dst += got;
    n -= static_cast<size_t>(got);
  }
}

// Seconds to read the tag file back into one vector per set.
double ReadTagFile(const std::string& path, const std::vector<size_t>& sizes) {
  const double start = NowSeconds();
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) Die("opening " + path);
  std::vector<std::vector<Tag>> sets(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    sets[i].resize(sizes[i]);
    ReadFully(fd, reinterpret_cast<char*>(sets[i].data()),
              sizes[i] * sizeof(Tag), path);
    for (Tag& t : sets[i]) t = BigEndian(t);
  }
  close(fd);
  return NowSeconds() - start;
}

// Seconds to read every byte of `path` through a 1 MiB buffer.
double ReadWholeFile(const std::string& path) {
  const double start = NowSeconds();
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) Die("opening " + path);
  std::vector<char> buffer(1 << 20);
  while (read(fd, buffer.data(), buffer.size()) > 0) {
  }
  close(fd);
  return NowSeconds() - start;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// --- The node ----------------------------------------------------------------

// Unix ms of the first "<member> info <event>" line of `log` after byte
// `offset`, or -1.
int64_t LoggedAtMs(const std::string& log, size_t offset,
                   const std::string& event) {
  const std::string text = Slurp(log);
  std::istringstream in(text.substr(std::min(offset, text.size())));
  std::string line;
  const std::string needle = absl::StrCat(" ", kNode, " info ", event);
  while (std::getline(in, line)) {
    if (line.find(needle) == std::string::npos) continue;
    std::tm tm{};
    int ms = 0;
    if (sscanf(line.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
      return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
  }
  return -1;
}

// Asks `fed`'s MK node, as RS, for its whole index; returns the tag count.
uint64_t FetchFullIndex(testing::Federation& fed) {
  v1::Message msg;
  *msg.mutable_header() =
      envelope::MakeHeader(kAsker, {kNode}, SystemClock::Get(), 60'000);
  msg.mutable_index_request()->set_oprf_epoch(1);
  msg.mutable_index_request()->set_since_version(0);
  auto stub = fed.PeerAs(kNode, kAsker);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader =
      stub->SyncIndex(&ctx, envelope::Seal(msg, fed.SigningKey(kAsker)));
  v1::IndexPart part;
  uint64_t tags = 0;
  bool manifest = false;
  while (reader->Read(&part)) {
    if (part.has_manifest()) manifest = true;
    if (part.has_chunk()) tags += part.chunk().added_tags().size() / 8;
  }
  grpc::Status s = reader->Finish();
  if (!s.ok() || !manifest) {
    Die("SyncIndex from " + std::string(kNode) + ": " + s.error_message());
  }
  return tags;
}

struct Start {
  double until_office = 0;  // spawn -> Office answers (harness)
  double until_ready_log = -1;
  double rss_mb = 0;
};

int Main(int argc, char** argv) {
  SetProgramName("cbx_node_memory_bench");
  Options o;
  Flags flags(
      "cbx_node_memory_bench [--identifiers N] [--peer-tags M] [--runs R] "
      "[--idle-seconds S]");
  flags.Int("--identifiers", &o.identifiers, 1, 100'000'000);
  flags.Int("--peer-tags", &o.peer_tags, 0, 100'000'000);
  flags.Int("--runs", &o.runs, 1, 100);
  flags.Double("--idle-seconds", &o.idle_seconds, 0, 600);
  flags.Parse(argc, argv);
  if (o.peer_tags < 0) o.peer_tags = o.identifiers;

  std::printf(
      "cbx_node_memory_bench: start time and resident memory of cbx-node "
      "with %lld own identifiers and %zu peer indexes of %lld tags\n"
      "machine: %d usable cores (%d online), %s\n",
      static_cast<long long>(o.identifiers), kCountries.size() - 1,
      static_cast<long long>(o.peer_tags), UsableCores(), OnlineCores(),
      CpuModel().c_str());
  std::fflush(stdout);

  testing::FederationOptions options;
  options.countries = kCountries;
  options.index_interval_ms = 2000;  // the node's default (spec/node-config.md)
  auto federation = testing::Federation::Create(options);
  if (!federation.ok()) Die(federation.status().ToString());
  std::unique_ptr<testing::Federation> owner = *std::move(federation);
  testing::Federation& fed = *owner;
  SetCleanup([&owner] { owner.reset(); });
  UseDefaultTimers(fed, kCountries, options.index_interval_ms);
  const nlohmann::json config =
      nlohmann::json::parse(Slurp(fed.NodeDir(kNode) + "/node.json"));
  std::filesystem::path data_dir(config["data_dir"].get<std::string>());
  if (data_dir.is_relative()) data_dir = fed.NodeDir(kNode) / data_dir;
  std::filesystem::create_directories(data_dir);
  const std::string db_path = (data_dir / "node.db").string();
  const std::string tag_path = fed.dir() + "/tags.bin";

  Populated populated =
      Populate(db_path, fed.spec(), o.identifiers, o.peer_tags);
  LogTheBulkLoad((data_dir / "audit.db").string());
  std::vector<size_t> sizes;
  size_t total_tags = 0;
  for (const auto& s : populated.sets) {
    sizes.push_back(s.size());
    total_tags += s.size();
  }
  WriteTagFile(tag_path, populated.sets);
  populated.sets.clear();
  populated.sets.shrink_to_fit();
  uintmax_t db_bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    uintmax_t n = std::filesystem::file_size(db_path + suffix, ec);
    if (!ec) db_bytes += n;
  }
  std::printf(
      "populated %s's database through node/storage in %.1f s (cases) + "
      "%.1f s (peer indexes): %.0f MB; %zu tags in all (%.0f MB as 8-byte "
      "values)\n",
      kNode, populated.cases_seconds, populated.peers_seconds,
      db_bytes / 1048576.0, total_tags, total_tags * 8 / 1048576.0);
  std::fflush(stdout);

  std::vector<double> tag_reads, db_reads;
  for (int i = 0; i < 3; ++i) {
    tag_reads.push_back(ReadTagFile(tag_path, sizes));
    db_reads.push_back(ReadWholeFile(db_path));
  }
  const double tag_read = Median(tag_reads);
  const double db_read = Median(db_reads);

  std::vector<Start> starts;
  const std::string log = fed.LogOf(kNode);
  pid_t pid = 0;
  for (int64_t r = 0; r < o.runs; ++r) {
    if (r > 0) fed.Stop(kNode);
    std::error_code ec;
    const size_t log_offset = std::filesystem::file_size(log, ec);
    const int64_t spawn_ms = SystemClock::Get().NowMs();
    const double t0 = NowSeconds();
    absl::Status s = fed.Start(kNode);
    Start st;
    st.until_office = NowSeconds() - t0;
    if (!s.ok()) Die("starting " + std::string(kNode) + ": " + s.ToString());
    pid = NodePid(fed, kNode);
    st.rss_mb = Mb(ProcStatusKb(pid)["VmRSS"]);
    const int64_t ready_ms = LoggedAtMs(log, ec ? 0 : log_offset, "ready");
    if (ready_ms >= 0) st.until_ready_log = (ready_ms - spawn_ms) / 1000.0;
    starts.push_back(st);
    std::printf(
        "  start %lld: Office answers after %.3f s (node logged 'ready' after "
        "%.3f s); VmRSS %.1f MB\n",
        static_cast<long long>(r + 1), st.until_office, st.until_ready_log,
        st.rss_mb);
    std::fflush(stdout);
  }

  // The last start goes on: a peer fetches the whole index, then idle.
  const double sync0 = NowSeconds();
  const uint64_t served = FetchFullIndex(fed);
  const double sync_seconds = NowSeconds() - sync0;
  if (served != sizes[0]) {
    Die(absl::StrCat("the node served ", served, " tags, not ", sizes[0]));
  }
  const double rss_synced = Mb(ProcStatusKb(pid)["VmRSS"]);
  double rss_idle_max = rss_synced;
  std::vector<double> rss_series;  // one sample per second of idling
  const double idle_start = NowSeconds();
  while (NowSeconds() < idle_start + o.idle_seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double rss = Mb(ProcStatusKb(pid)["VmRSS"]);
    rss_idle_max = std::max(rss_idle_max, rss);
    if (NowSeconds() - idle_start >= rss_series.size() + 1.0) {
      rss_series.push_back(rss);
    }
  }
  std::map<std::string, int64_t> status = ProcStatusKb(pid);
  const double rss_idle = Mb(status["VmRSS"]);
  const double hwm = Mb(status["VmHWM"]);
  size_t sync_failures = 0;
  {
    std::istringstream in(Slurp(log));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(" warn index-sync-failed") != std::string::npos) {
        ++sync_failures;
      }
    }
  }
  fed.Stop(kNode);

  std::vector<double> office_times, ready_times, ready_rss;
  for (const Start& st : starts) {
    office_times.push_back(st.until_office);
    ready_times.push_back(st.until_ready_log);
    ready_rss.push_back(st.rss_mb);
  }
  const double start_median = Median(office_times);
  const double start_max =
      *std::max_element(office_times.begin(), office_times.end());
  const double rss_worst =
      std::max({*std::max_element(ready_rss.begin(), ready_rss.end()),
                rss_synced, rss_idle_max});

  std::printf(
      "\nstart (spawn until the Office port answers), %lld runs: median "
      "%.3f s, max %.3f s (node logged 'ready' after %.3f s, median)\n",
      static_cast<long long>(o.runs), start_median, start_max,
      Median(ready_times));
  std::printf(
      "  plain-file baselines (page cache warm, median of 3): the same %zu "
      "tags into vectors %.3f s; all of node.db (%.0f MB) %.3f s\n",
      total_tags, tag_read, db_bytes / 1048576.0, db_read);
  std::printf(
      "  ratio start / plain read of the tags: %.1f; start / plain read of "
      "node.db: %.1f\n",
      start_median / tag_read, start_median / db_read);
  std::printf(
      "resident memory (VmRSS): after ready %.1f MB (median); after serving "
      "its full index (%llu tags in %.2f s) %.1f MB; after %.1f s idle "
      "syncing %.1f MB (max seen %.1f MB); peak VmHWM %.1f MB\n",
      Median(ready_rss), static_cast<unsigned long long>(served), sync_seconds,
      rss_synced, o.idle_seconds, rss_idle, rss_idle_max, hwm);
  std::string series;
  for (double mb : rss_series) absl::StrAppendFormat(&series, " %.0f", mb);
  std::printf("  VmRSS while idle, once a second (MB):%s\n", series.c_str());
  std::printf(
      "  (the other %zu nodes are stopped; %s logged %zu failed index syncs, "
      "as expected)\n",
      kCountries.size() - 1, kNode, sync_failures);
  std::printf("goal (start < %.0f s): %.3f s (max of runs): goal %s\n",
              kStartGoalSeconds, start_max,
              start_max < kStartGoalSeconds ? "met" : "missed");
  std::printf(
      "goal (resident < %.0f MB): %.1f MB (largest VmRSS seen): goal %s\n",
      kRssGoalMb, rss_worst, rss_worst < kRssGoalMb ? "met" : "missed");
  return 0;
}

}  // namespace
}  // namespace cbx::bench

int main(int argc, char** argv) { return cbx::bench::Main(argc, argv); }
