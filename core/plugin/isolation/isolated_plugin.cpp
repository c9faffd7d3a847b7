#include "plugin/isolation/isolated_plugin.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "journal/unit_codec.hpp"
#include "plugin/abi_strings.hpp"
#include "plugin/isolation/plugin_process.hpp"
#include "plugin/isolation/wire.hpp"
#include "util/clock.hpp"

namespace touchpoint::core {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace isolation {
namespace {

constexpr int64_t kInitialBackoffMs = 100;
constexpr int64_t kMaxBackoffMs = 30'000;
constexpr auto kStableUptime = std::chrono::seconds(60);
constexpr auto kMemoryCheckEvery = milliseconds(200);

/// What bind_plugin wraps into the use's config for the proxy.
struct Spec {
  ProcessSpec process;
  std::string instance;
  int64_t call_timeout_ms = 30'000;
  int64_t memory_limit_mb = 0;
  std::string config;  // the plugin's own config, as JSON text
};

Spec parse_spec(tp_str config_json) {
  const Json j = Json::parse(view_of(config_json));
  Spec s;
  s.process.host = j.at("host").get<std::string>();
  s.process.dir = j.at("dir").get<std::string>();
  s.process.plugin = j.at("plugin").get<std::string>();
  s.process.owner = j.value("owner", "");
  s.process.sha256 = j.value("sha256", "");
  s.instance = j.value("instance", "");
  s.call_timeout_ms = j.value("call_timeout_ms", int64_t{30'000});
  s.memory_limit_mb = j.value("memory_limit_mb", int64_t{0});
  s.config = j.at("config").dump();
  return s;
}

/// A call may take the instance's deadline minus a margin: the proxy must
/// give up (and kill the process) before PluginInstance gives up on the
/// proxy, or the instance would be abandoned instead of restarted.
milliseconds proxy_deadline(int64_t call_timeout_ms) {
  return milliseconds(std::max<int64_t>(50, call_timeout_ms - std::min<int64_t>(1000, call_timeout_ms / 5)));
}

/// The /status view of one isolated instance.
struct StatusEntry {
  std::mutex mu;
  std::string instance, plugin;
  long pid = 0;
  bool up = false;
  uint64_t restarts = 0;
  std::string last_exit;
  int64_t last_exit_ms = 0;
  uint64_t rss_bytes = 0;
  int64_t restart_in_ms = 0;
};

std::mutex& registry_mu() {
  static std::mutex mu;
  return mu;
}
std::list<std::weak_ptr<StatusEntry>>& registry() {
  static auto* r = new std::list<std::weak_ptr<StatusEntry>>();
  return *r;
}

class RemoteInstance;

/// The user pointer of one emit forwarded to the hub's host: done() answers
/// the process that emitted, if it is still the one running.
struct EmitTicket {
  std::shared_ptr<PluginProcess> process;
  uint64_t id;
  std::string cursor;
  std::shared_ptr<struct DurableCursor> durable;
};

/// The cursor of the newest unit that became durable: where a restarted
/// process opens. Set by the done callback (journal thread), so it does not
/// depend on the plugin having commit(), nor on a commit that was posted but
/// had not run when the process died.
struct DurableCursor {
  std::mutex mu;
  std::string cursor;
  void set(std::string_view c) {
    std::lock_guard<std::mutex> lk(mu);
    cursor = std::string(c);
  }
  std::string get() {
    std::lock_guard<std::mutex> lk(mu);
    return cursor;
  }
};

class RemoteInstance {
 public:
  RemoteInstance(Spec spec, const tp_host_api* host, tp_host_ctx* ctx)
      : spec_(std::move(spec)), host_(host), ctx_(ctx), status_(std::make_shared<StatusEntry>()) {
    status_->instance = spec_.instance;
    status_->plugin = spec_.process.plugin;
    std::lock_guard<std::mutex> lk(registry_mu());
    registry().push_back(status_);
  }
  ~RemoteInstance() { stop_process(); }

  /// First start: open() of the real plugin with the hub's checkpoint.
  tp_status open(tp_error* err) {
    tp_str cp{};
    if (host_->checkpoint_get(ctx_, &cp) == TP_OK) durable_->set(view_of(cp));
    until_ = Clock::now() + proxy_deadline(spec_.call_timeout_ms);
    return start(err, /*first=*/true);
  }

  /// One verb on the plugin process; result gets what the verb returns.
  tp_status call(Kind kind, const std::string& payload, std::string* result, tp_error* err) {
    // One budget for the restart (if any) and the call: PluginInstance must
    // never see the proxy miss its deadline.
    until_ = Clock::now() + proxy_deadline(spec_.call_timeout_ms);
    if (!ensure_running(err)) {
      // A source waiting out its backoff has nothing to read: the exit was
      // logged once, the read loop polls on without a warning per poll.
      if (kind == Kind::read) {
        if (err != nullptr) err->len = 0;
        return TP_OK;
      }
      return TP_STATUS_RETRYABLE;
    }
    return exchange(kind, payload, result, err);
  }

  void commit_seen(std::string_view cursor) { durable_->set(cursor); }

  /// The end of the instance (also of one whose open failed): no exit from
  /// here on is a crash to restart.
  void close() {
    closing_ = true;
    if (process_ && alive_) {
      std::string ignored;
      char msg[256];
      tp_error err{sizeof(tp_error), msg, sizeof msg, 0};
      until_ = Clock::now() + proxy_deadline(spec_.call_timeout_ms);
      exchange(Kind::close, {}, &ignored, &err);
    }
    stop_process();
    std::lock_guard<std::mutex> lk(status_->mu);
    status_->up = false;
    status_->pid = 0;
  }

 private:
  tp_status start(tp_error* err, bool first) {
    try {
      process_ = PluginProcess::start(spec_.process, remaining());
    } catch (const std::exception& e) {
      const std::string why = std::string("cannot start the plugin process: ") + e.what();
      set_error(err, why);
      if (!first) note_exit(why, ExitKind::start_failed);
      return TP_STATUS_RETRYABLE;
    }
    alive_ = true;
    process_started_ = Clock::now();
    reader_ = std::thread(&RemoteInstance::read_loop, this, process_);
    {
      std::lock_guard<std::mutex> lk(status_->mu);
      status_->pid = process_->pid();
      status_->up = true;
      status_->restart_in_ms = 0;
    }
    gauge("touchpoint_plugin_process_up", "", 1);
    std::string ignored;
    const tp_status st = exchange(Kind::open, Writer().str(spec_.config).str(durable_->get()).take(), &ignored, err);
    if (st != TP_OK && process_) {
      // A first open that fails is the admin's error to see, not a crash to restart.
      const bool was_closing = closing_;
      closing_ = was_closing || first;
      process_->kill(ExitKind::open_failed, "open() failed");
      stop_process();
      closing_ = was_closing;
    }
    return st;
  }

  /// Sends one call and waits for its reply, the process's end, or the deadline.
  tp_status exchange(Kind kind, const std::string& payload, std::string* result, tp_error* err) {
    std::shared_ptr<PluginProcess> p = process_;
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> lk(mu_);
      id = ++next_id_;
      waiting_ = id;
      reply_.reset();
    }
    if (!p->send(kind, id, payload)) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) p->kill(ExitKind::timeout, "stopped reading its connection");
      return died(err);
    }
    std::unique_lock<std::mutex> lk(mu_);
    const bool answered = cv_.wait_until(lk, until_, [&] { return reply_.has_value() || !alive_; });
    if (!reply_) {
      lk.unlock();
      if (!answered)
        p->kill(ExitKind::timeout,
                "did not answer within " + std::to_string(proxy_deadline(spec_.call_timeout_ms).count()) + " ms");
      return died(err);
    }
    std::string r = std::move(*reply_);
    reply_.reset();
    waiting_ = 0;
    lk.unlock();
    try {
      const ReplyView reply = parse_reply(r);
      if (!reply.error.empty()) set_error(err, reply.error);
      *result = std::string(reply.rest);
      return reply.status;
    } catch (const WireError& e) {
      p->kill(ExitKind::protocol, std::string("sent a malformed reply: ") + e.what());
      return died(err);
    }
  }

