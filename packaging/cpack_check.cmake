# Run by cpack before it packages (CPACK_PROJECT_CONFIG_FILE): the Debian
# package is laid out under /usr, /etc/cbx and /lib/systemd/system only if
# the build folder was configured for prefix /usr.
if(CPACK_GENERATOR STREQUAL "DEB" AND
   NOT CPACK_CBX_CONFIGURED_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR
    "the Debian package needs a build folder configured with "
    "-DCMAKE_INSTALL_PREFIX=/usr (this one has ${CPACK_CBX_CONFIGURED_PREFIX})")
endif()
