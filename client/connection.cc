#include "client/connection.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/messages.h"
#include "client/names.h"
#include "client/strings.h"
#include "core/crypto/x509.h"
#include "core/util/status_macros.h"
#include "core/util/env.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace cbx::client {
namespace {

// PEM files are small; anything larger is not one.
constexpr long kMaxPemBytes = 1 << 20;
// One day: beyond that a "timeout" is a typo.
constexpr double kMaxTimeoutS = 86400;

struct Option {
  std::string_view flag;
  const char* env;
  std::string_view what;  // "FILE", "HOST:PORT"
};

constexpr Option kNode = {"--node", "CBX_NODE", "HOST:PORT"};
// An active/standby pair has two nodes; a few more are allowed.
constexpr size_t kMaxNodeEndpoints = 4;
// How long each endpoint of a pair is given to say whether it serves.
constexpr std::chrono::milliseconds kHealthProbeTimeout{3000};
constexpr Option kCert = {"--cert", "CBX_CERT", "FILE"};
constexpr Option kKey = {"--key", "CBX_KEY", "FILE"};
constexpr Option kCa = {"--ca", "CBX_CA", "FILE"};

// The option's value and where it came from ("--cert" or "CBX_CERT").
struct Resolved {
  std::string value;
  std::string source;
};

absl::StatusOr<Resolved> Resolve(const Option& option,
                                 const std::string& flag_value,
                                 const EnvLookup& env, std::string_view need) {
  if (!flag_value.empty())
    return Resolved{flag_value, std::string(option.flag)};
  std::optional<std::string> from_env = env(option.env);
  if (from_env && !from_env->empty()) {
    return Resolved{*from_env, std::string(option.env)};
  }
  return absl::InvalidArgumentError(
      "no " + std::string(need) + ": pass " + std::string(option.flag) + " " +
      std::string(option.what) + " or set " + option.env);
}

// Reads a PEM file that must contain `marker`.
absl::StatusOr<std::string> ReadPem(const Option& option, const Resolved& path,
                                    std::string_view marker,
                                    std::string_view kind) {
  std::string where = std::string(option.flag) + " " + Quoted(path.value);
  if (path.source != option.flag) where += " (from " + path.source + ")";
  // A file over the limit is OUT_OF_RANGE: not a PEM file of ours.
  absl::StatusOr<std::string> read =
      Env::Default()->ReadFile(path.value, kMaxPemBytes);
  const bool too_big = read.status().code() == absl::StatusCode::kOutOfRange;
  if (!read.ok() && !too_big) {
    // The Env's message ends in strerror's text ("<what>: <reason>"); the
    // office is shown the flag it gave and that reason.
    std::string message(read.status().message());
    const size_t colon = message.rfind(": ");
    if (colon != std::string::npos) message = message.substr(colon + 2);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cannot read the file: ", message));
  }
  const std::string data = read.ok() ? *std::move(read) : std::string();
  if (too_big || data.find(marker) == std::string::npos) {
    return absl::InvalidArgumentError(where + ": not a PEM " +
                                      std::string(kind) + " (no '" +
                                      std::string(marker) + "')");
  }
  return data;
}

// HOST:PORT with a numeric port, "[v6]:PORT", or a gRPC target URI
// ("dns:///host:port", "unix:/path").
absl::Status ValidateTarget(const Resolved& node) {
  const std::string& t = node.value;
  if (t.rfind("unix:", 0) == 0 || t.rfind("dns:", 0) == 0 ||
      t.rfind("ipv4:", 0) == 0 || t.rfind("ipv6:", 0) == 0) {
    return absl::OkStatus();
  }
  size_t colon = t.rfind(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < t.size() &&
            t.size() - colon - 1 <= 5;
  if (ok) {
    for (size_t i = colon + 1; i < t.size(); ++i) {
      ok = ok && t[i] >= '0' && t[i] <= '9';
    }
    ok = ok && std::atol(t.c_str() + colon + 1) <= 65535;
  }
  if (!ok) {
    std::string where = "--node " + Quoted(t);
    if (node.source != "--node") where += " (from " + node.source + ")";
    return absl::InvalidArgumentError(
        where + ": expected HOST:PORT, e.g. cbx-node.pps.mk:7443");
  }
  return absl::OkStatus();
}

// The endpoints of --node: one, or an active/standby pair's nodes
// separated by commas (spec/active-standby.md §7), each checked as one; a
// gRPC target URI is taken whole (an ipv4: URI holds commas of its own).
absl::StatusOr<std::vector<std::string>> SplitTargets(const Resolved& node) {
  const std::string& t = node.value;
  const bool uri = t.rfind("unix:", 0) == 0 || t.rfind("dns:", 0) == 0 ||
                   t.rfind("ipv4:", 0) == 0 || t.rfind("ipv6:", 0) == 0;
  std::vector<std::string> targets =
      uri ? std::vector<std::string>{t}
          : std::vector<std::string>(absl::StrSplit(t, ','));
  if (targets.size() > kMaxNodeEndpoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("--node: at most ", kMaxNodeEndpoints,
                     " endpoints, separated by commas (the nodes of an "
                     "active/standby pair)"));
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    RETURN_IF_ERROR(ValidateTarget(Resolved{targets[i], node.source}));
    for (size_t j = 0; j < i; ++j) {
      if (targets[j] == targets[i]) {
        return absl::InvalidArgumentError(
            "--node " + Quoted(targets[i]) + ": given twice");
      }
    }
  }
  return targets;
}

// The name the node's certificate must carry: --server-name, else the host
// of --node.
std::string TlsName(const ConnectionSettings& s) {
  if (!s.server_name.empty()) return s.server_name;
  std::string host = s.target;
  if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host.erase(colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string OfficeMemberOfCertificate(const ConnectionFlags& flags,
                                      const EnvLookup& env) {
  absl::StatusOr<Resolved> path = Resolve(kCert, flags.cert, env, "");
  if (!path.ok()) return "";
  absl::StatusOr<std::string> pem =
      Env::Default()->ReadFile(path->value, kMaxPemBytes);
  if (!pem.ok()) return "";
  absl::StatusOr<std::vector<std::string>> uris =
      crypto::CertificateUriSans(*pem);
  if (!uris.ok()) return "";
  constexpr std::string_view kOffice = "spiffe://cbx/office/";
  for (std::string_view uri : *uris) {
    if (!uri.starts_with(kOffice)) continue;
    std::string_view rest = uri.substr(kOffice.size());
    return std::string(rest.substr(0, rest.find('/')));
  }
  return "";
}

absl::StatusOr<std::vector<std::string>> CertificateUris(
    const ConnectionFlags& flags, const EnvLookup& env) {
  ASSIGN_OR_RETURN(Resolved path,
                   Resolve(kCert, flags.cert, env, "client certificate"));
  absl::StatusOr<std::string> pem =
      Env::Default()->ReadFile(path.value, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read the client certificate ", path.value, ": ",
        pem.status().message()));
  }
  absl::StatusOr<std::vector<std::string>> uris =
      crypto::CertificateUriSans(*pem);
  if (!uris.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the client certificate ", path.value, " does not parse"));
  }
  return uris;
}

absl::StatusOr<ConnectionSettings> ResolveConnection(
    const ConnectionFlags& flags, const EnvLookup& env) {
  ConnectionSettings s;
  if (!(flags.timeout_s > 0) || flags.timeout_s > kMaxTimeoutS) {
    return absl::InvalidArgumentError(
        "--timeout: give a number of seconds above 0 and at most 86400");
  }
  s.timeout = std::chrono::milliseconds(
      static_cast<int64_t>(std::ceil(flags.timeout_s * 1000)));

  auto node = Resolve(kNode, flags.node, env, "node address");
  if (!node.ok()) return node.status();
  ASSIGN_OR_RETURN(s.targets, SplitTargets(*node));
  s.target = s.targets.front();
  s.server_name = flags.server_name;

  auto cert = Resolve(kCert, flags.cert, env, "client certificate");
  if (!cert.ok()) return cert.status();
  auto key = Resolve(kKey, flags.key, env, "client private key");
  if (!key.ok()) return key.status();
  auto ca = Resolve(kCa, flags.ca, env, "CA certificate");
  if (!ca.ok()) return ca.status();

  auto cert_pem =
      ReadPem(kCert, *cert, "-----BEGIN CERTIFICATE-----", "certificate");
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = ReadPem(kKey, *key, "PRIVATE KEY-----", "private key");
  if (!key_pem.ok()) return key_pem.status();
  auto ca_pem =
      ReadPem(kCa, *ca, "-----BEGIN CERTIFICATE-----", "CA certificate");
  if (!ca_pem.ok()) return ca_pem.status();

  s.cert_path = cert->value;
  s.key_path = key->value;
  s.ca_path = ca->value;
  s.cert_pem = *std::move(cert_pem);
  s.key_pem = *std::move(key_pem);
  s.ca_pem = *std::move(ca_pem);
  return s;
}

std::shared_ptr<grpc::Channel> CreateChannel(const ConnectionSettings& s) {
  grpc::SslCredentialsOptions ssl;
  // Never empty (ResolveConnection requires --ca), so gRPC's default roots
  // are never used.
  ssl.pem_root_certs = s.ca_pem;
  ssl.pem_private_key = s.key_pem;
  ssl.pem_cert_chain = s.cert_pem;
  grpc::ChannelArguments args;
  if (!s.server_name.empty()) args.SetSslTargetNameOverride(s.server_name);
  return grpc::CreateCustomChannel(s.target, grpc::SslCredentials(ssl), args);
}

std::shared_ptr<grpc::Channel> ActiveChannel(ConnectionSettings& s) {
  if (s.targets.size() < 2) return CreateChannel(s);
  for (const std::string& t : s.targets) {
    ConnectionSettings one = s;
    one.target = t;
    // The probed channel is the one the command then uses: one handshake.
    std::shared_ptr<grpc::Channel> channel = CreateChannel(one);
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::min(s.timeout, kHealthProbeTimeout));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status =
        health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &response);
    if (status.ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      s.target = t;
      return channel;
    }
  }
  s.target = s.targets.front();
  return CreateChannel(s);
}

