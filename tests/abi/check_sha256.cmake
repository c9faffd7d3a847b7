# cmake -DFILE=<path> -DEXPECTED=<sha256> -P check_sha256.cmake
# Fails when the frozen ABI header was edited. It must never be: it is the
# ABI 1.0 that plugins in the field were compiled against.
file(SHA256 "${FILE}" actual)
if(NOT actual STREQUAL EXPECTED)
  message(FATAL_ERROR "${FILE} was modified (sha256 ${actual}, frozen as ${EXPECTED}).\n"
                      "The frozen ABI 1.0 header must never be edited; restore it with git.")
endif()
message(STATUS "frozen ABI 1.0 header unchanged")
