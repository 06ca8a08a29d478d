// cbx_evaluate_throughput_bench: how many blind evaluations one node answers
// over mutual TLS gRPC, against the bare crypto bound measured in the same
// run (issue "A federation that answers": node throughput per node CPU
// second >= 0.7 x the bare bound per core).
//
// The bare bound is the crypto the node cannot avoid per Peer.Evaluate, run
// in this process on one thread: Ed25519 verify of the request envelope,
// BlindEvaluate of the batch with its DLEQ proof, Ed25519 sign of the reply
// envelope. It is counted per CPU second of that thread, i.e. per core.
//
// The node: a federation of real cbx-node processes (tests/integration
// harness) in which RS's identity (its TLS certificate and signing key)
// sends signed evaluate_request envelopes to MK's node from N client
// threads, one TLS connection each. Every envelope has a fresh message id
// (the replay cache refuses reuses) and the policy's daily quota is raised
// out of the way. The envelopes are signed before the timed window, so the
// window holds only gRPC calls on the client side.
//
// CPU accounting: the client and the nodes share this machine's cores, so
// the wall-clock figure depends on how much CPU the load generator takes.
// The headline ratio therefore divides by the node process's own CPU time
// (utime + stime from /proc/<pid>/stat over the window: every thread of
// cbx-node, i.e. TLS, gRPC, envelope checks, SQLite and logging), which the
// client's CPU does not inflate. The client's and the other node's CPU and
// the machine's busy time over the same window are printed next to it, as
// are the node's CPU with no load (its background timers), its per-request
// kernel share, write syscalls and bytes written (/proc/<pid>/io), and the
// CPU of the per-call client-certificate check the node runs besides the
// bare crypto — to show where the rest of the node's time goes.
//
//   cbx_evaluate_throughput_bench [--threads N] [--batches 1,16]
//       [--seconds S] [--warmup S] [--bare-seconds S] [--idle-seconds S]
//       [--index-interval-ms MS]
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/node/node_bench_util.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/crypto/x509.h"
#include "core/envelope/envelope.h"
#include "core/util/clock.h"
#include "grpcpp/client_context.h"
#include "tests/integration/federation.h"

