// Micro benchmarks of the crypto a peer and a querier run per lookup:
// Ed25519 envelope signatures, hash-to-curve, VOPRF BlindEvaluate and
// Finalize (with the batched DLEQ proof) for batches of 1, 16 and 256, and
// the server's own Evaluate. After the usual table, every result is printed
// again as a multiple of one bare constant-time P-256 EC_POINT_mul measured
// in the same run, so figures compare across machines and noisy runs.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/crypto/ed25519.h"
#include "core/crypto/hash_to_curve.h"
#include "core/crypto/p256_baseline.h"
#include "core/crypto/voprf.h"

namespace cbx::crypto {
namespace {

constexpr char kBaselineName[] = "EC_POINT_mul";

// An identifier as spec/identifiers.md encodes it for the OPRF.
std::string Identifier(int64_t i) {
  return std::string("cbx/v1/id\0phone\0", 16) + "+3897" + std::to_string(i);
}

void BM_P256ScalarMul(benchmark::State& state) {
  P256ScalarMulBaseline baseline;
  for (auto _ : state) baseline.Run();
}
BENCHMARK(BM_P256ScalarMul)->Name(kBaselineName)->Unit(benchmark::kMicrosecond);

void BM_Ed25519Sign(benchmark::State& state) {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  const std::string message(256, 'm');  // about one EvaluateRequest envelope
  for (auto _ : state) benchmark::DoNotOptimize(key.Sign(message));
}
BENCHMARK(BM_Ed25519Sign)->Name("Ed25519Sign")->Unit(benchmark::kMicrosecond);

void BM_Ed25519Verify(benchmark::State& state) {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  const std::string message(256, 'm');
  const Bytes signature = key.Sign(message);
  for (auto _ : state) {
    if (!key.public_key().Verify(message, signature)) {
      state.SkipWithError("signature does not verify");
      break;
    }
  }
}
BENCHMARK(BM_Ed25519Verify)
    ->Name("Ed25519Verify")
    ->Unit(benchmark::kMicrosecond);

void BM_HashToCurve(benchmark::State& state) {
  const std::string input = Identifier(1);
  const std::string dst = "HashToGroup-" + OprfContextString(OprfMode::kVoprf);
  for (auto _ : state) {
    auto point = HashToCurveP256(input, dst);
    if (!point.ok()) {
      state.SkipWithError("hash to curve failed");
      break;
    }
    benchmark::DoNotOptimize(*point);
  }
}
BENCHMARK(BM_HashToCurve)
    ->Name("HashToCurveP256")
    ->Unit(benchmark::kMicrosecond);

// RFC 9497's Blind with its hash, or (additive) what the node does for each
// peer after hashing an input once per query.
void RunBlind(benchmark::State& state, bool additive) {
  const std::string input = Identifier(1);
  auto hashed = OprfHashInput(input);
  if (!hashed.ok()) {
    state.SkipWithError("hash failed");
    return;
  }
  for (auto _ : state) {
    auto blinded = additive ? OprfBlindAdditive(*hashed) : OprfBlind(input);
    if (!blinded.ok()) {
      state.SkipWithError("blind failed");
      break;
    }
    benchmark::DoNotOptimize(*blinded);
  }
}
void BM_Blind(benchmark::State& state) { RunBlind(state, false); }
void BM_BlindAdditive(benchmark::State& state) { RunBlind(state, true); }
BENCHMARK(BM_Blind)->Name("OprfBlind")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BlindAdditive)
    ->Name("OprfBlindAdditive")
    ->Unit(benchmark::kMicrosecond);

// The node's way for one peer's batch: every input blinded additively, the
// blinded points made affine with one inversion for the batch.
void BM_BlindAdditiveBatch(benchmark::State& state) {
  std::vector<HashedInput> hashed;
  std::vector<const HashedInput*> batch;
  for (int64_t i = 0; i < state.range(0); ++i) {
    auto h = OprfHashInput(Identifier(i));
    if (!h.ok()) {
      state.SkipWithError("hash failed");
      return;
    }
    hashed.push_back(*std::move(h));
  }
  for (const HashedInput& h : hashed) batch.push_back(&h);
  for (auto _ : state) {
    auto blinded = OprfBlindAdditive(batch);
    if (!blinded.ok()) {
      state.SkipWithError("blind failed");
      break;
    }
    benchmark::DoNotOptimize(*blinded);
  }
  state.counters["batch"] = static_cast<double>(state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BlindAdditiveBatch)
    ->Name("OprfBlindAdditiveBatch")
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

struct Batch {
  OprfServerKey key = OprfServerKey::Generate();
  std::vector<Bytes> inputs, blinds, blinded, blinded_points;
  BlindEvaluation eval;
  bool ok = true;

  // `uncompressed`: the elements go on the wire uncompressed, as the node
  // sends them to a peer that takes them (spec/oprf.md §1).
  explicit Batch(int64_t n, bool additive = false, bool uncompressed = false) {
    for (int64_t i = 0; i < n; ++i) {
      inputs.push_back(Identifier(i));
      auto hashed = OprfHashInput(inputs.back());
      auto b = !additive     ? OprfBlind(inputs.back())
               : hashed.ok() ? OprfBlindAdditive(*hashed)
                             : absl::StatusOr<BlindedInput>(hashed.status());
      if (!b.ok()) {
        ok = false;
        return;
      }
      blinds.push_back(b->blind);
      blinded.push_back(uncompressed ? b->blinded_point : b->blinded_element);
      blinded_points.push_back(b->blinded_point);
    }
    auto e = key.BlindEvaluate(blinded);
    ok = e.ok();
    if (ok) eval = *std::move(e);
  }
};

void RunBlindEvaluate(benchmark::State& state, bool uncompressed) {
  Batch batch(state.range(0), false, uncompressed);
  if (!batch.ok) state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto eval = batch.key.BlindEvaluate(batch.blinded);
    if (!eval.ok()) {
      state.SkipWithError("BlindEvaluate failed");
      break;
    }
    benchmark::DoNotOptimize(*eval);
  }
  state.counters["batch"] = static_cast<double>(state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_BlindEvaluate(benchmark::State& state) {
  RunBlindEvaluate(state, false);
}
void BM_BlindEvaluateUncompressed(benchmark::State& state) {
  RunBlindEvaluate(state, true);
}
BENCHMARK(BM_BlindEvaluate)
    ->Name("BlindEvaluate")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BlindEvaluateUncompressed)
    ->Name("BlindEvaluateUncompressed")
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

// Finalize of a batch blinded multiplicatively (RFC 9497), or additively
// as the node blinds for each peer after hashing each input once per query.
void RunFinalize(benchmark::State& state, bool additive,
                 bool uncompressed = false) {
  Batch batch(state.range(0), additive, uncompressed);
  if (!batch.ok) state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto outputs =
        additive ? OprfFinalizeAdditive(
                       batch.inputs, batch.blinds, batch.blinded,
                       batch.blinded_points, batch.eval.evaluated_elements,
                       batch.eval.proof, batch.key.public_key())
                 : OprfFinalize(batch.inputs, batch.blinds, batch.blinded,
                                batch.eval.evaluated_elements, batch.eval.proof,
                                batch.key.public_key());
    if (!outputs.ok()) {
      state.SkipWithError("Finalize failed");
      break;
    }
    benchmark::DoNotOptimize(*outputs);
  }
  state.counters["batch"] = static_cast<double>(state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_Finalize(benchmark::State& state) { RunFinalize(state, false); }
void BM_FinalizeAdditive(benchmark::State& state) { RunFinalize(state, true); }
void BM_FinalizeAdditiveUncompressed(benchmark::State& state) {
  RunFinalize(state, true, true);
}
BENCHMARK(BM_Finalize)
    ->Name("Finalize")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FinalizeAdditive)
    ->Name("FinalizeAdditive")
    ->Arg(256)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FinalizeAdditiveUncompressed)
    ->Name("FinalizeAdditiveUncompressed")
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

void BM_ServerEvaluate(benchmark::State& state) {
  OprfServerKey key = OprfServerKey::Generate();
  const std::string input = Identifier(1);
  for (auto _ : state) {
    auto y = key.Evaluate(input);
    if (!y.ok()) {
      state.SkipWithError("Evaluate failed");
      break;
    }
    benchmark::DoNotOptimize(*y);
  }
}
BENCHMARK(BM_ServerEvaluate)
    ->Name("ServerEvaluate")
    ->Unit(benchmark::kMicrosecond);

// The console table, plus a record of every run's CPU time per iteration for
// the ratio summary.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colors only on a terminal, so logs and pipes stay plain text.
  RatioReporter()
      : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) {
        failed_ = true;
        continue;
      }
      if (run.run_type != Run::RT_Iteration) continue;
      Result& r = results_[run.benchmark_name()];
      if (r.samples == 0) order_.push_back(run.benchmark_name());
      r.seconds += run.GetAdjustedCPUTime() /
                   benchmark::GetTimeUnitMultiplier(run.time_unit);
      ++r.samples;
      auto batch = run.counters.find("batch");
      r.batch = batch == run.counters.end() ? 1 : batch->second.value;
    }
  }

  bool failed() const { return failed_; }

  void PrintRatios() const {
    auto base = results_.find(kBaselineName);
    if (base == results_.end()) {
      std::printf("\n(ratios need the %s baseline in the same run)\n",
                  kBaselineName);
      return;
    }
    const double unit = base->second.seconds / base->second.samples;
    std::printf("\nCPU time as a multiple of one bare P-256 %s (%.1f us):\n",
                kBaselineName, unit * 1e6);
    for (const std::string& name : order_) {
      const Result& r = results_.at(name);
      const double ratio = r.seconds / r.samples / unit;
      if (r.batch > 1) {
        std::printf("  %-24s %8.2f x %s  (%.2f x per element)\n", name.c_str(),
                    ratio, kBaselineName, ratio / r.batch);
      } else {
        std::printf("  %-24s %8.2f x %s\n", name.c_str(), ratio, kBaselineName);
      }
    }
  }

 private:
  struct Result {
    double seconds = 0;  // summed over repetitions
    int samples = 0;
    double batch = 1;
  };
  std::map<std::string, Result> results_;
  std::vector<std::string> order_;
  bool failed_ = false;
};

}  // namespace
}  // namespace cbx::crypto

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  cbx::crypto::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return reporter.failed() ? 1 : 0;
}
