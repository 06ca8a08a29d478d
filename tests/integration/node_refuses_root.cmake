# As root, cbx-node exits 2 with a message naming --allow-root, before it
# reads its config (so even a missing config file is not reached); with
# --allow-root it goes on to the config (exit 2 for the missing file, with
# the config's error instead). Not root: the refusal cannot be shown, and
# the test only checks that the flag is accepted.
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${NODE} --config /nonexistent/cbx-node.json
  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
execute_process(COMMAND ${NODE} --allow-root --config /nonexistent/cbx-node.json
  RESULT_VARIABLE rc_allowed ERROR_VARIABLE err_allowed)
if(uid STREQUAL "0")
  if(NOT rc EQUAL 2 OR NOT err MATCHES "refusing to run as root.*--allow-root")
    message(FATAL_ERROR "as root without --allow-root: exit ${rc}: ${err}${out}")
  endif()
  if(err MATCHES "nonexistent")
    message(FATAL_ERROR "the config was read before the root check: ${err}")
  endif()
endif()
if(NOT rc_allowed EQUAL 2 OR NOT err_allowed MATCHES "nonexistent/cbx-node.json")
  message(FATAL_ERROR "--allow-root: exit ${rc_allowed}: ${err_allowed}")
endif()
if(err_allowed MATCHES "root")
  message(FATAL_ERROR "--allow-root still refused: ${err_allowed}")
endif()
