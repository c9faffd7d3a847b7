/*
 * Touchpoint plugin ABI, version 1.
 *
 * This header is the only contract between the Touchpoint hub and a connector
 * plugin. It is plain C (only <stdint.h> and <stddef.h>) so that a plugin
 * built with any compiler, any C++ standard library or any language with a C
 * FFI can be loaded by any hub that speaks ABI major version 1.
 *
 * Stability rules (enforced by tests/abi in the hub's repository):
 *  - Every struct starts with a `size` member holding sizeof(struct) as the
 *    writer compiled it. Structs only ever grow at the end; a reader checks
 *    TP_HAS_FIELD(ptr, type, member) before touching a member added after 1.0.
 *  - Each member is annotated with the ABI minor version that added it.
 *  - Enumerations are plain integer constants; unknown values must be
 *    tolerated (unknown capability bits are ignored, unknown record statuses
 *    are treated as TP_STATUS_PERMANENT).
 *  - No C++ types or exceptions cross the boundary. Strings are pointer +
 *    length, UTF-8, not NUL-terminated.
 *  - Memory is never freed on the other side of the boundary. Buffers passed
 *    into a call are borrowed for the duration of that call only; copy what
 *    you need to keep.
 *
 * Threading contract:
 *  - The host calls the functions of one plugin instance one at a time
 *    (serialized), from the instance's own thread, unless the plugin declares
 *    TP_CAP_CONCURRENT_SAFE.
 *  - Every host service function is thread-safe and may be called from any
 *    thread the plugin owns, between open() returning TP_OK and close()
 *    returning. After close() returns the plugin must not call the host again
 *    and must have joined all threads it started.
 *
 * Entry point: a plugin exports exactly one symbol, TP_PLUGIN_ENTRY_SYMBOL
 * ("tp_plugin_negotiate_v1"). The host passes the ABI range it supports and
 * its service table; the plugin picks a version inside that range and fills
 * in its descriptor, or refuses.
 */
#ifndef TOUCHPOINT_ABI_H
#define TOUCHPOINT_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- versions */

#define TP_ABI_VERSION_MAJOR 1
#define TP_ABI_VERSION_MINOR 1
/* A version is (major << 16) | minor. */
/* Written without casts so C++ code built with -Wold-style-cast stays clean. */
#define TP_MAKE_VERSION(major, minor) ((major)*65536u + (minor))
#define TP_VERSION_MAJOR(v) ((v) >> 16)
#define TP_VERSION_MINOR(v) ((v)&0xFFFFu)
#define TP_ABI_VERSION TP_MAKE_VERSION(TP_ABI_VERSION_MAJOR, TP_ABI_VERSION_MINOR)

#define TP_PLUGIN_ENTRY_SYMBOL "tp_plugin_negotiate_v1"

/* True when the struct at `ptr`, as written by the other side, is large
 * enough to contain `member`. */
#ifdef __cplusplus
#define TP_HAS_FIELD(ptr, type, member) \
  ((ptr) != nullptr && (ptr)->size >= offsetof(type, member) + sizeof(static_cast<type*>(nullptr)->member))
#else
#define TP_HAS_FIELD(ptr, type, member) \
  ((ptr) != NULL && (ptr)->size >= offsetof(type, member) + sizeof(((type*)0)->member))
#endif

/* ----------------------------------------------------------- status codes */

typedef int32_t tp_status;
#define TP_OK 0                    /* v1.0 success */
#define TP_STATUS_RETRYABLE 1      /* v1.0 transient failure: the host retries with backoff */
#define TP_STATUS_PERMANENT 2      /* v1.0 the input can never succeed: dead-letter it */
#define TP_STATUS_INVALID_CONFIG 3 /* v1.0 open()/validate(): configuration rejected */
#define TP_STATUS_UNSUPPORTED 4    /* v1.0 verb not implemented by this plugin */
#define TP_STATUS_BACKPRESSURE 5   /* v1.0 host is over its limits: slow down and retry later */
#define TP_STATUS_INTERNAL 6       /* v1.0 bug or unexpected exception inside the callee */
#define TP_STATUS_REFUSED 7        /* v1.0 negotiation: no common ABI version */
#define TP_STATUS_SHUTTING_DOWN 8  /* v1.0 host is stopping: the call was not performed */

