// The certificate a TLS client presented, as PEM: shared by the web
// console (node/console/console_server) and the ports' TLS fronts
// (node/tls_front).
//
// Threading: a pure function of the SSL object.
#ifndef CBX_NODE_CONSOLE_PEER_CERTIFICATE_H_
#define CBX_NODE_CONSOLE_PEER_CERTIFICATE_H_

#include <openssl/ssl.h>

#include <string>

namespace cbx::node {

// The PEM of the certificate the TLS peer of `ssl` presented, or "".
std::string PeerCertificatePem(SSL* ssl);

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_PEER_CERTIFICATE_H_
