#include "tests/testing/vectors.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace cbx::testing {

nlohmann::json LoadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot open vector file " << path << "\n";
    std::abort();
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  // Parse integers as unsigned 64-bit where they fit (some Merkle probes use
  // 2^64-1); nlohmann does this by default, never through a double.
  return nlohmann::json::parse(buffer.str());
}

Bytes Unhex(const std::string& hex) {
  auto decoded = HexDecode(hex);
  if (!decoded.ok()) {
    std::cerr << "malformed hex in vector file: " << hex << "\n";
    std::abort();
  }
  return *std::move(decoded);
}

}  // namespace cbx::testing
