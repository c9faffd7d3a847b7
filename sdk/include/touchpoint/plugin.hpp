// Header-only C++ layer over the Touchpoint C ABI (touchpoint/abi.h).
//
// An integrator writes an ordinary class:
//
//   class MyConnector : public touchpoint::Connector {
//    public:
//     MyConnector(touchpoint::Host host, std::string_view config_json);
//     void read() override;                       // source
//     void write(touchpoint::RecordSpan batch,     // sink
//                touchpoint::Outcomes& outcomes) override;
//   };
//   TOUCHPOINT_PLUGIN(MyConnector, "my-connector", "1.0.0", "What it does",
//                     TP_CAP_SOURCE | TP_CAP_SINK)
//
// The macro generates the single exported entry point and the C trampolines.
// Every trampoline catches every exception: touchpoint::Error subclasses map
// to their status, anything else to TP_STATUS_INTERNAL. Nothing C++ crosses
// the boundary. A class may also define
//   static void validate_config(std::string_view config_json);
// which `touchpoint validate` calls without opening an instance.
#ifndef TOUCHPOINT_PLUGIN_HPP
#define TOUCHPOINT_PLUGIN_HPP

#include <touchpoint/abi.h>

#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace touchpoint {

inline std::string_view view(tp_str s) noexcept { return s.len ? std::string_view(s.data, s.len) : std::string_view(); }
inline tp_str str(std::string_view s) noexcept { return tp_str{s.data(), s.size()}; }

// ------------------------------------------------------------------ errors

/// An exception that carries a tp_status across the C++ layer.
class Error : public std::runtime_error {
 public:
  Error(tp_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  tp_status status() const noexcept { return status_; }

 private:
  tp_status status_;
};

struct RetryableError : Error {
  explicit RetryableError(const std::string& m) : Error(TP_STATUS_RETRYABLE, m) {}
};
struct PermanentError : Error {
  explicit PermanentError(const std::string& m) : Error(TP_STATUS_PERMANENT, m) {}
};
struct ConfigError : Error {
  explicit ConfigError(const std::string& m) : Error(TP_STATUS_INVALID_CONFIG, m) {}
};
struct UnsupportedError : Error {
  explicit UnsupportedError(const std::string& m) : Error(TP_STATUS_UNSUPPORTED, m) {}
};

inline void set_error(tp_error* err, std::string_view message) noexcept {
  if (err == nullptr || err->message == nullptr || err->capacity == 0) return;
  size_t n = message.size() < err->capacity ? message.size() : err->capacity;
  std::memcpy(err->message, message.data(), n);
  err->len = n;
}

// ----------------------------------------------------------------- records

/// An owning record a source builds and emits.
struct Record {
  std::string id;     ///< empty: the host assigns a unique id
  std::string type;   ///< "profile", "event", ...; empty means "event"
  std::string key;    ///< entity the record concerns, may be empty
  int64_t ts_ms = 0;  ///< 0: the host uses the time of emit
  std::string data;   ///< one JSON object (UTF-8)
  std::string meta;   ///< JSON object or empty
};

/// A borrowed record handed to a sink; valid for the duration of write().
struct RecordView {
  std::string_view id, type, key, source, data, meta;
  int64_t ts_ms = 0;
};
using RecordSpan = std::span<const RecordView>;

/// Input a source could not turn into a record; it goes to the dead-letter store.
struct Reject {
  std::string raw;
  std::string reason;
  std::string location;
};

/// One durable unit: records, rejects and the cursor after them.
struct EmitUnit {
  std::vector<Record> records;
  std::vector<Reject> rejects;
  std::string cursor;
};

/// Per-record results of a write(). Unreported records take write()'s result.
class Outcomes {
 public:
  explicit Outcomes(const tp_outcome_sink* sink) noexcept : sink_(sink) {}
  void retryable(size_t index, std::string_view message) { report(index, TP_STATUS_RETRYABLE, message); }
  void permanent(size_t index, std::string_view message) { report(index, TP_STATUS_PERMANENT, message); }
  void ok(size_t index) { report(index, TP_OK, {}); }
  /// Delivered, with the provider's id for it (ABI 1.1; a 1.0 hub ignores it).
  void sent(size_t index, std::string_view provider_id) { report(index, TP_OK, provider_id); }

