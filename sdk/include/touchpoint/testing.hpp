// A small stand-in host for testing a plugin without the hub.
//
//   touchpoint::testing::Harness h("./libtp_myconnector.so");
//   auto inst = h.open(R"({"path":"/in"})");
//   inst->read();
//   ASSERT_EQ(h.records().size(), 3u);
//
// The harness loads the shared library with dlopen, negotiates ABI 1, and
// implements every host service: emitted units are kept in memory and made
// "durable" at once (done() runs on a harness thread, like the real host),
// checkpoints are remembered per harness, post() runs tasks on the
// instance's own thread. It is header-only and needs only libdl.
#ifndef TOUCHPOINT_TESTING_HPP
#define TOUCHPOINT_TESTING_HPP

#include <dlfcn.h>
#include <touchpoint/abi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace touchpoint::testing {

struct EmittedRecord {
  std::string id, type, key, data, meta;
  int64_t ts_ms = 0;
};
struct EmittedReject {
  std::string raw, reason, location;
};
struct LogLine {
  int32_t level;
  std::string message;
};
struct Outcome {
  tp_status status = TP_OK;
  std::string message;
};

class Harness;

/// An open plugin instance. Calls run on the instance's own thread.
class Instance {
 public:
  ~Instance() { close(); }
  tp_status check(std::string* error = nullptr) {
    return call([&](tp_error* e) { return vt_->check(self_, e); }, error);
  }
  tp_status read(std::string* error = nullptr) {
    return call([&](tp_error* e) { return vt_->read(self_, e); }, error);
  }
  tp_status commit(std::string_view cursor, std::string* error = nullptr) {
    return call([&](tp_error* e) { return vt_->commit(self_, tp_str{cursor.data(), cursor.size()}, e); }, error);
  }
  tp_status discover(std::string* json, std::string* error = nullptr) {
    return call(
        [&](tp_error* e) {
          return vt_->discover(
              self_, [](void* ctx, tp_str chunk) { static_cast<std::string*>(ctx)->append(chunk.data, chunk.len); },
              json, e);
        },
        error);
  }
  /// Writes records (data JSON strings) and returns one outcome per record.
  std::vector<Outcome> write(const std::vector<EmittedRecord>& batch, tp_status* overall = nullptr,
                             std::string* error = nullptr) {
    std::vector<tp_record> recs;
    for (const auto& r : batch) {
      tp_record c{};
      c.size = sizeof(tp_record);
      c.id = {r.id.data(), r.id.size()};
      c.type = {r.type.data(), r.type.size()};
      c.key = {r.key.data(), r.key.size()};
      c.data = {r.data.data(), r.data.size()};
      c.meta = {r.meta.data(), r.meta.size()};
      c.ts_ms = r.ts_ms;
      recs.push_back(c);
    }
    std::vector<Outcome> outcomes(batch.size());
    std::vector<bool> reported(batch.size(), false);
    struct Ctx {
      std::vector<Outcome>* o;
      std::vector<bool>* rep;
    } ctx{&outcomes, &reported};
    tp_outcome_sink sink{sizeof(tp_outcome_sink), &ctx, [](void* c, size_t i, tp_status s, tp_str m) {
                           auto* x = static_cast<Ctx*>(c);
                           if (i >= x->o->size()) return;
                           (*x->o)[i] = Outcome{s, std::string(m.data ? m.data : "", m.len)};
                           (*x->rep)[i] = true;
                         }};
    tp_batch b{sizeof(tp_batch), recs.data(), recs.size()};
    tp_status st = call([&](tp_error* e) { return vt_->write(self_, &b, &sink, e); }, error);
    for (size_t i = 0; i < outcomes.size(); ++i)
      if (!reported[i]) outcomes[i].status = st;
    if (overall) *overall = st;
    return outcomes;
  }
  void close() {
    // Even when open() failed (self_ is null) the instance thread must be joined.
    if (self_ != nullptr) {
      run_on_thread([&] { vt_->close(self_); });
      self_ = nullptr;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  friend class Harness;
  Instance(const tp_plugin_vtable* vt) : vt_(vt) {
    thread_ = std::thread([this] { loop(); });
  }

  template <typename F>
  tp_status call(F&& f, std::string* error) {
    char buf[1024];
    tp_error e{sizeof(tp_error), buf, sizeof(buf), 0};
    tp_status st = TP_OK;
    run_on_thread([&] { st = f(&e); });
    if (error) error->assign(buf, e.len);
    return st;
  }
  void run_on_thread(std::function<void()> fn) {
    std::mutex m;
    std::condition_variable c;
    bool done = false;
    enqueue([&] {
      fn();
      std::lock_guard<std::mutex> lk(m);
      done = true;
      c.notify_one();
    });
    std::unique_lock<std::mutex> lk(m);
    c.wait(lk, [&] { return done; });
  }
  bool enqueue(std::function<void()> fn) {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(fn));
    cv_.notify_one();
    return true;
  }
  void loop() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      }
      fn();
    }
  }

  const tp_plugin_vtable* vt_;
  tp_instance* self_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Loads one plugin library and acts as its host.
