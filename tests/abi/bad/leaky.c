/* A working sink that breaks the symbol export rule: built with default
 * visibility and no version script, it exports a helper beside the entry
 * point. The hub loads it and warns (docs/abi.md, Symbol export rule). */
#include <stdlib.h>
#include <touchpoint/abi.h>

#define EXPORT __attribute__((visibility("default")))

struct tp_instance {
  int unused;
};

EXPORT int leaky_helper(void);
EXPORT int leaky_helper(void) { return 42; }

static tp_status leaky_open(const tp_host_api* host, tp_host_ctx* ctx, tp_str config_json, tp_instance** out,
                            tp_error* err) {
  (void)host;
  (void)ctx;
  (void)config_json;
  (void)err;
  *out = calloc(1, sizeof(tp_instance));
  return *out ? TP_OK : TP_STATUS_INTERNAL;
}

static tp_status leaky_write(tp_instance* self, const tp_batch* batch, const tp_outcome_sink* outcomes, tp_error* err) {
  (void)self;
  (void)batch;
  (void)outcomes;
  (void)err;
  return TP_OK;
}

static void leaky_close(tp_instance* self) { free(self); }

static const tp_plugin_vtable vtable = {
    .size = sizeof(tp_plugin_vtable), .open = leaky_open, .write = leaky_write, .close = leaky_close};

EXPORT tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err);
EXPORT tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err) {
  static const char name[] = "leaky", version[] = "1.0.0", description[] = "exports more than its entry point";
  (void)in;
  (void)err;
  out->abi_version = TP_MAKE_VERSION(1, 0);
  out->name.data = name;
  out->name.len = sizeof name - 1;
  out->version.data = version;
  out->version.len = sizeof version - 1;
  out->description.data = description;
  out->description.len = sizeof description - 1;
  out->capabilities = TP_CAP_SINK;
  out->vtable = &vtable;
  return TP_OK;
}
