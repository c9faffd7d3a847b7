/*
 * A connector plugin built ONLY against the frozen ABI 1.0 header
 * (tests/abi/frozen/v1_0), in plain C, without the SDK's C++ layer: this is
 * what a plugin shipped on the day v1.0 was released looks like. The hub of
 * today must load and drive it.
 *
 * Plugin "frozen_v1_0" is a source and a sink:
 *  - open(): reads the checkpoint and config_get("instance") from the host.
 *  - read(): emits one unit (2 records, 1 reject, cursor "c1") once.
 *  - commit(): remembers the cursor.
 *  - write(): accepts records, reports key "reject-me" as permanent failure.
 *  - discover(): a JSON document in two chunks.
 * Its state is written to the file named by config "state_file" after each
 * change, so the test can observe it from outside (the module exports
 * nothing but the entry point).
 * Config {"fail_open": true} makes open() and validate() fail.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <touchpoint/abi.h>

#if TP_ABI_VERSION_MAJOR != 1 || TP_ABI_VERSION_MINOR != 0
#error "this plugin must be compiled against the frozen v1.0 header only"
#endif

#define EXPORT __attribute__((visibility("default")))
#define STR(literal) \
  { literal, sizeof(literal) - 1 }

struct tp_instance {
  const tp_host_api* host;
  tp_host_ctx* ctx;
  char state_file[512];
  char checkpoint[128];
  char instance[128];
  char committed[128];
  char written[256];
  int emitted;
  unsigned writes;
  atomic_int done_calls;
  atomic_int done_status;
};

static void set_error(tp_error* err, const char* message) {
  size_t n;
  if (!TP_HAS_FIELD(err, tp_error, len) || err->message == NULL) return;
  n = strlen(message);
  if (n > err->capacity) n = err->capacity;
  memcpy(err->message, message, n);
  err->len = n;
}

static void copy_str(char* dst, size_t cap, tp_str s) {
  size_t n = s.len < cap - 1 ? s.len : cap - 1;
  if (n > 0) memcpy(dst, s.data, n);
  dst[n] = '\0';
}

static int str_eq(tp_str s, const char* literal) {
  return s.len == strlen(literal) && memcmp(s.data, literal, s.len) == 0;
}

static int contains(tp_str haystack, const char* needle) {
  size_t n = strlen(needle), i;
  for (i = 0; i + n <= haystack.len; ++i)
    if (memcmp(haystack.data + i, needle, n) == 0) return 1;
  return 0;
}

/* Extracts the string value of "key" from a flat JSON object (no escapes). */
static int json_string(tp_str json, const char* key, char* out, size_t cap) {
  char pattern[64];
  size_t n, i, j;
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  n = strlen(pattern);
  for (i = 0; i + n <= json.len; ++i) {
    if (memcmp(json.data + i, pattern, n) != 0) continue;
    for (j = i + n; j < json.len && json.data[j] != '"'; ++j) {
    }
    if (j >= json.len || j - (i + n) >= cap) return 0;
    memcpy(out, json.data + i + n, j - (i + n));
    out[j - (i + n)] = '\0';
    return 1;
  }
  return 0;
}

static void write_state(tp_instance* self, int closed) {
  FILE* f;
  char tmp[600];
  if (self->state_file[0] == '\0') return;
  snprintf(tmp, sizeof tmp, "%s.tmp", self->state_file);
  f = fopen(tmp, "w");
  if (f == NULL) return;
  fprintf(f,
          "instance=%s\ncheckpoint=%s\ncommitted=%s\ndone_calls=%d\ndone_status=%d\nwrites=%u\nwritten=%s\nclosed=%d\n",
          self->instance, self->checkpoint, self->committed, atomic_load(&self->done_calls),
          atomic_load(&self->done_status), self->writes, self->written, closed);
  fclose(f);
  rename(tmp, self->state_file);
}