std::chrono::system_clock::time_point Deadline(const ConnectionSettings& s) {
  return std::chrono::system_clock::now() + s.timeout;
}

namespace {

// What happened and what to do, in plain words.
struct Explained {
  std::string happened;
  std::string todo;
};

bool Has(const std::string& lower, std::initializer_list<std::string_view> any) {
  for (std::string_view needle : any) {
    if (lower.find(needle) != std::string::npos) return true;
  }
  return false;
}

// UNAVAILABLE before or during the connection: gRPC's text says which step
// failed (name resolution, TCP, the TLS handshake); the office is told which
// of the address, the CA or its certificate to check.
Explained Unreachable(const std::string& raw, const ConnectionSettings& s,
                      Lang lang) {
  const std::string lower = absl::AsciiStrToLower(raw);
  const std::string where = s.target.empty() ? "the node" : "the node at " + s.target;
  if (Has(lower, {"dns resolution failed", "ares", "domain name not found",
                  "empty address list", "name or service not known",
                  "could not resolve"})) {
    return {"the address " + TlsName(s) +
                " given with --node could not be found (the name does not "
                "resolve)",
            "check the host name in --node (or CBX_NODE)"};
  }
  if (Has(lower, {"connection refused", "connect failed"})) {
    return {Text(Msg::kErrRefusedConn, lang, s.target),
            "check the port in --node (or CBX_NODE) and ask your node's "
            "operator whether the node is running"};
  }
  if (Has(lower, {"certificate_verify_failed", "certificate verify failed",
                  "peer name", "hostname", "subject alternative name"})) {
    return {"the node's certificate is not trusted: it is not issued by the "
            "CA in --ca " + Quoted(s.ca_path) + " for the name " + TlsName(s),
            "check that --ca is your country's national CA and that --node "
            "(or --server-name) is the name the node's certificate carries"};
  }
  if (Has(lower, {"socket closed", "connection reset", "alert", "handshake",
                  "bad certificate", "certificate required", "unknown ca",
                  "end of file", "broken pipe"})) {
    return {where + " closed the connection during the secure handshake: "
            "it did not accept your certificate --cert " + Quoted(s.cert_path),
            "your office certificate may be revoked, or issued by another "
            "country's CA; ask your node's operator"};
  }
  return {s.target.empty() ? where + " could not be reached"
                           : Text(Msg::kErrNotReached, lang, s.target),
          "check the address in --node (or CBX_NODE) and ask your node's "
          "operator whether the node is running"};
}

// The node's message when it is the node's own words; "" for an empty one.
std::string NodeSays(const grpc::Status& status) {
  return SanitizeForTerminal(status.error_message());
}

Explained Explain(const grpc::Status& status, const ConnectionSettings& s,
                  Lang lang) {
  const std::string says = NodeSays(status);
  const std::string colon_says = says.empty() ? "" : ": " + says;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // The node's own UNAVAILABLE (storage failing, shutting down) has
      // words of its own; gRPC's connection failures are library text.
      if (Has(absl::AsciiStrToLower(says), {"failed to connect", "socket", "ssl", "tls",
                                 "ares", "dns", "address", "connect",
                                 "handshake", "alert", "reset"}) ||
          says.empty()) {
        return Unreachable(status.error_message(), s, lang);
      }
      return {Text(Msg::kErrCannotNow, lang) + colon_says,
              "try again later; if it keeps failing, tell your node's "
              "operator"};
    case grpc::StatusCode::PERMISSION_DENIED:
      return {Text(Msg::kErrNotAllowed, lang) + colon_says,
              "cases, query, hits and inbox need a prosecutor certificate; "
              "peers a prosecutor or operator certificate"};
    case grpc::StatusCode::INVALID_ARGUMENT:
      return {Text(Msg::kErrNodeRefused, lang) + colon_says,
              "correct what the message names and run the command again; "
              "nothing was changed"};
    case grpc::StatusCode::FAILED_PRECONDITION:
      return {Text(Msg::kErrCannotNow, lang) + colon_says,
              "do what the message says first ('cbx case list' shows your "
              "office's open cases); nothing was changed"};
    case grpc::StatusCode::UNAUTHENTICATED:
      return {"the node does not accept your certificate --cert " +
                  Quoted(s.cert_path) + colon_says,
              "it must be an office certificate issued by your country's "
              "national CA; ask your node's operator"};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {Text(Msg::kErrNoAnswerIn, lang,
                   std::to_string(s.timeout.count())),
              "try again, or give it more time with --timeout"};
    case grpc::StatusCode::NOT_FOUND:
      return {"the node has no such record" + colon_says,
              "'cbx case list --all' shows the cases this node holds"};
    case grpc::StatusCode::ALREADY_EXISTS:
      return {"it exists already" + colon_says,
              "a case with this number exists; change it with 'cbx case "
              "amend'"};
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return {"the node refused: a limit was reached" + colon_says,
              "wait a while and try again"};
    case grpc::StatusCode::UNIMPLEMENTED:
      return {"the node does not offer this command (it may run an older "
              "cbx-node)",
              "ask your node's operator which version the node runs"};
    case grpc::StatusCode::CANCELLED:
      return {"the call was cancelled before the node answered",
              "run the command again"};
    default:
      return {"the node failed while doing this" + colon_says,
              "try again; if it keeps failing, tell your node's operator "
              "(the node's log says why)"};
  }
}

}  // namespace

std::string DescribeRpcError(std::string_view what, const grpc::Status& status,
                             const ConnectionSettings& s, bool technical,
                             Lang lang) {
  Explained e = Explain(status, s, lang);
  std::string out = "cbx: " + std::string(what) + ": " + e.happened + "\n" +
                    Text(Msg::kWhatToDo, lang) + ": " + e.todo + "\n";
  if (technical) {
    std::string raw = SanitizeForTerminal(status.error_message());
    out += "details: " + StatusCodeName(status.error_code()) +
           (raw.empty() ? "" : ": " + raw) + "\n";
  }
  return out;
}

}  // namespace cbx::client
