# The heap allocator of the hub's executables: mimalloc by default.
# Measured against glibc malloc and jemalloc on the store apply path and
# end to end (bench/README.md, "Allocation"): glibc spent a fifth of the
# store thread in malloc_consolidate and free. jemalloc and mimalloc both
# beat it on speed and RSS; jemalloc hangs under libfaketime (its clock
# calls during initialisation recurse into libfaketime's, libfaketime #130),
# which the clock-jump fault tests use, and its upstream is archived.
# Sanitizer and fuzz builds keep the system allocator, which the sanitizers
# replace themselves.
if(TOUCHPOINT_SANITIZE OR TOUCHPOINT_FUZZ)
  set(_touchpoint_allocator_default system)
else()
  set(_touchpoint_allocator_default mimalloc)
endif()
set(TOUCHPOINT_ALLOCATOR ${_touchpoint_allocator_default}
    CACHE STRING "Heap allocator of the executables: mimalloc, jemalloc or system")
set_property(CACHE TOUCHPOINT_ALLOCATOR PROPERTY STRINGS mimalloc jemalloc system)

if(TOUCHPOINT_ALLOCATOR STREQUAL "mimalloc")
  find_package(mimalloc 2.0 CONFIG REQUIRED)
  set(_touchpoint_allocator_lib mimalloc)
elseif(TOUCHPOINT_ALLOCATOR STREQUAL "jemalloc")
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  set(_touchpoint_allocator_lib PkgConfig::JEMALLOC)
elseif(NOT TOUCHPOINT_ALLOCATOR STREQUAL "system")
  message(FATAL_ERROR "TOUCHPOINT_ALLOCATOR must be mimalloc, jemalloc or system, not '${TOUCHPOINT_ALLOCATOR}'")
endif()

# Links an executable against the chosen allocator, which replaces malloc for
# the whole process: plugins loaded into it call the same one. Nothing refers
# to its symbols by name, so --as-needed must not drop it.
function(touchpoint_use_allocator target)
  if(_touchpoint_allocator_lib)
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed" ${_touchpoint_allocator_lib}
                                            "-Wl,--pop-state")
  endif()
endfunction()