static tp_status frozen_validate(tp_str config_json, tp_error* err) {
  if (config_json.len == 0 || config_json.data[0] != '{') {
    set_error(err, "config must be a JSON object");
    return TP_STATUS_INVALID_CONFIG;
  }
  if (contains(config_json, "\"fail_open\":true")) {
    set_error(err, "fail_open is set");
    return TP_STATUS_INVALID_CONFIG;
  }
  return TP_OK;
}

static tp_status frozen_open(const tp_host_api* host, tp_host_ctx* ctx, tp_str config_json, tp_instance** out,
                             tp_error* err) {
  tp_instance* self;
  tp_str s = {NULL, 0};
  tp_status st = frozen_validate(config_json, err);
  if (st != TP_OK) return st;
  if (!TP_HAS_FIELD(host, tp_host_api, post)) {
    set_error(err, "host API table too small for ABI 1.0");
    return TP_STATUS_INTERNAL;
  }
  self = calloc(1, sizeof *self);
  if (self == NULL) return TP_STATUS_INTERNAL;
  self->host = host;
  self->ctx = ctx;
  atomic_init(&self->done_calls, 0);
  atomic_init(&self->done_status, -1);
  json_string(config_json, "state_file", self->state_file, sizeof self->state_file);
  if (host->checkpoint_get(ctx, &s) == TP_OK) copy_str(self->checkpoint, sizeof self->checkpoint, s);
  {
    tp_str key = STR("instance");
    if (host->config_get(ctx, key, &s) == TP_OK) copy_str(self->instance, sizeof self->instance, s);
  }
  {
    tp_str msg = STR("frozen v1.0 plugin opened");
    host->log(ctx, TP_LOG_INFO, msg);
  }
  write_state(self, 0);
  *out = self;
  return TP_OK;
}

static tp_status frozen_check(tp_instance* self, tp_error* err) {
  if (self->state_file[0] == '\0') {
    set_error(err, "no state_file configured");
    return TP_STATUS_INVALID_CONFIG;
  }
  return TP_OK;
}

static tp_status frozen_discover(tp_instance* self, void (*out_json)(void* ctx, tp_str chunk), void* out_ctx,
                                 tp_error* err) {
  tp_str a = STR("{\"streams\":[{\"name\":\"frozen\",");
  tp_str b = STR("\"fields\":[\"email\",\"plan\"]}]}");
  (void)self;
  if (out_json == NULL) {
    set_error(err, "no output callback");
    return TP_STATUS_PERMANENT;
  }
  out_json(out_ctx, a);
  out_json(out_ctx, b);
  return TP_OK;
}

static void on_done(void* user, tp_status status, tp_str message) {
  tp_instance* self = user;
  (void)message;
  atomic_store(&self->done_status, status);
  atomic_fetch_add(&self->done_calls, 1);
}

static tp_status frozen_read(tp_instance* self, tp_error* err) {
  tp_record records[2];
  tp_reject reject;
  tp_emit unit;
  tp_status st;
  size_t i;
  if (self->emitted) return TP_OK;
  memset(records, 0, sizeof records);
  for (i = 0; i < 2; ++i) {
    tp_str type = STR("profile"), key = STR("cust-7"), meta = STR("{\"via\":\"frozen\"}");
    records[i].size = sizeof(tp_record);
    records[i].type = type;
    records[i].key = key;
    records[i].ts_ms = 1700000000000 + (int64_t)i;
    records[i].meta = meta;
    records[i].encoding = TP_ENCODING_JSON_UTF8;
  }
  {
    tp_str id1 = STR("r1"), id2 = STR("r2");
    tp_str d1 = STR("{\"email\":\"a@example.com\"}"), d2 = STR("{\"plan\":\"gold\"}");
    records[0].id = id1;
    records[0].data = d1;
    records[1].id = id2;
    records[1].data = d2;
  }
  {
    tp_str raw = STR("garbage;row"), reason = STR("not a record"), location = STR("frozen:3");
    memset(&reject, 0, sizeof reject);
    reject.size = sizeof reject;
    reject.raw = raw;
    reject.reason = reason;
    reject.location = location;
  }
  {
    tp_str cursor = STR("c1");
    memset(&unit, 0, sizeof unit);
    unit.size = sizeof unit;
    unit.records = records;
    unit.count = 2;
    unit.rejects = &reject;
    unit.reject_count = 1;
    unit.cursor = cursor;
  }
  st = self->host->emit(self->ctx, &unit, on_done, self, err);
  if (st != TP_OK) return st;
  self->emitted = 1;
  {
    tp_str name = STR("abi_frozen_emits_total"), labels = {NULL, 0};
    self->host->counter_add(self->ctx, name, labels, 1.0);
  }
  return TP_OK;
}

