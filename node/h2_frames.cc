#include "node/h2_frames.h"

#include <algorithm>
#include <string_view>

namespace cbx::node {
namespace {

// RFC 9113 §3.4.
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

void H2ClientFrames::Feed(const uint8_t* data, size_t size) {
  size_t at = 0;
  while (at < size && !malformed()) {
    if (preface_seen_ < kPreface.size()) {
      if (static_cast<char>(data[at]) != kPreface[preface_seen_]) {
        why_malformed_ =
            "the connection does not start with the HTTP/2 preface";
        return;
      }
      ++preface_seen_;
      ++at;
      continue;
    }
    if (payload_left_ > 0) {
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>(payload_left_, static_cast<uint64_t>(size - at)));
      payload_left_ -= n;
      at += n;
      continue;
    }
    const size_t n = std::min(header_.size() - header_seen_, size - at);
    std::copy(data + at, data + at + n, header_.begin() + header_seen_);
    header_seen_ += n;
    at += n;
    if (header_seen_ == header_.size()) {
      header_seen_ = 0;
      OnHeader();
    }
  }
}

void H2ClientFrames::OnHeader() {
  const uint64_t length = (uint64_t{header_[0]} << 16) |
                          (uint64_t{header_[1]} << 8) | uint64_t{header_[2]};
  const uint8_t type = header_[3];
  if (first_frame_) {
    first_frame_ = false;
    if (type != kSettings) {
      why_malformed_ = "the HTTP/2 preface is not followed by SETTINGS";
      return;
    }
    preface_done_ = true;
  }
  ++counts_[type < kOther ? type : static_cast<uint8_t>(kOther)];
  payload_left_ = length;
}

}  // namespace cbx::node