  milliseconds remaining() const {
    return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(until_ - Clock::now()));
  }

  /// The process is gone (or being killed): collect it and fail the call as retryable.
  tp_status died(tp_error* err) {
    const std::string why = stop_process();
    set_error(err, "plugin process " + why + "; it is restarted on the next call");
    return TP_STATUS_RETRYABLE;
  }

  /// Joins the reader (which reaps) and records the exit. Returns its description.
  std::string stop_process() {
    if (!process_) return last_exit_;
    std::shared_ptr<PluginProcess> p = std::move(process_);
    if (alive_) {
      // Still running: the close path, or a kill that has not landed yet.
      // shutdown() makes the reader see the end at once.
      ::shutdown(p->fd(), SHUT_RDWR);
    }
    if (reader_.joinable()) reader_.join();
    const std::string why = p->reap();
    if (!closing_) note_exit(why, p->exit_kind());
    return why;
  }

  void note_exit(const std::string& why, ExitKind kind) {
    const auto now = Clock::now();
    const bool stable = process_started_ && now - *process_started_ > kStableUptime;
    process_started_.reset();  // a start that fails next has run for no time at all
    backoff_ms_ = (backoff_ms_ == 0 || stable) ? kInitialBackoffMs : std::min(kMaxBackoffMs, backoff_ms_ * 2);
    next_start_ = now + milliseconds(backoff_ms_);
    last_exit_ = why;
    log(TP_LOG_WARN, "plugin process of '" + spec_.instance + "' " + why + "; restarting it in " +
                         std::to_string(backoff_ms_) + " ms");
    counter("touchpoint_plugin_process_exits_total", std::string("reason=") + exit_kind_name(kind), 1);
    gauge("touchpoint_plugin_process_up", "", 0);
    std::lock_guard<std::mutex> lk(status_->mu);
    status_->up = false;
    status_->pid = 0;
    status_->last_exit = why;
    status_->last_exit_ms = now_ms();
    status_->restart_in_ms = backoff_ms_;
  }

