#include "conformance/runner.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cbx/v1/office.grpc.pb.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "conformance/exchange.h"
#include "conformance/request_builder.h"
#include "core/util/status_macros.h"
#include "grpcpp/generic/generic_stub.h"

namespace cbx::conformance {
namespace {

using nlohmann::json;

constexpr int kDeadlineSeconds = 30;

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(kDeadlineSeconds));
}

// gRPC's code names, as the case files spell them (absl's codes are
// gRPC's).
std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// The raw bytes of an Envelope RPC's request, sent as they are (a body
// that is not an Envelope at all).
grpc::Status SendRaw(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  grpc::CompletionQueue cq;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  auto call = stub.PrepareUnaryCall(&ctx, method, request, &cq);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

grpc::Status SendEnvelope(v1::Peer::Stub& stub, const std::string& rpc,
                          const v1::Envelope& env, Exchange& ex) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  if (rpc == "Peer.Evaluate") return stub.Evaluate(&ctx, env, &ex.reply);
  if (rpc == "Peer.Resolve") return stub.Resolve(&ctx, env, &ex.reply);
  ex.parts.clear();
  auto reader = stub.SyncIndex(&ctx, env);
  v1::IndexPart part;
  while (reader->Read(&part)) ex.parts.push_back(part);
  return reader->Finish();
}

// Sends the case's request; fills `ex`. A non-OK return means the case
// could not be built or sent at all (not the node's answer).
absl::Status Send(const Kit& kit, const json& c, Runner::Seen& seen,
                  Exchange& ex) {
  const std::string rpc = c["rpc"];
  const bool office = rpc.rfind("Office.", 0) == 0;
  const std::string tls =
      c.value("tls", office ? std::string("office:auditor") : kit.target().as);
  ex.as = Kit::MemberOfTls(tls);
  ASSIGN_OR_RETURN(auto channel, kit.Channel(tls, office));
  RequestBuilder build(&kit, &seen);
  if (office) {
    auto stub = v1::Office::NewStub(channel);
    return SendOffice(*stub, build, c, ex);
  }
  auto stub = v1::Peer::NewStub(channel);
  if (rpc == "Peer.Evaluate" || rpc == "Peer.Resolve" ||
      rpc == "Peer.SyncIndex") {
    const json env = c.value("envelope", json::object());
    if (env.value("not_an_envelope", false)) {
      // Field 1 (body) announcing 5 bytes and carrying 2: no Envelope.
      ex.status = SendRaw(channel, "/cbx.v1.Peer/" + rpc.substr(5),
                          std::string("\x0a\x05"
                                      "ab",
                                      4));
      return absl::OkStatus();
    }
    const int until = c.value("repeat_until_refused", 0);
    for (int call = 0; call < std::max(1, until); ++call) {
      ASSIGN_OR_RETURN(v1::Envelope sealed, build.Envelope(c, ex));
      ex.status = SendEnvelope(*stub, rpc, sealed, ex);
      if (env.value("replay", false)) {
        if (!ex.status.ok()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the first send was refused ", CodeName(ex.status.error_code()),
              ": ", ex.status.error_message()));
        }
        ex.status = SendEnvelope(*stub, rpc, sealed, ex);
      }
      if (until == 0 || !ex.status.ok()) return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat("still answered OK after ", until, " calls"));
  }
  return SendPeerPlain(*stub, build, c, ex);
}

}  // namespace

absl::StatusOr<std::vector<json>> LoadCases(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  if (ec) return absl::NotFoundError("cannot list " + dir);
  std::sort(files.begin(), files.end());
  std::vector<json> cases;
  std::set<std::string> ids;
  for (const std::string& file : files) {
    std::ifstream in(file);
    json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.contains("cases") ||
        !doc["cases"].is_array()) {
      return absl::InvalidArgumentError(file + ": not a case file");
    }
    for (const json& c : doc["cases"]) {
      if (!c.contains("id") || !c.contains("rpc") || !c.contains("expect")) {
        return absl::InvalidArgumentError(file +
                                          ": a case lacks id, rpc or expect");
      }
      if (!ids.insert(c["id"].get<std::string>()).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            file, ": id ", c["id"].get<std::string>(), " is used twice"));
      }
      cases.push_back(c);
    }
  }
  return cases;
}

CaseResult Runner::Run(const json& c) {
  CaseResult result;
  result.id = c["id"];
  Exchange ex;
  absl::Status sent = Send(*kit_, c, seen_, ex);
  if (!sent.ok()) {
    result.why = std::string(sent.message());
    return result;
  }
  const json& expect = c["expect"];
  std::vector<std::string> codes;
  if (expect["code"].is_array()) {
    for (const json& code : expect["code"]) codes.push_back(code);
  } else {
    codes.push_back(expect["code"]);
  }
  const std::string got = CodeName(ex.status.error_code());
  if (std::find(codes.begin(), codes.end(), got) == codes.end()) {
    result.why =
        absl::StrCat("expected ", absl::StrJoin(codes, " or "), ", got ", got);
    if (!ex.status.error_message().empty()) {
      result.why += ": " + ex.status.error_message().substr(0, 200);
    }
    return result;
  }
  for (const json& p : expect.value("properties", json::array())) {
    absl::Status holds = CheckProperty(p, *kit_, ex, seen_);
    if (!holds.ok()) {
      result.why = absl::StrCat(p.get<std::string>(), ": ", holds.message());
      return result;
    }
  }
  result.passed = true;
  return result;
}

}  // namespace cbx::conformance
