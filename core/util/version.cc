#include "core/util/version.h"

#include "core/util/version_info.h"  // generated into the build folder

namespace cbx {

std::string_view Version() { return CBX_VERSION; }

std::string VersionLine(std::string_view binary) {
  std::string line(binary);
  line.append(" ").append(CBX_VERSION).append(" (").append(CBX_GIT_DESCRIBE);
  line.append(")");
  return line;
}

}  // namespace cbx
