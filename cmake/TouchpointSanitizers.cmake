# Global sanitizer switch: -DTOUCHPOINT_SANITIZE=address,undefined
if(TOUCHPOINT_SANITIZE)
  add_compile_options(-fsanitize=${TOUCHPOINT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${TOUCHPOINT_SANITIZE})
endif()
