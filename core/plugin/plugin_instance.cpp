#include "plugin/plugin_instance.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <random>

#include "journal/journal.hpp"
#include "journal/unit_codec.hpp"
#include "plugin/record_validation.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {
namespace asio = boost::asio;

namespace {

std::string random_hex(size_t bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(rng() & 0xFF);
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

void set_error(tp_error* err, std::string_view message) {
  if (err == nullptr || err->message == nullptr || err->capacity == 0) return;
  size_t n = std::min(message.size(), err->capacity);
  std::memcpy(err->message, message.data(), n);
  err->len = n;
}

}  // namespace

PluginInstance::PluginInstance(std::shared_ptr<const LoadedPlugin> plugin, PluginUse use, HostServices services,
                               std::string checkpoint)
    : plugin_(std::move(plugin)),
      use_(std::move(use)),
      services_(services),
      labels_("plugin=" + plugin_->name + ",instance=" + use_.instance),
      checkpoint_(std::move(checkpoint)),
      id_prefix_(random_hex(8) + "-") {
  config_json_ = use_.config.dump();
  read_timer_ = std::make_unique<asio::steady_timer>(io_);
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

PluginInstance::~PluginInstance() {
  close();
  if (!io_.stopped()) io_.stop();
  if (thread_.joinable()) thread_.join();
}

bool PluginInstance::post(std::function<void()> fn) {
  if (closed_.load()) return false;
  asio::post(io_, std::move(fn));
  return true;
}

template <typename F>
auto PluginInstance::run_sync(F&& f) -> decltype(f()) {
  using R = decltype(f());
  std::packaged_task<R()> task(std::forward<F>(f));
  std::future<R> fut = task.get_future();
  asio::post(io_, [&task] { task(); });
  return fut.get();
}

void PluginInstance::observe_call(const char* verb, std::chrono::steady_clock::time_point start) {
  if (services_.metrics == nullptr) return;
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  services_.metrics->observe("touchpoint_plugin_call_seconds", join_labels(labels_, std::string("verb=") + verb), s);
}

void PluginInstance::open() {
  char msg[2048];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  tp_status st = run_sync([&] {
    auto start = std::chrono::steady_clock::now();
    tp_status r = TP_STATUS_INTERNAL;
    try {
      r = plugin_->vtable->open(host_api(), reinterpret_cast<tp_host_ctx*>(this),
                                tp_str{config_json_.data(), config_json_.size()}, &self_, &err);
    } catch (...) {
      set_error(&err, "exception escaped from open()");
    }
    observe_call("open", start);
    return r;
  });
  if (st != TP_OK || self_ == nullptr) {
    self_ = nullptr;
    closed_ = true;
    throw PluginError(use_.file + ":" + std::to_string(use_.line) + ":" + std::to_string(use_.col) + ": plugin '" +
                      plugin_->name + "' (instance " + use_.instance +
                      ") failed to open: " + std::string(msg, std::min(err.len, sizeof(msg))));
  }
  log::info("plugin", "opened " + use_.instance + " (" + plugin_->name + " " + plugin_->version + ")");
}

void PluginInstance::start_reading() {
  if (!plugin_->is_source()) return;
  post([this] { read_once(); });
}

void PluginInstance::schedule_read(int64_t delay_ms) {
  if (closing_.load()) return;
  if (delay_ms <= 0) {
    post([this] { read_once(); });
    return;
  }
  read_timer_->expires_after(std::chrono::milliseconds(delay_ms));
  read_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) read_once();
  });
}

void PluginInstance::read_once() {
  if (closing_.load() || self_ == nullptr) return;
  emits_since_read_ = 0;
  char msg[1024];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  auto start = std::chrono::steady_clock::now();
  tp_status st = TP_STATUS_INTERNAL;
  try {
    st = plugin_->vtable->read(self_, &err);
  } catch (...) {
    set_error(&err, "exception escaped from read()");
  }
  observe_call("read", start);
  if (st == TP_STATUS_UNSUPPORTED) {
    log::warn("plugin", use_.instance + ": read() unsupported, source loop stopped");
    return;
  }
  if (st != TP_OK) {
    log::warn("plugin", use_.instance + ": read() failed (" + std::to_string(st) +
                            "): " + std::string(msg, std::min(err.len, sizeof(msg))));
    if (services_.metrics)
      services_.metrics->counter_add("touchpoint_plugin_errors_total", join_labels(labels_, "verb=read"), 1);
    schedule_read(use_.poll_interval_ms);
    return;
  }
  schedule_read(emits_since_read_.load() > 0 ? 0 : use_.poll_interval_ms);
}

tp_status PluginInstance::write(const tp_batch& batch, const tp_outcome_sink& outcomes, std::string& error) {
  if (self_ == nullptr) {
    error = "instance is not open";
    return TP_STATUS_RETRYABLE;
  }
  char msg[2048];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  tp_status st = run_sync([&] {
    auto start = std::chrono::steady_clock::now();
    tp_status r = TP_STATUS_INTERNAL;
    try {
      r = plugin_->vtable->write(self_, &batch, &outcomes, &err);
    } catch (...) {
      set_error(&err, "exception escaped from write()");
    }
    observe_call("write", start);
    return r;
  });
  error.assign(msg, std::min(err.len, sizeof(msg)));
  return st;
}

std::string PluginInstance::check() {
  if (self_ == nullptr || plugin_->vtable->check == nullptr) return {};
  char msg[2048];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  tp_status st = run_sync([&] { return plugin_->vtable->check(self_, &err); });
  return st == TP_OK ? std::string() : std::string(msg, std::min(err.len, sizeof(msg)));
}

