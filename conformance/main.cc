// cbx-conformance: runs the conformance kit's cases against a node.
//
//   cbx-conformance --target ADDR --as MEMBER [--office ADDR] [--keys DIR]
//                   [--cases DIR] [--only ID] [--member CC]
//
// Prints "PASS <id>" or "FAIL <id>: <why>" per case, then "N passed, M
// failed"; exits 0 only if every case passed (2 for a usage error).
#include <algorithm>
#include <iostream>
#include <string>

#include "conformance/kit.h"
#include "conformance/runner.h"
#include "core/util/version.h"

namespace {

constexpr char kUsage[] =
    "usage: cbx-conformance --target ADDR --as MEMBER [--office ADDR]\n"
    "         [--keys DIR] [--cases DIR] [--only ID] [--member CC]\n"
    "  --target  host:port of the node's Peer service\n"
    "  --as      the kit member the runner speaks as by default (QA)\n"
    "  --office  host:port of the node's Office service (audit cases)\n"
    "  --keys    the kit federation (spec/conformance/federation)\n"
    "  --cases   the case files (spec/conformance/cases)\n"
    "  --only    run only the case with this id (repeatable)\n"
    "  --member  the member code the node runs as (QT)\n"
    "  --version print the version and exit\n";

}  // namespace

int main(int argc, char** argv) {
  cbx::conformance::KitTarget target;
  target.as = "";
  std::string keys = "spec/conformance/federation";
  std::string cases_dir = "spec/conformance/cases";
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << cbx::VersionLine("cbx-conformance") << "\n";
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "cbx-conformance: " << arg << " needs a value\n" << kUsage;
      return 2;
    }
    std::string value = argv[++i];
    if (arg == "--target") {
      target.peer_address = value;
    } else if (arg == "--as") {
      target.as = value;
    } else if (arg == "--office") {
      target.office_address = value;
    } else if (arg == "--keys") {
      keys = value;
    } else if (arg == "--cases") {
      cases_dir = value;
    } else if (arg == "--only") {
      only.push_back(value);
    } else if (arg == "--member") {
      target.member = value;
    } else {
      std::cerr << "cbx-conformance: unknown option " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (target.peer_address.empty() || target.as.empty()) {
    std::cerr << "cbx-conformance: --target and --as are required\n" << kUsage;
    return 2;
  }
  auto kit = cbx::conformance::Kit::Load(keys, target);
  if (!kit.ok()) {
    std::cerr << "cbx-conformance: " << kit.status().message() << "\n";
    return 2;
  }
  auto cases = cbx::conformance::LoadCases(cases_dir);
  if (!cases.ok()) {
    std::cerr << "cbx-conformance: " << cases.status().message() << "\n";
    return 2;
  }
  for (const std::string& id : only) {
    if (std::none_of(cases->begin(), cases->end(),
                     [&](const auto& c) { return c["id"] == id; })) {
      std::cerr << "cbx-conformance: no case " << id << "\n";
      return 2;
    }
  }
  cbx::conformance::Runner runner(kit->get());
  int passed = 0, failed = 0;
  for (const auto& c : *cases) {
    const std::string id = c["id"];
    if (!only.empty() &&
        std::find(only.begin(), only.end(), id) == only.end()) {
      continue;
    }
    cbx::conformance::CaseResult r = runner.Run(c);
    if (r.passed) {
      ++passed;
      std::cout << "PASS " << r.id << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << r.id << ": " << r.why << "\n";
    }
    std::cout.flush();
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
