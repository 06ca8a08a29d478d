// The spec vectors of spec/directory.md (spec/vectors/directory.json), built
// from the test federation. Deterministic: the same JSON on every run.
#ifndef CBX_CORE_DIRECTORY_TESTING_DIRECTORY_VECTORS_H_
#define CBX_CORE_DIRECTORY_TESTING_DIRECTORY_VECTORS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cbx/v1/directory.pb.h"
#include "core/util/bytes.h"
#include "nlohmann/json.hpp"

namespace cbx::directory::testing {

// The labels of every test key used by the vectors.
const std::vector<std::string>& TestKeyLabels();

nlohmann::json MakeDirectoryVectors();

// Version 2 of the test federation in which MK announces audit log
// generation `generation` after its checkpoint of size 12 (origin
// cbx/MK/audit, root SHA-256("cbx vector root")) signed by MK's node key
// and cosigned by each member of `witnesses`; unsigned by governance.
v1::Directory V2WithMkLogGeneration(uint32_t generation,
                                    const std::vector<std::string>& witnesses);

// (file name, serialized SignedDirectory) seeds for the directory fuzzer:
// every SignedDirectory of the vectors.
std::vector<std::pair<std::string, Bytes>> DirectoryCorpusSeeds();

}  // namespace cbx::directory::testing

#endif  // CBX_CORE_DIRECTORY_TESTING_DIRECTORY_VECTORS_H_