  /// Restarts a process that died, after its backoff. A wait that fits in
  /// half the call's deadline is waited out, so a retried write succeeds
  /// instead of failing once more.
  bool ensure_running(tp_error* err) {
    if (process_ && alive_) return true;
    if (process_) stop_process();
    const auto now = Clock::now();
    if (now < next_start_) {
      const auto wait = next_start_ - now;
      if (wait > remaining() / 2) {
        set_error(err, "plugin process is restarting in " +
                           std::to_string(std::chrono::duration_cast<milliseconds>(wait).count()) +
                           " ms (last exit: " + last_exit_ + ")");
        return false;
      }
      std::this_thread::sleep_for(wait);
    }
    if (start(err, /*first=*/false) != TP_OK) return false;
    counter("touchpoint_plugin_process_restarts_total", "", 1);
    uint64_t n = 0;
    {
      std::lock_guard<std::mutex> lk(status_->mu);
      n = ++status_->restarts;
    }
    log(TP_LOG_INFO, "plugin process of '" + spec_.instance + "' restarted (pid " +
                         std::to_string(process_ ? process_->pid() : 0) + ", restart " + std::to_string(n) + ")");
    return true;
  }

  // ---- the reader thread of one process ----
  void read_loop(std::shared_ptr<PluginProcess> p) {
    auto next_check = Clock::now();
    for (;;) {
      if (spec_.memory_limit_mb > 0 && Clock::now() >= next_check) {
        next_check = Clock::now() + kMemoryCheckEvery;
        const uint64_t rss = p->rss_bytes();
        {
          std::lock_guard<std::mutex> lk(status_->mu);
          status_->rss_bytes = rss;
        }
        gauge("touchpoint_plugin_process_rss_bytes", "", static_cast<double>(rss));
        if (rss > static_cast<uint64_t>(spec_.memory_limit_mb) * 1024 * 1024)
          p->kill(ExitKind::memory, "used " + std::to_string(rss >> 20) + " MiB of memory, over memory_limit_mb " +
                                        std::to_string(spec_.memory_limit_mb));
      }
      pollfd pfd{p->fd(), POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(kMemoryCheckEvery.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) continue;
      std::optional<Frame> f;
      try {
        f = recv_frame(p->fd());
      } catch (const std::exception& e) {  // WireError, or bad_alloc for a frame that does not fit
        p->kill(ExitKind::protocol, std::string("sent a frame the hub refused: ") + e.what());
      }
      if (!f) break;
      try {
        dispatch(p, *f);
      } catch (const std::exception& e) {
        p->kill(ExitKind::protocol, std::string("sent a malformed message: ") + e.what());
        break;
      }
    }
    p->reap();
    if (!closing_) {
      // /status shows the exit at once; the log line and the backoff follow
      // on the next call (note_exit), which is when the restart happens.
      std::lock_guard<std::mutex> lk(status_->mu);
      status_->up = false;
      status_->pid = 0;
    }
    std::lock_guard<std::mutex> lk(mu_);
    alive_ = false;
    cv_.notify_all();
  }

  void dispatch(const std::shared_ptr<PluginProcess>& p, Frame& f) {
    Reader in(f.payload);
    switch (f.kind) {
      case Kind::reply: {
        std::lock_guard<std::mutex> lk(mu_);
        if (f.id == waiting_) {
          reply_ = std::move(f.payload);
          cv_.notify_all();
        }
        return;
      }
      case Kind::emit:
        forward_emit(p, f);
        return;
      case Kind::log: {
        const int32_t level = in.i32();
        const std::string_view message = in.str();
        host_->log(ctx_, level, str_of(message));
        return;
      }
      case Kind::counter:
      case Kind::gauge: {
        const std::string_view name = in.str();
        const std::string_view labels = in.str();
        const double v = in.f64();
        if (f.kind == Kind::counter)
          host_->counter_add(ctx_, str_of(name), str_of(labels), v);
        else
          host_->gauge_set(ctx_, str_of(name), str_of(labels), v);
        return;
      }
      case Kind::config_get: {
        const std::string_view key = in.str();
        tp_str value{};
        const tp_status st = host_->config_get(ctx_, str_of(key), &value);
        p->send(Kind::config_value, f.id, Writer().i32(st).str(st == TP_OK ? view_of(value) : "").take());
        return;
      }
      default:
        throw WireError("unexpected message kind " + std::to_string(static_cast<int>(f.kind)));
    }
  }

  void forward_emit(const std::shared_ptr<PluginProcess>& p, const Frame& f) {
    const journal::UnitView unit = journal::decode_unit(f.payload);
    std::vector<tp_record> records(unit.records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const journal::RecordView& r = unit.records[i];
      records[i] = tp_record{sizeof(tp_record), str_of(r.id),   str_of(r.type),        str_of(r.key), r.ts_ms,
                             str_of(r.data),    str_of(r.meta), TP_ENCODING_JSON_UTF8, tp_str{}};
    }
    std::vector<tp_reject> rejects(unit.rejects.size());
    for (size_t i = 0; i < rejects.size(); ++i)
      rejects[i] = tp_reject{sizeof(tp_reject), str_of(unit.rejects[i].raw), str_of(unit.rejects[i].reason),
                             str_of(unit.rejects[i].location)};
    const tp_emit e{sizeof(tp_emit), records.data(), records.size(),
                    rejects.data(),  rejects.size(), str_of(unit.cursor)};
    char msg[1024];
    tp_error err{sizeof(tp_error), msg, sizeof msg, 0};
    auto* ticket = new EmitTicket{p, f.id, std::string(unit.cursor), durable_};
    const tp_status st = host_->emit(
        ctx_, &e,
        [](void* user, tp_status status, tp_str message) {
          std::unique_ptr<EmitTicket> t(static_cast<EmitTicket*>(user));
          if (status == TP_OK && !t->cursor.empty()) t->durable->set(t->cursor);
          if (!t->process->send(Kind::emit_done, t->id, Writer().i32(status).str(view_of(message)).take()) &&
              (errno == EAGAIN || errno == EWOULDBLOCK))
            t->process->kill(ExitKind::timeout, "stopped reading its connection");
        },
        ticket, &err);
    if (st != TP_OK) delete ticket;  // refused: no done() follows
    p->send(Kind::emit_result, f.id, Writer().i32(st).str(std::string_view(msg, std::min(err.len, sizeof msg))).take());
  }

  void log(int32_t level, const std::string& message) { host_->log(ctx_, level, str_of(message)); }
  void counter(const char* name, const std::string& labels, double v) {
    host_->counter_add(ctx_, str_of(name), str_of(labels), v);
  }
  void gauge(const char* name, const std::string& labels, double v) {
    host_->gauge_set(ctx_, str_of(name), str_of(labels), v);
  }

  const Spec spec_;
  const tp_host_api* host_;
  tp_host_ctx* ctx_;
  std::shared_ptr<StatusEntry> status_;

  // Touched by the instance thread only (PluginInstance serializes calls).
  std::shared_ptr<PluginProcess> process_;
  std::thread reader_;
  std::shared_ptr<DurableCursor> durable_ = std::make_shared<DurableCursor>();
  std::string last_exit_;
  int64_t backoff_ms_ = 0;
  Clock::time_point next_start_{};
  std::optional<Clock::time_point> process_started_;
  std::atomic<bool> closing_{false};
  Clock::time_point until_{};  // the end of the current call's budget

  // Shared with the reader thread.
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> alive_{false};
  uint64_t next_id_ = 0;
  uint64_t waiting_ = 0;
  std::optional<std::string> reply_;
};

// ---- the proxy's vtable: every function catches everything ----

RemoteInstance* self_of(tp_instance* self) { return reinterpret_cast<RemoteInstance*>(self); }

template <typename Fn>
tp_status guarded(tp_error* err, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    set_error(err, std::string("plugin proxy: ") + e.what());
  } catch (...) {
    set_error(err, "plugin proxy: unknown exception");
  }
  return TP_STATUS_INTERNAL;
}

tp_status proxy_validate(tp_str config_json, tp_error* err) {
  return guarded(err, [&] {
    const Spec spec = parse_spec(config_json);
    const auto until = Clock::now() + proxy_deadline(spec.call_timeout_ms);
    auto p = PluginProcess::start(spec.process, proxy_deadline(spec.call_timeout_ms));
    if (!p->send(Kind::validate, 1, Writer().str(spec.config).take()))
      throw std::runtime_error("plugin process " + p->reap());
    // Logs and metrics a plugin sends while loading are skipped, a setting
    // asked for is unknown (validate() has no instance); the reply ends it.
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
      pollfd pfd{p->fd(), POLLIN, 0};
      if (left <= 0 || ::poll(&pfd, 1, static_cast<int>(left)) <= 0) {
        p->kill(ExitKind::timeout, "did not answer validate() in time");
        throw std::runtime_error("plugin process " + p->reap());
      }
      std::optional<Frame> f = recv_frame(p->fd());
      if (!f) throw std::runtime_error("plugin process " + p->reap() + " during validate()");
      if (f->kind == Kind::config_get) {
        p->send(Kind::config_value, f->id, Writer().i32(TP_STATUS_PERMANENT).str("").take());
        continue;
      }
      if (f->kind != Kind::reply) continue;
      const ReplyView reply = parse_reply(f->payload);
      set_error(err, reply.error);
      p->send(Kind::close, 2, {});
      return reply.status;
    }
  });
}

