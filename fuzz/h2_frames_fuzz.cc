// Fuzz target: bytes -> what an HTTP/2 client sends a port's TLS front
// (node/tls_front.h), read by node::H2ClientFrames (node/h2_frames.h), the
// frame counter that ends rapid-reset floods.
//
// The first byte picks how the rest is sliced (the front feeds whatever
// each TLS read returns); the rest is the client's byte stream.
// Invariants (abort = finding):
//   - the result does not depend on the slicing: fed whole and fed in
//     slices of 1 + (first byte % 64) bytes, every count and state agree;
//   - it agrees with a reference reader written here over the whole
//     buffer: the 24-byte preface, then frames of a 9-byte header (24-bit
//     length, type) and that many bytes of payload, the first of them a
//     SETTINGS frame; a frame is counted once its header is complete;
//   - malformed exactly when the bytes leave the preface, or the first
//     frame is not SETTINGS; then nothing after is counted;
//   - preface_done exactly when the preface and the first header arrived.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "node/h2_frames.h"

namespace {

using cbx::node::H2ClientFrames;

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Reference {
  bool malformed = false;
  bool preface_done = false;
  std::array<uint64_t, H2ClientFrames::kOther + 1> counts{};
};

Reference Read(const uint8_t* data, size_t size) {
  Reference r;
  for (size_t i = 0; i < kPreface.size(); ++i) {
    if (i == size) return r;
    if (static_cast<char>(data[i]) != kPreface[i]) {
      r.malformed = true;
      return r;
    }
  }
  size_t at = kPreface.size();
  bool first = true;
  while (size - at >= 9) {
    const uint64_t length = (uint64_t{data[at]} << 16) |
                            (uint64_t{data[at + 1]} << 8) | data[at + 2];
    const uint8_t type = data[at + 3];
    if (first) {
      first = false;
      if (type != H2ClientFrames::kSettings) {
        r.malformed = true;
        return r;
      }
      r.preface_done = true;
    }
    ++r.counts[type < H2ClientFrames::kOther ? type : H2ClientFrames::kOther];
    at += 9;
    if (size - at <= length) break;
    at += static_cast<size_t>(length);
  }
  return r;
}

void Agree(const H2ClientFrames& a, const Reference& r) {
  Check(a.malformed() == r.malformed);
  Check(a.malformed() == !a.why_malformed().empty());
  Check(a.preface_done() == r.preface_done);
  for (int t = 0; t <= H2ClientFrames::kOther; ++t) {
    Check(a.frames(static_cast<H2ClientFrames::Type>(t)) == r.counts[t]);
  }
  Check(a.resets() == r.counts[H2ClientFrames::kRstStream]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t slice = 1 + data[0] % 64;
  ++data;
  --size;
  const Reference reference = Read(data, size);

  H2ClientFrames whole;
  whole.Feed(data, size);
  Agree(whole, reference);

  H2ClientFrames sliced;
  for (size_t at = 0; at < size; at += slice) {
    sliced.Feed(data + at, size - at < slice ? size - at : slice);
  }
  Agree(sliced, reference);
  return 0;
}