class Harness {
 public:
  explicit Harness(const std::string& library_path) {
    handle_ = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto fn = reinterpret_cast<tp_plugin_negotiate_fn>(dlsym(handle_, TP_PLUGIN_ENTRY_SYMBOL));
    if (fn == nullptr) throw std::runtime_error("no entry point " TP_PLUGIN_ENTRY_SYMBOL);
    api_.size = sizeof(api_);
    api_.abi_version = TP_ABI_VERSION;
    api_.host_version = {"touchpoint-testing", 18};
    api_.log = &Harness::log_fn;
    api_.config_get = &Harness::config_fn;
    api_.counter_add = &Harness::counter_fn;
    api_.gauge_set = &Harness::gauge_fn;
    api_.emit = &Harness::emit_fn;
    api_.checkpoint_get = &Harness::checkpoint_fn;
    api_.post = &Harness::post_fn;
    tp_negotiation n{sizeof(n), TP_MAKE_VERSION(1, 0), TP_ABI_VERSION, &api_};
    info_.size = sizeof(info_);
    char buf[512];
    tp_error e{sizeof(e), buf, sizeof(buf), 0};
    if (fn(&n, &info_, &e) != TP_OK) throw std::runtime_error("negotiation refused: " + std::string(buf, e.len));
    // Library handles are intentionally never closed: a plugin's threads or
    // static destructors may still reference its code.
  }

  const tp_plugin_info& info() const { return info_; }

  /// Settings returned by config_get (e.g. "data_dir").
  void set_setting(const std::string& key, const std::string& value) {
    std::lock_guard<std::mutex> lk(mu_);
    settings_[key] = value;
  }
  /// Makes subsequent emits fail with this status (TP_OK to accept again).
  void refuse_emits(tp_status status) { refuse_ = status; }
  /// Sets the checkpoint an instance sees on open.
  void set_checkpoint(const std::string& cursor) {
    std::lock_guard<std::mutex> lk(mu_);
    checkpoint_ = cursor;
  }

  tp_status validate(std::string_view config, std::string* error = nullptr) {
    char buf[1024];
    tp_error e{sizeof(e), buf, sizeof(buf), 0};
    tp_status st = info_.vtable->validate ? info_.vtable->validate(tp_str{config.data(), config.size()}, &e) : TP_OK;
    if (error) error->assign(buf, e.len);
    return st;
  }

  /// Opens an instance; throws with the plugin's message when open fails.
  std::unique_ptr<Instance> open(std::string_view config) {
    std::unique_ptr<Instance> inst(new Instance(info_.vtable));
    current_ = inst.get();
    std::string error;
    tp_status st = inst->call(
        [&](tp_error* e) {
          return info_.vtable->open(&api_, reinterpret_cast<tp_host_ctx*>(this), tp_str{config.data(), config.size()},
                                    &inst->self_, e);
        },
        &error);
    if (st != TP_OK) {
      inst->self_ = nullptr;
      throw std::runtime_error("open failed (" + std::to_string(st) + "): " + error);
    }
    return inst;
  }