 private:
  void report(size_t index, tp_status status, std::string_view message) {
    if (sink_ != nullptr && sink_->report != nullptr) sink_->report(sink_->ctx, index, status, str(message));
  }
  const tp_outcome_sink* sink_;
};

// -------------------------------------------------------------------- host

enum class LogLevel : int32_t {
  trace = TP_LOG_TRACE,
  debug = TP_LOG_DEBUG,
  info = TP_LOG_INFO,
  warn = TP_LOG_WARN,
  error = TP_LOG_ERROR
};

/// The host services of one instance. Cheap to copy; thread-safe.
class Host {
 public:
  using Done = std::function<void(tp_status, std::string_view message)>;

  Host(const tp_host_api* api, tp_host_ctx* ctx) noexcept : api_(api), ctx_(ctx) {}

  void log(LogLevel level, std::string_view message) const {
    if (api_->log != nullptr) api_->log(ctx_, static_cast<int32_t>(level), str(message));
  }
  void info(std::string_view m) const { log(LogLevel::info, m); }
  void warn(std::string_view m) const { log(LogLevel::warn, m); }
  void error(std::string_view m) const { log(LogLevel::error, m); }

  std::optional<std::string> config(std::string_view key) const {
    tp_str out{nullptr, 0};
    if (api_->config_get == nullptr || api_->config_get(ctx_, str(key), &out) != TP_OK) return std::nullopt;
    return std::string(view(out));
  }

  void counter_add(std::string_view name, std::string_view labels, double delta) const {
    if (api_->counter_add != nullptr) api_->counter_add(ctx_, str(name), str(labels), delta);
  }
  void gauge_set(std::string_view name, std::string_view labels, double value) const {
    if (api_->gauge_set != nullptr) api_->gauge_set(ctx_, str(name), str(labels), value);
  }

  /// Hands a unit to the host. Returns TP_OK when accepted (done runs later,
  /// once, from a host thread) or the refusal status (done is not run).
  tp_status emit(const EmitUnit& unit, Done done, std::string* error_message = nullptr) const {
    std::vector<tp_record> records;
    records.reserve(unit.records.size());
    for (const Record& r : unit.records) {
      tp_record c{};
      c.size = sizeof(tp_record);
      c.id = str(r.id);
      c.type = str(r.type);
      c.key = str(r.key);
      c.ts_ms = r.ts_ms;
      c.data = str(r.data);
      c.meta = str(r.meta);
      c.encoding = TP_ENCODING_JSON_UTF8;
      records.push_back(c);
    }
    std::vector<tp_reject> rejects;
    rejects.reserve(unit.rejects.size());
    for (const Reject& r : unit.rejects)
      rejects.push_back(tp_reject{sizeof(tp_reject), str(r.raw), str(r.reason), str(r.location)});
    tp_emit e{};
    e.size = sizeof(tp_emit);
    e.records = records.data();
    e.count = records.size();
    e.rejects = rejects.data();
    e.reject_count = rejects.size();
    e.cursor = str(unit.cursor);

    auto* heap_done = new Done(std::move(done));
    char buffer[512];
    tp_error err{sizeof(tp_error), buffer, sizeof(buffer), 0};
    tp_status status = api_->emit(ctx_, &e, &Host::emit_done, heap_done, &err);
    if (status != TP_OK) {
      delete heap_done;
      if (error_message != nullptr) error_message->assign(buffer, err.len);
    }
    return status;
  }

