// The host side of the plugin ABI: the tp_host_api table every instance
// receives. tp_host_ctx* is the PluginInstance* the call belongs to.
//
// No exception may cross the C ABI: every function here catches everything.
// A service that fails (out of memory, a bug) is reported as a status where
// the function has one, and otherwise dropped: a log line or a metric is
// never worth unwinding through plugin code that may be C.
#include <cstring>

#include "plugin/plugin_instance.hpp"
#include "plugin/record_validation.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

struct HostApiImpl {
  static PluginInstance* self(tp_host_ctx* ctx) { return reinterpret_cast<PluginInstance*>(ctx); }

  static void set_error(tp_error* err, const char* what) noexcept {
    if (err == nullptr || err->message == nullptr || err->capacity == 0) return;
    size_t n = std::min(std::strlen(what), err->capacity);
    std::memcpy(err->message, what, n);
    err->len = n;
  }

  static void log(tp_host_ctx* ctx, int32_t level, tp_str message) noexcept {
    if (!ctx) return;
    try {
      self(ctx)->log(level, view_of(message));
    } catch (...) {
    }
  }

  static tp_status config_get(tp_host_ctx* ctx, tp_str key, tp_str* out) noexcept {
    if (!ctx || !out) return TP_STATUS_PERMANENT;
    try {
      std::optional<tp_str> v = self(ctx)->setting(view_of(key));
      if (!v) return TP_STATUS_PERMANENT;
      *out = *v;
      return TP_OK;
    } catch (...) {
      return TP_STATUS_INTERNAL;
    }
  }

  static void counter_add(tp_host_ctx* ctx, tp_str name, tp_str labels, double delta) noexcept {
    if (!ctx || !self(ctx)->services_.metrics) return;
    try {
      self(ctx)->services_.metrics->counter_add(view_of(name), join_labels(self(ctx)->labels_, view_of(labels)), delta);
    } catch (...) {
    }
  }

  static void gauge_set(tp_host_ctx* ctx, tp_str name, tp_str labels, double value) noexcept {
    if (!ctx || !self(ctx)->services_.metrics) return;
    try {
      self(ctx)->services_.metrics->gauge_set(view_of(name), join_labels(self(ctx)->labels_, view_of(labels)), value);
    } catch (...) {
    }
  }

  static tp_status emit(tp_host_ctx* ctx, const tp_emit* unit, tp_emit_done_fn done, void* user,
                        tp_error* err) noexcept {
    if (!ctx) return TP_STATUS_PERMANENT;
    try {
      return self(ctx)->emit(unit, done, user, err);
    } catch (const std::bad_alloc&) {
      set_error(err, "the hub is out of memory; retry later");
      return TP_STATUS_BACKPRESSURE;
    } catch (const std::exception& e) {
      set_error(err, e.what());
      return TP_STATUS_INTERNAL;
    } catch (...) {
      set_error(err, "unknown error in the hub");
      return TP_STATUS_INTERNAL;
    }
  }

  static tp_status checkpoint_get(tp_host_ctx* ctx, tp_str* out) noexcept {
    if (!ctx || !out) return TP_STATUS_PERMANENT;
    // The checkpoint is fixed for the instance's life: hand out the member itself.
    const std::string& cp = self(ctx)->checkpoint_;
    *out = tp_str{cp.data(), cp.size()};
    return TP_OK;
  }

  static tp_status post(tp_host_ctx* ctx, tp_task_fn fn, void* user) noexcept {
    if (!ctx || !fn) return TP_STATUS_PERMANENT;
    try {
      PluginInstance* p = self(ctx);
      if (p->closing_.load()) return TP_STATUS_SHUTTING_DOWN;
      return p->post([fn, user] { fn(user); }) ? TP_OK : TP_STATUS_SHUTTING_DOWN;
    } catch (...) {
      return TP_STATUS_INTERNAL;
    }
  }

  static const tp_host_api& table() {
    static const std::string version = "touchpoint " TOUCHPOINT_VERSION;
    static const tp_host_api api = [] {
      tp_host_api a{};
      a.size = sizeof(tp_host_api);
      a.abi_version = TP_ABI_VERSION;
      a.host_version = tp_str{version.data(), version.size()};
      a.log = &HostApiImpl::log;
      a.config_get = &HostApiImpl::config_get;
      a.counter_add = &HostApiImpl::counter_add;
      a.gauge_set = &HostApiImpl::gauge_set;
      a.emit = &HostApiImpl::emit;
      a.checkpoint_get = &HostApiImpl::checkpoint_get;
      a.post = &HostApiImpl::post;
      return a;
    }();
    return api;
  }
};

const tp_host_api* PluginInstance::host_api() { return &HostApiImpl::table(); }

}  // namespace touchpoint::core
