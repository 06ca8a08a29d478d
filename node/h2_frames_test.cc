#include "node/h2_frames.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/testing/h2_frame.h"

namespace cbx::node {
namespace {

using testing::kH2Preface;

// A RST_STREAM's payload: its 32-bit error code, CANCEL (0x8).
const std::string kCancel("\0\0\0\x08", 4);

std::string Frame(uint8_t type, uint32_t stream, const std::string& payload,
                  uint8_t flags = 0) {
  return testing::H2Frame(type, flags, stream, payload);
}

void Feed(H2ClientFrames& frames, const std::string& bytes) {
  frames.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// A client's opening and 3 streams opened and reset, with a DATA frame
// whose payload looks like frame headers (it must not be read as frames).
std::string Conversation() {
  std::string s = kH2Preface + Frame(H2ClientFrames::kSettings, 0, "");
  for (uint32_t id : {1u, 3u, 5u}) {
    s += Frame(H2ClientFrames::kHeaders, id, std::string(20, 'h'), 0x4);
    s += Frame(H2ClientFrames::kData, id,
               Frame(H2ClientFrames::kRstStream, id, kCancel));
    s += Frame(H2ClientFrames::kRstStream, id, kCancel);
  }
  return s + Frame(H2ClientFrames::kWindowUpdate, 0, "wwww") +
         Frame(0x42, 0, "unknown type");
}

TEST(H2ClientFramesTest, CountsFramesByTypeAndSkipsPayloads) {
  H2ClientFrames frames;
  EXPECT_FALSE(frames.preface_done());
  Feed(frames, Conversation());
  EXPECT_TRUE(frames.preface_done());
  EXPECT_FALSE(frames.malformed()) << frames.why_malformed();
  EXPECT_EQ(frames.frames(H2ClientFrames::kSettings), 1u);
  EXPECT_EQ(frames.frames(H2ClientFrames::kHeaders), 3u);
  EXPECT_EQ(frames.frames(H2ClientFrames::kData), 3u);
  EXPECT_EQ(frames.resets(), 3u);
  EXPECT_EQ(frames.frames(H2ClientFrames::kWindowUpdate), 1u);
  EXPECT_EQ(frames.frames(H2ClientFrames::kOther), 1u);
}

TEST(H2ClientFramesTest, AnySlicingCountsTheSame) {
  const std::string all = Conversation();
  for (size_t piece : {1u, 2u, 5u, 9u, 23u, 24u, 25u, 4096u}) {
    SCOPED_TRACE(piece);
    H2ClientFrames frames;
    for (size_t at = 0; at < all.size(); at += piece) {
      Feed(frames, all.substr(at, piece));
    }
    EXPECT_FALSE(frames.malformed());
    EXPECT_EQ(frames.resets(), 3u);
    EXPECT_EQ(frames.frames(H2ClientFrames::kHeaders), 3u);
  }
}

TEST(H2ClientFramesTest, ThePrefaceIsDoneOnlyWithTheWholeFirstFrameHeader) {
  H2ClientFrames frames;
  Feed(frames, kH2Preface);
  EXPECT_FALSE(frames.preface_done());
  Feed(frames, Frame(H2ClientFrames::kSettings, 0, "").substr(0, 8));
  EXPECT_FALSE(frames.preface_done());
  Feed(frames, std::string(1, '\0'));
  EXPECT_TRUE(frames.preface_done());
}

TEST(H2ClientFramesTest,
     AnotherProtocolOrAFirstFrameOtherThanSettingsIsMalformed) {
  {
    H2ClientFrames frames;
    Feed(frames, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(frames.malformed());
    EXPECT_FALSE(frames.preface_done());
  }
  {
    H2ClientFrames frames;
    Feed(frames, kH2Preface + Frame(H2ClientFrames::kRstStream, 1, kCancel));
    EXPECT_TRUE(frames.malformed());
    EXPECT_EQ(frames.resets(), 0u);
    // Nothing more is counted.
    Feed(frames, Frame(H2ClientFrames::kRstStream, 3, kCancel));
    EXPECT_EQ(frames.resets(), 0u);
  }
}

}  // namespace
}  // namespace cbx::node
