// The event log's line format: every value escaped so that no input can
// start a new line, fake a field or drive the terminal; and a peer's Resolve
// whose header carries a forged log line, answered in process, leaves one
// line in the log.
#include "node/log.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "core/directory/directory.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/lookup_responder.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

// 2026-01-01T00:00:00.123Z
constexpr int64_t kMs = 1767225600123;

std::string Line(std::initializer_list<LogField> fields) {
  return FormatLogLine(kMs, "MK", "info", "resolved", fields);
}

std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

TEST(LogTest, FormatsALineWithBareAndQuotedValues) {
  EXPECT_EQ(Line({{"from", "RS"},
                  {"office", "RS/PPO-Belgrade"},
                  {"reason", "no such case"},
                  {"empty", ""}}),
            "2026-01-01T00:00:00.123Z MK info resolved from=RS "
            "office=RS/PPO-Belgrade reason=\"no such case\" empty=\"\"\n");
}

TEST(LogTest, BareValuesAreLettersDigitsAndAFewMarks) {
  EXPECT_EQ(EscapeLogValue("RS/PPO-1_a.b:c@d+e,f"), "RS/PPO-1_a.b:c@d+e,f");
  EXPECT_EQ(EscapeLogValue("a=b"), "\"a=b\"");
  EXPECT_EQ(EscapeLogValue("a|b"), "\"a|b\"");
  EXPECT_EQ(EscapeLogValue("Београд"), "\"Београд\"");
}

