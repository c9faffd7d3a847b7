#include "gmime_init.hpp"

#include <gmime/gmime.h>

#include <mutex>

namespace tp_email {

void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

}  // namespace tp_email
