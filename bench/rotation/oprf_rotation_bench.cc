// cbx_oprf_rotation_bench: how long a node takes to recompute the output y
// and tag of every identifier under a new OPRF key (spec/oprf.md §2.1) and
// to switch to them, on SQLite.
//
// The parent fills a fresh node.db with N identifiers (5 per case, random
// outputs: their values do not matter to the recompute) and then runs the
// real OprfRotation over it: the staging pass (batches of 1000, each with
// its progress cursor in one transaction, as the node's background ticks
// run them, but back to back on one thread) and, after the directory lists
// the new key, the switch; then the end of the grace window (the previous
// outputs dropped). It reports the times, the rate, and the bare Evaluate
// cost per identifier on this machine for comparison.
//
// Meanwhile a prober thread makes the small storage calls a serving node
// makes (a quota charge, as for each Evaluate request; a FindByOutputs of
// one y, as Resolve does), one after another with a millisecond between
// them, and reports per phase the longest any of them took: how long the
// rotation made the node's queries wait.
//
//   cbx_oprf_rotation_bench [--identifiers N] [--dir DIR]
#include <stdio.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/directory/testing/test_federation.h"
#include "core/identifiers/identifiers.h"
#include "node/node_context.h"
#include "node/oprf_rotation.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::node {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kIdentifiersPerCase = 5;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

[[noreturn]] void Die(const std::string& why) {
  fprintf(stderr, "cbx_oprf_rotation_bench: %s\n", why.c_str());
  exit(1);
}

std::unique_ptr<crypto::OprfServerKey> MkKey(uint32_t epoch) {
  auto key = crypto::OprfServerKey::FromPrivateBytes(
      directory::testing::TestOprfScalar("MK", epoch));
  if (!key.ok()) Die(key.status().ToString());
  return std::make_unique<crypto::OprfServerKey>(*std::move(key));
}

