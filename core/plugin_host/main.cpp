// touchpoint-plugin-host: runs one untrusted connector plugin in its own
// process, so that a crash, a leak or a hang costs this process and never the
// hub (docs/isolation.md). The hub starts it with one end of a socketpair as
// fd 3 and speaks the framing of core/plugin/isolation/wire.hpp over it.
//
// The plugin sees the ABI it always sees: it is loaded by the hub's own
// PluginLoader (same trust checks and SHA-256 pins), negotiated, and called
// one verb at a time on this process's main thread; host services are
// forwarded to the hub (emit, log, metrics, config_get) or answered here
// (checkpoint_get, post). One process serves one instance (or one validate).
//
//   touchpoint-plugin-host --fd 3 --parent PID --dir DIR --plugin NAME [--owner USER] [--sha256 HEX]
#include <sys/prctl.h>
#include <touchpoint/abi.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal/unit_codec.hpp"
#include "plugin/abi_strings.hpp"
#include "plugin/isolation/wire.hpp"
#include "plugin/plugin_loader.hpp"
#include "plugin/record_validation.hpp"

namespace touchpoint::core::isolation {
namespace {

struct Reply {
  int32_t status = TP_OK;
  std::string value;
};

/// Functions run one at a time, in order, on the thread that calls run().
class TaskQueue {
 public:
  /// False (and fn dropped) once close() was called.
  bool push(std::function<void()> fn) {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return false;
    tasks_.push_back(std::move(fn));
    cv_.notify_all();
    return true;
  }
  void close() {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
  }
  [[noreturn]] void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return !tasks_.empty(); });
        fn = std::move(tasks_.front());
        tasks_.pop_front();
        running_ = true;
      }
      fn();
      std::lock_guard<std::mutex> lk(mu_);
      running_ = false;
      cv_.notify_all();
    }
  }
  /// Waits until everything pushed so far has run.
  void drain() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return tasks_.empty() && !running_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool running_ = false;
  bool closed_ = false;
};

/// Everything of this process: the connection, the plugin, its instance.
class PluginHost {
 public:
  explicit PluginHost(int fd) : fd_(fd) {}

  int run(const PluginLoader::Options& options, const std::string& name);

  // ---- host services, from any plugin thread ----
  tp_status emit(const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err);
  void send(Kind kind, std::string payload, uint64_t id = 0) {
    std::lock_guard<std::mutex> lk(write_mu_);
    if (!send_frame(fd_, kind, id, payload)) _exit(0);  // the hub is gone
  }
  /// Sends a request and waits for its answer (emit_result, config_value).
  Reply request(Kind kind, std::string payload);
  tp_status config_get(std::string_view key, tp_str* out);
  tp_status checkpoint_get(tp_str* out) const {
    *out = str_of(checkpoint_);
    return TP_OK;
  }
  tp_status post(tp_task_fn fn, void* user) {
    return calls_.push([fn, user] { fn(user); }) ? TP_OK : TP_STATUS_SHUTTING_DOWN;
  }

 private:
  void read_loop();
  void serve(const Frame& call);
  std::string handle(const Frame& call, int32_t& status, tp_error* err);

  int fd_;
  std::mutex write_mu_;
  std::shared_ptr<const LoadedPlugin> plugin_;
  tp_instance* self_ = nullptr;
  std::string checkpoint_;

  /// The instance thread: calls from the hub and posted tasks, in order.
  TaskQueue calls_;
  /// done() callbacks, on a thread of their own: one may emit or ask for a
  /// setting, whose answers the reader thread has to deliver.
  TaskQueue dones_;

  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, std::optional<Reply>> pending_;
  struct Done {
    tp_emit_done_fn fn;
    void* user;
  };
  std::map<uint64_t, Done> done_;

  std::mutex strings_mu_;
  std::map<std::string, std::string, std::less<>> settings_;  // config_get answers, valid until close
};

PluginHost* g_host = nullptr;