  /// The last durable cursor of this instance ("" when none).
  std::string checkpoint() const {
    tp_str out{nullptr, 0};
    if (api_->checkpoint_get == nullptr || api_->checkpoint_get(ctx_, &out) != TP_OK) return {};
    return std::string(view(out));
  }

  /// Runs fn on the instance's thread. False once the instance is closing.
  bool post(std::function<void()> fn) const {
    if (api_->post == nullptr) return false;
    auto* heap_fn = new std::function<void()>(std::move(fn));
    if (api_->post(ctx_, &Host::run_task, heap_fn) != TP_OK) {
      delete heap_fn;
      return false;
    }
    return true;
  }

  const tp_host_api* api() const noexcept { return api_; }
  tp_host_ctx* ctx() const noexcept { return ctx_; }

 private:
  static void emit_done(void* user, tp_status status, tp_str message) {
    std::unique_ptr<Done> done(static_cast<Done*>(user));
    try {
      (*done)(status, view(message));
    } catch (...) {
      // A callback must not throw into the host; there is nobody to report to.
    }
  }
  static void run_task(void* user) {
    std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(user));
    try {
      (*fn)();
    } catch (...) {
    }
  }

  const tp_host_api* api_;
  tp_host_ctx* ctx_;
};

// --------------------------------------------------------------- connector

/// Base class of a connector instance. Override what your plugin does.
class Connector {
 public:
  explicit Connector(Host host) : host_(host) {}
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;
  virtual ~Connector() = default;

  virtual void check() {}
  virtual std::string discover() { return "{\"streams\":[]}"; }
  virtual void read() { throw UnsupportedError("this connector is not a source"); }
  virtual void write(RecordSpan /*batch*/, Outcomes& /*outcomes*/) {
    throw UnsupportedError("this connector is not a sink");
  }
  virtual void commit(std::string_view /*cursor*/) {}
  /// GDPR erasure (ABI 1.1): remove what the instance holds about the person
  /// named in subject_json ({"profile": id, "identities": [{"kind","value"}]}).
  /// The default says the connector keeps no data.
  virtual void erase(std::string_view /*subject_json*/) {
    throw UnsupportedError("this connector keeps no data about people");
  }
  /// Stop and join your threads. Called once, before destruction.
  virtual void close() {}

 protected:
  const Host& host() const noexcept { return host_; }

 private:
  Host host_;
};

