// HTTP/2 bytes for tests that speak to the TLS front below gRPC (node/
// tls_front_test.cc, node/h2_frames_test.cc).
#ifndef CBX_NODE_TESTING_H2_FRAME_H_
#define CBX_NODE_TESTING_H2_FRAME_H_

#include <cstdint>
#include <string>

namespace cbx::node::testing {

// The client connection preface (RFC 9113 §3.4).
inline const std::string kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// One HTTP/2 frame (RFC 9113 §4.1): 24-bit length, type, flags, 31-bit
// stream id, payload.
inline std::string H2Frame(uint8_t type, uint8_t flags, uint32_t stream,
                           const std::string& payload) {
  std::string f;
  const size_t n = payload.size();
  f += static_cast<char>((n >> 16) & 0xff);
  f += static_cast<char>((n >> 8) & 0xff);
  f += static_cast<char>(n & 0xff);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) {
    f += static_cast<char>((stream >> shift) & 0xff);
  }
  return f + payload;
}

}  // namespace cbx::node::testing

#endif  // CBX_NODE_TESTING_H2_FRAME_H_
