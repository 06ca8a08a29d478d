// The frames an HTTP/2 client sends (RFC 9113 §3.4, §4.1), read far enough
// to count them by type: a port's TLS front (node/tls_front.h)
// counts each connection's RST_STREAM frames to end a rapid-reset flood
// (CVE-2023-44487), which gRPC 1.51 does not bound by itself. Header
// blocks are never decoded; the bytes are passed on unchanged.
//
// Threading: not thread-safe; one per connection, fed by one thread.
#ifndef CBX_NODE_H2_FRAMES_H_
#define CBX_NODE_H2_FRAMES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace cbx::node {

class H2ClientFrames {
 public:
  // Frame types (RFC 9113 §6) this reader counts; others go to kOther.
  enum Type : uint8_t {
    kData = 0x0,
    kHeaders = 0x1,
    kPriority = 0x2,
    kRstStream = 0x3,
    kSettings = 0x4,
    kPushPromise = 0x5,
    kPing = 0x6,
    kGoaway = 0x7,
    kWindowUpdate = 0x8,
    kContinuation = 0x9,
    kOther = 0xa,
  };

  // The next `size` bytes the client sent, in order, sliced anyhow.
  void Feed(const uint8_t* data, size_t size);

  // The 24-byte client connection preface has arrived, followed by the
  // whole header of its first frame (which RFC 9113 §3.4 requires to be
  // a SETTINGS frame).
  bool preface_done() const { return preface_done_; }
  // The client broke the framing: its first bytes are not the preface,
  // or its first frame is not SETTINGS. Nothing more is counted.
  bool malformed() const { return !why_malformed_.empty(); }
  const std::string& why_malformed() const { return why_malformed_; }

  // Frames whose 9-byte header has arrived, by type.
  uint64_t frames(Type type) const { return counts_[type]; }
  uint64_t resets() const { return counts_[kRstStream]; }

 private:
  void OnHeader();

  size_t preface_seen_ = 0;  // bytes of the preface matched so far
  bool preface_done_ = false;
  std::array<uint8_t, 9> header_{};
  size_t header_seen_ = 0;     // bytes of the current frame's header
  uint64_t payload_left_ = 0;  // bytes of the current frame's payload
  bool first_frame_ = true;
  std::string why_malformed_;
  std::array<uint64_t, kOther + 1> counts_{};
};

}  // namespace cbx::node

#endif  // CBX_NODE_H2_FRAMES_H_
