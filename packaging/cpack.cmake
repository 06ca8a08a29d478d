# The Debian package: `make package` (or `cmake --build build --target
# package`) writes build/cbx_<version>-<revision>_amd64.deb from what
# packaging/CMakeLists.txt installs. Included from the top-level
# CMakeLists.txt, after add_subdirectory(packaging).

# The package's version is the project's, and its Debian revision comes from
# the newest entry of packaging/debian/changelog, which must be for this
# version: a release bumps both.
file(STRINGS ${CMAKE_SOURCE_DIR}/packaging/debian/changelog cbx_changelog_top
     LIMIT_COUNT 1)
if(NOT cbx_changelog_top MATCHES "^cbx \\(([^)-]+)-([^)]+)\\)")
  message(FATAL_ERROR "packaging/debian/changelog: the first line must read "
                      "'cbx (<version>-<revision>) ...'")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "packaging/debian/changelog: its newest entry is for "
                      "${CMAKE_MATCH_1}, the project is ${PROJECT_VERSION}: "
                      "add an entry for ${PROJECT_VERSION}")
endif()
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CMAKE_MATCH_2})

set(CBX_PACKAGE_MAINTAINER
    "cbx maintainers <maintainers@users.noreply.r-seed-98ff439e.example>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cbx)
set(CPACK_PACKAGE_VENDOR "cbx maintainers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${CBX_PACKAGE_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CBX_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Library dependencies from dpkg-shlibdeps (dpkg-dev); adduser for postinst,
# procps for the unit's ExecReload (/bin/kill).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "secure cross-border case sharing between prosecution services")
# The extended description (CPack puts the summary above it and indents
# each line by one space).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"cbx lets each country's prosecution service run a node that asks the other
countries' nodes, blindly and provably, whether they hold a case involving
the same perpetrator (a Telegram account, a phone number, a group), and
then exchanges a minimal signed case reference. Nothing about victims
crosses the border.
.
Queries are blinded (RFC 9497 VOPRF) and answered under a daily quota;
every message is a signed envelope over mutual TLS; membership is a
directory signed by k of n governance keys; every exchange is appended to
a witnessed Merkle audit log.
.
This package contains cbx-node (with a hardened systemd unit, installed
disabled), the office and auditor client cbx, and cbx-admin for keys and
the federation directory.")

# Maintainer scripts and the conffiles (what dpkg keeps an operator's edits
# of); the list is made here so it follows the config folder.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles
     "${CBX_CONFIG_DIR}/node.json.example\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm
    ${CMAKE_BINARY_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The unit and the /etc paths were fixed at configure time: a package of a
# build folder configured for another prefix would put them in the wrong
# places, so cpack refuses it (packaging/cpack_check.cmake).
set(CPACK_CBX_CONFIGURED_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_SOURCE_DIR}/packaging/cpack_check.cmake)

include(CPack)
