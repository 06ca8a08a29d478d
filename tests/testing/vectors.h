// Loads the project's copies of published test vectors (tests/vectors/) and
// the spec's own vectors (spec/vectors/) for unit tests.
#ifndef CBX_TESTS_TESTING_VECTORS_H_
#define CBX_TESTS_TESTING_VECTORS_H_

#include <string>

#include "core/util/bytes.h"
#include "nlohmann/json.hpp"

namespace cbx::testing {

// Parses the JSON file at `path`; fails the calling test (and returns null)
// if it cannot be read or parsed.
nlohmann::json LoadJson(const std::string& path);

// Hex-decodes `hex`, aborting the test binary on malformed vector data.
Bytes Unhex(const std::string& hex);

}  // namespace cbx::testing

#endif  // CBX_TESTS_TESTING_VECTORS_H_
