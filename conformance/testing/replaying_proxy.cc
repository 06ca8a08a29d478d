#include "conformance/testing/replaying_proxy.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/method_handler.h"
#include "grpcpp/support/sync_stream.h"

namespace cbx::conformance {
namespace {

namespace fs = std::filesystem;
using grpc::ByteBuffer;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Bytes(const ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return ByteBuffer(&slice, 1);
}

// Every certificate of the kit, by its PEM text: (certificate, key) files.
struct Identity {
  std::string cert_pem, key_pem;
};

class ProxyService final : public grpc::Service {
 public:
  ProxyService(std::string kit_dir, std::string target)
      : target_(std::move(target)) {
    for (const auto& e : fs::recursive_directory_iterator(kit_dir)) {
      if (e.path().extension() != ".crt" || e.path().stem() == "ca") continue;
      fs::path key = e.path();
      key.replace_extension(".key");
      Identity id{Slurp(e.path()), Slurp(key)};
      identities_[id.cert_pem] = id;
    }
    for (const auto& e : fs::directory_iterator(kit_dir)) {
      if (fs::exists(e.path() / "ca.crt") && e.path().filename() != "bad") {
        roots_ += Slurp(e.path() / "ca.crt");
      }
    }
    // RpcServiceMethod keeps the name's pointer: string literals.
    for (const char* method :
         {"/cbx.v1.Peer/GetDirectory", "/cbx.v1.Peer/Evaluate",
          "/cbx.v1.Peer/Resolve", "/cbx.v1.Peer/GetCheckpoint",
          "/cbx.v1.Peer/AddCosignature"}) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          method, grpc::internal::RpcMethod::NORMAL_RPC,
          new grpc::internal::RpcMethodHandler<ProxyService, ByteBuffer,
                                               ByteBuffer>(
              [method](ProxyService* self, grpc::ServerContext* ctx,
                       const ByteBuffer* req, ByteBuffer* resp) {
                return self->Unary(method, ctx, *req, resp);
              },
              this)));
    }
    AddMethod(new grpc::internal::RpcServiceMethod(
        "/cbx.v1.Peer/SyncIndex", grpc::internal::RpcMethod::SERVER_STREAMING,
        new grpc::internal::ServerStreamingHandler<ProxyService, ByteBuffer,
                                                   ByteBuffer>(
            [](ProxyService* self, grpc::ServerContext* ctx,
               const ByteBuffer* req, grpc::ServerWriter<ByteBuffer>* w) {
              return self->Stream(ctx, *req, w);
            },
            this)));
  }

  const std::string& roots() const { return roots_; }

 private:
  // A channel to the node presenting the caller's own certificate.
  std::shared_ptr<grpc::Channel> ChannelFor(grpc::ServerContext* ctx) {
    auto pems = ctx->auth_context()->FindPropertyValues("x509_pem_cert");
    if (pems.empty()) return nullptr;
    std::string pem(pems[0].data(), pems[0].size());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = identities_.find(pem);
    if (it == identities_.end()) return nullptr;
    auto& channel = channels_[pem];
    if (channel == nullptr) {
      grpc::SslCredentialsOptions options;
      options.pem_root_certs = roots_;
      options.pem_cert_chain = it->second.cert_pem;
      options.pem_private_key = it->second.key_pem;
      grpc::ChannelArguments args;
      args.SetSslTargetNameOverride("localhost");
      channel = grpc::CreateCustomChannel(target_,
                                          grpc::SslCredentials(options), args);
    }
    return channel;
  }

  // The broken rule: a request seen before is answered from the cache.
  bool Cached(const std::string& key, std::vector<std::string>* answer) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) return false;
    *answer = it->second;
    return true;
  }

  void Remember(const std::string& key, std::vector<std::string> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    cache_[key] = std::move(answer);
  }

  grpc::Status Unary(const std::string& method, grpc::ServerContext* ctx,
                     const ByteBuffer& req, ByteBuffer* resp) {
    const bool envelope =
        method == "/cbx.v1.Peer/Evaluate" || method == "/cbx.v1.Peer/Resolve";
    const std::string key = method + "|" + Bytes(req);
    std::vector<std::string> cached;
    if (envelope && Cached(key, &cached)) {
      *resp = Buffer(cached[0]);
      return grpc::Status::OK;
    }
    auto channel = ChannelFor(ctx);
    if (channel == nullptr) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "proxy: not a kit certificate");
    }
    grpc::ClientContext out;
    out.set_deadline(ctx->deadline());
    grpc::Status status =
        grpc::internal::BlockingUnaryCall<ByteBuffer, ByteBuffer>(
            channel.get(),
            grpc::internal::RpcMethod(method.c_str(),
                                      grpc::internal::RpcMethod::NORMAL_RPC),
            &out, req, resp);
    if (envelope && status.ok()) Remember(key, {Bytes(*resp)});
    return status;
  }

  grpc::Status Stream(grpc::ServerContext* ctx, const ByteBuffer& req,
                      grpc::ServerWriter<ByteBuffer>* writer) {
    const std::string key = "/cbx.v1.Peer/SyncIndex|" + Bytes(req);
    std::vector<std::string> parts;
    if (Cached(key, &parts)) {
      for (const std::string& p : parts) writer->Write(Buffer(p));
      return grpc::Status::OK;
    }
    auto channel = ChannelFor(ctx);
    if (channel == nullptr) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "proxy: not a kit certificate");
    }
    grpc::ClientContext out;
    out.set_deadline(ctx->deadline());
    std::unique_ptr<grpc::ClientReader<ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod(
                "/cbx.v1.Peer/SyncIndex",
                grpc::internal::RpcMethod::SERVER_STREAMING),
            &out, req));
    ByteBuffer part;
    while (reader->Read(&part)) {
      parts.push_back(Bytes(part));
      writer->Write(part);
    }
    grpc::Status status = reader->Finish();
    if (status.ok()) Remember(key, std::move(parts));
    return status;
  }

  const std::string target_;
  std::string roots_;
  std::map<std::string, Identity> identities_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

struct ReplayingProxy::Impl {
  std::unique_ptr<ProxyService> service;
  std::unique_ptr<grpc::Server> server;
};

absl::StatusOr<std::unique_ptr<ReplayingProxy>> ReplayingProxy::Start(
    const std::string& kit_dir, const std::string& node_peer_address) {
  std::unique_ptr<ReplayingProxy> proxy(new ReplayingProxy());
  proxy->impl_ = std::make_unique<Impl>();
  proxy->impl_->service =
      std::make_unique<ProxyService>(kit_dir, node_peer_address);
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = proxy->impl_->service->roots();
  options.pem_key_cert_pairs.push_back(
      {Slurp(kit_dir + "/QT/node.key"), Slurp(kit_dir + "/QT/node.crt")});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options),
                           &port);
  builder.RegisterService(proxy->impl_->service.get());
  proxy->impl_->server = builder.BuildAndStart();
  if (proxy->impl_->server == nullptr || port == 0) {
    return absl::InternalError("the proxy did not start");
  }
  proxy->address_ = absl::StrCat("127.0.0.1:", port);
  return proxy;
}

ReplayingProxy::~ReplayingProxy() {
  if (impl_ != nullptr && impl_->server != nullptr) impl_->server->Shutdown();
}

}  // namespace cbx::conformance
