#include "plugin/plugin_instance.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstring>
#include <random>

#include "journal/journal.hpp"
#include "journal/unit_codec.hpp"
#include "plugin/record_validation.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

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

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::mutex& graveyard_mu() {
  static std::mutex mu;
  return mu;
}
std::vector<std::shared_ptr<PluginInstance>>& graveyard() {
  // Never destroyed: abandoned instances may still be running plugin code.
  static auto* g = new std::vector<std::shared_ptr<PluginInstance>>();
  return *g;
}

}  // namespace

// ------------------------------------------------------------------ SinkBatch

SinkBatch::SinkBatch(std::vector<Item> items) : items_(std::move(items)), reported_(items_.size()) {
  records_.resize(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& it = items_[i];
    tp_record& t = records_[i];
    t.size = sizeof(tp_record);
    t.id = {it.id.data(), it.id.size()};
    t.type = {it.type.data(), it.type.size()};
    t.key = {it.key.data(), it.key.size()};
    t.source = {it.source.data(), it.source.size()};
    t.data = {it.data.data(), it.data.size()};
    t.meta = {it.meta.data(), it.meta.size()};
    t.ts_ms = it.ts_ms;
    t.encoding = TP_ENCODING_JSON_UTF8;
  }
  batch_ = tp_batch{sizeof(tp_batch), records_.data(), records_.size()};
  sink_ = tp_outcome_sink{sizeof(tp_outcome_sink), this, &SinkBatch::report};
}

void SinkBatch::report(void* ctx, size_t index, tp_status status, tp_str message) {
  auto* self = static_cast<SinkBatch*>(ctx);
  std::lock_guard<std::mutex> lk(self->mu_);
  if (self->sealed_ || index >= self->reported_.size()) return;
  self->reported_[index] = std::make_pair(status, std::string(view_of(message)));
}

std::optional<std::pair<tp_status, std::string>> SinkBatch::reported(size_t i) const {
  std::lock_guard<std::mutex> lk(mu_);
  return i < reported_.size() ? reported_[i] : std::nullopt;
}

void SinkBatch::seal() {
  std::lock_guard<std::mutex> lk(mu_);
  sealed_ = true;
}

// ------------------------------------------------------------- PluginInstance

struct PluginInstance::Call {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  tp_status status = TP_STATUS_INTERNAL;
  char msg[2048];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  std::function<tp_status(tp_error*)> fn;
};

PluginInstance::PluginInstance(std::shared_ptr<const LoadedPlugin> plugin, PluginUse use, HostServices services,
                               std::string checkpoint)
    : plugin_(std::move(plugin)),
      use_(std::move(use)),
      services_(services),
      labels_("plugin=" + plugin_->name + ",instance=" + use_.instance),
      deadline_(use_.call_timeout_ms),
      checkpoint_(std::move(checkpoint)),
      durable_cursor_(checkpoint_),
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
  if (stuck_) {
    // The owner should have abandoned it; do not join a thread that may never return.
    log::error("plugin", use_.instance + ": destroyed while stuck; its thread is left running");
    thread_.detach();
    return;
  }
  if (!io_.stopped()) io_.stop();
  if (thread_.joinable()) thread_.join();
}

void PluginInstance::abandon(std::shared_ptr<PluginInstance> instance) {
  if (!instance) return;
  instance->refuse_emits();
  log::error("plugin", instance->name() + ": abandoned (stuck in a call); it stays in memory until the hub exits");
  if (instance->services_.metrics)
    instance->services_.metrics->counter_add("touchpoint_plugin_abandoned_total", instance->labels_, 1);
  std::lock_guard<std::mutex> lk(graveyard_mu());
  graveyard().push_back(std::move(instance));
}

size_t PluginInstance::abandoned_count() {
  std::lock_guard<std::mutex> lk(graveyard_mu());
  return graveyard().size();
}

bool PluginInstance::post(std::function<void()> fn) {
  if (closed_.load() || io_.stopped()) return false;
  asio::post(io_, std::move(fn));
  return true;
}

void PluginInstance::begin_call(const char* verb) {
  busy_verb_.store(verb);
  busy_since_ns_.store(steady_ns());
}

void PluginInstance::end_call(const char* verb, Clock::time_point start) {
  busy_since_ns_.store(0);
  if (services_.metrics == nullptr) return;
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  services_.metrics->observe("touchpoint_plugin_call_seconds", join_labels(labels_, std::string("verb=") + verb), s);
}

std::optional<std::pair<std::string, std::chrono::milliseconds>> PluginInstance::busy() const {
  const int64_t since = busy_since_ns_.load();
  if (since == 0) return std::nullopt;
  const char* verb = busy_verb_.load();
  return std::make_pair(std::string(verb ? verb : "?"), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                            std::chrono::nanoseconds(steady_ns() - since)));
}

bool PluginInstance::check_deadline() {
  if (stuck_) return true;
  auto b = busy();
  if (b && b->second > deadline_) mark_stuck(b->first, b->second);
  return stuck_;
}

