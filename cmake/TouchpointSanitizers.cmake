# Global sanitizer switch: -DTOUCHPOINT_SANITIZE=address,undefined
if(TOUCHPOINT_SANITIZE)
  add_compile_options(-fsanitize=${TOUCHPOINT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${TOUCHPOINT_SANITIZE})
endif()
# GCC warns (-Wtsan) that TSan does not model atomic_thread_fence, which
# Boost.Asio's scheduler uses. Not our code, and warnings are errors here.
if(TOUCHPOINT_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-tsan)
endif()