namespace detail {

template <typename F>
tp_status guarded(tp_error* err, F&& f) noexcept {
  try {
    return f();
  } catch (const Error& e) {
    set_error(err, e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_error(err, "out of memory");
    return TP_STATUS_INTERNAL;
  } catch (const std::exception& e) {
    set_error(err, e.what());
    return TP_STATUS_INTERNAL;
  } catch (...) {
    set_error(err, "unknown exception");
    return TP_STATUS_INTERNAL;
  }
}

template <typename C>
concept HasValidateConfig = requires(std::string_view s) {
  C::validate_config(s);
};

template <typename C>
struct Trampolines {
  static C* self(tp_instance* p) noexcept { return reinterpret_cast<C*>(p); }

  static tp_status validate(tp_str config, tp_error* err) noexcept {
    if constexpr (HasValidateConfig<C>) {
      return guarded(err, [&] {
        C::validate_config(view(config));
        return TP_OK;
      });
    } else {
      (void)config;
      (void)err;
      return TP_OK;
    }
  }
  static tp_status open(const tp_host_api* host, tp_host_ctx* ctx, tp_str config, tp_instance** out,
                        tp_error* err) noexcept {
    return guarded(err, [&] {
      *out = reinterpret_cast<tp_instance*>(new C(Host(host, ctx), view(config)));
      return TP_OK;
    });
  }
  static tp_status check(tp_instance* p, tp_error* err) noexcept {
    return guarded(err, [&] {
      self(p)->check();
      return TP_OK;
    });
  }
  static tp_status discover(tp_instance* p, void (*out_json)(void*, tp_str), void* out_ctx, tp_error* err) noexcept {
    return guarded(err, [&] {
      std::string doc = self(p)->discover();
      out_json(out_ctx, str(doc));
      return TP_OK;
    });
  }
  static tp_status read(tp_instance* p, tp_error* err) noexcept {
    return guarded(err, [&] {
      self(p)->read();
      return TP_OK;
    });
  }
  static tp_status write(tp_instance* p, const tp_batch* batch, const tp_outcome_sink* sink, tp_error* err) noexcept {
    return guarded(err, [&] {
      std::vector<RecordView> views;
      views.reserve(batch->count);
      for (size_t i = 0; i < batch->count; ++i) {
        const tp_record& r = batch->records[i];
        views.push_back(RecordView{view(r.id), view(r.type), view(r.key),
                                   TP_HAS_FIELD(&r, tp_record, source) ? view(r.source) : std::string_view(),
                                   view(r.data), view(r.meta), r.ts_ms});
      }
      Outcomes outcomes(sink);
      self(p)->write(RecordSpan(views), outcomes);
      return TP_OK;
    });
  }
  static tp_status commit(tp_instance* p, tp_str cursor, tp_error* err) noexcept {
    return guarded(err, [&] {
      self(p)->commit(view(cursor));
      return TP_OK;
    });
  }
  static tp_status erase(tp_instance* p, tp_str subject, tp_error* err) noexcept {
    return guarded(err, [&] {
      self(p)->erase(view(subject));
      return TP_OK;
    });
  }
  static void close(tp_instance* p) noexcept {
    C* c = self(p);
    try {
      c->close();
    } catch (...) {
    }
    delete c;
  }

  static constexpr tp_plugin_vtable vtable{
      sizeof(tp_plugin_vtable), &validate, &open, &check, &discover, &read, &write, &commit, &close, &erase};
};

template <typename C>
tp_status negotiate(const tp_negotiation* in, tp_plugin_info* out, tp_error* err, const char* name, const char* version,
                    const char* description, uint64_t caps) noexcept {
  if (in == nullptr || out == nullptr) return TP_STATUS_INTERNAL;
  // This layer implements exactly major version 1; any 1.x host works
  // because every struct we read is checked with TP_HAS_FIELD.
  uint32_t chosen = TP_ABI_VERSION;
  if (in->host_max_version < TP_MAKE_VERSION(1, 0) || in->host_min_version > chosen) {
    set_error(err, "plugin speaks ABI 1.x only");
    return TP_STATUS_REFUSED;
  }
  if (in->host_max_version < chosen) chosen = in->host_max_version;
  size_t out_size = out->size;
  tp_plugin_info info{};
  info.size = sizeof(tp_plugin_info);
  info.abi_version = chosen;
  info.name = str(name);
  info.version = str(version);
  info.description = str(description);
  info.capabilities = caps;
  info.vtable = &Trampolines<C>::vtable;
  // Never write past what the host allocated.
  std::memcpy(out, &info, out_size < sizeof(info) ? out_size : sizeof(info));
  out->size = out_size < sizeof(info) ? out_size : sizeof(info);
  return TP_OK;
}

}  // namespace detail
}  // namespace touchpoint

#if defined(_WIN32)
#define TP_EXPORT __declspec(dllexport)
#else
#define TP_EXPORT __attribute__((visibility("default")))
#endif

/// Generates the plugin's single exported entry point for class `Class`.
#define TOUCHPOINT_PLUGIN(Class, name, version, description, capabilities)                                 \
  extern "C" TP_EXPORT tp_status tp_plugin_negotiate_v1(const tp_negotiation* in, tp_plugin_info* out,     \
                                                        tp_error* err) {                                   \
    return ::touchpoint::detail::negotiate<Class>(in, out, err, name, version, description, capabilities); \
  }

#endif  // TOUCHPOINT_PLUGIN_HPP