static void append_id(tp_instance* self, tp_str id) {
  size_t used = strlen(self->written);
  if (used + id.len + 2 >= sizeof self->written) return;
  if (used > 0) self->written[used++] = ',';
  memcpy(self->written + used, id.data, id.len);
  self->written[used + id.len] = '\0';
}

static tp_status frozen_write(tp_instance* self, const tp_batch* batch, const tp_outcome_sink* outcomes,
                              tp_error* err) {
  size_t i;
  if (!TP_HAS_FIELD(batch, tp_batch, count) || !TP_HAS_FIELD(outcomes, tp_outcome_sink, report)) {
    set_error(err, "batch or outcome sink too small for ABI 1.0");
    return TP_STATUS_PERMANENT;
  }
  ++self->writes;
  for (i = 0; i < batch->count; ++i) {
    const tp_record* r = &batch->records[i];
    if (!TP_HAS_FIELD(r, tp_record, source) || r->source.len == 0) {
      tp_str msg = STR("record without source");
      outcomes->report(outcomes->ctx, i, TP_STATUS_PERMANENT, msg);
    } else if (str_eq(r->key, "reject-me")) {
      tp_str msg = STR("rejected by frozen plugin");
      outcomes->report(outcomes->ctx, i, TP_STATUS_PERMANENT, msg);
    } else {
      append_id(self, r->id);
    }
  }
  write_state(self, 0);
  return TP_OK;
}

static tp_status frozen_commit(tp_instance* self, tp_str cursor, tp_error* err) {
  (void)err;
  copy_str(self->committed, sizeof self->committed, cursor);
  write_state(self, 0);
  return TP_OK;
}

static void frozen_close(tp_instance* self) {
  write_state(self, 1);
  free(self);
}

static const tp_plugin_vtable vtable = {sizeof(tp_plugin_vtable),
                                        frozen_validate,
                                        frozen_open,
                                        frozen_check,
                                        frozen_discover,
                                        frozen_read,
                                        frozen_write,
                                        frozen_commit,
                                        frozen_close};

EXPORT tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err);

EXPORT tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out, tp_error* err) {
  const uint32_t mine = TP_MAKE_VERSION(1, 0);
  if (!TP_HAS_FIELD(in, tp_negotiation, host) || !TP_HAS_FIELD(out, tp_plugin_info, vtable)) {
    set_error(err, "negotiation structs too small for ABI 1.0");
    return TP_STATUS_REFUSED;
  }
  if (mine < in->host_min_version || mine > in->host_max_version) {
    set_error(err, "frozen_v1_0 speaks ABI 1.0 only");
    return TP_STATUS_REFUSED;
  }
  {
    tp_str name = STR("frozen_v1_0"), version = STR("1.0.0"),
           description = STR("ABI 1.0 guard-rail plugin (plain C, frozen header)");
    out->abi_version = mine;
    out->name = name;
    out->version = version;
    out->description = description;
    out->capabilities = TP_CAP_SOURCE | TP_CAP_SINK;
    out->vtable = &vtable;
  }
  return TP_OK;
}