/* ----------------------------------------------------------- basic types */

/* A borrowed UTF-8 string: not NUL-terminated, may contain NUL. */
typedef struct tp_str {
  const char* data; /* v1.0 may be NULL when len == 0 */
  size_t len;       /* v1.0 */
} tp_str;

/* A host-owned buffer the callee writes an error message into. The callee
 * writes at most `capacity` bytes and sets `len`; longer messages are cut. */
typedef struct tp_error {
  size_t size;     /* v1.0 */
  char* message;   /* v1.0 host-owned buffer */
  size_t capacity; /* v1.0 bytes available in message */
  size_t len;      /* v1.0 bytes written by the callee */
} tp_error;

/* Encoding of tp_record.data. Only JSON is defined in 1.0. */
#define TP_ENCODING_JSON_UTF8 0u /* v1.0 data is one UTF-8 JSON object */

/* One record as it crosses the boundary (the "envelope", docs/abi.md).
 * tp_record, tp_reject and tp_str travel in arrays indexed with the reader's
 * own sizeof, so unlike the other structs they never grow within ABI 1.x;
 * a new record field would come as a new, separately sized struct.
 * Limits the host enforces on emit; one violating record refuses the whole
 * unit with TP_STATUS_PERMANENT: id <= 256 bytes, type <= 64 bytes of
 * [a-z0-9_.-], key <= 1024 bytes, data + meta <= 16 MiB, data a JSON object. */
typedef struct tp_record {
  size_t size;       /* v1.0 */
  tp_str id;         /* v1.0 unique id used for idempotency; empty: host assigns one */
  tp_str type;       /* v1.0 e.g. "profile", "event"; empty: "event" */
  tp_str key;        /* v1.0 entity the record concerns (customer id, e-mail); may be empty */
  int64_t ts_ms;     /* v1.0 event time, Unix epoch milliseconds; 0: host uses now */
  tp_str data;       /* v1.0 payload, see encoding */
  tp_str meta;       /* v1.0 JSON object with transport metadata, or empty */
  uint32_t encoding; /* v1.0 TP_ENCODING_* */
  tp_str source;     /* v1.0 connector instance; filled by the host on records it hands
                                to a sink, ignored on emit (the host knows the emitter) */
} tp_record;

/* Limits the host enforces before it accepts a unit (emit), as numbers a
 * plugin can check against before emitting (v1.0 limits, named as macros
 * since hub 0.2). The values never shrink within ABI 1.x.
 *  - TP_MAX_ID_BYTES, TP_MAX_TYPE_BYTES, TP_MAX_KEY_BYTES: per record field.
 *  - TP_MAX_RECORD_BYTES: data + meta of one record.
 *  - TP_MAX_REJECT_BYTES: raw + reason + location of one reject.
 *  - TP_MAX_CURSOR_BYTES: the unit's cursor.
 *  - TP_MAX_UNIT_BYTES: the whole unit as the host journals it: every string
 *    of every record and reject plus TP_UNIT_RECORD_OVERHEAD bytes per record
 *    and per reject, plus the cursor. A larger unit is refused with
 *    TP_STATUS_PERMANENT before anything is acknowledged: split it. */
#define TP_MAX_ID_BYTES 256u
#define TP_MAX_TYPE_BYTES 64u
#define TP_MAX_KEY_BYTES 1024u
#define TP_MAX_RECORD_BYTES (16u * 1024u * 1024u)
#define TP_MAX_REJECT_BYTES (1024u * 1024u)
#define TP_MAX_CURSOR_BYTES (64u * 1024u)
#define TP_MAX_UNIT_BYTES (64u * 1024u * 1024u)
#define TP_UNIT_RECORD_OVERHEAD 64u

typedef struct tp_batch {
  size_t size;              /* v1.0 */
  const tp_record* records; /* v1.0 */
  size_t count;             /* v1.0 */
} tp_batch;

/* Input the source could not turn into a record (e.g. a malformed CSV row).
 * The host stores it in the dead-letter store with the reason. */
typedef struct tp_reject {
  size_t size;     /* v1.0 */
  tp_str raw;      /* v1.0 the offending input, as far as it is known */
  tp_str reason;   /* v1.0 human-readable reason */
  tp_str location; /* v1.0 where it came from, e.g. "inbox/a.csv:17" */
} tp_reject;

