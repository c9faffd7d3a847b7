# touchpoint_add_plugin(<name> SOURCES <files...>)
#
# Builds a connector plugin as a loadable module (libtp_<name>.so) with hidden
# visibility, so that it exports exactly one symbol: tp_plugin_negotiate_v1.
# Works in the hub's tree and out of tree after find_package(Touchpoint CONFIG).
function(touchpoint_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(target tp_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Touchpoint::sdk)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    PREFIX "lib")
  # Keep the plugin's static libstdc++ symbols and friends out of its export table.
  target_link_options(${target} PRIVATE -Wl,--exclude-libs,ALL -Wl,-z,defs)
  if(DEFINED TOUCHPOINT_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${TOUCHPOINT_PLUGIN_OUTPUT_DIR})
  endif()
  if(DEFINED TOUCHPOINT_INSTALL_PLUGIN_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${TOUCHPOINT_INSTALL_PLUGIN_DIR})
  endif()
endfunction()
