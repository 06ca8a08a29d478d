#include "bench/node/node_bench_util.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace cbx::bench {
namespace {

std::string& ProgramName() {
  static std::string name = "cbx_node_bench";
  return name;
}

double ClockSeconds(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fields of /proc/<pid>/stat after the command name, which may hold
// spaces and parentheses: [0] is field 3 (state) of proc(5).
std::vector<std::string> StatFields(pid_t pid) {
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
}

std::function<void()>& Cleanup() {
  static std::function<void()> cleanup;
  return cleanup;
}

}  // namespace

void SetProgramName(const std::string& name) { ProgramName() = name; }

void SetCleanup(std::function<void()> cleanup) {
  Cleanup() = std::move(cleanup);
}

void Die(const std::string& what) {
  static std::atomic<bool> dying{false};
  if (dying.exchange(true)) {
    // Another thread is already cleaning up and will end the process.
    while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::fflush(stdout);
  std::cerr << ProgramName() << ": " << what << std::endl;
  if (Cleanup()) Cleanup()();
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(1);
}

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double SelfCpuSeconds() { return ClockSeconds(CLOCK_PROCESS_CPUTIME_ID); }
double ThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }

ProcessCpu ReadProcessCpu(pid_t pid) {
  std::vector<std::string> f = StatFields(pid);
  // utime is field 14, stime field 15.
  int64_t utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    Die("cannot read the CPU time of process " + std::to_string(pid));
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ProcessCpu{utime / tick, stime / tick};
}

double ProcessCpuSeconds(pid_t pid) { return ReadProcessCpu(pid).total(); }

std::map<std::string, int64_t> ProcIo(pid_t pid) {
  std::map<std::string, int64_t> out;
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/io"));
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    int64_t v = 0;
    if (colon != std::string::npos &&
        absl::SimpleAtoi(line.substr(colon + 1), &v)) {
      out[line.substr(0, colon)] = v;
    }
  }
  return out;
}

MachineCpu ReadMachineCpu() {
  std::ifstream in("/proc/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
  // cpu user nice system idle iowait irq softirq steal ...
  MachineCpu m;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (size_t i = 1; i < f.size() && i <= 8; ++i) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(f[i], &v)) continue;
    m.total += v / tick;
    if (i != 4 && i != 5) m.busy += v / tick;
  }
  return m;
}

int UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return OnlineCores();
  return CPU_COUNT(&set);
}

int OnlineCores() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) {
        return line.substr(colon + 2);
      }
    }
  }
  return "unknown";
}

std::map<std::string, int64_t> ProcStatusKb(pid_t pid) {
  std::map<std::string, int64_t> out;
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 3 || line.compare(line.size() - 3, 3, " kB") != 0) {
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    int64_t v = 0;
    std::string value = line.substr(colon + 1, line.size() - 3 - colon - 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (absl::SimpleAtoi(value, &v)) out[line.substr(0, colon)] = v;
  }
  return out;
}

pid_t NodePid(const testing::Federation& federation, const std::string& cc) {
  const std::string config = federation.NodeDir(cc) + "/node.json";
  const pid_t self = getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    int64_t pid = 0;
    if (!absl::SimpleAtoi(name, &pid)) continue;
    std::vector<std::string> stat = StatFields(static_cast<pid_t>(pid));
    int64_t ppid = 0;
    if (stat.size() < 2 || !absl::SimpleAtoi(stat[1], &ppid) || ppid != self) {
      continue;
    }
    std::string cmdline = ReadAll(entry.path().string() + "/cmdline");
    std::vector<std::string> argv = absl::StrSplit(cmdline, '\0');
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--config" && argv[i + 1] == config) {
        return static_cast<pid_t>(pid);
      }
    }
  }
  Die("no running cbx-node child of this process for " + cc);
}

void UseDefaultTimers(const testing::Federation& federation,
                      const std::vector<std::string>& countries,
                      int64_t index_interval_ms) {
  for (const std::string& cc : countries) {
    const std::string path = federation.NodeDir(cc) + "/node.json";
    nlohmann::json config = nlohmann::json::parse(ReadAll(path));
    config["sync"] = {{"index_interval_ms", index_interval_ms}};
    config.erase("audit");
    std::ofstream out(path, std::ios::trunc);
    out << config.dump(2);
    if (!out) Die("cannot rewrite " + path);
  }
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

void Flags::Int(const std::string& name, int64_t* out, int64_t min,
                int64_t max) {
  flags_[name] = {true, [=](const std::string& v) {
                    int64_t n = 0;
                    if (!absl::SimpleAtoi(v, &n) || n < min || n > max) {
                      return false;
                    }
                    *out = n;
                    return true;
                  }};
}

void Flags::Double(const std::string& name, double* out, double min,
                   double max) {
  flags_[name] = {true, [=](const std::string& v) {
                    double d = 0;
                    if (!absl::SimpleAtod(v, &d) || !(d >= min) || d > max) {
                      return false;
                    }
                    *out = d;
                    return true;
                  }};
}

void Flags::IntList(const std::string& name, std::vector<int64_t>* out,
                    int64_t min, int64_t max) {
  flags_[name] = {true, [=](const std::string& v) {
                    std::vector<int64_t> list;
                    for (absl::string_view part : absl::StrSplit(v, ',')) {
                      int64_t n = 0;
                      if (!absl::SimpleAtoi(part, &n) || n < min || n > max) {
                        return false;
                      }
                      list.push_back(n);
                    }
                    if (list.empty()) return false;
                    *out = list;
                    return true;
                  }};
}

void Flags::Bool(const std::string& name, bool* out) {
  flags_[name] = {false, [=](const std::string&) {
                    *out = true;
                    return true;
                  }};
}

void Flags::Usage(const std::string& error) const {
  std::fflush(stdout);
  std::cerr << ProgramName() << ": " << error << "\nusage: " << usage_
            << std::endl;
  std::exit(2);
}

void Flags::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << "usage: " << usage_ << std::endl;
      std::exit(0);
    }
    if (arg.rfind("--benchmark_", 0) == 0) {
      std::cout << "(ignoring " << arg << ": not a Google Benchmark binary)\n";
      continue;
    }
    std::string name = arg, value;
    bool inline_value = false;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) Usage("unknown flag " + arg);
    if (it->second.takes_value && !inline_value) {
      if (i + 1 >= argc) Usage(name + " needs a value");
      value = argv[++i];
    }
    if (!it->second.set(value)) Usage("bad value for " + name + ": " + value);
  }
}

}  // namespace cbx::bench
