// The version every cbx binary prints for --version: "<binary> <version>
// (<git describe>)", the version from the top-level CMakeLists.txt's
// project(VERSION) and the commit the binary was built from (`git describe
// --always --dirty --tags`, "unknown commit" outside a git checkout).
//
// Library cbx_version; link it only into executables, whose main.cc alone
// is recompiled when the commit changes.
#ifndef CBX_CORE_UTIL_VERSION_H_
#define CBX_CORE_UTIL_VERSION_H_

#include <string>
#include <string_view>

namespace cbx {

// "0.1.0".
std::string_view Version();

// What --version prints (without a newline): "cbx-node 0.1.0 (a2f9723)".
std::string VersionLine(std::string_view binary);

}  // namespace cbx

#endif  // CBX_CORE_UTIL_VERSION_H_