  std::vector<EmittedRecord> records() const {
    std::lock_guard<std::mutex> lk(mu_);
    return records_;
  }
  std::vector<EmittedReject> rejects() const {
    std::lock_guard<std::mutex> lk(mu_);
    return rejects_;
  }
  std::vector<std::string> cursors() const {
    std::lock_guard<std::mutex> lk(mu_);
    return cursors_;
  }
  std::vector<LogLine> logs() const {
    std::lock_guard<std::mutex> lk(mu_);
    return logs_;
  }
  std::map<std::string, double> counters() const {
    std::lock_guard<std::mutex> lk(mu_);
    return counters_;
  }
  /// Blocks until at least n records were emitted or the timeout passes.
  bool wait_for_records(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return records_.size() >= n; });
  }
  bool wait_for_rejects(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return rejects_.size() >= n; });
  }

 private:
  static Harness* self(tp_host_ctx* c) { return reinterpret_cast<Harness*>(c); }
  static std::string s(tp_str x) { return std::string(x.data ? x.data : "", x.len); }

  static void log_fn(tp_host_ctx* c, int32_t level, tp_str m) {
    std::lock_guard<std::mutex> lk(self(c)->mu_);
    self(c)->logs_.push_back({level, s(m)});
  }
  static tp_status config_fn(tp_host_ctx* c, tp_str key, tp_str* out) {
    std::lock_guard<std::mutex> lk(self(c)->mu_);
    auto it = self(c)->settings_.find(s(key));
    if (it == self(c)->settings_.end()) return TP_STATUS_PERMANENT;
    *out = tp_str{it->second.data(), it->second.size()};
    return TP_OK;
  }
  static void counter_fn(tp_host_ctx* c, tp_str name, tp_str labels, double d) {
    std::lock_guard<std::mutex> lk(self(c)->mu_);
    self(c)->counters_[s(name) + (labels.len ? "{" + s(labels) + "}" : "")] += d;
  }
  static void gauge_fn(tp_host_ctx* c, tp_str name, tp_str labels, double v) {
    std::lock_guard<std::mutex> lk(self(c)->mu_);
    self(c)->counters_[s(name) + (labels.len ? "{" + s(labels) + "}" : "")] = v;
  }
  static tp_status emit_fn(tp_host_ctx* c, const tp_emit* u, tp_emit_done_fn done, void* user, tp_error* err) {
    Harness* h = self(c);
    const tp_status refuse = h->refuse_.load();
    if (refuse != TP_OK) {
      static const char msg[] = "harness refuses emits";
      if (err && err->message) {
        size_t n = sizeof(msg) - 1 < err->capacity ? sizeof(msg) - 1 : err->capacity;
        std::memcpy(err->message, msg, n);
        err->len = n;
      }
      return refuse;
    }
    {
      std::lock_guard<std::mutex> lk(h->mu_);
      for (size_t i = 0; i < u->count; ++i) {
        const tp_record& r = u->records[i];
        h->records_.push_back({s(r.id), s(r.type), s(r.key), s(r.data), s(r.meta), r.ts_ms});
      }
      for (size_t i = 0; i < u->reject_count; ++i)
        h->rejects_.push_back({s(u->rejects[i].raw), s(u->rejects[i].reason), s(u->rejects[i].location)});
      h->cursors_.push_back(s(u->cursor));
      if (u->cursor.len) h->checkpoint_ = s(u->cursor);
    }
    h->cv_.notify_all();
    // Like the real host, completion arrives on another thread.
    std::thread([done, user] { done(user, TP_OK, tp_str{nullptr, 0}); }).detach();
    return TP_OK;
  }
  static tp_status checkpoint_fn(tp_host_ctx* c, tp_str* out) {
    std::lock_guard<std::mutex> lk(self(c)->mu_);
    self(c)->checkpoint_view_ = self(c)->checkpoint_;
    *out = tp_str{self(c)->checkpoint_view_.data(), self(c)->checkpoint_view_.size()};
    return TP_OK;
  }
  static tp_status post_fn(tp_host_ctx* c, tp_task_fn fn, void* user) {
    Instance* inst = self(c)->current_.load();
    if (inst == nullptr || !inst->enqueue([fn, user] { fn(user); })) return TP_STATUS_SHUTTING_DOWN;
    return TP_OK;
  }

  void* handle_ = nullptr;
  tp_host_api api_{};
  tp_plugin_info info_{};
  std::atomic<Instance*> current_{nullptr};
  std::map<std::string, std::string> settings_;
  std::atomic<tp_status> refuse_{TP_OK};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EmittedRecord> records_;
  std::vector<EmittedReject> rejects_;
  std::vector<std::string> cursors_;
  std::vector<LogLine> logs_;
  std::map<std::string, double> counters_;
  std::string checkpoint_;
  std::string checkpoint_view_;
};

}  // namespace touchpoint::testing

#endif  // TOUCHPOINT_TESTING_HPP
