/* Checks the host's range properly and refuses: it needs ABI 2.0. */
#include <string.h>
#include <touchpoint/abi.h>

__attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out,
                                                                        tp_error* err);
tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err) {
  static const char msg[] = "this plugin needs ABI 2.0 or newer";
  (void)out;
  if (in->host_max_version >= TP_MAKE_VERSION(2, 0)) return TP_STATUS_INTERNAL; /* not reached with a v1 host */
  if (err != NULL && err->message != NULL) {
    size_t n = sizeof msg - 1 < err->capacity ? sizeof msg - 1 : err->capacity;
    memcpy(err->message, msg, n);
    err->len = n;
  }
  return TP_STATUS_REFUSED;
}
