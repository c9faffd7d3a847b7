# Build time: the test script compiles the tree three times (plain, ASan+UBSan,
# TSan) plus the fuzzers on a 2-core CI machine, so compile time is CI time.
#
# TOUCHPOINT_DEBUG_INFO=lines compiles with -g1 (line tables only). Stack
# traces from the sanitizers and from gdb's `bt` keep file:line; what is lost
# is local variables in the debugger. On the heaviest test files this cuts
# about 30% of the compile time of -O2 -g.
set(TOUCHPOINT_DEBUG_INFO "full" CACHE STRING "full: the build type's -g; lines: -g1 (line tables only)")
set_property(CACHE TOUCHPOINT_DEBUG_INFO PROPERTY STRINGS full lines)
if(TOUCHPOINT_DEBUG_INFO STREQUAL "lines")
  add_compile_options(-g1)  # after CMAKE_CXX_FLAGS_<CONFIG> on the command line, so it wins over -g
elseif(NOT TOUCHPOINT_DEBUG_INFO STREQUAL "full")
  message(FATAL_ERROR "TOUCHPOINT_DEBUG_INFO must be full or lines, not '${TOUCHPOINT_DEBUG_INFO}'")
endif()

# Precompiled headers for the test suites (gtest and nlohmann/json are in
# every test file). tests/common attaches them to touchpoint_test_support.
option(TOUCHPOINT_PCH "Precompile the headers every test file includes" ON)

# ccache makes the second and later builds cheap. With precompiled headers it
# needs the pch_defines and time_macros sloppiness, or it caches nothing.
find_program(TOUCHPOINT_CCACHE ccache)
if(TOUCHPOINT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER env CCACHE_SLOPPINESS=pch_defines,time_macros ${TOUCHPOINT_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${TOUCHPOINT_CCACHE})
endif()