void PluginInstance::close() {
  if (closed_.exchange(true)) return;
  closing_ = true;
  // Emits already accepted complete (the journal is still running); their
  // done() callbacks and commits must reach the plugin before it closes.
  {
    std::unique_lock<std::mutex> lk(inflight_mu_);
    inflight_cv_.wait(lk, [&] { return inflight_ == 0; });
  }
  if (self_ != nullptr) {
    run_sync([&] {
      read_timer_->cancel();
      auto start = std::chrono::steady_clock::now();
      try {
        plugin_->vtable->close(self_);
      } catch (...) {
        log::error("plugin", use_.instance + ": exception escaped from close()");
      }
      observe_call("close", start);
      self_ = nullptr;
      return 0;
    });
    log::info("plugin", "closed " + use_.instance);
  }
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string PluginInstance::next_record_id() {
  return id_prefix_ + std::to_string(now_ms()) + "-" + std::to_string(id_counter_.fetch_add(1));
}

void PluginInstance::log(int32_t level, std::string_view message) const {
  log::Level l = level <= TP_LOG_TRACE   ? log::Level::trace
                 : level == TP_LOG_DEBUG ? log::Level::debug
                 : level == TP_LOG_INFO  ? log::Level::info
                 : level == TP_LOG_WARN  ? log::Level::warn
                                         : log::Level::error;
  log::write(l, "plugin:" + use_.instance, message);
}

tp_status PluginInstance::emit(const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err) {
  if (closing_.load()) {
    set_error(err, "instance is closing");
    return TP_STATUS_SHUTTING_DOWN;
  }
  if (!plugin_->is_source()) {
    set_error(err, "emit() from a plugin that did not declare TP_CAP_SOURCE");
    return TP_STATUS_PERMANENT;
  }
  if (unit == nullptr || done == nullptr || unit->size < offsetof(tp_emit, cursor) + sizeof(tp_str)) {
    set_error(err, "emit(): unit or done callback missing, or unit too small");
    return TP_STATUS_PERMANENT;
  }
  if ((unit->count > 0 && unit->records == nullptr) || (unit->reject_count > 0 && unit->rejects == nullptr)) {
    set_error(err, "emit(): count > 0 with a NULL array");
    return TP_STATUS_PERMANENT;
  }
  if (unit->count > UINT32_MAX / 2 || unit->reject_count > UINT32_MAX / 2) {
    set_error(err, "emit(): too many records in one unit");
    return TP_STATUS_PERMANENT;
  }
  std::string problem;
  journal::UnitEncoder enc(use_.instance, view_of(unit->cursor), now_ms(), static_cast<uint32_t>(unit->count));
  std::string generated_id;
  for (size_t i = 0; i < unit->count; ++i) {
    const tp_record& r = unit->records[i];
    if (!validate_record(r, problem)) {
      set_error(err, "record " + std::to_string(i) + ": " + problem);
      return TP_STATUS_PERMANENT;
    }
    std::string_view id = view_of(r.id);
    if (id.empty()) {
      generated_id = next_record_id();
      id = generated_id;
    }
    std::string_view type = view_of(r.type);
    enc.add_record(id, type.empty() ? std::string_view("event") : type, view_of(r.key),
                   r.ts_ms != 0 ? r.ts_ms : now_ms(), view_of(r.data), view_of(r.meta));
  }
  enc.begin_rejects(static_cast<uint32_t>(unit->reject_count));
  for (size_t i = 0; i < unit->reject_count; ++i) {
    const tp_reject& x = unit->rejects[i];
    enc.add_reject(view_of(x.raw), view_of(x.reason), view_of(x.location));
  }
  std::string cursor(view_of(unit->cursor));
  size_t count = unit->count;
  {
    std::lock_guard<std::mutex> lk(inflight_mu_);
    ++inflight_;
  }
  auto finish_inflight = [this] {
    std::lock_guard<std::mutex> lk(inflight_mu_);
    if (--inflight_ == 0) inflight_cv_.notify_all();
  };
  auto result = services_.journal->append(
      enc.finish(), [this, done, user, cursor, count, finish_inflight](bool ok, uint64_t, const std::string& error) {
        if (ok) {
          if (services_.metrics)
            services_.metrics->counter_add("touchpoint_records_in_total", "pipeline=" + use_.instance, double(count));
          done(user, TP_OK, tp_str{nullptr, 0});
          if (!cursor.empty() && plugin_->vtable->commit != nullptr) {
            // Commit runs on the instance thread, in emit order, before close().
            asio::post(io_, [this, cursor] {
              if (self_ == nullptr) return;
              char m[1024];
              tp_error e{sizeof(tp_error), m, sizeof(m), 0};
              auto start = std::chrono::steady_clock::now();
              tp_status st = plugin_->vtable->commit(self_, tp_str{cursor.data(), cursor.size()}, &e);
              observe_call("commit", start);
              if (st != TP_OK)
                log::warn("plugin", use_.instance + ": commit failed: " + std::string(m, std::min(e.len, sizeof(m))));
            });
          }
        } else {
          done(user, TP_STATUS_RETRYABLE, tp_str{error.data(), error.size()});
        }
        finish_inflight();
      });
  if (result != journal::Journal::AppendResult::accepted) {
    finish_inflight();
    if (result == journal::Journal::AppendResult::backpressure) {
      if (services_.metrics)
        services_.metrics->counter_add("touchpoint_backpressure_total", "pipeline=" + use_.instance, 1);
      set_error(err, "journal is over its size limit; retry later");
      return TP_STATUS_BACKPRESSURE;
    }
    set_error(err, "hub is shutting down");
    return TP_STATUS_SHUTTING_DOWN;
  }
  emits_since_read_.fetch_add(1);
  return TP_OK;
}

}  // namespace touchpoint::core
