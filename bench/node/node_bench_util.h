// What the node-level benchmarks (bench/node) share: reading another
// process's CPU time and memory from /proc, the machine's core count,
// percentiles, a small flag parser, and finding a harness node's pid.
#ifndef CBX_BENCH_NODE_NODE_BENCH_UTIL_H_
#define CBX_BENCH_NODE_NODE_BENCH_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/federation.h"

namespace cbx::bench {

// Prints "<program>: <what>" to stderr and exits with status 1.
[[noreturn]] void Die(const std::string& what);
// The program name Die prints (set once by main).
void SetProgramName(const std::string& name);
// Work Die runs before exiting, once (e.g. stopping the federation's nodes
// and removing its folder, which no destructor would do on exit).
void SetCleanup(std::function<void()> cleanup);

// Seconds on a monotonic clock.
double NowSeconds();
// CPU time (user + system) of this process, of the calling thread, and of
// process `pid` (from /proc/<pid>/stat, in clock ticks, usually 10 ms).
double SelfCpuSeconds();
double ThreadCpuSeconds();
double ProcessCpuSeconds(pid_t pid);
// The same split into user and system (kernel) time.
struct ProcessCpu {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
};
ProcessCpu ReadProcessCpu(pid_t pid);
// The fields of /proc/<pid>/io (syscr, syscw, read_bytes, write_bytes, ...).
std::map<std::string, int64_t> ProcIo(pid_t pid);

// The machine's CPU time from /proc/stat, all cores summed, in seconds.
struct MachineCpu {
  double busy = 0;   // user, nice, system, irq, softirq, steal
  double total = 0;  // busy + idle + iowait
};
MachineCpu ReadMachineCpu();

// Cores this process may run on (sched_getaffinity) and cores online.
int UsableCores();
int OnlineCores();
// "model name" from /proc/cpuinfo, or "unknown".
std::string CpuModel();

// Fields of /proc/<pid>/status given in kB (VmRSS, VmHWM, ...), as kB.
std::map<std::string, int64_t> ProcStatusKb(pid_t pid);

// The pid of the cbx-node process that `federation` started for `cc`: the
// child of this process whose command line names cc's node.json. Dies if
// there is none.
pid_t NodePid(const testing::Federation& federation, const std::string& cc);

// Rewrites the node.json of each of `countries` so that its background
// timers are the node's defaults (spec/node-config.md) rather than the
// harness's test-speed ones, except the index sync interval, which is set to
// `index_interval_ms`. Call after Federation::Create, before starting nodes.
void UseDefaultTimers(const testing::Federation& federation,
                      const std::vector<std::string>& countries,
                      int64_t index_interval_ms);

// Nearest-rank percentile (0 < p <= 100) of `sorted` (ascending, non-empty).
double Percentile(const std::vector<double>& sorted, double p);

// The load average, /proc/loadavg's first three fields ("1.02 0.87 0.60"):
// printed beside figures taken on a shared machine.
std::string LoadAverage();

// "--name value" and "--name=value" flags. Google Benchmark's flags
// (--benchmark_*), which scripts/bench.sh may pass to every benchmark, are
// ignored with a note; any other unknown flag prints the usage and exits.
class Flags {
 public:
  explicit Flags(std::string usage) : usage_(std::move(usage)) {}
  void Int(const std::string& name, int64_t* out, int64_t min, int64_t max);
  void Double(const std::string& name, double* out, double min, double max);
  void IntList(const std::string& name, std::vector<int64_t>* out, int64_t min,
               int64_t max);
  void Bool(const std::string& name, bool* out);
  void Parse(int argc, char** argv);

 private:
  struct Flag {
    bool takes_value = true;
    std::function<bool(const std::string&)> set;
  };
  [[noreturn]] void Usage(const std::string& error) const;
  std::string usage_;
  std::map<std::string, Flag> flags_;
};

}  // namespace cbx::bench

#endif  // CBX_BENCH_NODE_NODE_BENCH_UTIL_H_