v1::SignedDirectory MkEpoch2() {
  v1::Directory d = directory::testing::GenesisDirectory();
  d.set_version(2);
  d.set_issued_at_ms(d.issued_at_ms() + 1000);
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "MK") continue;
    m.mutable_oprf_key()->set_public_key(
        directory::testing::TestOprfPublicKey("MK", 2));
    m.mutable_oprf_key()->set_epoch(2);
  }
  return directory::testing::SignAs(
      d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

// The prober (see the top): small storage calls in a loop on its own
// thread, with the longest latency per phase.
class Prober {
 public:
  enum Phase { kIdle, kStaging, kSwitch, kDrop, kPhases };
  explicit Prober(Storage* storage)
      : storage_(storage), thread_([this] { Loop(); }) {}
  ~Prober() { Stop(); }
  void SetPhase(Phase p) { phase_.store(p); }
  void Stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
  }
  // After Stop.
  void Report(Phase p, const char* name) const {
    printf("  %-8s: %6llu probe calls, longest %.1f ms\n", name,
           static_cast<unsigned long long>(calls_[p]), max_ms_[p]);
  }

 private:
  void Loop() {
    std::mt19937_64 rng(7);
    int64_t day = 20'000;
    while (!stop_.load()) {
      const Phase p = phase_.load();
      Bytes y(32, '\0');
      for (char& c : y) c = static_cast<char>(rng());
      auto start = SteadyClock::now();
      absl::StatusOr<uint32_t> charged =
          storage_->ChargeQuota("RS", day, 1, 1'000'000);
      if (charged.status().code() == absl::StatusCode::kResourceExhausted) {
        ++day;
      } else if (!charged.ok()) {
        Die(charged.status().ToString());
      }
      Note(p, start);
      start = SteadyClock::now();
      if (auto found = storage_->FindByOutputs({y}); !found.ok()) {
        Die(found.status().ToString());
      }
      Note(p, start);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void Note(Phase p, SteadyClock::time_point start) {
    const double ms = SecondsSince(start) * 1e3;
    ++calls_[p];
    if (ms > max_ms_[p]) max_ms_[p] = ms;
  }

  Storage* storage_;
  std::atomic<Phase> phase_{kIdle};
  std::atomic<bool> stop_{false};
  // Written by the prober thread only; read after Stop.
  uint64_t calls_[kPhases] = {};
  double max_ms_[kPhases] = {};
  std::thread thread_;
};

void Populate(SqliteStorage& storage, int64_t identifiers) {
  std::mt19937_64 rng(20261205);
  auto random_bytes = [&](size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng());
    return out;
  };
  std::vector<StoredCase> cases;
  cases.reserve(identifiers / kIdentifiersPerCase + 1);
  for (int64_t made = 0; made < identifiers;) {
    StoredCase& c = cases.emplace_back();
    c.record.set_case_number(absl::StrFormat("MK-%08d", cases.size()));
    c.record.set_case_token(random_bytes(16));
    c.record.set_office("MK/PPO-Skopje");
    c.record.set_status(v1::CASE_STATUS_OPEN);
    for (int k = 0; k < kIdentifiersPerCase && made < identifiers;
         ++k, ++made) {
      StoredIdentifier& id = c.identifiers.emplace_back();
      id.type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
      id.normalized_value = absl::StrCat("user", made);
      id.y = random_bytes(32);
      id.tag = rng();
    }
  }
  if (absl::Status s = storage.AddCases(cases); !s.ok()) Die(s.ToString());
}

int Run(int64_t identifiers, const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto opened = SqliteStorage::Open(dir + "/node.db");
  if (!opened.ok()) Die(opened.status().ToString());

  auto fill_start = SteadyClock::now();
  Populate(**opened, identifiers);
  printf("populated %lld identifiers in %.1f s\n",
         static_cast<long long>(identifiers), SecondsSince(fill_start));

  // The bare cost: one Evaluate per identifier, nothing stored.
  {
    auto key = MkKey(2);
    const int n = 2000;
    auto start = SteadyClock::now();
    for (int i = 0; i < n; ++i) {
      auto y = key->Evaluate(identifiers::OprfInput(
          v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, absl::StrCat("user", i)));
      if (!y.ok()) Die(y.status().ToString());
    }
    printf("bare Evaluate: %.1f us per identifier (one thread)\n",
           SecondsSince(start) / n * 1e6);
  }

  NodeContext ctx;
  ctx.config.member = "MK";
  ctx.storage = *std::move(opened);
  auto genesis =
      directory::Directory::FromGenesis(directory::testing::SignedGenesis());
  if (!genesis.ok()) Die(genesis.status().ToString());
  ctx.directory = std::make_unique<directory::DirectoryState>(*genesis);
  OprfRotation rotation(&ctx, nullptr);
  if (absl::Status s = rotation.Start(MkKey(1), MkKey(2)); !s.ok()) {
    Die(s.ToString());
  }
  Prober prober(ctx.storage.get());
  prober.SetPhase(Prober::kStaging);
  auto stage_start = SteadyClock::now();
  while (true) {
    auto more = rotation.Step();
    if (!more.ok()) Die(more.status().ToString());
    if (!*more) break;
  }
  const double stage_s = SecondsSince(stage_start);

  if (absl::Status s = ctx.directory->Update({MkEpoch2()}); !s.ok()) {
    Die(s.ToString());
  }
  prober.SetPhase(Prober::kSwitch);
  auto switch_start = SteadyClock::now();
  while (true) {
    auto more = rotation.Step();
    if (!more.ok()) Die(more.status().ToString());
    if (!*more) break;
  }
  const double switch_s = SecondsSince(switch_start);
  if (ctx.oprf_keys->epoch() != 2) Die("the switch did not happen");

  // The grace window ends: the previous generation's rows are deleted.
  prober.SetPhase(Prober::kDrop);
  auto drop_start = SteadyClock::now();
  if (absl::Status s = ctx.storage->DropPreviousOutputs({}); !s.ok()) {
    Die(s.ToString());
  }
  const double drop_s = SecondsSince(drop_start);
  prober.Stop();

  printf("recompute (staging pass) of %llu identifiers: %.1f s (%.0f per s)\n",
         static_cast<unsigned long long>(rotation.staged()), stage_s,
         rotation.staged() / stage_s);
  printf("switch (incl. deleting the old own index in batches): %.2f s\n",
         switch_s);
  printf("drop of the previous outputs (in batches): %.2f s\n", drop_s);
  printf("total: %.1f s\n", stage_s + switch_s);
  printf("concurrent small storage calls (ChargeQuota, FindByOutputs):\n");
  prober.Report(Prober::kStaging, "staging");
  prober.Report(Prober::kSwitch, "switch");
  prober.Report(Prober::kDrop, "drop");
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cbx::node

int main(int argc, char** argv) {
  int64_t identifiers = 1'000'000;
  std::string dir = "/var/tmp/cbx-oprf-rotation-bench";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--identifiers" && i + 1 < argc &&
        absl::SimpleAtoi(argv[i + 1], &identifiers)) {
      ++i;
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg.rfind("--benchmark", 0) == 0) {
      // scripts/bench.sh passes Google Benchmark flags to every bench.
    } else {
      fprintf(stderr, "usage: %s [--identifiers N] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  return cbx::node::Run(identifiers, dir);
}