void PluginInstance::mark_stuck(const std::string& verb, std::chrono::milliseconds after) {
  if (stuck_.exchange(true)) return;
  log::error("plugin", use_.instance + " (" + plugin_->name + "): " + verb + "() has not returned after " +
                           std::to_string(after.count()) + " ms (deadline " + std::to_string(deadline_.count()) +
                           " ms); the instance is isolated and will be replaced");
  if (services_.metrics)
    services_.metrics->counter_add("touchpoint_plugin_stuck_total", join_labels(labels_, "verb=" + verb), 1);
}

CallResult PluginInstance::call(const char* verb, std::function<tp_status(tp_error*)> fn) {
  if (stuck_) return {TP_STATUS_RETRYABLE, use_.instance + " is stuck in an earlier call", false};
  if (io_.stopped()) return {TP_STATUS_SHUTTING_DOWN, use_.instance + " is closed", false};
  auto c = std::make_shared<Call>();
  c->fn = std::move(fn);
  asio::post(io_, [this, c, verb] {
    const auto start = Clock::now();
    begin_call(verb);
    tp_status st = TP_STATUS_INTERNAL;
    try {
      st = c->fn(&c->err);
    } catch (...) {
      set_error(&c->err, std::string("exception escaped from ") + verb + "()");
    }
    end_call(verb, start);
    {
      std::lock_guard<std::mutex> lk(c->mu);
      c->status = st;
      c->done = true;
    }
    c->cv.notify_all();
  });
  std::unique_lock<std::mutex> lk(c->mu);
  if (!c->cv.wait_for(lk, deadline_, [&] { return c->done; })) {
    lk.unlock();
    mark_stuck(verb, deadline_);
    return {TP_STATUS_RETRYABLE,
            std::string(verb) + "() did not return within " + std::to_string(deadline_.count()) + " ms", true};
  }
  return {c->status, std::string(c->msg, std::min(c->err.len, sizeof(c->msg))), false};
}

