/* Links against a function no library provides (built without -z defs),
 * like a plugin built against a newer dependency than the one installed.
 * dlopen(RTLD_NOW) must fail cleanly. */
#include <touchpoint/abi.h>

extern tp_status tp_abi_test_function_nobody_defines(const tp_negotiation* in);

__attribute__((visibility("default"))) tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out,
                                                                        tp_error* err);
tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err) {
  (void)out;
  (void)err;
  return tp_abi_test_function_nobody_defines(in);
}
