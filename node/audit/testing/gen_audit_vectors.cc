// Regenerates spec/vectors/audit.json:
//   cbx_gen_audit_vectors <repo>/spec/vectors/audit.json
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "node/audit/testing/audit_vectors.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cbx_gen_audit_vectors OUTPUT.json\n";
    return 2;
  }
  std::string scratch =
      (std::filesystem::temp_directory_path() / "cbx_audit_vectors_XXXXXX")
          .string();
  if (mkdtemp(scratch.data()) == nullptr) {
    std::cerr << "mkdtemp failed\n";
    return 1;
  }
  absl::StatusOr<nlohmann::json> doc =
      cbx::node::audit::testing::BuildAuditVectors(scratch);
  std::filesystem::remove_all(scratch);
  if (!doc.ok()) {
    std::cerr << doc.status() << "\n";
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << doc->dump(2) << "\n";
  if (!out) {
    std::cerr << "cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
