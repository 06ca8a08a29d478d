// Benchmarks for core/merkle.
//
//   cbx_merkle_bench [--benchmark_filter=...]
//
// Trees of 1,000,000 and 10,000,000 leaves are built once in an InMemoryTree
// (about 64 bytes per leaf: 640 MB at 10M), outside every timed loop. Each
// benchmark reports its time per operation and, as the counter "x_sha256",
// that time divided by the time of one SHA-256 of a 64-byte input measured
// in the same run, so results compare across machines. Both are thread CPU
// times ("us_per_op" too), which stay meaningful on a busy shared machine. A
// summary at the end checks the goal: an inclusion or consistency proof built
// and verified in at most 1 ms on a tree of 10 million entries.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/crypto/sha256.h"
#include "core/merkle/compact_range.h"
#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "core/merkle/verify.h"

namespace cbx::merkle {
namespace {

// Ratios use this thread's CPU time, like the "CPU" column of the benchmark
// table: on a shared machine wall time mostly measures the other processes.
struct CpuClock {
  using time_point = double;  // nanoseconds
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
  }
};
using Clock = CpuClock;

Bytes LeafData(uint64_t i) {
  Bytes leaf;
  AppendUint64BE(leaf, i);
  return leaf;
}

// Nanoseconds of one SHA-256 of 64 bytes, measured once per run.
double Sha256Nanos() {
  static const double kNanos = [] {
    const Bytes input(64, '\x42');
    Bytes out;
    constexpr int kWarmup = 20000;
    constexpr int kRounds = 1000000;
    for (int i = 0; i < kWarmup; ++i) out = crypto::Sha256(input);
    const auto t0 = Clock::now();
    for (int i = 0; i < kRounds; ++i) {
      out = crypto::Sha256(input);
      benchmark::DoNotOptimize(out);
    }
    return (Clock::now() - t0) / kRounds;
  }();
  return kNanos;
}

// The trees, built on first use and kept for the whole run.
const InMemoryTree& TreeOf(uint64_t size) {
  static auto* const trees =
      new std::map<uint64_t, std::unique_ptr<InMemoryTree>>;
  auto& tree = (*trees)[size];
  if (!tree) {
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = Clock::now();
    tree = std::make_unique<InMemoryTree>();
    for (uint64_t i = 0; i < size; ++i) tree->AppendLeaf(LeafData(i));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    std::fprintf(stderr, "built tree of %llu leaves in %.1f s (%.1f s CPU)\n",
                 static_cast<unsigned long long>(size), secs,
                 (Clock::now() - cpu0) / 1e9);
  }
  return *tree;
}

// Per-benchmark nanoseconds per iteration, for the summary.
std::map<std::string, double>& Results() {
  static auto* const results = new std::map<std::string, double>;
  return *results;
}

// Records the loop's time per iteration as counters and for the summary.
void Report(benchmark::State& state, Clock::time_point t0,
            const std::string& name) {
  const double ns =
      (Clock::now() - t0) / static_cast<double>(state.iterations());
  state.counters["x_sha256"] = ns / Sha256Nanos();
  state.counters["us_per_op"] = ns / 1000.0;
  Results()[name] = ns;
}

void BM_Sha256_64B(benchmark::State& state) {
  const Bytes input(64, '\x42');
  const auto t0 = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Sha256(input));
  Report(state, t0, "BM_Sha256_64B");
}
BENCHMARK(BM_Sha256_64B);

void BM_NodeHash(benchmark::State& state) {
  const Bytes left(32, 'l'), right(32, 'r');
  const auto t0 = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(NodeHash(left, right));
  Report(state, t0, "BM_NodeHash");
}
BENCHMARK(BM_NodeHash);

struct InclusionCase {
  uint64_t index;
  Bytes leaf_hash;
};

// Build and verify the inclusion proof of a random leaf in the full tree.
void BM_InclusionProofBuildVerify(benchmark::State& state) {
  const uint64_t size = state.range(0);
  const InMemoryTree& tree = TreeOf(size);
  const Bytes root = RootHash(tree, size).value();
  std::mt19937_64 rng(1);
  std::vector<InclusionCase> cases;
  for (int i = 0; i < 4096; ++i) {
    const uint64_t index = rng() % size;
    cases.push_back({index, LeafHash(LeafData(index))});
  }
  size_t next = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    const InclusionCase& c = cases[next++ % cases.size()];
    auto proof = InclusionProof(tree, c.index, size);
    if (!proof.ok() ||
        !VerifyInclusion(c.index, size, c.leaf_hash, *proof, root).ok()) {
      state.SkipWithError("inclusion proof failed");
      break;
    }
  }
  Report(state, t0, "BM_InclusionProofBuildVerify/" + std::to_string(size));
}
BENCHMARK(BM_InclusionProofBuildVerify)->Arg(1000000)->Arg(10000000);

