// cbx_storage_bench: how fast a node starts and how much memory it holds
// with a full storage (DESIGN §11: 1,000,000 own identifiers and 7 peers'
// indexes of 1,000,000 tags; start < 5 s, resident < 300 MB).
//
// The parent process populates a fresh SQLite database (not timed beyond a
// report) and writes the same tags to a plain file as a baseline. Then, for
// each run, it starts itself again with --measure-storage or --measure-file,
// so every measurement begins in a fresh process: open the storage, load all
// peer indexes and the own index tags, and report the elapsed time and
// VmRSS. The baseline reads the same bytes from the plain file into the same
// vectors. Both read files the page cache already holds (the parent just
// wrote them), which is the usual case for a restart; the ratio is the cost
// of SQLite over raw reads on this machine.
//
// With --cold, the files are synced and dropped from the page cache
// (posix_fadvise DONTNEED) before each measurement, so both read from disk:
// the first start after a reboot.
//
//   cbx_storage_bench [--identifiers N] [--peers P] [--peer-tags M]
//                     [--runs R] [--cold] [--dir DIR] [--keep]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::node {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kStartGoalSeconds = 5.0;
constexpr double kRssGoalMb = 300.0;
constexpr int kIdentifiersPerCase = 5;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// VmRSS and VmHWM of this process, in kB.
std::map<std::string, int64_t> ProcStatus() {
  std::map<std::string, int64_t> out;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"VmRSS", "VmHWM"}) {
      if (line.rfind(std::string(key) + ":", 0) == 0) {
        out[key] =
            std::strtoll(line.c_str() + std::strlen(key) + 1, nullptr, 10);
      }
    }
  }
  return out;
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "cbx_storage_bench: " << what << "\n";
  std::exit(1);
}

template <typename T>
T OrDie(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().ToString()));
  return *std::move(v);
}
void OrDie(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

uint64_t FromBigEndian(uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    return __builtin_bswap64(v);
  } else {
    return v;
  }
}

// --- Measuring children
// --------------------------------------------------------

// Prints one line the parent parses: seconds, rss_kb, hwm_kb, sets, tags.
void Report(double seconds, size_t sets, size_t tags, int64_t base_rss_kb) {
  std::map<std::string, int64_t> status = ProcStatus();
  std::printf(
      "seconds=%.6f rss_kb=%lld hwm_kb=%lld base_kb=%lld sets=%zu tags=%zu\n",
      seconds, static_cast<long long>(status["VmRSS"]),
      static_cast<long long>(status["VmHWM"]),
      static_cast<long long>(base_rss_kb), sets, tags);
}

int MeasureStorage(const std::string& path) {
  const int64_t base = ProcStatus()["VmRSS"];
  const Clock::time_point start = Clock::now();
  std::unique_ptr<SqliteStorage> storage =
      OrDie(SqliteStorage::Open(path), "opening the storage");
  std::vector<PeerIndex> peers =
      OrDie(storage->LoadAllPeerIndexes(), "loading the peer indexes");
  std::vector<Tag> own = OrDie(storage->OwnIndexTags(), "loading own tags");
  const double seconds = SecondsSince(start);
  size_t tags = own.size();
  for (const PeerIndex& p : peers) tags += p.tags.size();
  Report(seconds, peers.size() + 1, tags, base);
  return 0;
}

// The baseline file: a count of sets, each set's tag count (host order),
// then each set's tags as big-endian 8-byte values.
int MeasureFile(const std::string& path) {
  const int64_t base = ProcStatus()["VmRSS"];
  const Clock::time_point start = Clock::now();
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) Die("opening " + path);
  auto read_all = [&](void* dst, size_t n) {
    char* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t got = read(fd, p, n);
      if (got <= 0) Die("reading " + path);
      p += got;
      n -= static_cast<size_t>(got);
    }
  };
  uint64_t sets = 0;
  read_all(&sets, sizeof(sets));
  std::vector<uint64_t> counts(sets);
  read_all(counts.data(), sets * sizeof(uint64_t));
  std::vector<std::vector<Tag>> all(sets);
  size_t tags = 0;
  for (uint64_t i = 0; i < sets; ++i) {
    all[i].resize(counts[i]);
    read_all(all[i].data(), counts[i] * sizeof(Tag));
    for (Tag& t : all[i]) t = FromBigEndian(t);
    tags += counts[i];
  }
  close(fd);
  const double seconds = SecondsSince(start);
  Report(seconds, sets, tags, base);
  return 0;
}

// --- Parent
// --------------------------------------------------------------------

struct Measurement {
  double seconds = 0;
  double rss_mb = 0;
  double hwm_mb = 0;
  double base_mb = 0;
  size_t sets = 0;
  size_t tags = 0;
};