tp_status proxy_open(const tp_host_api* host, tp_host_ctx* ctx, tp_str config_json, tp_instance** out, tp_error* err) {
  return guarded(err, [&] {
    auto inst = std::make_unique<RemoteInstance>(parse_spec(config_json), host, ctx);
    const tp_status st = inst->open(err);
    if (st != TP_OK) {
      inst->close();
      return st;
    }
    *out = reinterpret_cast<tp_instance*>(inst.release());
    return TP_OK;
  });
}

tp_status simple_call(tp_instance* self, Kind kind, const std::string& payload, tp_error* err) {
  return guarded(err, [&] {
    std::string ignored;
    return self_of(self)->call(kind, payload, &ignored, err);
  });
}

tp_status proxy_check(tp_instance* self, tp_error* err) { return simple_call(self, Kind::check, {}, err); }
tp_status proxy_read(tp_instance* self, tp_error* err) { return simple_call(self, Kind::read, {}, err); }

tp_status proxy_discover(tp_instance* self, void (*out_json)(void*, tp_str), void* out_ctx, tp_error* err) {
  return guarded(err, [&] {
    std::string result;
    const tp_status st = self_of(self)->call(Kind::discover, {}, &result, err);
    if (st == TP_OK) {
      Reader in(result);
      out_json(out_ctx, str_of(in.str()));
    }
    return st;
  });
}

