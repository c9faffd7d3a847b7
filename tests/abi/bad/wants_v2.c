/* Picks ABI 2.0 regardless of what the host offers (a plugin from a future
 * SDK that does not check the host's range). */
#include <touchpoint/abi.h>

static const tp_plugin_vtable vtable = {sizeof(tp_plugin_vtable), 0, 0, 0, 0, 0, 0, 0, 0, 0};

__attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out,
                                                                        tp_error* err);
tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err) {
  static const char name[] = "wants_v2";
  (void)in;
  (void)err;
  out->abi_version = TP_MAKE_VERSION(2, 0);
  out->name.data = name;
  out->name.len = sizeof name - 1;
  out->vtable = &vtable;
  return TP_OK;
}