Measurement RunChild(const std::string& self, const std::string& flag,
                     const std::string& path) {
  const std::string command =
      absl::StrCat("'", self, "' ", flag, " '", path, "'");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) Die("starting " + command);
  char line[512] = {0};
  const bool got = std::fgets(line, sizeof(line), pipe) != nullptr;
  const int rc = pclose(pipe);
  if (!got || rc != 0) Die(absl::StrCat(command, " failed (status ", rc, ")"));
  double seconds = 0;
  long long rss = 0, hwm = 0, base = 0;
  size_t sets = 0, tags = 0;
  if (std::sscanf(line,
                  "seconds=%lf rss_kb=%lld hwm_kb=%lld base_kb=%lld sets=%zu "
                  "tags=%zu",
                  &seconds, &rss, &hwm, &base, &sets, &tags) != 6) {
    Die(absl::StrCat("unexpected output from ", command, ": ", line));
  }
  return Measurement{seconds,       rss / 1024.0, hwm / 1024.0,
                     base / 1024.0, sets,         tags};
}

Measurement Median(std::vector<Measurement> runs) {
  auto middle = [&](auto field) {
    std::vector<double> v;
    for (const Measurement& m : runs) v.push_back(m.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  Measurement m = runs.front();
  m.seconds = middle(&Measurement::seconds);
  m.rss_mb = middle(&Measurement::rss_mb);
  m.hwm_mb = middle(&Measurement::hwm_mb);
  m.base_mb = middle(&Measurement::base_mb);
  return m;
}

Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = rng();
    std::memcpy(out.data() + i, &r, std::min<size_t>(8, n - i));
  }
  return out;
}

struct Flags {
  int64_t identifiers = 1'000'000;
  int64_t peers = 7;
  int64_t peer_tags = 1'000'000;
  int64_t runs = 3;
  std::string dir;
  bool keep = false;
  bool cold = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto number = [&](int64_t& out) {
      if (i + 1 >= argc || !absl::SimpleAtoi(argv[i + 1], &out) || out < 0) {
        Die(arg + " needs a non-negative number");
      }
      ++i;
    };
    if (arg == "--identifiers") {
      number(flags.identifiers);
    } else if (arg == "--peers") {
      number(flags.peers);
    } else if (arg == "--peer-tags") {
      number(flags.peer_tags);
    } else if (arg == "--runs") {
      number(flags.runs);
      if (flags.runs == 0) Die("--runs must be at least 1");
    } else if (arg == "--dir" && i + 1 < argc) {
      flags.dir = argv[++i];
    } else if (arg == "--keep") {
      flags.keep = true;
    } else if (arg == "--cold") {
      flags.cold = true;
    } else {
      Die("usage: cbx_storage_bench [--identifiers N] [--peers P] "
          "[--peer-tags M] [--runs R] [--cold] [--dir DIR] [--keep]");
    }
  }
  return flags;
}