/// Records per write frame are bounded by bytes as well as by batch_size: a
/// batch of big records is sent as several write() calls, so that no frame
/// comes near kMaxFrameBytes (one record is at most 16 MiB plus its envelope).
constexpr size_t kWriteChunkBytes = 32u * 1024u * 1024u;

size_t wire_size(const tp_record& r) {
  return r.id.len + r.type.len + r.key.len + r.source.len + r.data.len + r.meta.len + 6 * 4 + 8;
}

tp_status write_chunk(tp_instance* self, const tp_batch* batch, size_t from, size_t to, const tp_outcome_sink* outcomes,
                      std::vector<bool>& reported, tp_error* err) {
  Writer w;
  w.u32(static_cast<uint32_t>(to - from));
  for (size_t i = from; i < to; ++i) {
    const tp_record& r = batch->records[i];
    w.str(view_of(r.id)).str(view_of(r.type)).str(view_of(r.key)).str(view_of(r.source));
    w.str(view_of(r.data)).str(view_of(r.meta)).i64(r.ts_ms);
  }
  std::string result;
  const tp_status st = self_of(self)->call(Kind::write, w.take(), &result, err);
  if (!result.empty()) {
    Reader in(result);
    const uint32_t n = in.u32();
    for (uint32_t k = 0; k < n; ++k) {
      const uint64_t index = in.u64();
      const tp_status s = in.i32();
      const std::string_view message = in.str();
      if (index < to - from) {
        outcomes->report(outcomes->ctx, from + index, s, str_of(message));
        reported[from + index] = true;
      }
    }
  }
  return st;
}

