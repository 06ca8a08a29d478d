// How the CLI reaches its node: the connection options (flag, then
// environment variable), the mutual-TLS channel, and the one-line account of
// a failed call.
//
// The node's Office port uses mutual TLS. The CLI presents the office's
// client certificate (URI SAN spiffe://cbx/office/<CC>/<office>/<role>) and
// verifies the node's server certificate against the national CA given with
// --ca; it never falls back to the system's trust store.
#ifndef CBX_CLIENT_CONNECTION_H_
#define CBX_CLIENT_CONNECTION_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/offence_labels.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace cbx::client {

// The connection options as given on the command line; empty strings are
// "not given".
struct ConnectionFlags {
  std::string node;         // --node HOST:PORT, else CBX_NODE
  std::string cert;         // --cert FILE, else CBX_CERT
  std::string key;          // --key FILE, else CBX_KEY
  std::string ca;           // --ca FILE, else CBX_CA
  std::string server_name;  // --server-name NAME: TLS name override
  double timeout_s = 30;    // --timeout SECONDS
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
// The process environment (getenv).
EnvLookup ProcessEnvironment();

// Everything needed to open the channel, files already read.
struct ConnectionSettings {
  std::string target;
  // Every endpoint --node gave (the nodes of an active/standby pair);
  // target is the one in use.
  std::vector<std::string> targets;
  std::string server_name;
  std::string cert_path, key_path, ca_path;
  std::string cert_pem, key_pem, ca_pem;
  std::chrono::milliseconds timeout{30000};
};

// The member code of the office certificate that --cert or CBX_CERT names
// (its URI SAN spiffe://cbx/office/<CC>/...), for wording hints in the
// office's own country's terms; "" when there is none or it cannot be read
// (the connection check then reports why).
// The URI SANs of the certificate --cert or CBX_CERT names (cbx whoami);
// INVALID_ARGUMENT naming the file if there is none or it cannot be read
// or parsed.
absl::StatusOr<std::vector<std::string>> CertificateUris(
    const ConnectionFlags& flags, const EnvLookup& env);

std::string OfficeMemberOfCertificate(const ConnectionFlags& flags,
                                      const EnvLookup& env);

// Fills each option from its flag, else its environment variable, and reads
// the three PEM files. INVALID_ARGUMENT for a missing option (naming the flag
// and the variable), an unreadable or non-PEM file (naming the flag and the
// path), a malformed --node or a --timeout that is not a positive number of
// seconds. Touches nothing on the network.
absl::StatusOr<ConnectionSettings> ResolveConnection(
    const ConnectionFlags& flags, const EnvLookup& env);

// A channel to the node over mutual TLS with the settings' certificates. The
// connection itself is made lazily, on the first call.
std::shared_ptr<grpc::Channel> CreateChannel(const ConnectionSettings& s);

// The channel for the command. With several --node endpoints (an
// active/standby pair), to the first whose gRPC health check answers
// SERVING (a standby answers NOT_SERVING), else to the first endpoint, so
// that the call reports why; s.target is set to the one chosen. With one
// endpoint, CreateChannel, without a probe.
std::shared_ptr<grpc::Channel> ActiveChannel(ConnectionSettings& s);

// The deadline for one call made now.
std::chrono::system_clock::time_point Deadline(const ConnectionSettings& s);

// "cbx: <what>: <what happened, in plain words>\n" and "what to do: ...\n".
// Connection failures (UNAVAILABLE with gRPC's own text) say which of the
// address, the CA or the office's certificate to check; gRPC's text and
// the status code are never shown bare. With `technical` (--json or
// --verbose) a third line "details: <CODE>: <gRPC's message>" follows.
// The fixed words of the common errors are in `lang` (client/messages.h);
// the node's own message and the advice after "what to do" stay English.
std::string DescribeRpcError(std::string_view what, const grpc::Status& status,
                             const ConnectionSettings& s,
                             bool technical = false, Lang lang = Lang::kEn);

}  // namespace cbx::client

#endif  // CBX_CLIENT_CONNECTION_H_
