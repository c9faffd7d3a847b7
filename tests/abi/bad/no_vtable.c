/* Accepts negotiation but returns no function table. */
#include <touchpoint/abi.h>

__attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out,
                                                                        tp_error* err);
tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err) {
  static const char name[] = "no_vtable";
  (void)in;
  (void)err;
  out->abi_version = TP_MAKE_VERSION(1, 0);
  out->name.data = name;
  out->name.len = sizeof name - 1;
  out->capabilities = TP_CAP_SINK;
  out->vtable = NULL;
  return TP_OK;
}
