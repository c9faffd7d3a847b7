// The entry point throws a C++ exception straight through the C ABI: built
// without the SDK's trampolines (plugin.hpp), which would turn it into
// TP_STATUS_INTERNAL.
#include <touchpoint/abi.h>

#include <stdexcept>

extern "C" __attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation*,
                                                                                   tp_plugin_info*, tp_error*);
extern "C" tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info*, tp_error*) {
  if (in != nullptr) throw std::runtime_error("boom from a plugin without trampolines");
  return TP_OK;
}
