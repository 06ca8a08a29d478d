#include "node/standby.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "absl/strings/str_cat.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "node/metrics.h"

namespace cbx::node {
namespace {

// Answers every method at once, reading nothing.
class RefuseAll : public grpc::CallbackGenericService {
 public:
  explicit RefuseAll(std::string message) : message_(std::move(message)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(const std::string& message) {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, message));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor(message_);
  }

 private:
  const std::string message_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StandbyServer>> StandbyServer::Start(
    const Config& config, const std::string& instance) {
  ASSIGN_OR_RETURN(std::string cert,
                   Env::Default()->ReadFile(config.tls_certificate));
  ASSIGN_OR_RETURN(std::string key,
                   Env::Default()->ReadFile(config.tls_private_key));
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({key, cert});
  std::unique_ptr<StandbyServer> s(new StandbyServer());
  const std::string message = absl::StrCat(
      "standby: this node (", instance, ") of ", config.member,
      " is the standby of an active/standby pair; call the member's other "
      "endpoint");
  grpc::EnableDefaultHealthCheckService(true);
  // A generic service serves one server only: one each.
  auto serve = [&](const std::string& listen, const std::string& field,
                   std::unique_ptr<grpc::CallbackGenericService>& refuse,
                   std::unique_ptr<grpc::Server>& out) -> absl::Status {
    refuse = std::make_unique<RefuseAll>(message);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(listen, grpc::SslServerCredentials(ssl), &port);
    builder.RegisterCallbackGenericService(refuse.get());
    out = builder.BuildAndStart();
    if (out == nullptr || port == 0) {
      return absl::UnavailableError(
          absl::StrCat(field, ": cannot listen on ", listen));
    }
    out->GetHealthCheckService()->SetServingStatus(false);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(serve(config.peer_listen, "peer_listen", s->refuse_peer_,
                        s->peer_server_));
  RETURN_IF_ERROR(serve(config.office_listen, "office_listen",
                        s->refuse_office_, s->office_server_));
  RETURN_IF_ERROR(s->StartAdmin(config));
  return s;
}

absl::Status StandbyServer::StartAdmin(const Config& config) {
  if (config.admin_listen.empty()) return absl::OkStatus();
  io_ = std::make_unique<boost::asio::io_context>();
  std::map<std::string, AdminHttp::Handler> routes;
  routes["/healthz"] = [] {
    return AdminHttp::Response{200, "text/plain; charset=utf-8", "ok\n"};
  };
  routes["/readyz"] = [] {
    return AdminHttp::Response{
        503, "text/plain; charset=utf-8",
        "not ready\nleadership: standby (another node of the pair is "
        "active)\n"};
  };
  routes["/metrics"] = [] {
    return AdminHttp::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                               MetricsRegistry::Default().Render()};
  };
  AdminHttp::Options options;
  options.allow_non_loopback = config.admin_allow_non_loopback;
  ASSIGN_OR_RETURN(admin_, AdminHttp::Start(*io_, config.admin_listen,
                                            std::move(routes), options));
  admin_thread_ = std::thread([io = io_.get()] {
    auto work = boost::asio::make_work_guard(*io);
    io->run();
  });
  return absl::OkStatus();
}

StandbyServer::~StandbyServer() {
  if (peer_server_) peer_server_->Shutdown();
  if (office_server_) office_server_->Shutdown();
  // AdminHttp is closed while its io_context runs on no thread
  // (node/admin_http.h), which frees the address for the active node.
  if (io_) io_->stop();
  if (admin_thread_.joinable()) admin_thread_.join();
  admin_.reset();
}

void RegisterActiveGauge(const std::atomic<bool>* active) {
  MetricsRegistry::Default().AddCollector([active](Exposition& out) {
    out.Gauge("cbx_node_active",
              "1 if this node serves (alone, or the active node of a pair), "
              "0 if it is the standby",
              {}, active->load() ? 1 : 0);
  });
}

}  // namespace cbx::node