TEST(LogTest, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(EscapeLogValue("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(EscapeLogValue("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(EscapeLogValue("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(EscapeLogValue(std::string("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(EscapeLogValue("\x1b[31mred"), "\"\\x1b[31mred\"");
  EXPECT_EQ(EscapeLogValue("del\x7f"), "\"del\\x7f\"");
}

TEST(LogTest, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(EscapeLogValue("a\xff"), "\"a\\xff\"");
  EXPECT_EQ(EscapeLogValue("\xc3"), "\"\\xc3\"");           // truncated
  EXPECT_EQ(EscapeLogValue("\xc0\xaf"), "\"\\xc0\\xaf\"");  // overlong '/'
  EXPECT_EQ(EscapeLogValue("\xed\xa0\x80"),                 // a surrogate
            "\"\\xed\\xa0\\x80\"");
  EXPECT_EQ(EscapeLogValue("\xf4\x90\x80\x80"),  // above U+10FFFF
            "\"\\xf4\\x90\\x80\\x80\"");
}

TEST(LogTest, EscapesLineSeparatorsC1ControlsAndBidiOverrides) {
  EXPECT_EQ(EscapeLogValue("a\xc2\x85z"), "\"a\\xc2\\x85z\"");  // NEL
  EXPECT_EQ(EscapeLogValue("a\xe2\x80\xa8z"),                   // U+2028
            "\"a\\xe2\\x80\\xa8z\"");
  EXPECT_EQ(EscapeLogValue("a\xe2\x80\xaez"),  // U+202E
            "\"a\\xe2\\x80\\xaez\"");
  EXPECT_EQ(EscapeLogValue("a\xe2\x81\xa6z"),  // U+2066
            "\"a\\xe2\\x81\\xa6z\"");
}

TEST(LogTest, CutsALongValueAndSaysHowLongItWas) {
  const std::string big(5000, 'a');
  EXPECT_EQ(EscapeLogValue(big),
            "\"" + std::string(kMaxLogValueBytes, 'a') + "…(5000 bytes)\"");
  // The cut never splits a character: 511 'a' then a 2-byte 'ш'.
  const std::string split = std::string(511, 'a') + "шшш";
  EXPECT_EQ(EscapeLogValue(split),
            "\"" + std::string(511, 'a') + "…(517 bytes)\"");
  EXPECT_EQ(EscapeLogValue(std::string(kMaxLogValueBytes, 'a')),
            std::string(kMaxLogValueBytes, 'a'));
}

TEST(LogTest, AForgedLineStaysInsideItsValue) {
  const std::string forged =
      "RS/x\n2026-01-01T00:00:00.000Z MK error ALERT-inconsistent-checkpoint "
      "peer=RS";
  const std::string line = Line({{"office", forged}, {"purpose", "a\" b=c"}});
  ASSERT_EQ(Lines(line).size(), 1u) << line;
  EXPECT_EQ(line,
            "2026-01-01T00:00:00.123Z MK info resolved office=\"RS/x\\n"
            "2026-01-01T00:00:00.000Z MK error ALERT-inconsistent-checkpoint "
            "peer=RS\" purpose=\"a\\\" b=c\"\n");
}

TEST(LogTest, NamesAreReducedToASafeSet) {
  EXPECT_EQ(FormatLogLine(kMs, "M K\n", "in fo", "ev ent\n", {{"k ey=", "v"}}),
            "2026-01-01T00:00:00.123Z M_K_ in_fo ev_ent_ k_ey_=v\n");
}

// MK's responder answering a Resolve whose header's office and purpose each
// carry a newline and a forged ALERT line.
class ForgedLogLineTest : public testing::DomainFixture {
 protected:
  ForgedLogLineTest()
      : directory_(*directory::Directory::FromGenesis(
            directory::testing::SignedGenesis())),
        signing_keys_(NodeSigningKeys::Single(
            "MK", directory::testing::TestKey("MK/node/1"), &directory_,
            &clock_)),
        responder_(LookupResponder::Deps{
            .self = "MK",
            .directory = &directory_,
            .oprf_key = &oprf_key_,
            .signing_keys = signing_keys_.get(),
            .storage = &storage_,
            .trail = &trail_,
            .clock = &clock_,
        }) {}

  directory::DirectoryState directory_;
  std::unique_ptr<NodeSigningKeys> signing_keys_;
  LookupResponder responder_;
  CaseBook book_{"MK", &storage_, &oprf_key_, &trail_, &clock_};
};

TEST_F(ForgedLogLineTest, APeersNewlineCannotForgeAnAlert) {
  ASSERT_TRUE(
      book_.Add(testing::kOffice, testing::NewCase("PPO-1", {"@alice_one"}))
          .ok());
  const std::string forged =
      "\n2026-01-01T00:00:00.000Z MK error ALERT-inconsistent-checkpoint "
      "peer=RS size=1 root=00 evidence=x\n";
  v1::Message m;
  v1::Header* h = m.mutable_header();
  h->set_sender("RS");
  h->set_office("RS/PPO-Belgrade" + forged);
  h->set_message_id(std::string(16, '\x01'));
  v1::ResolveRequest* r = m.mutable_resolve_request();
  r->set_oprf_epoch(1);
  r->mutable_purpose()->set_case_number("RS-77" + forged);
  r->mutable_purpose()->set_legal_basis(forged);
  r->mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  r->add_outputs(YOf("@alice_one"));
  envelope::OpenedEnvelope opened;
  opened.message = std::move(m);
  opened.envelope_sha256 = std::string(32, '\x01');

  ::testing::internal::CaptureStderr();
  auto reply = responder_.Resolve(opened);
  const std::string out = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(reply.ok()) << reply.status();
  std::vector<std::string> resolved;
  for (const std::string& line : Lines(out)) {
    const std::vector<std::string> words = absl::StrSplit(line, ' ');
    ASSERT_GE(words.size(), 4u) << line;
    EXPECT_NE(words[3].rfind("ALERT-", 0), 0u) << "a forged alert: " << line;
    if (words[3] == "resolved") resolved.push_back(line);
  }
  ASSERT_EQ(resolved.size(), 1u) << out;
  EXPECT_NE(resolved[0].find("office=\"RS/PPO-Belgrade\\n2026-"),
            std::string::npos)
      << resolved[0];
}

// log.format "json": one JSON object per line, the fields after ts,
// member, level and event, in order, every value a JSON string.
TEST(LogJsonTest, FormatsAJsonLine) {
  EXPECT_EQ(FormatJsonLogLine(kMs, "MK", "info", "resolved",
                              {{"from", "RS"}, {"reason", "no such case"}}),
            "{\"ts\":\"2026-01-01T00:00:00.123Z\",\"member\":\"MK\","
            "\"level\":\"info\",\"event\":\"resolved\",\"from\":\"RS\","
            "\"reason\":\"no such case\"}\n");
}

// A value cannot end the object, add a member or break the line: quotes,
// backslashes and control bytes are JSON escapes, line separators and bidi
// overrides \uXXXX, a byte that is not UTF-8 the text "\xNN".
TEST(LogJsonTest, EscapesEveryValue) {
  const std::string line =
      FormatJsonLogLine(kMs, "MK", "warn", "refused",
                        {{"office", "a\"},\"event\":\"ALERT-x\n\\"},
                         {"bidi", "x\xE2\x80\xAEy\xE2\x80\xA8z\x01"},
                         {"bytes", "\xFF\xC3"},
                         {"event", "forged"}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-01-01T00:00:00.123Z\",\"member\":\"MK\","
            "\"level\":\"warn\",\"event\":\"refused\","
            "\"office\":\"a\\\"},\\\"event\\\":\\\"ALERT-x\\n\\\\\","
            "\"bidi\":\"x\\u202ey\\u2028z\\u0001\","
            "\"bytes\":\"\\\\xff\\\\xc3\","
            "\"field_event\":\"forged\"}\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogJsonTest, CutsALongValueLikeTheTextFormat) {
  const std::string line =
      FormatJsonLogLine(kMs, "MK", "info", "x",
                        {{"v", std::string(kMaxLogValueBytes + 10, 'a')}});
  EXPECT_NE(line.find(std::string(kMaxLogValueBytes, 'a') +
                      "\xE2\x80\xA6(522 bytes)\"}"),
            std::string::npos)
      << line;
}

TEST(LogLevelTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("verbose").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("xml").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Events below the level are not written; the format applies to the rest.
TEST(LogLevelTest, EventsBelowTheLevelAreNotWritten) {
  SetLogOptions(LogFormat::kJson, LogLevel::kWarn);
  ::testing::internal::CaptureStderr();
  LogEvent("MK", "debug", "index-sync-served", {{"to", "RS"}});
  LogEvent("MK", "info", "index-synced", {{"peer", "RS"}});
  LogEvent("MK", "warn", "index-sync-failed", {{"peer", "RS"}});
  LogEvent("MK", "error", "ALERT-storage-failing", {{"file", "node.db"}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  SetLogOptions(LogFormat::kText, LogLevel::kInfo);
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_NE(lines[0].find("\"event\":\"index-sync-failed\""),
            std::string::npos);
  EXPECT_NE(lines[1].find("\"event\":\"ALERT-storage-failing\""),
            std::string::npos);
  EXPECT_TRUE(LogEnabled("info"));  // back to info
  EXPECT_FALSE(LogEnabled("debug"));
}

// A gRPC line about a certificate that did not verify carries the hint the
// node set from its directory; other gRPC lines carry none.
TEST(GrpcLogTest, ACertificateVerifyFailureGetsTheHint) {
  SetTlsFailureHint("directory version 2 in use; added in it: XK");
  EXPECT_EQ(GrpcLogHint("Handshake failed with fatal error SSL_ERROR_SSL: "
                        "error:0A000086:SSL routines::certificate verify "
                        "failed."),
            "directory version 2 in use; added in it: XK");
  EXPECT_EQ(GrpcLogHint("Failed to connect to remote host: Connection refused"),
            "");
  SetTlsFailureHint("");
}

}  // namespace
}  // namespace cbx::node
