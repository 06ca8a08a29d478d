// The office's certificate, key and CA checked on the office's own computer
// before any connection is made, so that a wrong file is named in plain
// words ("the key does not belong to the certificate") instead of surfacing
// as a TLS library's text after connecting ("empty address list",
// "Socket closed").
//
// Threading: stateless functions; thread-safe.
#ifndef CBX_CLIENT_CREDENTIALS_CHECK_H_
#define CBX_CLIENT_CREDENTIALS_CHECK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "client/connection.h"

namespace cbx::client {

// OK if, in `s` (files already read by ResolveConnection): the certificate
// parses as X.509, names an office (URI SAN spiffe://cbx/office/...), is
// valid at `now_s` (Unix seconds); the private key parses and belongs to
// that certificate; and the CA file holds at least one certificate that
// parses. Otherwise INVALID_ARGUMENT whose message is one plain sentence
// saying which file (flag and path) is wrong and what to do. Reads no file
// and touches nothing on the network.
absl::Status CheckCredentials(const ConnectionSettings& s, int64_t now_s);

}  // namespace cbx::client

#endif  // CBX_CLIENT_CREDENTIALS_CHECK_H_