// The tp_host_api table. No exception crosses it.
void api_log(tp_host_ctx*, int32_t level, tp_str message) noexcept {
  try {
    g_host->send(Kind::log, Writer().i32(level).str(view_of(message)).take());
  } catch (...) {
  }
}
tp_status api_config_get(tp_host_ctx*, tp_str key, tp_str* out) noexcept {
  if (out == nullptr) return TP_STATUS_PERMANENT;
  try {
    return g_host->config_get(view_of(key), out);
  } catch (...) {
    return TP_STATUS_INTERNAL;
  }
}
void api_metric(Kind kind, tp_str name, tp_str labels, double v) noexcept {
  try {
    g_host->send(kind, Writer().str(view_of(name)).str(view_of(labels)).f64(v).take());
  } catch (...) {
  }
}
void api_counter_add(tp_host_ctx*, tp_str name, tp_str labels, double delta) noexcept {
  api_metric(Kind::counter, name, labels, delta);
}
void api_gauge_set(tp_host_ctx*, tp_str name, tp_str labels, double value) noexcept {
  api_metric(Kind::gauge, name, labels, value);
}
tp_status api_emit(tp_host_ctx*, const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err) noexcept {
  try {
    return g_host->emit(unit, done, user, err);
  } catch (const std::exception& e) {
    set_error(err, e.what());
    return TP_STATUS_INTERNAL;
  } catch (...) {
    return TP_STATUS_INTERNAL;
  }
}
tp_status api_checkpoint_get(tp_host_ctx*, tp_str* out) noexcept {
  if (out == nullptr) return TP_STATUS_PERMANENT;
  return g_host->checkpoint_get(out);
}
tp_status api_post(tp_host_ctx*, tp_task_fn fn, void* user) noexcept {
  if (fn == nullptr) return TP_STATUS_PERMANENT;
  try {
    return g_host->post(fn, user);
  } catch (...) {
    return TP_STATUS_INTERNAL;
  }
}

const std::string kHostVersion = std::string("touchpoint ") + TOUCHPOINT_VERSION + " (plugin process)";
const tp_host_api kHostApi{sizeof(tp_host_api),
                           TP_ABI_VERSION,
                           {kHostVersion.data(), kHostVersion.size()},
                           api_log,
                           api_config_get,
                           api_counter_add,
                           api_gauge_set,
                           api_emit,
                           api_checkpoint_get,
                           api_post};

tp_status PluginHost::emit(const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err) {
  // The hub checks every record again; these checks keep what is read here
  // within the unit and a frame within the wire's limit.
  std::string problem;
  if (!validate_emit(unit, done, problem)) {
    set_error(err, problem);
    return TP_STATUS_PERMANENT;
  }
  journal::UnitEncoder enc("", view_of(unit->cursor), 0, static_cast<uint32_t>(unit->count));
  for (size_t i = 0; i < unit->count; ++i) {
    const tp_record& r = unit->records[i];
    if (r.size < sizeof(tp_record)) {
      set_error(err, "record " + std::to_string(i) + ": tp_record.size is too small");
      return TP_STATUS_PERMANENT;
    }
    enc.add_record(view_of(r.id), view_of(r.type), view_of(r.key), r.ts_ms, view_of(r.data), view_of(r.meta));
  }
  enc.begin_rejects(static_cast<uint32_t>(unit->reject_count));
  for (size_t i = 0; i < unit->reject_count; ++i) {
    const tp_reject& x = unit->rejects[i];
    enc.add_reject(view_of(x.raw), view_of(x.reason), view_of(x.location));
  }
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lk(pending_mu_);
    id = ++next_id_;
    pending_[id];
    done_[id] = Done{done, user};  // before the hub can answer
  }
  send(Kind::emit, enc.finish(), id);
  std::unique_lock<std::mutex> lk(pending_mu_);
  pending_cv_.wait(lk, [&] { return pending_[id].has_value(); });
  Reply r = std::move(*pending_[id]);
  pending_.erase(id);
  if (r.status != TP_OK) {
    done_.erase(id);  // refused: no done() follows
    set_error(err, r.value);
  }
  return r.status;
}

Reply PluginHost::request(Kind kind, std::string payload) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lk(pending_mu_);
    id = ++next_id_;
    pending_[id];
  }
  send(kind, std::move(payload), id);
  std::unique_lock<std::mutex> lk(pending_mu_);
  pending_cv_.wait(lk, [&] { return pending_[id].has_value(); });
  Reply r = std::move(*pending_[id]);
  pending_.erase(id);
  return r;
}

tp_status PluginHost::config_get(std::string_view key, tp_str* out) {
  {
    std::lock_guard<std::mutex> lk(strings_mu_);
    if (auto it = settings_.find(key); it != settings_.end()) {
      *out = str_of(it->second);
      return TP_OK;
    }
  }
  Reply r = request(Kind::config_get, Writer().str(key).take());
  if (r.status != TP_OK) return r.status;
  std::lock_guard<std::mutex> lk(strings_mu_);
  const std::string& kept = settings_.emplace(std::string(key), std::move(r.value)).first->second;
  *out = str_of(kept);
  return TP_OK;
}