tp_status proxy_write(tp_instance* self, const tp_batch* batch, const tp_outcome_sink* outcomes, tp_error* err) {
  return guarded(err, [&] {
    std::vector<bool> reported(batch->count, false);
    size_t from = 0;
    tp_status last = TP_OK;
    while (from < batch->count) {
      size_t to = from, bytes = 0;
      while (to < batch->count && (to == from || bytes + wire_size(batch->records[to]) <= kWriteChunkBytes))
        bytes += wire_size(batch->records[to++]);
      const bool whole = from == 0 && to == batch->count;
      last = write_chunk(self, batch, from, to, outcomes, reported, err);
      if (whole) return last;
      // Split: records of a chunk take its status unless reported, the
      // same rule write() has for the whole batch.
      const tp_status per = last == TP_OK || last == TP_STATUS_PERMANENT ? last : TP_STATUS_RETRYABLE;
      for (size_t i = from; i < to; ++i)
        if (!reported[i]) outcomes->report(outcomes->ctx, i, per, tp_str{});
      if (per == TP_STATUS_RETRYABLE) {
        for (size_t i = to; i < batch->count; ++i) outcomes->report(outcomes->ctx, i, per, tp_str{});
        return last;
      }
      from = to;
    }
    return TP_OK;
  });
}

tp_status proxy_commit(tp_instance* self, tp_str cursor, tp_error* err) {
  return guarded(err, [&] {
    self_of(self)->commit_seen(view_of(cursor));
    std::string ignored;
    return self_of(self)->call(Kind::commit, Writer().str(view_of(cursor)).take(), &ignored, err);
  });
}

tp_status proxy_erase(tp_instance* self, tp_str subject, tp_error* err) {
  return simple_call(self, Kind::erase, Writer().str(view_of(subject)).take(), err);
}

void proxy_close(tp_instance* self) {
  try {
    std::unique_ptr<RemoteInstance> inst(self_of(self));
    inst->close();
  } catch (...) {
  }
}

/// A LoadedPlugin whose vtable is the proxy's, with the verbs the real plugin has.
struct ProxyPlugin : LoadedPlugin {
  tp_plugin_vtable table{};
};

struct CacheKey {
  std::string host, dir, plugin, sha256;
  bool operator<(const CacheKey& o) const {
    return std::tie(host, dir, plugin, sha256) < std::tie(o.host, o.dir, o.plugin, o.sha256);
  }
};

