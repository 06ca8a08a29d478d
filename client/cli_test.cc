// The command line up to the point where it would connect: everything that
// must fail with exit 2 and send nothing.
#include "client/cli.h"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client/commands.h"
#include "client/suggest.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCbx(std::vector<std::string> args,
              std::map<std::string, std::string> env = {}) {
  std::vector<const char*> argv = {"cbx"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  EnvLookup lookup = [&env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  int code =
      RunCli(static_cast<int>(argv.size()), argv.data(), out, err, lookup);
  return {code, out.str(), err.str()};
}

std::vector<std::string> ValidAdd() {
  return {"case",
          "add",
          "MK-2026-0142",
          "--id",
          "telegram_username:@smokva_admin",
          "--offence",
          "ncii-sharing+ai",
          "--role",
          "administrator",
          "--contact",
          "+389 2 3100 100"};
}

TEST(CliTest, HelpAndVersionExitZero) {
  Result r = RunCbx({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("query"), std::string::npos);
  EXPECT_NE(r.out.find("CBX_NODE"), std::string::npos);
  r = RunCbx({"case", "add", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("TYPE[@WINDOW]:VALUE"), std::string::npos);
  r = RunCbx({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("cbx 0.1.0"), std::string::npos);
}

// Mistyped subcommands and options get the closest known word; a missing
// or unknown subcommand the list to choose from (issue 14).
TEST(CliTest, MistakesGetSuggestions) {
  Result r = RunCbx({"quer", "--id", "phone:+38970123456"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            "cbx: 'quer' is not a command of 'cbx'; did you mean 'cbx query'?")
      << r.err;
  r = RunCbx({"case", "ad", "MK-1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("'ad' is not a command of 'cbx case'; did you mean "
                       "'cbx case add'?"),
            std::string::npos)
      << r.err;
  r = RunCbx({"case", "lsit"});
  EXPECT_NE(r.err.find("did you mean 'cbx case list'?"), std::string::npos)
      << r.err;
  r = RunCbx({"frobnicate"});
  EXPECT_NE(r.err.find("'frobnicate' is not a command of 'cbx'; choose one "
                       "of: case, query, hits, inbox, peers"),
            std::string::npos)
      << r.err;
  r = RunCbx({"case"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("'cbx case' needs a subcommand: add, amend, close or "
                       "list"),
            std::string::npos)
      << r.err;
  r = RunCbx({});
  EXPECT_NE(r.err.find("'cbx' needs a subcommand: case, query"),
            std::string::npos)
      << r.err;
  std::vector<std::string> args = ValidAdd();
  args[3] = "--ids";
  r = RunCbx(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("'--ids' is not an option of 'cbx case add'; did you "
                       "mean --id?"),
            std::string::npos)
      << r.err;
  r = RunCbx({"hits", "--cas", "MK-1"});
  EXPECT_NE(r.err.find("did you mean --case?"), std::string::npos) << r.err;
  r = RunCbx({"peers", "--jsno"});
  EXPECT_NE(r.err.find("did you mean --json?"), std::string::npos) << r.err;
  r = RunCbx({"peers", "--zzzzzzzz"});
  EXPECT_NE(r.err.find("'--zzzzzzzz' is not an option of 'cbx peers'\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was sent"), std::string::npos) << r.err;
}

TEST(CliTest, LanguageFromTheEnvironmentIsChecked) {
  Result r = RunCbx({"peers"}, {{"CBX_LANG", "klingon"}});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.rfind("cbx: CBX_LANG: unknown language \"klingon\"", 0), 0u)
      << r.err;
  // --lang wins over CBX_LANG.
  r = RunCbx({"peers", "--lang", "xx"}, {{"CBX_LANG", "MK"}});
  EXPECT_EQ(r.err.rfind("cbx: --lang: unknown language \"xx\"", 0), 0u)
      << r.err;
}

TEST(SuggestTest, EditDistanceAndClosestWord) {
  EXPECT_EQ(EditDistance("query", "query"), 0u);
  EXPECT_EQ(EditDistance("qeury", "query"), 1u);  // a transposition
  EXPECT_EQ(EditDistance("QUERY", "query"), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  const std::vector<std::string> words = {"case", "query", "hits", "inbox",
                                          "peers"};
  EXPECT_EQ(ClosestWord("qurey", words), "query");
  EXPECT_EQ(ClosestWord("inb", words), "inbox");  // a prefix
  EXPECT_EQ(ClosestWord("peer", words), "peers");
  EXPECT_EQ(ClosestWord("x", words), "");
  EXPECT_EQ(ClosestWord("zzzzzz", words), "");
  EXPECT_EQ(JoinedChoices({"a", "b", "c"}), "a, b or c");
  EXPECT_EQ(JoinedChoices({"a"}), "a");
}

TEST(CliTest, ParserErrorsExitTwo) {
  Result r = RunCbx({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("subcommand"), std::string::npos) << r.err;

  r = RunCbx({"case", "add", "MK-1", "--offence", "csam", "--role", "poster",
              "--contact", "x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("cbx: case add: --id is required\n"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("run 'cbx case add --help'"), std::string::npos)
      << r.err;

  r = RunCbx({"query", "--id", "phone:+38970123456", "--case", "MK-1",
              "--offence", "csam"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--legal-basis"), std::string::npos) << r.err;

  r = RunCbx({"case", "frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  r = RunCbx({"case", "list", "--bogus"});
  EXPECT_EQ(r.code, kExitUsage);
  r = RunCbx({"peers", "--timeout", "soon"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.out.empty());
}

// Conversion errors come before any connection option is even looked at:
// none is given here, and the message is about the argument.
TEST(CliTest, ArgumentErrorsExitTwoBeforeConnecting) {
  struct {
    std::vector<std::string> args;
    std::string want;
  } cases[] = {
      {{"case", "add", "MK-1", "--id", "msisdn:+389", "--offence", "csam",
        "--role", "poster", "--contact", "x"},
       "cbx: case add: --id 'msisdn:+389': unknown identifier type"},
      {{"case", "add", "MK-1", "--id", "phone@2025-02-30..:+38970123456",
        "--offence", "csam", "--role", "poster", "--contact", "x"},
       "not a calendar date"},
      {{"case", "add", "MK-1", "--id", "phone:+38970123456", "--offence",
        "revenge", "--role", "poster", "--contact", "x"},
       "--offence 'revenge': unknown offence code"},
      {{"case", "add", "MK-1", "--id", "phone:+38970123456", "--offence",
        "csam", "--role", "boss", "--contact", "x"},
       "--role 'boss'"},
      {{"case", "amend", "MK-1"}, "nothing to amend"},
      {{"query", "--id", "phone:070 123 456", "--case", "MK-1", "--legal-basis",
        "MLA", "--offence", "csam"},
       "country code"},
      {{"query", "--id", "phone:+38970123456", "--case", "MK-1",
        "--legal-basis", "MLA", "--offence", "csam", "--peer", "SRB"},
       "--peer 'SRB'"},
      {{"hits", "--case", " MK-1"}, "--case ' MK-1'"},
  };
  for (const auto& c : cases) {
    Result r = RunCbx(c.args);
    EXPECT_EQ(r.code, kExitUsage) << c.want;
    EXPECT_NE(r.err.find(c.want), std::string::npos)
        << r.err << " should contain " << c.want;
    EXPECT_NE(r.err.find("nothing was sent"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(CliTest, BadLanguageExitsTwo) {
  std::vector<std::string> args = ValidAdd();
  args.insert(args.end(), {"--lang", "de"});
  Result r = RunCbx(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--lang: unknown language \"de\""), std::string::npos)
      << r.err;
}

TEST(CliTest, MissingConnectionOptionsExitTwo) {
  Result r = RunCbx(ValidAdd());
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err,
            "cbx: no node address: pass --node HOST:PORT or set CBX_NODE\n");

  std::vector<std::string> args = ValidAdd();
  args.insert(args.end(),
              {"--node", "127.0.0.1:1", "--cert", "/nonexistent/office.pem",
               "--key", "/k", "--ca", "/c"});
  r = RunCbx(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err,
            "cbx: --cert '/nonexistent/office.pem': cannot read the file: No "
            "such file or directory\n");

  r = RunCbx(ValidAdd(), {{"CBX_NODE", "127.0.0.1:1"},
                          {"CBX_CERT", "/nonexistent/office.pem"},
                          {"CBX_KEY", "/k"},
                          {"CBX_CA", "/c"}});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("(from CBX_CERT)"), std::string::npos) << r.err;
}

// Global options are accepted before or after the subcommand.
TEST(CliTest, GlobalOptionsMayFollowTheSubcommand) {
  Result before = RunCbx({"--node", "nohost", "peers"});
  Result after = RunCbx({"peers", "--node", "nohost"});
  EXPECT_EQ(before.code, kExitUsage);
  EXPECT_EQ(after.code, kExitUsage);
  EXPECT_NE(before.err.find("--node 'nohost': expected HOST:PORT"),
            std::string::npos)
      << before.err;
  EXPECT_EQ(before.err, after.err);
}

}  // namespace
}  // namespace cbx::client