void PluginHost::read_loop() {
  for (;;) {
    std::optional<Frame> f;
    try {
      f = recv_frame(fd_);
    } catch (const WireError&) {
      f.reset();
    }
    if (!f) _exit(0);  // the hub closed the connection or died
    switch (f->kind) {
      case Kind::emit_result:
      case Kind::config_value: {
        Reader in(f->payload);
        Reply r;
        r.status = in.i32();
        r.value = std::string(in.str());
        std::lock_guard<std::mutex> lk(pending_mu_);
        if (auto it = pending_.find(f->id); it != pending_.end()) it->second = std::move(r);
        pending_cv_.notify_all();
        break;
      }
      case Kind::emit_done: {
        Reader in(f->payload);
        const int32_t status = in.i32();
        const std::string_view message = in.str();
        Done d{};
        {
          std::lock_guard<std::mutex> lk(pending_mu_);
          auto it = done_.find(f->id);
          if (it == done_.end()) break;
          d = it->second;
          done_.erase(it);
        }
        dones_.push([d, status, message = std::string(message)] { d.fn(d.user, status, str_of(message)); });
        break;
      }
      default: {
        calls_.push([this, call = std::move(*f)] { serve(call); });
      }
    }
  }
}

std::string PluginHost::handle(const Frame& call, int32_t& status, tp_error* err) {
  const tp_plugin_vtable* vt = plugin_->vtable;
  Reader in(call.payload);
  Writer out;
  auto unsupported = [&] {
    status = TP_STATUS_UNSUPPORTED;
    set_error(err, "the plugin does not implement this verb");
    return std::string();
  };
  switch (call.kind) {
    case Kind::validate: {
      if (vt->validate == nullptr) return unsupported();
      const std::string_view config = in.str();
      status = vt->validate(str_of(config), err);
      return {};
    }
    case Kind::open: {
      const std::string_view config = in.str();
      checkpoint_ = std::string(in.str());
      status = vt->open(&kHostApi, reinterpret_cast<tp_host_ctx*>(this), str_of(config), &self_, err);
      if (status == TP_OK && self_ == nullptr) {
        status = TP_STATUS_INTERNAL;
        set_error(err, "open() returned TP_OK but no instance");
      }
      return {};
    }
    case Kind::read:
      if (vt->read == nullptr) return unsupported();
      status = vt->read(self_, err);
      return {};
    case Kind::write: {
      if (vt->write == nullptr) return unsupported();
      const uint32_t n = in.u32();
      std::vector<tp_record> records(n);
      for (tp_record& r : records) {
        r.size = sizeof(tp_record);
        r.id = str_of(in.str());
        r.type = str_of(in.str());
        r.key = str_of(in.str());
        r.source = str_of(in.str());
        r.data = str_of(in.str());
        r.meta = str_of(in.str());
        r.ts_ms = in.i64();
        r.encoding = TP_ENCODING_JSON_UTF8;
      }
      struct Outcomes {
        size_t n;
        std::mutex mu;  // report() may come from the plugin's own threads
        std::vector<std::pair<size_t, std::pair<tp_status, std::string>>> reported;
      } outcomes{n, {}, {}};
      tp_outcome_sink sink{sizeof(tp_outcome_sink), &outcomes,
                           [](void* ctx, size_t index, tp_status st, tp_str message) {
                             auto* o = static_cast<Outcomes*>(ctx);
                             std::lock_guard<std::mutex> lk(o->mu);
                             if (index < o->n) o->reported.push_back({index, {st, std::string(view_of(message))}});
                           }};
      tp_batch batch{sizeof(tp_batch), records.data(), records.size()};
      status = vt->write(self_, &batch, &sink, err);
      std::lock_guard<std::mutex> lk(outcomes.mu);
      out.u32(static_cast<uint32_t>(outcomes.reported.size()));
      for (const auto& [index, o] : outcomes.reported) out.u64(index).i32(o.first).str(o.second);
      return out.take();
    }
    case Kind::check:
      if (vt->check == nullptr) return unsupported();
      status = vt->check(self_, err);
      return {};
    case Kind::discover: {
      if (vt->discover == nullptr) return unsupported();
      std::string doc;
      status = vt->discover(
          self_, [](void* ctx, tp_str chunk) { static_cast<std::string*>(ctx)->append(chunk.data, chunk.len); }, &doc,
          err);
      return out.str(doc).take();
    }
    case Kind::commit: {
      if (vt->commit == nullptr) return unsupported();
      const std::string_view cursor = in.str();
      status = vt->commit(self_, str_of(cursor), err);
      return {};
    }
    case Kind::erase: {
      if (!TP_HAS_FIELD(vt, tp_plugin_vtable, erase) || vt->erase == nullptr) return unsupported();
      const std::string_view subject = in.str();
      status = vt->erase(self_, str_of(subject), err);
      return {};
    }
    case Kind::close:
      calls_.close();  // post() now refuses
      if (self_ != nullptr) vt->close(self_);
      self_ = nullptr;
      status = TP_OK;
      return {};
    default:
      status = TP_STATUS_INTERNAL;
      set_error(err, "unknown message kind " + std::to_string(static_cast<int>(call.kind)));
      return {};
  }
}