// Syncs `path` and asks the kernel to drop its pages from the cache.
void DropFromPageCache(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;  // e.g. no -wal file
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

void AppendRaw(std::string& out, const void* data, size_t n) {
  out.append(static_cast<const char*>(data), n);
}

int Main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--measure-storage") {
    return MeasureStorage(argv[2]);
  }
  if (argc == 3 && std::string(argv[1]) == "--measure-file") {
    return MeasureFile(argv[2]);
  }
  const Flags flags = ParseFlags(argc, argv);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");

  std::filesystem::path dir;
  const bool own_dir = flags.dir.empty();
  if (own_dir) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cbx_storage_bench_XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
    dir = pattern;
  } else {
    dir = flags.dir;
    std::filesystem::create_directories(dir);
  }
  const std::string db_path = (dir / "node.db").string();
  const std::string file_path = (dir / "baseline.bin").string();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(db_path + suffix);
  }

  std::printf(
      "cbx_storage_bench: %lld own identifiers, %lld peer indexes x %lld "
      "tags\n",
      static_cast<long long>(flags.identifiers),
      static_cast<long long>(flags.peers),
      static_cast<long long>(flags.peer_tags));

  // Populate: cases of five identifiers, random y and tag, all in one
  // transaction.
  std::mt19937_64 rng(20260301);
  std::vector<std::vector<Tag>> sets;
  double cases_seconds = 0, peers_seconds = 0;
  {
    SqliteStorage::Options options;
    options.cache_size_kib = 256 * 1024;  // holds the y index while importing
    std::unique_ptr<SqliteStorage> storage =
        OrDie(SqliteStorage::Open(db_path, options), "creating the storage");
    Clock::time_point start = Clock::now();
    int64_t made = 0, case_number = 0;
    {
      // One transaction: each commit of a batch would rewrite most pages of
      // the (random) y index into the WAL and checkpoint them again.
      std::vector<StoredCase> batch;
      batch.reserve(flags.identifiers / kIdentifiersPerCase + 1);
      while (made < flags.identifiers) {
        StoredCase& c = batch.emplace_back();
        c.record.set_case_number(absl::StrFormat("MK-%08d", case_number++));
        c.record.set_case_token(RandomBytes(rng, 16));
        c.record.set_office("MK/JOT-Skopje");
        c.record.set_status(v1::CASE_STATUS_OPEN);
        c.record.set_opened_month("2026-03");
        c.record.add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
        for (int k = 0; k < kIdentifiersPerCase && made < flags.identifiers;
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
      OrDie(storage->AddCases(batch), "adding cases");
    }
    cases_seconds = SecondsSince(start);

    start = Clock::now();
    for (int64_t p = 0; p < flags.peers; ++p) {
      PeerIndex index;
      index.member = absl::StrCat("P", p + 1);
      index.oprf_epoch = 1;
      index.version = 1;
      index.tags.resize(flags.peer_tags);
      for (Tag& t : index.tags) t = rng();
      std::sort(index.tags.begin(), index.tags.end());
      index.tags.erase(std::unique(index.tags.begin(), index.tags.end()),
                       index.tags.end());
      OrDie(storage->SavePeerIndex(index), "saving a peer index");
      sets.push_back(std::move(index.tags));
    }
    peers_seconds = SecondsSince(start);
    sets.push_back(OrDie(storage->OwnIndexTags(), "reading own tags"));
  }  // closing checkpoints the WAL into the database file

  // The baseline: the same tags in a plain file.
  {
    std::string header;
    const uint64_t n = sets.size();
    AppendRaw(header, &n, sizeof(n));
    for (const auto& s : sets) {
      const uint64_t count = s.size();
      AppendRaw(header, &count, sizeof(count));
    }
    std::ofstream out(file_path, std::ios::binary | std::ios::trunc);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& s : sets) {
      std::vector<uint64_t> be(s.size());
      std::transform(s.begin(), s.end(), be.begin(), FromBigEndian);
      out.write(reinterpret_cast<const char*>(be.data()),
                static_cast<std::streamsize>(be.size() * sizeof(uint64_t)));
    }
    if (!out) Die("writing " + file_path);
  }
  size_t expected_tags = 0;
  for (const auto& s : sets) expected_tags += s.size();
  sets.clear();
  sets.shrink_to_fit();

  uintmax_t db_bytes = std::filesystem::file_size(db_path);
  std::printf(
      "populate (not part of the start-up figure): cases %.1f s, peer indexes "
      "%.1f s; database %.0f MB, baseline file %.0f MB\n",
      cases_seconds, peers_seconds, db_bytes / 1048576.0,
      std::filesystem::file_size(file_path) / 1048576.0);

  std::vector<Measurement> storage_runs, file_runs;
  for (int64_t r = 0; r < flags.runs; ++r) {
    if (flags.cold) {
      for (const std::string& path :
           {db_path, db_path + "-wal", db_path + "-shm", file_path}) {
        DropFromPageCache(path);
      }
    }
    storage_runs.push_back(RunChild(self, "--measure-storage", db_path));
    file_runs.push_back(RunChild(self, "--measure-file", file_path));
    if (storage_runs.back().tags != expected_tags ||
        file_runs.back().tags != expected_tags) {
      Die(absl::StrCat("loaded ", storage_runs.back().tags, " and ",
                       file_runs.back().tags, " tags, expected ",
                       expected_tags));
    }
  }
  const Measurement s = Median(storage_runs);
  const Measurement f = Median(file_runs);

  std::printf(
      "start = open + load %zu peer indexes + own index tags (%zu tags), "
      "median of %lld fresh processes, %s page cache:\n",
      s.sets - 1, s.tags, static_cast<long long>(flags.runs),
      flags.cold ? "cold" : "warm");
  std::printf(
      "  sqlite storage  %8.3f s   goal < %.0f s: %s   %.1fx the "
      "plain file\n",
      s.seconds, kStartGoalSeconds,
      s.seconds < kStartGoalSeconds ? "met" : "MISSED", s.seconds / f.seconds);
  std::printf("  plain file      %8.3f s   (baseline)\n", f.seconds);
  std::printf(
      "resident after loading (VmRSS; peak VmHWM; process before "
      "loading):\n");
  std::printf(
      "  sqlite storage  %8.1f MB  goal < %.0f MB: %s   %.2fx the "
      "plain file   (peak %.1f MB, before %.1f MB)\n",
      s.rss_mb, kRssGoalMb, s.rss_mb < kRssGoalMb ? "met" : "MISSED",
      s.rss_mb / f.rss_mb, s.hwm_mb, s.base_mb);
  std::printf(
      "  plain file      %8.1f MB  (baseline; peak %.1f MB, before "
      "%.1f MB)\n",
      f.rss_mb, f.hwm_mb, f.base_mb);

  if (flags.keep) {
    std::printf("kept %s\n", dir.c_str());
  } else if (own_dir) {
    std::filesystem::remove_all(dir);
  } else {
    std::filesystem::remove(db_path);
    std::filesystem::remove(file_path);
  }
  return 0;
}

}  // namespace
}  // namespace cbx::node

int main(int argc, char** argv) { return cbx::node::Main(argc, argv); }
