# Verifies the generated unit with systemd-analyze. The unit names the
# installed binary, which does not exist in a build tree, so the check runs on
# a copy pointing at the freshly built one. Also requires the hardening to
# keep systemd's exposure rating at "OK" or better.
file(READ ${UNIT} unit)
string(REPLACE "${INSTALLED_BIN}" "${BUILD_BIN}" unit "${unit}")
file(WRITE ${WORK}/touchpoint.service "${unit}")

execute_process(COMMAND ${ANALYZE} verify ${WORK}/touchpoint.service RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "")
  message(FATAL_ERROR "systemd-analyze verify failed (${rc}):\n${out}")
endif()

execute_process(COMMAND ${ANALYZE} security --offline=true --threshold=30 ${WORK}/touchpoint.service
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "service exposure above 3.0:\n${out}")
endif()
string(REGEX MATCH "Overall exposure level[^\n]*" summary "${out}")
message(STATUS "${summary}")