/* What a source hands to the host in one durable unit. */
typedef struct tp_emit {
  size_t size;              /* v1.0 */
  const tp_record* records; /* v1.0 */
  size_t count;             /* v1.0 */
  const tp_reject* rejects; /* v1.0 may be NULL */
  size_t reject_count;      /* v1.0 */
  tp_str cursor;            /* v1.0 source position after this unit; passed back to
                                     commit() and to open() via checkpoint_get */
} tp_emit;

/* Called by the host exactly once per emit, from a host thread, when the
 * unit is durable (TP_OK) or has been refused (any other status; nothing of
 * it was kept). Must return quickly: hand real work to your own thread. */
typedef void (*tp_emit_done_fn)(void* user, tp_status status, tp_str message);

/* A sink reports the outcome of individual records of a write() batch
 * through this. Records not reported take the status write() returns.
 * v1.1: with TP_OK, `message` is the provider's id for the delivered record
 * (an SMTP queue id or Message-ID, a letter-shop row key, a call-list id),
 * or empty. The hub stores it on the contact, so that responses naming only
 * the provider's id find their contact. At most TP_MAX_ID_BYTES are kept. */
typedef struct tp_outcome_sink {
  size_t size; /* v1.0 */
  void* ctx;   /* v1.0 host context, pass back unchanged */
  /* v1.0 status: TP_OK, TP_STATUS_RETRYABLE or TP_STATUS_PERMANENT */
  void (*report)(void* ctx, size_t index, tp_status status, tp_str message);
} tp_outcome_sink;

/* ---------------------------------------------------------- host services */

typedef struct tp_host_ctx tp_host_ctx; /* opaque, one per plugin instance */

#define TP_LOG_TRACE 0 /* v1.0 */
#define TP_LOG_DEBUG 1 /* v1.0 */
#define TP_LOG_INFO 2  /* v1.0 */
#define TP_LOG_WARN 3  /* v1.0 */
#define TP_LOG_ERROR 4 /* v1.0 */

typedef void (*tp_task_fn)(void* user);

typedef struct tp_host_api {
  size_t size;          /* v1.0 */
  uint32_t abi_version; /* v1.0 version the host implements (its maximum) */
  tp_str host_version;  /* v1.0 e.g. "touchpoint 0.1.0" */

  /* v1.0 Log a line attributed to the instance; PII masking is the host's job. */
  void (*log)(tp_host_ctx* ctx, int32_t level, tp_str message);

  /* v1.0 Look up a hub-level setting by dotted key (e.g. "data_dir"). Returns
   * TP_OK and a string valid until close(), or TP_STATUS_PERMANENT if unknown. */
  tp_status (*config_get)(tp_host_ctx* ctx, tp_str key, tp_str* out);

  /* v1.0 Metrics. `labels` is "k1=v1,k2=v2" or empty; the instance label is added. */
  void (*counter_add)(tp_host_ctx* ctx, tp_str name, tp_str labels, double delta);
  void (*gauge_set)(tp_host_ctx* ctx, tp_str name, tp_str labels, double value);

  /* v1.0 Hand a unit of records to the host. Returns TP_OK when the unit was
   * accepted for journaling (done() follows later), or an error status without
   * calling done(): TP_STATUS_BACKPRESSURE (retry later), TP_STATUS_PERMANENT
   * (malformed unit; message in err), TP_STATUS_SHUTTING_DOWN. All buffers are
   * copied before emit returns. Every accepted unit gets exactly one done()
   * call, on a host thread, and always before close() is called: the host
   * waits for in-flight units before closing an instance. */
  tp_status (*emit)(tp_host_ctx* ctx, const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err);

  /* v1.0 The cursor that was durable when this instance was opened (empty if
   * none): where a restarted source resumes. Later commits are delivered
   * through commit(), not reflected here. The string is valid until close(). */
  tp_status (*checkpoint_get)(tp_host_ctx* ctx, tp_str* out);

  /* v1.0 Run fn(user) on the instance's own thread, serialized with the
   * host's calls into the instance. Returns TP_STATUS_SHUTTING_DOWN once
   * close() has begun (fn is then not run). */
  tp_status (*post)(tp_host_ctx* ctx, tp_task_fn fn, void* user);
} tp_host_api;

