// Regenerates the committed spec vectors and fuzz seed corpora:
//   cbx_gen_spec_vectors <repo>/spec/vectors <repo>/fuzz/corpus
// writes directory.json, envelope.json and report.json to the first directory and
// seed_* files under directory_parse_fuzz/ and envelope_open_fuzz/ of the
// second. The output is deterministic; review the diff before committing.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "core/directory/testing/directory_vectors.h"
#include "core/envelope/testing/envelope_vectors.h"
#include "core/report/testing/report_vectors.h"

namespace {

bool WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    return false;
  }
  return true;
}

bool WriteCorpus(
    const std::filesystem::path& dir,
    const std::vector<std::pair<std::string, std::string>>& seeds) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    if (!WriteFile(dir / ("seed_" + name), bytes)) return false;
  }
  std::cout << "wrote " << seeds.size() << " seeds to " << dir << "\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0]
              << " <spec/vectors dir> <fuzz/corpus dir>\n";
    return 2;
  }
  const std::filesystem::path spec = argv[1];
  const std::filesystem::path corpus = argv[2];
  bool ok =
      WriteFile(
          spec / "directory.json",
          cbx::directory::testing::MakeDirectoryVectors().dump(2) + "\n") &&
      WriteFile(spec / "envelope.json",
                cbx::envelope::testing::MakeEnvelopeVectors().dump(2) + "\n") &&
      WriteFile(spec / "report.json",
                cbx::report::testing::MakeReportVectors().dump(2) + "\n") &&
      WriteCorpus(corpus / "directory_parse_fuzz",
                  cbx::directory::testing::DirectoryCorpusSeeds()) &&
      WriteCorpus(corpus / "envelope_open_fuzz",
                  cbx::envelope::testing::EnvelopeCorpusSeeds());
  if (ok)
    std::cout << "wrote " << spec / "directory.json"
              << ", envelope.json and report.json\n";
  return ok ? 0 : 1;
}
