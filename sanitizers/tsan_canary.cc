// cbx_tsan_canary: proof that `make tsan` can still see a race in project
// code that runs in gRPC's threads, under the very TSAN_OPTIONS and
// suppressions the suite runs with (README "Sanitizers"). Those options make
// TSan ignore what Debian's uninstrumented gRPC, Abseil and protobuf do
// (ignore_noninstrumented_modules); a 0-finding run means something only if
// a handler's own race is still reported.
//
// An Office service on a loopback port answers ListPeers; two client threads
// call it at once, so two of gRPC's server threads run the handler together.
// The handler bumps two counters: one under a std::mutex (the project's way,
// which TSan sees: it must not be reported) and one with no lock at all (a
// race: it must be). sanitizers/tsan_canary.sh runs this and checks both.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cbx/v1/office.grpc.pb.h"

namespace cbx::sanitizers {
namespace {

constexpr int kCallsPerThread = 50;

class CanaryOffice final : public v1::Office::Service {
 public:
  grpc::Status ListPeers(grpc::ServerContext*, const v1::ListPeersRequest*,
                         v1::ListPeersResponse*) override {
    GuardedCount();
    UnguardedCount();
    return grpc::Status::OK;
  }

  // Out of line so that each access has its own frame to name in a report.
  __attribute__((noinline)) void GuardedCount() {
    std::lock_guard<std::mutex> lock(mu_);
    ++guarded_calls_;
  }
  __attribute__((noinline)) void UnguardedCount() { ++unguarded_calls_; }

 private:
  std::mutex mu_;
  int guarded_calls_ = 0;
  int unguarded_calls_ = 0;
};

int Main() {
  CanaryOffice service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cbx_tsan_canary: cannot listen on loopback\n");
    return 2;
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  std::vector<std::thread> callers;
  int failed = 0;
  std::mutex failed_mu;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&] {
      auto stub = v1::Office::NewStub(channel);
      for (int i = 0; i < kCallsPerThread; ++i) {
        grpc::ClientContext ctx;
        v1::ListPeersResponse response;
        if (!stub->ListPeers(&ctx, v1::ListPeersRequest(), &response).ok()) {
          std::lock_guard<std::mutex> lock(failed_mu);
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
  server->Shutdown();
  if (failed > 0) {
    std::fprintf(stderr, "cbx_tsan_canary: %d calls failed\n", failed);
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace cbx::sanitizers

int main() { return cbx::sanitizers::Main(); }