/* ---------------------------------------------------------- plugin side */

#define TP_CAP_SOURCE 0x1u          /* v1.0 implements read() and emits records */
#define TP_CAP_SINK 0x2u            /* v1.0 implements write() */
#define TP_CAP_CONCURRENT_SAFE 0x4u /* v1.0 instance functions may be called concurrently */

typedef struct tp_instance tp_instance; /* opaque, owned by the plugin */

typedef struct tp_plugin_vtable {
  size_t size; /* v1.0 */

  /* v1.0 Check a configuration without side effects (used by `touchpoint
   * validate`). May be NULL: then only open() can reject a configuration. */
  tp_status (*validate)(tp_str config_json, tp_error* err);

  /* v1.0 Create an instance. config_json is the instance's "config" block
   * as a JSON object with secrets already resolved. */
  tp_status (*open)(const tp_host_api* host, tp_host_ctx* ctx, tp_str config_json, tp_instance** out, tp_error* err);

  /* v1.0 Check connectivity and credentials of an open instance. */
  tp_status (*check)(tp_instance* self, tp_error* err);

  /* v1.0 Describe the streams and fields the instance offers or accepts as a
   * JSON document written through out_json (called once per chunk). */
  tp_status (*discover)(tp_instance* self, void (*out_json)(void* ctx, tp_str chunk), void* out_ctx, tp_error* err);

  /* v1.0 Source: emit what is available now via host->emit and return.
   * Called repeatedly on the instance's thread; when nothing was emitted the
   * host waits for the instance's poll interval before calling again.
   * Listener-style sources may emit from their own threads instead and
   * return immediately. */
  tp_status (*read)(tp_instance* self, tp_error* err);

  /* v1.0 Sink: deliver a batch. Per-record outcomes through `outcomes`. */
  tp_status (*write)(tp_instance* self, const tp_batch* batch, const tp_outcome_sink* outcomes, tp_error* err);

  /* v1.0 The unit that ended at `cursor` is durable in the hub: the source
   * may now acknowledge it upstream (move a file, ack a message). */
  tp_status (*commit)(tp_instance* self, tp_str cursor, tp_error* err);

  /* v1.0 Stop: join all plugin threads, release everything. No host calls
   * after this returns. Never fails. */
  void (*close)(tp_instance* self);

  /* v1.1 Erase everything the instance holds about one person (GDPR Art. 17):
   * files, caches, the copy at the provider where the API allows it.
   * subject_json: {"profile": <id>, "identities": [{"kind": "email",
   * "value": "anna@example.de"}, ...]}. Return TP_OK when done (also when
   * nothing was held), TP_STATUS_UNSUPPORTED when the connector keeps no
   * data, or an error with the reason in err (the admin sees it in the
   * erase receipt). May be NULL (as in every 1.0 plugin): the hub reports
   * the connector as not supporting erasure. Called on the instance thread. */
  tp_status (*erase)(tp_instance* self, tp_str subject_json, tp_error* err);
} tp_plugin_vtable;

typedef struct tp_plugin_info {
  size_t size;                    /* v1.0 */
  uint32_t abi_version;           /* v1.0 the version the plugin chose */
  tp_str name;                    /* v1.0 e.g. "webhook"; static storage */
  tp_str version;                 /* v1.0 the plugin's own version; static storage */
  tp_str description;             /* v1.0 one line; static storage */
  uint64_t capabilities;          /* v1.0 TP_CAP_* bits */
  const tp_plugin_vtable* vtable; /* v1.0 static storage */
} tp_plugin_info;

typedef struct tp_negotiation {
  size_t size;               /* v1.0 */
  uint32_t host_min_version; /* v1.0 oldest ABI version the host accepts */
  uint32_t host_max_version; /* v1.0 newest ABI version the host implements */
  const tp_host_api* host;   /* v1.0 */
} tp_negotiation;

/* The one exported entry point. Return TP_OK after filling `out` (whose
 * `size` the host has set), TP_STATUS_REFUSED when no version in
 * [host_min_version, host_max_version] is acceptable. */
typedef tp_status (*tp_plugin_negotiate_fn)(const tp_negotiation* in, tp_plugin_info* out, tp_error* err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TOUCHPOINT_ABI_H */
