# Writes core/util/version_info.h into the build folder (run at build time
# by the cbx_version_info target, so the commit is that of the build, not of
# the last cmake run). configure_file rewrites the file only when its text
# changes: an unchanged commit recompiles nothing.
#   cmake -DSRC=<source dir> -DOUT=<header> -DCBX_VERSION=<x.y.z> -P version.cmake
execute_process(
  COMMAND git describe --always --dirty --tags
  WORKING_DIRECTORY ${SRC}
  OUTPUT_VARIABLE CBX_GIT_DESCRIBE
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR CBX_GIT_DESCRIBE STREQUAL "")
  # A source tarball without .git (e.g. a package build).
  set(CBX_GIT_DESCRIBE "unknown commit")
endif()
configure_file(${SRC}/core/util/version_info.h.in ${OUT} @ONLY)