// Build only, to separate the store reads from the verifier's hashing.
void BM_InclusionProofBuild(benchmark::State& state) {
  const uint64_t size = state.range(0);
  const InMemoryTree& tree = TreeOf(size);
  std::mt19937_64 rng(2);
  const auto t0 = Clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(InclusionProof(tree, rng() % size, size));
  }
  Report(state, t0, "BM_InclusionProofBuild/" + std::to_string(size));
}
BENCHMARK(BM_InclusionProofBuild)->Arg(1000000)->Arg(10000000);

struct ConsistencyCase {
  uint64_t size1, size2;
  Bytes root1, root2;
};

// Build and verify a consistency proof between two random sizes of the tree.
void BM_ConsistencyProofBuildVerify(benchmark::State& state) {
  const uint64_t size = state.range(0);
  const InMemoryTree& tree = TreeOf(size);
  std::mt19937_64 rng(3);
  std::vector<ConsistencyCase> cases;
  for (int i = 0; i < 1024; ++i) {
    uint64_t a = 1 + rng() % size, b = 1 + rng() % size;
    if (a > b) std::swap(a, b);
    if (a == b) b = size;
    cases.push_back(
        {a, b, RootHash(tree, a).value(), RootHash(tree, b).value()});
  }
  size_t next = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    const ConsistencyCase& c = cases[next++ % cases.size()];
    auto proof = ConsistencyProof(tree, c.size1, c.size2);
    if (!proof.ok() ||
        !VerifyConsistency(c.size1, c.size2, *proof, c.root1, c.root2).ok()) {
      state.SkipWithError("consistency proof failed");
      break;
    }
  }
  Report(state, t0, "BM_ConsistencyProofBuildVerify/" + std::to_string(size));
}
BENCHMARK(BM_ConsistencyProofBuildVerify)->Arg(1000000)->Arg(10000000);

// The root of the full tree from the store (what a checkpoint needs when
// the compact range is not at hand).
void BM_RootHash(benchmark::State& state) {
  const uint64_t size = state.range(0);
  const InMemoryTree& tree = TreeOf(size);
  const auto t0 = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(RootHash(tree, size));
  Report(state, t0, "BM_RootHash/" + std::to_string(size));
}
BENCHMARK(BM_RootHash)->Arg(10000000);

// Appending precomputed leaf hashes, collecting the completed subtrees as a
// store would (about two hashes per leaf: the leaf and, amortized, one node).
void BM_CompactRangeAppend(benchmark::State& state) {
  std::vector<Bytes> leaves;
  for (uint64_t i = 0; i < 65536; ++i) leaves.push_back(LeafHash(LeafData(i)));
  CompactRange range;
  size_t next = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    auto completed = range.Append(leaves[next++ % leaves.size()]);
    benchmark::DoNotOptimize(completed);
  }
  Report(state, t0, "BM_CompactRangeAppend");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CompactRangeAppend);

// Root() of the compact range of a 10M tree (popcount(10^7) = 8 subtrees),
// as a log computes before signing each checkpoint.
void BM_CompactRangeRoot(benchmark::State& state) {
  const uint64_t size = state.range(0);
  const CompactRange range =
      CompactRange::FromHashSource(TreeOf(size), size).value();
  const auto t0 = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(range.Root());
  Report(state, t0, "BM_CompactRangeRoot/" + std::to_string(size));
}
BENCHMARK(BM_CompactRangeRoot)->Arg(10000000);

void PrintSummary() {
  const double sha = Sha256Nanos();
  std::printf("\nSHA-256 of 64 bytes: %.0f ns\n", sha);
  std::printf("%-44s %12s %10s\n", "benchmark", "us/op", "x SHA-256");
  for (const auto& [name, ns] : Results()) {
    std::printf("%-44s %12.2f %10.1f\n", name.c_str(), ns / 1000.0, ns / sha);
  }
  for (const char* name : {"BM_InclusionProofBuildVerify/10000000",
                           "BM_ConsistencyProofBuildVerify/10000000"}) {
    auto it = Results().find(name);
    if (it == Results().end()) continue;
    std::printf("goal (<= 1 ms at 10M) %-38s %s (%.1f us)\n", name,
                it->second <= 1e6 ? "MET" : "MISSED", it->second / 1000.0);
  }
}

}  // namespace
}  // namespace cbx::merkle

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  cbx::merkle::Sha256Nanos();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  cbx::merkle::PrintSummary();
  return 0;
}