void PluginInstance::open() {
  CallResult r = call("open", [this](tp_error* err) {
    tp_instance* out = nullptr;
    tp_status st = plugin_->vtable->open(host_api(), reinterpret_cast<tp_host_ctx*>(this),
                                         tp_str{config_json_.data(), config_json_.size()}, &out, err);
    if (st == TP_OK && out == nullptr) st = TP_STATUS_INTERNAL;
    if (st == TP_OK) self_ = out;
    return st;
  });
  if (r.status != TP_OK) {
    if (!stuck_) closed_ = true;
    throw PluginError(use_.file + ":" + std::to_string(use_.line) + ":" + std::to_string(use_.col) + ": plugin '" +
                      plugin_->name + "' (instance " + use_.instance + ") failed to open: " + r.error);
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
  if (closing_.load() || self_ == nullptr || stuck_) return;
  emits_since_read_ = 0;
  char msg[1024];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  const auto start = Clock::now();
  begin_call("read");
  tp_status st = TP_STATUS_INTERNAL;
  try {
    st = plugin_->vtable->read(self_, &err);
  } catch (...) {
    set_error(&err, "exception escaped from read()");
  }
  end_call("read", start);
  if (stuck_) return;  // the supervisor gave up on this call meanwhile
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

CallResult PluginInstance::write(const std::shared_ptr<SinkBatch>& batch) {
  if (self_ == nullptr) return {TP_STATUS_RETRYABLE, "instance is not open", false};
  CallResult r = call("write", [this, batch](tp_error* err) {
    return plugin_->vtable->write(self_, &batch->batch(), &batch->outcomes(), err);
  });
  if (r.timed_out) batch->seal();
  return r;
}

std::string PluginInstance::check() {
  if (self_ == nullptr || plugin_->vtable->check == nullptr) return {};
  CallResult r = call("check", [this](tp_error* err) { return plugin_->vtable->check(self_, err); });
  return r.status == TP_OK ? std::string() : r.error;
}

CallResult PluginInstance::discover(std::string* json) {
  if (self_ == nullptr) return {TP_STATUS_RETRYABLE, "instance is not open", false};
  if (plugin_->vtable->discover == nullptr) return {TP_STATUS_UNSUPPORTED, "the plugin has no discover verb", false};
  // The document belongs to the call: a plugin that misses the deadline may
  // still be writing it after we return.
  struct Out {
    std::string text;
    bool overflow = false;
  };
  auto out = std::make_shared<Out>();
  CallResult r = call("discover", [this, out](tp_error* err) {
    auto chunk = [](void* ctx, tp_str c) {
      auto* o = static_cast<Out*>(ctx);
      if (c.data == nullptr || o->overflow) return;
      if (o->text.size() + c.len > kMaxDiscoverBytes) {
        o->overflow = true;
        return;
      }
      o->text.append(c.data, c.len);
    };
    return plugin_->vtable->discover(self_, chunk, out.get(), err);
  });
  if (r.status != TP_OK || r.timed_out) return r;
  if (out->overflow)
    return {TP_STATUS_PERMANENT,
            "discover() wrote more than " + std::to_string(kMaxDiscoverBytes) + " bytes; the document is ignored",
            false};
  *json = std::move(out->text);
  return r;
}

CallResult PluginInstance::erase(const std::string& subject_json) {
  const tp_plugin_vtable* vt = plugin_->vtable;
  if (self_ == nullptr) return {TP_STATUS_RETRYABLE, "instance is not open", false};
  if (!TP_HAS_FIELD(vt, tp_plugin_vtable, erase) || vt->erase == nullptr)
    return {TP_STATUS_UNSUPPORTED,
            "the plugin (ABI " + std::to_string(TP_VERSION_MAJOR(plugin_->abi_version)) + "." +
                std::to_string(TP_VERSION_MINOR(plugin_->abi_version)) + ") has no erase verb",
            false};
  auto subject = std::make_shared<std::string>(subject_json);
  return call("erase", [this, subject](tp_error* err) {
    return plugin_->vtable->erase(self_, tp_str{subject->data(), subject->size()}, err);
  });
}

bool PluginInstance::close() {
  if (closed_.exchange(true)) return !stuck_;
  closing_ = true;
  // Emits already accepted complete (the journal always answers, even when it
  // fails); their done() callbacks and commits must reach the plugin first.
  {
    std::unique_lock<std::mutex> lk(inflight_mu_);
    if (!inflight_cv_.wait_for(lk, deadline_, [&] { return inflight_ == 0; }))
      log::warn("plugin", use_.instance + ": " + std::to_string(inflight_) +
                              " emitted units still unacknowledged at close; closing anyway");
  }
  if (self_ != nullptr && !stuck_) {
    CallResult r = call("close", [this](tp_error*) {
      read_timer_->cancel();
      plugin_->vtable->close(self_);
      self_ = nullptr;
      return TP_OK;
    });
    if (r.timed_out) return false;
    log::info("plugin", "closed " + use_.instance);
  }
  if (stuck_) return false;
  io_.stop();
  if (thread_.joinable()) thread_.join();
  return true;
}

std::string PluginInstance::durable_cursor() const {
  std::lock_guard<std::mutex> lk(cursor_mu_);
  return durable_cursor_;
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

std::optional<tp_str> PluginInstance::setting(std::string_view key) {
  const HubConfig* hub = services_.hub;
  if (hub == nullptr) return std::nullopt;
  std::string value;
  if (key == "data_dir")
    value = hub->data_dir.string();
  else if (key == "instance")
    value = use_.instance;
  else if (key == "instance_data_dir")
    value = (hub->data_dir / "plugins" / use_.instance).string();
  else
    return std::nullopt;
  std::lock_guard<std::mutex> lk(strings_mu_);
  // std::map never moves its nodes: the string stays valid until destruction.
  const std::string& kept = settings_.try_emplace(std::string(key), std::move(value)).first->second;
  return tp_str{kept.data(), kept.size()};
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
  std::string problem;
  if (!validate_emit(unit, done, problem)) {
    set_error(err, problem);
    return TP_STATUS_PERMANENT;
  }
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
    enc.add_reject(sanitize_utf8(view_of(x.raw)), sanitize_utf8(view_of(x.reason)), sanitize_utf8(view_of(x.location)));
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
          if (!cursor.empty()) {
            // Group commits complete in journal order, so the last one wins.
            std::lock_guard<std::mutex> lk(cursor_mu_);
            durable_cursor_ = cursor;
          }
          done(user, TP_OK, tp_str{nullptr, 0});
          if (!cursor.empty() && plugin_->vtable->commit != nullptr) {
            // Commit runs on the instance thread, in emit order, before close()
            // (which waits for in-flight emits): hence not post(), which refuses
            // once closing has begun.
            asio::post(io_, [this, cursor] {
              if (self_ == nullptr || stuck_) return;
              char m[1024];
              tp_error e{sizeof(tp_error), m, sizeof(m), 0};
              const auto start = Clock::now();
              begin_call("commit");
              tp_status st = TP_STATUS_INTERNAL;
              try {
                st = plugin_->vtable->commit(self_, tp_str{cursor.data(), cursor.size()}, &e);
              } catch (...) {
                set_error(&e, "exception escaped from commit()");
              }
              end_call("commit", start);
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
    switch (result) {
      case journal::Journal::AppendResult::backpressure:
        if (services_.metrics)
          services_.metrics->counter_add("touchpoint_backpressure_total", "pipeline=" + use_.instance, 1);
        set_error(err, "journal is over its size limit; retry later");
        return TP_STATUS_BACKPRESSURE;
      case journal::Journal::AppendResult::too_large:
        set_error(err, "unit too large for one journal frame; split it");
        return TP_STATUS_PERMANENT;
      case journal::Journal::AppendResult::failed:
        set_error(err, "the journal has stopped after an I/O error; the hub is restarting");
        return TP_STATUS_RETRYABLE;
      default:
        set_error(err, "hub is shutting down");
        return TP_STATUS_SHUTTING_DOWN;
    }
  }
  emits_since_read_.fetch_add(1);
  return TP_OK;
}

}  // namespace touchpoint::core