namespace cbx::bench {
namespace {

constexpr char kNode[] = "MK";    // the node under load
constexpr char kClient[] = "RS";  // the member whose identity sends
constexpr char kClientOffice[] = "RS/VJT-Beograd";
constexpr double kGoalRatio = 0.7;
// Envelopes are signed up to a few seconds before they are sent; the
// policy allows 300 s of lifetime and 60 s of clock skew.
constexpr int64_t kLifetimeMs = 120'000;
constexpr double kMaxWindowSeconds = 40;

struct Options {
  int64_t threads = 8;
  std::vector<int64_t> batches = {1, 16};
  double seconds = 10;
  double warmup = 2;
  double bare_seconds = 3;
  double idle_seconds = 2;
  int64_t index_interval_ms = 2000;
};

// Distinct blinded elements; envelopes reuse them (a node keeps no record
// of the elements it evaluated, only of message ids).
std::vector<Bytes> BlindedElements(size_t n) {
  std::vector<Bytes> out;
  for (size_t i = 0; i < n; ++i) {
    auto b = crypto::OprfBlind("cbx bench input " + std::to_string(i));
    if (!b.ok()) Die("OprfBlind: " + b.status().ToString());
    out.push_back(std::move(b->blinded_element));
  }
  return out;
}

v1::Message EvaluateRequest(const std::vector<Bytes>& pool, size_t first,
                            int64_t batch) {
  v1::Message msg;
  *msg.mutable_header() =
      envelope::MakeHeader(kClient, {kNode}, SystemClock::Get(), kLifetimeMs);
  msg.mutable_header()->set_office(kClientOffice);
  v1::EvaluateRequest* req = msg.mutable_evaluate_request();
  req->set_oprf_epoch(1);
  for (int64_t i = 0; i < batch; ++i) {
    req->add_blinded_elements(pool[(first + i) % pool.size()]);
  }
  req->mutable_purpose()->set_case_number("RS-2026-BENCH");
  req->mutable_purpose()->set_legal_basis("MLA Convention 1959, Art. 1");
  req->mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  return msg;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) Die("cannot read " + path);
  return text.str();
}

// --- The bare crypto bound ---------------------------------------------------

struct Bare {
  int64_t requests = 0;
  double cpu_seconds = 0;
  double wall_seconds = 0;
  double PerCore() const { return requests / cpu_seconds; }
};

Bare MeasureBare(int64_t batch, double seconds) {
  const crypto::Ed25519PrivateKey sender =
      crypto::Ed25519PrivateKey::Generate();
  const crypto::Ed25519PrivateKey node = crypto::Ed25519PrivateKey::Generate();
  const crypto::OprfServerKey oprf = crypto::OprfServerKey::Generate();
  const std::vector<Bytes> pool = BlindedElements(batch);
  const v1::Envelope request =
      envelope::Seal(EvaluateRequest(pool, 0, batch), sender);
  const Bytes request_input = envelope::EnvelopeSigningInput(request.body());
  const std::vector<Bytes> blinded(pool.begin(), pool.begin() + batch);

  // A reply body of the size the node signs.
  auto evaluated = oprf.BlindEvaluate(blinded);
  if (!evaluated.ok()) Die("BlindEvaluate: " + evaluated.status().ToString());
  v1::Message reply;
  *reply.mutable_header() =
      envelope::MakeHeader(kNode, {kClient}, SystemClock::Get(), 300'000);
  v1::EvaluateResponse* resp = reply.mutable_evaluate_response();
  resp->set_oprf_epoch(1);
  for (const Bytes& e : evaluated->evaluated_elements) {
    resp->add_evaluated_elements(e);
  }
  resp->set_proof(evaluated->proof);
  const Bytes reply_input =
      envelope::EnvelopeSigningInput(reply.SerializeAsString());

  auto one = [&] {
    if (!sender.public_key().Verify(request_input, request.signature())) {
      Die("the request's signature does not verify");
    }
    auto e = oprf.BlindEvaluate(blinded);
    if (!e.ok() || e->proof.size() != crypto::kVoprfProofSize) {
      Die("BlindEvaluate failed");
    }
    Bytes signature = node.Sign(reply_input);
    if (signature.size() != crypto::kEd25519SignatureSize) Die("Sign failed");
  };
  for (double end = NowSeconds() + std::min(0.2, seconds); NowSeconds() < end;)
    one();

  Bare bare;
  const double cpu0 = ThreadCpuSeconds();
  const double wall0 = NowSeconds();
  const double end = wall0 + seconds;
  do {
    one();
    ++bare.requests;
  } while (NowSeconds() < end);
  bare.cpu_seconds = ThreadCpuSeconds() - cpu0;
  bare.wall_seconds = NowSeconds() - wall0;
  return bare;
}

// --- Load on the node --------------------------------------------------------

// Signs `count` envelopes on `workers` threads.
std::vector<v1::Envelope> SignEnvelopes(size_t count, int64_t batch,
                                        const crypto::Ed25519PrivateKey& key,
                                        const std::vector<Bytes>& pool,
                                        int workers) {
  std::vector<v1::Envelope> out(count);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = w; i < count; i += workers) {
        out[i] = envelope::Seal(EvaluateRequest(pool, i * batch, batch), key);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return out;
}

struct Window {
  int64_t ok = 0;
  int64_t failed = 0;
  std::string first_error;
  bool ran_out = false;  // every pre-signed envelope was sent
  double wall = 0;
  double node_cpu = 0;
  double node_system_cpu = 0;  // of node_cpu, in the kernel
  int64_t node_write_syscalls = 0;
  int64_t node_bytes_to_disk = 0;
  double other_node_cpu = 0;
  double client_cpu = 0;
  MachineCpu machine;
  std::vector<double> latencies_ms;  // sorted
};

// Sends the envelopes from one thread per stub until `seconds` passed or
// the envelopes ran out, and measures CPU over exactly that window.
Window Drive(const std::vector<std::unique_ptr<v1::Peer::Stub>>& stubs,
             const std::vector<v1::Envelope>& envelopes, int64_t batch,
             double seconds, pid_t node_pid, pid_t other_pid) {
  std::atomic<size_t> next{0};
  std::atomic<bool> go{false};
  std::atomic<bool> ran_out{false};
  double end = 0;
  struct PerThread {
    int64_t ok = 0, failed = 0;
    std::string first_error;
    std::vector<double> latencies_ms;
  };
  std::vector<PerThread> results(stubs.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < stubs.size(); ++t) {
    threads.emplace_back([&, t] {
      PerThread& r = results[t];
      r.latencies_ms.reserve(envelopes.size() / stubs.size() + 16);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      bool checked = false;
      // At least one call each, however late this thread gets to run.
      for (bool first = true; first || NowSeconds() < end; first = false) {
        const size_t i = next.fetch_add(1);
        if (i >= envelopes.size()) {
          ran_out = true;
          break;
        }
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
        v1::Envelope reply;
        const double start = NowSeconds();
        grpc::Status s = stubs[t]->Evaluate(&ctx, envelopes[i], &reply);
        r.latencies_ms.push_back((NowSeconds() - start) * 1000);
        if (!s.ok()) {
          if (r.failed++ == 0) {
            r.first_error =
                std::to_string(s.error_code()) + " " + s.error_message();
          }
          continue;
        }
        ++r.ok;
        if (!checked) {  // the first answer of each connection, in full
          v1::Message msg;
          if (!msg.ParseFromString(reply.body()) ||
              !msg.has_evaluate_response() ||
              msg.evaluate_response().evaluated_elements_size() != batch ||
              msg.evaluate_response().proof().size() !=
                  crypto::kVoprfProofSize) {
            Die("the node's answer is not an evaluate_response of the batch");
          }
          checked = true;
        }
      }
    });
  }
  Window w;
  const MachineCpu machine0 = ReadMachineCpu();
  const ProcessCpu node0 = ReadProcessCpu(node_pid);
  std::map<std::string, int64_t> io0 = ProcIo(node_pid);
  const double other0 = ProcessCpuSeconds(other_pid);
  const double client0 = SelfCpuSeconds();
  const double wall0 = NowSeconds();
  end = wall0 + seconds;
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  w.wall = NowSeconds() - wall0;
  w.client_cpu = SelfCpuSeconds() - client0;
  const ProcessCpu node1 = ReadProcessCpu(node_pid);
  std::map<std::string, int64_t> io1 = ProcIo(node_pid);
  w.node_cpu = node1.total() - node0.total();
  w.node_system_cpu = node1.system - node0.system;
  w.node_write_syscalls = io1["syscw"] - io0["syscw"];
  w.node_bytes_to_disk = io1["write_bytes"] - io0["write_bytes"];
  w.other_node_cpu = ProcessCpuSeconds(other_pid) - other0;
  const MachineCpu machine1 = ReadMachineCpu();
  w.machine.busy = machine1.busy - machine0.busy;
  w.machine.total = machine1.total - machine0.total;
  w.ran_out = ran_out;
  for (PerThread& r : results) {
    w.ok += r.ok;
    w.failed += r.failed;
    if (w.first_error.empty()) w.first_error = r.first_error;
    w.latencies_ms.insert(w.latencies_ms.end(), r.latencies_ms.begin(),
                          r.latencies_ms.end());
  }
  std::sort(w.latencies_ms.begin(), w.latencies_ms.end());
  return w;
}

struct Result {
  int64_t batch = 0;
  Bare bare;
  Window window;
  double NodePerCpu() const { return window.ok / window.node_cpu; }
  double Ratio() const { return NodePerCpu() / bare.PerCore(); }
};

void PrintResult(const Result& r, int cores, int64_t threads,
                 double idle_cores) {
  const Window& w = r.window;
  const double wall_rate = w.ok / w.wall;
  std::printf("\nbatch B=%lld (%lld elements per request)\n",
              static_cast<long long>(r.batch), static_cast<long long>(r.batch));
  std::printf(
      "  bare crypto bound, 1 thread:   %9.1f req/s per core "
      "(%lld requests in %.2f s of CPU, %.2f s wall)\n",
      r.bare.PerCore(), static_cast<long long>(r.bare.requests),
      r.bare.cpu_seconds, r.bare.wall_seconds);
  std::printf(
      "  node %s over mTLS gRPC:      %9.1f req/s wall-clock = %.0f "
      "elements/s (%lld ok, %lld failed, %lld client threads, %.2f s)\n",
      kNode, wall_rate, wall_rate * r.batch, static_cast<long long>(w.ok),
      static_cast<long long>(w.failed), static_cast<long long>(threads),
      w.wall);
  if (w.failed > 0)
    std::printf("    first failure: %s\n", w.first_error.c_str());
  if (w.ran_out) {
    std::printf(
        "    (the pre-signed envelopes ran out before the window ended; the "
        "window is the time they lasted)\n");
  }
  std::printf(
      "  CPU over the window (%.2f s x %d cores = %.2f core-s): node %s %.2f "
      "s (%.0f%% of the machine), client (this process) %.2f s, node %s "
      "%.2f s, anything else on the machine %.2f s (machine busy %.2f s)\n",
      w.wall, cores, w.wall * cores, kNode, w.node_cpu,
      100 * w.node_cpu / (w.wall * cores), w.client_cpu, kClient,
      w.other_node_cpu,
      std::max(0.0,
               w.machine.busy - w.node_cpu - w.client_cpu - w.other_node_cpu),
      w.machine.busy);
  std::printf("  node per node-CPU-second:      %9.1f req/s\n", r.NodePerCpu());
  std::printf(
      "  node cost per request: %.0f us CPU (%.0f%% of it in the kernel), "
      "%.1f write syscalls, %.1f KB to storage; bare crypto %.0f us\n",
      1e6 * w.node_cpu / w.ok, 100 * w.node_system_cpu / w.node_cpu,
      static_cast<double>(w.node_write_syscalls) / w.ok,
      w.node_bytes_to_disk / 1024.0 / w.ok, 1e6 / r.bare.PerCore());
  if (idle_cores > 0) {
    std::printf(
        "    (without the idle background work: %.0f us CPU per request)\n",
        1e6 * std::max(0.0, w.node_cpu - idle_cores * w.wall) / w.ok);
  }
  std::printf(
      "  per-call latency at the client: p50 %.2f ms, p99 %.2f ms, max %.2f "
      "ms\n",
      Percentile(w.latencies_ms, 50), Percentile(w.latencies_ms, 99),
      w.latencies_ms.empty() ? 0.0 : w.latencies_ms.back());
  std::printf(
      "  ratio node req per node-CPU-s / bare req/s per core: %.2f\n"
      "  wall-clock / (bare per core x %d cores):           %.2f "
      "(the client shares those cores)\n",
      r.Ratio(), cores, wall_rate / (r.bare.PerCore() * cores));
}

int Main(int argc, char** argv) {
  SetProgramName("cbx_evaluate_throughput_bench");
  Options o;
  Flags flags(
      "cbx_evaluate_throughput_bench [--threads N] [--batches 1,16] "
      "[--seconds S] [--warmup S] [--bare-seconds S] [--idle-seconds S] "
      "[--index-interval-ms MS]");
  flags.Int("--threads", &o.threads, 1, 64);
  flags.IntList("--batches", &o.batches, 1, 1024);
  flags.Double("--seconds", &o.seconds, 0.1, kMaxWindowSeconds);
  flags.Double("--warmup", &o.warmup, 0, 30);
  flags.Double("--bare-seconds", &o.bare_seconds, 0.05, 60);
  flags.Double("--idle-seconds", &o.idle_seconds, 0, 60);
  flags.Int("--index-interval-ms", &o.index_interval_ms, 100, 86'400'000);
  flags.Parse(argc, argv);

  const int cores = UsableCores();
  std::printf(
      "cbx_evaluate_throughput_bench: Peer.Evaluate throughput of one node "
      "vs the bare crypto bound\n"
      "machine: %d usable cores (%d online), %s\n"
      "load: %lld client threads in this process, one mTLS connection each, "
      "sending as %s to %s; batches %s; %.1f s timed per batch after %.1f s "
      "of warm-up; index sync every %lld ms, other node timers at their "
      "defaults\n",
      cores, OnlineCores(), CpuModel().c_str(),
      static_cast<long long>(o.threads), kClient, kNode,
      [&] {
        std::string s;
        for (int64_t b : o.batches) {
          s += (s.empty() ? "" : ",") + std::to_string(b);
        }
        return s;
      }()
          .c_str(),
      o.seconds, o.warmup, static_cast<long long>(o.index_interval_ms));
  std::printf(
      "CPU accounting: envelopes are signed before each window; inside it "
      "the client only makes gRPC calls. The headline divides by the node "
      "process's CPU time (/proc/<pid>/stat), so the client's CPU does not "
      "count against the node; wall-clock figures are shown too.\n");
  std::fflush(stdout);

  // The bare bound first, on a quiet machine.
  std::vector<Result> results;
  for (int64_t batch : o.batches) {
    Result r;
    r.batch = batch;
    r.bare = MeasureBare(batch, o.bare_seconds);
    results.push_back(std::move(r));
  }

  testing::FederationOptions options;
  options.countries = {kNode, kClient};
  options.index_interval_ms = o.index_interval_ms;
  options.edit_spec = [](nlohmann::json& spec) {
    spec["policy"]["evaluations_per_peer_per_day"] = 4'000'000'000u;
  };
  const double create0 = NowSeconds();
  auto federation = testing::Federation::Create(options);
  if (!federation.ok()) Die(federation.status().ToString());
  std::unique_ptr<testing::Federation> owner = *std::move(federation);
  testing::Federation& fed = *owner;
  SetCleanup([&owner] { owner.reset(); });
  UseDefaultTimers(fed, options.countries, o.index_interval_ms);
  if (absl::Status s = fed.StartAll(); !s.ok()) Die(s.ToString());
  std::printf("federation %s+%s made and started in %.1f s (%s)\n", kNode,
              kClient, NowSeconds() - create0, fed.dir().c_str());
  std::fflush(stdout);
  const pid_t node_pid = NodePid(fed, kNode);
  const pid_t other_pid = NodePid(fed, kClient);
  const crypto::Ed25519PrivateKey key = fed.SigningKey(kClient);

  std::vector<std::unique_ptr<v1::Peer::Stub>> stubs;
  for (int64_t t = 0; t < o.threads; ++t) {
    stubs.push_back(fed.PeerAs(kNode, kClient));
  }
  // Not in the bare bound, but per call in the node too: the check that
  // the client certificate was issued by its member's CA (node/identity).
  {
    const std::string leaf = ReadFileOrDie(fed.NodeDir(kClient) + "/node.crt");
    const std::vector<std::string> cas = {
        ReadFileOrDie(fed.NodeDir(kClient) + "/ca.crt")};
    int64_t n = 0;
    const double cpu0 = ThreadCpuSeconds();
    const double end = NowSeconds() + std::min(0.5, o.bare_seconds);
    do {
      if (absl::Status s = crypto::VerifyCertificateIssuedBy(leaf, cas);
          !s.ok()) {
        Die("VerifyCertificateIssuedBy: " + s.ToString());
      }
      ++n;
    } while (NowSeconds() < end);
    std::printf(
        "for comparison, per call the node also checks the client "
        "certificate's issuer (X.509, not in the bare bound): %.0f us CPU\n",
        1e6 * (ThreadCpuSeconds() - cpu0) / n);
  }
  // What the node burns with no load (index and directory sync, audit
  // timers), to tell it apart from the per-request cost.
  double idle_cores = 0;
  if (o.idle_seconds > 0) {
    const double cpu0 = ProcessCpuSeconds(node_pid);
    const double wall0 = NowSeconds();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
    idle_cores = (ProcessCpuSeconds(node_pid) - cpu0) / (NowSeconds() - wall0);
    std::printf(
        "node %s idle (no load, %.1f s): %.1f%% of one core for background "
        "work\n",
        kNode, o.idle_seconds, 100 * idle_cores);
  }
  const std::vector<Bytes> pool = BlindedElements(64);
  const int signers = std::max(1, cores);
  for (Result& r : results) {
    // Enough envelopes for the node to run at its bare bound on every core,
    // with a margin; should they run out, the window ends there.
    auto enough = [&](double seconds) {
      return static_cast<size_t>(
                 std::ceil(r.bare.PerCore() * cores * seconds * 1.3)) +
             static_cast<size_t>(2 * o.threads);
    };
    if (o.warmup > 0) {
      std::vector<v1::Envelope> warm =
          SignEnvelopes(enough(o.warmup), r.batch, key, pool, signers);
      Window w = Drive(stubs, warm, r.batch, o.warmup, node_pid, other_pid);
      if (w.ok == 0) {
        fed.DumpLogs();
        Die("no evaluation succeeded during warm-up: " + w.first_error);
      }
    }
    const double sign0 = NowSeconds();
    std::vector<v1::Envelope> envelopes =
        SignEnvelopes(enough(o.seconds), r.batch, key, pool, signers);
    const double signing = NowSeconds() - sign0;
    r.window = Drive(stubs, envelopes, r.batch, o.seconds, node_pid, other_pid);
    std::printf("(B=%lld: %zu envelopes signed in %.2f s before the window)\n",
                static_cast<long long>(r.batch), envelopes.size(), signing);
    if (r.window.ok == 0) {
      fed.DumpLogs();
      Die("no evaluation succeeded: " + r.window.first_error);
    }
    PrintResult(r, cores, o.threads, idle_cores);
    std::fflush(stdout);
  }

  std::printf(
      "\nsummary (goal: node req per node-CPU-second >= %.1f x the "
      "bare bound per core)\n",
      kGoalRatio);
  bool failures = false;
  for (const Result& r : results) {
    const double ratio = r.Ratio();
    std::printf(
        "  B=%-4lld node %8.1f req/s per node-CPU-s, bare %8.1f req/s per "
        "core, ratio %.2f: goal %s; wall-clock %8.1f req/s on %d cores\n",
        static_cast<long long>(r.batch), r.NodePerCpu(), r.bare.PerCore(),
        ratio, ratio >= kGoalRatio ? "met" : "missed",
        r.window.ok / r.window.wall, cores);
    failures |= r.window.failed > 0;
  }
  if (failures) {
    std::printf("some calls failed (see above)\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace cbx::bench

int main(int argc, char** argv) { return cbx::bench::Main(argc, argv); }
