#include "client/connection.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/names.h"
#include "client/strings.h"
#include "core/crypto/x509.h"
#include "core/util/env.h"
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
  if (absl::Status st = ValidateTarget(*node); !st.ok()) return st;
  s.target = node->value;
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

std::chrono::system_clock::time_point Deadline(const ConnectionSettings& s) {
  return std::chrono::system_clock::now() + s.timeout;
}

std::string DescribeRpcError(std::string_view what, const grpc::Status& status,
                             const ConnectionSettings& s) {
  std::string message = SanitizeForTerminal(status.error_message());
  std::string out = "cbx: " + std::string(what) + ": " +
                    StatusCodeName(status.error_code()) + ": " +
                    (message.empty() ? "(no message)" : message) + "\n";
  std::string hint;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      hint = "is the node running at " + s.target +
             "? If it is, check that its certificate is issued by the CA in " +
             s.ca_path + " for the name " + TlsName(s) +
             " and that it accepts your certificate";
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      hint =
          "your certificate's role may not do this: cases, query, hits and "
          "inbox need a prosecutor certificate; peers a prosecutor or "
          "operator certificate";
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
      hint =
          "the node refused the request for the reason above; nothing was "
          "changed";
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      hint = "the node does not accept your certificate (" + s.cert_path +
             "): it must be an office certificate from the national CA";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      hint = "the node did not answer within " +
             std::to_string(s.timeout.count()) +
             " ms; try again or raise --timeout";
      break;
    case grpc::StatusCode::NOT_FOUND:
      hint = "'cbx case list --all' shows the cases this node holds";
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      hint = "a case with this number exists; change it with 'cbx case amend'";
      break;
    default:
      break;
  }
  if (!hint.empty()) out += "hint: " + hint + "\n";
  return out;
}

}  // namespace cbx::client
