# touchpoint_warnings(<target>): the project's warning set; errors in developer mode.
function(touchpoint_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align
                                           -Wimplicit-fallthrough)
  if(TOUCHPOINT_DEVELOPER_MODE)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
