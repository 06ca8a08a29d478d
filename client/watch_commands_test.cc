// `cbx watch ...` up to the point where it would connect, and its listing.
#include "client/watch_commands.h"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client/cli.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

struct Result {
  int code;
  std::string err;
};

Result RunCbx(std::vector<std::string> args) {
  std::vector<const char*> argv = {"cbx"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  EnvLookup none = [](const char*) -> std::optional<std::string> {
    return std::nullopt;
  };
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err, none);
  return {code, err.str()};
}

std::vector<std::string> ValidAdd(std::string days) {
  return {"watch",  "add",          "--id",   "email:a@example.org",
          "--case", "MK-2026-0142", "--purpose", "MLA-Convention-1959 Art.1",
          "--offence", "ncii-sharing", "--days", days};
}

TEST(WatchCommandsTest, UsageMistakesSendNothing) {
  Result r = RunCbx(ValidAdd("0"));
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--days"), std::string::npos) << r.err;
  r = RunCbx({"watch", "add", "--case", "MK-2026-0142"});
  EXPECT_EQ(r.code, kExitUsage);
  r = RunCbx({"watch", "renew", "0123456789abcdef", "--case", "MK-2026-0142",
              "--legal-basis", "x", "--offence", "nonsense", "--days", "1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--offence"), std::string::npos) << r.err;
  r = RunCbx({"watch", "remove"});
  EXPECT_EQ(r.code, kExitUsage);
}

TEST(WatchCommandsTest, AValidAddGetsAsFarAsTheConnection) {
  // No --node: the connection options are what is missing, not the watch's.
  Result r = RunCbx(ValidAdd("30"));
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.find("--days"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--id"), std::string::npos) << r.err;
}

TEST(WatchCommandsTest, ListingShowsWatchesWithoutValues) {
  v1::ListWatchesResponse response;
  EXPECT_EQ(WatchesText(response), "no watches\n");
  v1::Watch* w = response.add_watches();
  w->set_watch_id("0123456789abcdef");
  w->mutable_purpose()->set_case_number("MK-2026-0142");
  w->add_identifier_types(v1::IDENTIFIER_TYPE_EMAIL);
  w->add_peers("RS");
  w->add_needs_refresh("HR");
  w->set_hits(2);
  const std::string text = WatchesText(response);
  EXPECT_NE(text.find("0123456789abcdef"), std::string::npos);
  EXPECT_NE(text.find("HR"), std::string::npos);
  const std::string json = WatchesJson(response);
  EXPECT_NE(json.find("\"identifier_types\":[\"email\"]"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"hits\":2"), std::string::npos) << json;
}

}  // namespace
}  // namespace cbx::client
