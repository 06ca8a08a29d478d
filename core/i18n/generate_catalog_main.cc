// cbx_i18n_gen FOLDER HEADER SOURCE: the catalog of FOLDER/*.txt as C++
// (catalog_generator.h), run by CMake at build time. Writes an output only
// when its text changed, so that an unchanged catalog recompiles nothing.
// Exit 1 with every problem on stderr (file, line, message) if a file does
// not pass the checks against en.txt: the build fails there.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/i18n/catalog_generator.h"

namespace {

bool ReadFile(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return in.good() || in.eof();
}

bool WriteIfChanged(const std::string& path, const std::string& text) {
  std::string old;
  if (std::filesystem::exists(path) && ReadFile(path, &old) && old == text) {
    return true;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return out.good();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: cbx_i18n_gen FOLDER HEADER SOURCE\n";
    return 2;
  }
  std::vector<cbx::i18n::LanguageFileText> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1], ec)) {
    if (entry.path().extension() != ".txt") continue;
    cbx::i18n::LanguageFileText file{entry.path().string(), ""};
    if (!ReadFile(entry.path(), &file.content)) {
      std::cerr << file.path << ": cannot be read\n";
      return 1;
    }
    files.push_back(std::move(file));
  }
  if (ec) {
    std::cerr << argv[1] << ": " << ec.message() << "\n";
    return 1;
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  absl::StatusOr<cbx::i18n::GeneratedCatalog> catalog =
      cbx::i18n::GenerateCatalog(files);
  if (!catalog.ok()) {
    std::cerr << "the message catalog (" << argv[1]
              << ") does not pass its checks:\n"
              << catalog.status().message() << "\n";
    return 1;
  }
  if (!WriteIfChanged(argv[2], catalog->header) ||
      !WriteIfChanged(argv[3], catalog->source)) {
    std::cerr << "cbx_i18n_gen: cannot write " << argv[2] << " or " << argv[3]
              << "\n";
    return 1;
  }
  return 0;
}
