// The host side of the plugin ABI: the tp_host_api table every instance
// receives. tp_host_ctx* is the PluginInstance* the call belongs to.
#include <cstring>

#include "plugin/plugin_instance.hpp"
#include "plugin/record_validation.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

struct HostApiImpl {
  static PluginInstance* self(tp_host_ctx* ctx) { return reinterpret_cast<PluginInstance*>(ctx); }

  static void log(tp_host_ctx* ctx, int32_t level, tp_str message) {
    if (ctx) self(ctx)->log(level, view_of(message));
  }

  static tp_status config_get(tp_host_ctx* ctx, tp_str key, tp_str* out) {
    if (!ctx || !out) return TP_STATUS_PERMANENT;
    PluginInstance* p = self(ctx);
    const HubConfig* hub = p->services_.hub;
    std::string_view k = view_of(key);
    std::string value;
    if (hub == nullptr) return TP_STATUS_PERMANENT;
    if (k == "data_dir")
      value = hub->data_dir.string();
    else if (k == "instance")
      value = p->use_.instance;
    else if (k == "instance_data_dir")
      value = (hub->data_dir / "plugins" / p->use_.instance).string();
    else
      return TP_STATUS_PERMANENT;
    std::lock_guard<std::mutex> lk(p->strings_mu_);
    const std::string& kept = p->kept_strings_.emplace_back(std::move(value));
    *out = tp_str{kept.data(), kept.size()};
    return TP_OK;
  }

  static void counter_add(tp_host_ctx* ctx, tp_str name, tp_str labels, double delta) {
    if (!ctx || !self(ctx)->services_.metrics) return;
    self(ctx)->services_.metrics->counter_add(view_of(name), join_labels(self(ctx)->labels_, view_of(labels)), delta);
  }

  static void gauge_set(tp_host_ctx* ctx, tp_str name, tp_str labels, double value) {
    if (!ctx || !self(ctx)->services_.metrics) return;
    self(ctx)->services_.metrics->gauge_set(view_of(name), join_labels(self(ctx)->labels_, view_of(labels)), value);
  }

  static tp_status emit(tp_host_ctx* ctx, const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err) {
    if (!ctx) return TP_STATUS_PERMANENT;
    try {
      return self(ctx)->emit(unit, done, user, err);
    } catch (const std::exception& e) {
      if (err && err->message) {
        size_t n = std::min(std::strlen(e.what()), err->capacity);
        std::memcpy(err->message, e.what(), n);
        err->len = n;
      }
      return TP_STATUS_INTERNAL;
    }
  }

  static tp_status checkpoint_get(tp_host_ctx* ctx, tp_str* out) {
    if (!ctx || !out) return TP_STATUS_PERMANENT;
    PluginInstance* p = self(ctx);
    std::lock_guard<std::mutex> lk(p->strings_mu_);
    const std::string& kept = p->kept_strings_.emplace_back(p->checkpoint_);
    *out = tp_str{kept.data(), kept.size()};
    return TP_OK;
  }

  static tp_status post(tp_host_ctx* ctx, tp_task_fn fn, void* user) {
    if (!ctx || !fn) return TP_STATUS_PERMANENT;
    PluginInstance* p = self(ctx);
    if (p->closing_.load()) return TP_STATUS_SHUTTING_DOWN;
    return p->post([fn, user] { fn(user); }) ? TP_OK : TP_STATUS_SHUTTING_DOWN;
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
