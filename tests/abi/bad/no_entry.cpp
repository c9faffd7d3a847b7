// The classic mistake: the entry point was written in C++ without
// extern "C", so the module exports a mangled name and no
// tp_plugin_negotiate_v1.
#include <touchpoint/abi.h>

__attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation*, tp_plugin_info*,
                                                                        tp_error*);
__attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation*, tp_plugin_info*,
                                                                        tp_error*) {
  return TP_OK;
}