std::shared_ptr<const LoadedPlugin> describe(const ProcessSpec& spec) {
  static std::mutex mu;
  static std::map<CacheKey, std::shared_ptr<const LoadedPlugin>> cache;
  const CacheKey key{spec.host.string(), spec.dir.string(), spec.plugin, spec.sha256};
  std::lock_guard<std::mutex> lk(mu);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::shared_ptr<PluginProcess> p;
  try {
    p = PluginProcess::start(spec, milliseconds(10'000));
  } catch (const std::exception& e) {
    throw PluginError("plugin '" + spec.plugin + "' (isolation: process): " + e.what());
  }
  p->send(Kind::close, 1, {});
  const PluginHello& h = p->hello();
  auto plugin = std::make_shared<ProxyPlugin>();
  plugin->path = spec.dir / ("libtp_" + spec.plugin + ".so");
  plugin->name = h.name;
  plugin->version = h.version;
  plugin->description = h.description;
  plugin->abi_version = h.abi_version;
  // Calls are serialized through one connection whatever the plugin allows.
  plugin->capabilities = h.capabilities & ~static_cast<uint64_t>(TP_CAP_CONCURRENT_SAFE);
  plugin->warnings = h.warnings;
  tp_plugin_vtable& t = plugin->table;
  t.size = sizeof(tp_plugin_vtable);
  t.validate = (h.verbs & kHasValidate) ? proxy_validate : nullptr;
  t.open = proxy_open;
  t.check = (h.verbs & kHasCheck) ? proxy_check : nullptr;
  t.discover = (h.verbs & kHasDiscover) ? proxy_discover : nullptr;
  t.read = (h.verbs & kHasRead) ? proxy_read : nullptr;
  t.write = (h.verbs & kHasWrite) ? proxy_write : nullptr;
  t.commit = (h.verbs & kHasCommit) ? proxy_commit : nullptr;
  t.close = proxy_close;
  t.erase = (h.verbs & kHasErase) ? proxy_erase : nullptr;
  plugin->vtable = &plugin->table;
  cache.emplace(key, plugin);
  return plugin;
}

}  // namespace
}  // namespace isolation

BoundPlugin bind_plugin(PluginLoader& loader, const PluginUse& use, const fs::path& plugin_host) {
  if (!use.isolated) return {loader.get(use.plugin), use};
  const PluginLoader::Options& o = loader.options();
  isolation::ProcessSpec spec;
  spec.host = plugin_host.empty() ? default_plugin_host() : plugin_host;
  spec.dir = fs::absolute(o.dir);
  spec.plugin = use.plugin;
  spec.owner = o.trusted_owner;
  if (auto it = o.sha256.find(use.plugin); it != o.sha256.end()) spec.sha256 = it->second;
  BoundPlugin b{isolation::describe(spec), use};
  b.use.config = Json{{"host", spec.host.string()},
                      {"dir", spec.dir.string()},
                      {"plugin", spec.plugin},
                      {"owner", spec.owner},
                      {"sha256", spec.sha256},
                      {"instance", use.instance},
                      {"call_timeout_ms", use.call_timeout_ms},
                      {"memory_limit_mb", use.memory_limit_mb},
                      {"config", use.config}};
  return b;
}

fs::path default_plugin_host() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return (ec ? fs::path(".") : self.parent_path()) / "touchpoint-plugin-host";
}

Json isolated_plugins_status() {
  Json out = Json::array();
  std::lock_guard<std::mutex> lk(isolation::registry_mu());
  auto& r = isolation::registry();
  for (auto it = r.begin(); it != r.end();) {
    std::shared_ptr<isolation::StatusEntry> e = it->lock();
    if (!e) {
      it = r.erase(it);
      continue;
    }
    std::lock_guard<std::mutex> elk(e->mu);
    Json j{{"instance", e->instance}, {"plugin", e->plugin}, {"up", e->up}, {"restarts", e->restarts}};
    if (e->pid > 0) j["pid"] = e->pid;
    if (e->rss_bytes > 0) j["rss_bytes"] = e->rss_bytes;
    if (!e->last_exit.empty()) {
      j["last_exit"] = e->last_exit;
      j["last_exit_ms"] = e->last_exit_ms;
    }
    if (!e->up && e->restart_in_ms > 0) j["restart_backoff_ms"] = e->restart_in_ms;
    out.push_back(std::move(j));
    ++it;
  }
  return out;
}

}  // namespace touchpoint::core
