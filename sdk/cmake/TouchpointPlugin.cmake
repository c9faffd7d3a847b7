# touchpoint_add_plugin(<name> SOURCES <files...>)
#
# Builds a connector plugin as a loadable module (libtp_<name>.so) that exports
# exactly one dynamic symbol: tp_plugin_negotiate_v1. Hidden visibility alone is
# not enough — libstdc++ declares namespace std with default visibility, so
# template instantiations would leak as weak symbols — hence the version script.
# Works in the hub's tree and out of tree after find_package(Touchpoint CONFIG).
function(touchpoint_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  # Found relative to this file, so the function also works in directories
  # other than the one that called find_package(Touchpoint).
  set(_touchpoint_exports_map "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/touchpoint_plugin.map")
  set(target tp_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Touchpoint::sdk)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    PREFIX "lib")
  # -z defs: unresolved symbols fail at link time, not at dlopen in production.
  target_link_options(${target} PRIVATE -Wl,--exclude-libs,ALL -Wl,-z,defs
                      -Wl,--version-script=${_touchpoint_exports_map})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${_touchpoint_exports_map})
  if(DEFINED TOUCHPOINT_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${TOUCHPOINT_PLUGIN_OUTPUT_DIR})
  endif()
  # `cmake --install` puts the plugin where the hub loads it from: the
  # TOUCHPOINT_INSTALL_PLUGIN_DIR given, else the installed hub's
  # Touchpoint_PLUGIN_DIR; with neither, the install fails and says so.
  if(DEFINED TOUCHPOINT_INSTALL_PLUGIN_DIR AND NOT TOUCHPOINT_INSTALL_PLUGIN_DIR STREQUAL "")
    install(TARGETS ${target} LIBRARY DESTINATION ${TOUCHPOINT_INSTALL_PLUGIN_DIR})
  elseif(DEFINED Touchpoint_PLUGIN_DIR AND NOT Touchpoint_PLUGIN_DIR STREQUAL "")
    install(TARGETS ${target} LIBRARY DESTINATION ${Touchpoint_PLUGIN_DIR})
  else()
    install(CODE "message(FATAL_ERROR \"${target}: no plugin directory to install into; configure with -DTOUCHPOINT_INSTALL_PLUGIN_DIR=<the hub's plugin_dir>\")")
  endif()
endfunction()