void PluginHost::serve(const Frame& call) {
  // Every done() the hub sent before this call runs first, in process order:
  // the commit of a unit comes after its done(), and close after all of them.
  dones_.drain();
  char msg[4096];
  tp_error err{sizeof(tp_error), msg, sizeof msg, 0};
  int32_t status = TP_STATUS_INTERNAL;
  std::string value;
  try {
    value = handle(call, status, &err);
  } catch (const WireError& e) {
    status = TP_STATUS_INTERNAL;
    set_error(&err, std::string("malformed call from the hub: ") + e.what());
  } catch (...) {
    status = TP_STATUS_INTERNAL;
    set_error(&err, "exception escaped from the plugin");
  }
  send(Kind::reply, Writer().i32(status).str(std::string_view(msg, std::min(err.len, sizeof msg))).take() + value,
       call.id);
  if (call.kind == Kind::close) _exit(0);  // no static destructors under a plugin that may still hold threads
}

int PluginHost::run(const PluginLoader::Options& options, const std::string& name) {
  try {
    PluginLoader loader(options, &kHostApi);
    plugin_ = loader.get(name);
  } catch (const std::exception& e) {
    send(Kind::load_failed, Writer().str(e.what()).take());
    return 2;
  }
  const tp_plugin_vtable* vt = plugin_->vtable;
  uint32_t verbs = 0;
  if (vt->validate) verbs |= kHasValidate;
  if (vt->check) verbs |= kHasCheck;
  if (vt->discover) verbs |= kHasDiscover;
  if (vt->read) verbs |= kHasRead;
  if (vt->write) verbs |= kHasWrite;
  if (vt->commit) verbs |= kHasCommit;
  if (TP_HAS_FIELD(vt, tp_plugin_vtable, erase) && vt->erase) verbs |= kHasErase;
  Writer hello;
  hello.str(plugin_->name).str(plugin_->version).str(plugin_->description).u32(plugin_->abi_version);
  hello.u64(plugin_->capabilities).u32(verbs).u32(static_cast<uint32_t>(plugin_->warnings.size()));
  for (const std::string& w : plugin_->warnings) hello.str(w);
  send(Kind::hello, hello.take());

  std::thread([this] { dones_.run(); }).detach();
  std::thread(&PluginHost::read_loop, this).detach();
  calls_.run();
}

}  // namespace
}  // namespace touchpoint::core::isolation

int main(int argc, char** argv) {
  using namespace touchpoint::core;
  // Die with the hub, whatever kills it; then check it did not die already.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int fd = -1;
  long parent = -1;
  std::string name, pin;
  PluginLoader::Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--fd")
      fd = std::stoi(v);
    else if (a == "--dir")
      options.dir = v;
    else if (a == "--plugin")
      name = v;
    else if (a == "--owner")
      options.trusted_owner = v;
    else if (a == "--sha256")
      pin = v;
    else if (a == "--parent")
      parent = std::stol(v);
  }
  if (!pin.empty()) options.sha256[name] = pin;
  if (fd < 0 || name.empty() || options.dir.empty()) {
    std::cerr << "touchpoint-plugin-host is started by the hub for plugins with isolation: process "
                 "(usage: --fd N --dir DIR --plugin NAME [--owner USER] [--sha256 HEX])\n";
    return 2;
  }
  if (parent > 0 && ::getppid() != parent) return 0;  // the hub died before PDEATHSIG was set
  // Nothing of the hub but the connection and stdio: no listening sockets,
  // no database or journal descriptors.
  ::close_range(static_cast<unsigned>(fd) + 1, ~0u, 0);
  for (int other = 3; other < fd; ++other) ::close(other);
  ::signal(SIGPIPE, SIG_IGN);
  isolation::PluginHost host(fd);
  isolation::g_host = &host;
  return host.run(options, name);
}
