// The spec vectors of spec/directory.md (spec/vectors/directory.json), built
// from the test federation. Deterministic: the same JSON on every run.
#ifndef CBX_CORE_DIRECTORY_TESTING_DIRECTORY_VECTORS_H_
#define CBX_CORE_DIRECTORY_TESTING_DIRECTORY_VECTORS_H_

#include <string>
#include <utility>
#include <vector>

#include "core/util/bytes.h"
#include "nlohmann/json.hpp"

namespace cbx::directory::testing {

// The labels of every test key used by the vectors.
const std::vector<std::string>& TestKeyLabels();

nlohmann::json MakeDirectoryVectors();

// (file name, serialized SignedDirectory) seeds for the directory fuzzer:
// every SignedDirectory of the vectors.
std::vector<std::pair<std::string, Bytes>> DirectoryCorpusSeeds();

}  // namespace cbx::directory::testing

#endif  // CBX_CORE_DIRECTORY_TESTING_DIRECTORY_VECTORS_H_
