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
//
// emit() enforces exactly the limits the hub enforces (abi.h, TP_MAX_*), in
// the hub's order, and refuses a violating unit with TP_STATUS_PERMANENT and a
// message like the hub's, keeping nothing of it. So a plugin test catches what
// the hub would refuse:
//  - a source capability, a unit and done callback, a large enough
//    unit->size, non-NULL arrays for non-zero counts;
//  - sizes: cursor <= TP_MAX_CURSOR_BYTES; per record id + type + key and
//    data + meta; per reject raw + reason + location <= TP_MAX_REJECT_BYTES;
//    the unit (every string of every record and reject, plus
//    TP_UNIT_RECORD_OVERHEAD per record and per reject, plus the cursor)
//    <= TP_MAX_UNIT_BYTES;
//  - per record: tp_record.size, encoding, id <= TP_MAX_ID_BYTES, type <=
//    TP_MAX_TYPE_BYTES of [a-z0-9_.-], key <= TP_MAX_KEY_BYTES, all three
//    valid UTF-8, data + meta <= TP_MAX_RECORD_BYTES, data one JSON object and
//    meta empty or one JSON object.
// The JSON check is structural (RFC 8259 grammar, valid UTF-8, no raw control
// characters or lone surrogates in strings, nesting depth <= 1024); unlike the
// hub's parser it does not refuse numbers outside the range of a double.
// Accepted records are kept as emitted: the hub's defaults for an empty id or
// type and ts_ms == 0 are not applied. refusals() lists every refused emit.
#ifndef TOUCHPOINT_TESTING_HPP
#define TOUCHPOINT_TESTING_HPP

#include <dlfcn.h>
#include <touchpoint/abi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
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
#include <utility>
#include <vector>

namespace touchpoint::testing {

namespace detail {

// Length of the well-formed UTF-8 sequence at s[i] (no overlong forms, surrogates or code
// points above U+10FFFF), 0 when there is none.
inline size_t utf8_sequence(std::string_view s, size_t i) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (u(k) & 0xC0u) == 0x80u; };
  const unsigned char c = u(i);
  if (c < 0x80u) return 1;
  if (c >= 0xC2u && c <= 0xDFu) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0u && c <= 0xEFu) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0u && u(i + 1) < 0xA0u) return 0;
    if (c == 0xEDu && u(i + 1) >= 0xA0u) return 0;
    return 3;
  }
  if (c >= 0xF0u && c <= 0xF4u) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0u && u(i + 1) < 0x90u) return 0;
    if (c == 0xF4u && u(i + 1) >= 0x90u) return 0;
    return 4;
  }
  return 0;
}

inline bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80u) {
      ++i;
      continue;
    }
    const size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// A structural JSON check (RFC 8259): one value, whitespace around it, valid UTF-8, no raw
// control characters or lone surrogates in strings, nesting at most kMaxDepth deep.
// Iterative, so hostile nesting cannot overflow the stack.
class JsonCheck {
 public:
  static constexpr size_t kMaxDepth = 1024;  // the hub's parser's default depth limit

  /// "" when `json` is one JSON object, else the problem.
  static std::string object(std::string_view json) {
    JsonCheck c(json);
    if (!c.document()) return c.error_;
    if (!c.is_object_) return "must be a JSON object";
    return {};
  }

 private:
  explicit JsonCheck(std::string_view s) : s_(s) {}

  bool fail(const char* what) {
    error_ = "is not valid JSON: " + std::string(what) + " at byte " + std::to_string(i_);
    return false;
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void ws() {
    const size_t n = s_.size();
    const char* const d = s_.data();
    size_t i = i_;
    while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r')) ++i;
    i_ = i;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // Reads the 4 hex digits after "\u" at i_ (i_ on the 'u'); -1 when malformed.
  long u_escape() {
    if (s_.size() - i_ < 5) return -1;
    long v = 0;
    for (size_t k = 1; k <= 4; ++k) {
      const int h = hex(s_[i_ + k]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    i_ += 5;
    return v;
  }
  bool string() {  // at the opening quote
    ++i_;
    for (;;) {
      // Fast path over plain ASCII (tests build without optimization, data can be megabytes).
      const char* p = s_.data() + i_;
      const char* const end = s_.data() + s_.size();
      while (p != end) {
        const auto c = static_cast<unsigned char>(*p);
        if (c < 0x20u || c >= 0x80u || c == '"' || c == '\\') break;
        ++p;
      }
      i_ = static_cast<size_t>(p - s_.data());
      if (at_end()) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20u) return fail("unescaped control character in a string");
      if (c >= 0x80u) {
        const size_t n = utf8_sequence(s_, i_);
        if (n == 0) return fail("invalid UTF-8");
        i_ += n;
        continue;
      }
      if (c != '\\') {
        ++i_;
        continue;
      }
      ++i_;
      if (at_end()) return fail("unterminated string");
      const char e = peek();
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        ++i_;
        continue;
      }
      if (e != 'u') return fail("invalid escape in a string");
      const long v = u_escape();
      if (v < 0) return fail("invalid \\u escape");
      if (v >= 0xDC00 && v <= 0xDFFF) return fail("lone low surrogate in a \\u escape");
      if (v >= 0xD800 && v <= 0xDBFF) {
        if (s_.size() - i_ < 2 || s_[i_] != '\\' || s_[i_ + 1] != 'u') return fail("lone high surrogate");
        ++i_;
        const long low = u_escape();
        if (low < 0xDC00 || low > 0xDFFF) return fail("lone high surrogate");
      }
    }
  }
  bool digits() {
    const size_t start = i_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++i_;
    return i_ > start;
  }
  bool number() {
    if (peek() == '-') ++i_;
    if (at_end()) return fail("invalid number");
    if (peek() == '0') {
      ++i_;
    } else if (!digits()) {
      return fail("invalid number");
    }
    if (!at_end() && peek() == '.') {
      ++i_;
      if (!digits()) return fail("invalid number");
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++i_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++i_;
      if (!digits()) return fail("invalid number");
    }
    return true;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("invalid literal");
    i_ += word.size();
    return true;
  }
  bool key() {  // an object key and its colon, whitespace before the value skipped
    ws();
    if (at_end() || peek() != '"') return fail("expected a string key");
    if (!string()) return false;
    ws();
    if (at_end() || peek() != ':') return fail("expected ':'");
    ++i_;
    return true;
  }
  bool document() {
    std::vector<char> stack;  // '{' or '['
    ws();
    if (at_end()) return fail("empty document");
    is_object_ = peek() == '{';
    for (;;) {
      // A value.
      ws();
      if (at_end()) return fail("unexpected end");
      const char c = peek();
      if (c == '{' || c == '[') {
        if (stack.size() >= kMaxDepth) return fail("nested too deeply");
        stack.push_back(c);
        ++i_;
        ws();
        if (!at_end() && peek() == (c == '{' ? '}' : ']')) {
          ++i_;
          stack.pop_back();
        } else {
          if (c == '{' && !key()) return false;
          continue;
        }
      } else if (c == '"') {
        if (!string()) return false;
      } else if (c == 't') {
        if (!literal("true")) return false;
      } else if (c == 'f') {
        if (!literal("false")) return false;
      } else if (c == 'n') {
        if (!literal("null")) return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return false;
      } else {
        return fail("unexpected character");
      }
      // After a value: close containers, or a separator before the next value.
      for (;;) {
        ws();
        if (stack.empty()) {
          if (!at_end()) return fail("content after the document");
          return true;
        }
        if (at_end()) return fail("unexpected end");
        const char top = stack.back();
        if (peek() == (top == '{' ? '}' : ']')) {
          ++i_;
          stack.pop_back();
          continue;
        }
        if (peek() != ',') return fail(top == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
        ++i_;
        if (top == '{' && !key()) return false;
        break;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  bool is_object_ = false;
  std::string error_;
};

}  // namespace detail

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
/// An emit the harness refused (nothing of the unit was kept).
struct Refusal {
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
  /// Makes the next `count` emits fail with `status` and `message`, whatever they hold, as if
  /// the hub had refused them (e.g. TP_STATUS_PERMANENT for a limit the plugin did not check).
  void refuse_next_emits(size_t count, tp_status status, std::string message) {
    std::lock_guard<std::mutex> lk(mu_);
    refuse_next_ = count;
    refuse_next_status_ = status;
    refuse_next_message_ = std::move(message);
  }
  /// Accepts the next `count` emits but then reports them lost: done() gets `status` and
  /// nothing of them is kept, as when the hub cannot make a unit durable (a full disk).
  void lose_next_emits(size_t count, tp_status status) {
    std::lock_guard<std::mutex> lk(mu_);
    lose_next_ = count;
    lose_next_status_ = status;
  }
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
      current_ = nullptr;
      throw std::runtime_error("open failed (" + std::to_string(st) + "): " + error);
    }
    return inst;
  }

  /// The host table and context handed to plugins, to drive the host services directly
  /// (e.g. to check that emit() refuses a unit).
  const tp_host_api* host_api() const { return &api_; }
  tp_host_ctx* host_ctx() { return reinterpret_cast<tp_host_ctx*>(this); }

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
  /// Every emit that was refused, in order, with the status and message the plugin got.
  std::vector<Refusal> refusals() const {
    std::lock_guard<std::mutex> lk(mu_);
    return refusals_;
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
  /// Blocks until the done() of at least n units lost by lose_next_emits has returned. The loss
  /// arrives on another thread, as in the hub; a test that wants the plugin to have seen it
  /// before its next call waits here (otherwise the plugin may read on, and read again later).
  bool wait_for_losses(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return losses_->wait_for(n, timeout);
  }

 private:
  static Harness* self(tp_host_ctx* c) { return reinterpret_cast<Harness*>(c); }
  static std::string_view sv(tp_str x) {
    return x.len && x.data ? std::string_view(x.data, x.len) : std::string_view();
  }
  static std::string s(tp_str x) { return std::string(sv(x)); }

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
  static void set_error(tp_error* err, const std::string& msg) {
    if (err == nullptr || err->message == nullptr) return;
    const size_t n = msg.size() < err->capacity ? msg.size() : err->capacity;
    std::memcpy(err->message, msg.data(), n);
    err->len = n;
  }

  // The hub's checks of one unit, in the hub's order (core/plugin/plugin_instance.cpp and
  // record_validation.cpp). Returns TP_OK or TP_STATUS_PERMANENT with the problem.
  tp_status check_unit(const tp_emit* u, tp_emit_done_fn done, std::string& problem) const {
    if ((info_.capabilities & TP_CAP_SOURCE) == 0) {
      problem = "emit() from a plugin that did not declare TP_CAP_SOURCE";
      return TP_STATUS_PERMANENT;
    }
    if (u == nullptr || done == nullptr || u->size < offsetof(tp_emit, cursor) + sizeof(tp_str)) {
      problem = "emit(): unit or done callback missing, or unit too small";
      return TP_STATUS_PERMANENT;
    }
    if ((u->count > 0 && u->records == nullptr) || (u->reject_count > 0 && u->rejects == nullptr)) {
      problem = "emit(): count > 0 with a NULL array";
      return TP_STATUS_PERMANENT;
    }
    if (u->count > UINT32_MAX / 2 || u->reject_count > UINT32_MAX / 2) {
      problem = "emit(): too many records in one unit";
      return TP_STATUS_PERMANENT;
    }
    // Sizes first, before anything is parsed.
    if (u->cursor.len > TP_MAX_CURSOR_BYTES) {
      problem = "emit(): cursor of " + std::to_string(u->cursor.len) + " bytes exceeds TP_MAX_CURSOR_BYTES (" +
                std::to_string(TP_MAX_CURSOR_BYTES) + ")";
      return TP_STATUS_PERMANENT;
    }
    uint64_t total = u->cursor.len;
    for (size_t i = 0; i < u->count; ++i) {
      const tp_record& r = u->records[i];
      if (r.size < offsetof(tp_record, encoding) + sizeof(r.encoding)) {
        problem = "emit(): record " + std::to_string(i) + ": tp_record.size is smaller than the v1.0 record";
        return TP_STATUS_PERMANENT;
      }
      const uint64_t fields = uint64_t{r.id.len} + r.type.len + r.key.len;
      const uint64_t body = uint64_t{r.data.len} + r.meta.len;
      if (fields > TP_MAX_ID_BYTES + TP_MAX_TYPE_BYTES + TP_MAX_KEY_BYTES || body > TP_MAX_RECORD_BYTES) {
        problem = "emit(): record " + std::to_string(i) + ": larger than the record limits (data + meta " +
                  std::to_string(body) + " bytes, TP_MAX_RECORD_BYTES " + std::to_string(TP_MAX_RECORD_BYTES) + ")";
        return TP_STATUS_PERMANENT;
      }
      total += fields + body + TP_UNIT_RECORD_OVERHEAD;
    }
    for (size_t i = 0; i < u->reject_count; ++i) {
      const tp_reject& x = u->rejects[i];
      const uint64_t bytes = uint64_t{x.raw.len} + x.reason.len + x.location.len;
      if (bytes > TP_MAX_REJECT_BYTES) {
        problem = "emit(): reject " + std::to_string(i) + ": raw + reason + location of " + std::to_string(bytes) +
                  " bytes exceed TP_MAX_REJECT_BYTES (" + std::to_string(TP_MAX_REJECT_BYTES) + "); cut the raw input";
        return TP_STATUS_PERMANENT;
      }
      total += bytes + TP_UNIT_RECORD_OVERHEAD;
    }
    if (total > TP_MAX_UNIT_BYTES) {
      problem = "emit(): unit of about " + std::to_string(total) + " bytes exceeds TP_MAX_UNIT_BYTES (" +
                std::to_string(TP_MAX_UNIT_BYTES) + "); split it into smaller units";
      return TP_STATUS_PERMANENT;
    }
    // Then every record.
    for (size_t i = 0; i < u->count; ++i) {
      const std::string p = check_record(u->records[i]);
      if (!p.empty()) {
        problem = "record " + std::to_string(i) + ": " + p;
        return TP_STATUS_PERMANENT;
      }
    }
    return TP_OK;
  }

  static std::string check_record(const tp_record& r) {
    if (r.encoding != TP_ENCODING_JSON_UTF8) return "unsupported encoding " + std::to_string(r.encoding);
    const std::string_view id = sv(r.id), type = sv(r.type), key = sv(r.key);
    if (id.size() > TP_MAX_ID_BYTES || type.size() > TP_MAX_TYPE_BYTES || key.size() > TP_MAX_KEY_BYTES)
      return "id, type or key too long (limits " + std::to_string(TP_MAX_ID_BYTES) + ", " +
             std::to_string(TP_MAX_TYPE_BYTES) + ", " + std::to_string(TP_MAX_KEY_BYTES) + " bytes)";
    for (std::string_view x : {id, type, key})
      if (!detail::valid_utf8(x)) return "id, type or key is not valid UTF-8";
    for (char c : type)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
        return "type must use a-z, 0-9, '_', '-', '.'";
    const std::string_view data = sv(r.data), meta = sv(r.meta);
    if (data.size() + meta.size() > TP_MAX_RECORD_BYTES)
      return "data + meta of " + std::to_string(data.size() + meta.size()) + " bytes exceed TP_MAX_RECORD_BYTES (" +
             std::to_string(TP_MAX_RECORD_BYTES) + ")";
    if (std::string p = detail::JsonCheck::object(data); !p.empty()) return "data " + p;
    if (!meta.empty())
      if (std::string p = detail::JsonCheck::object(meta); !p.empty()) return "meta " + p;
    return {};
  }

  static tp_status emit_fn(tp_host_ctx* c, const tp_emit* u, tp_emit_done_fn done, void* user, tp_error* err) {
    Harness* h = self(c);
    std::string problem;
    tp_status status = h->refuse_.load();
    if (status != TP_OK) {
      problem = "harness refuses emits";
    } else {
      std::lock_guard<std::mutex> lk(h->mu_);
      if (h->refuse_next_ > 0) {
        --h->refuse_next_;
        status = h->refuse_next_status_;
        problem = h->refuse_next_message_;
      }
    }
    if (status == TP_OK) status = h->check_unit(u, done, problem);
    if (status != TP_OK) {
      set_error(err, problem);
      std::lock_guard<std::mutex> lk(h->mu_);
      h->refusals_.push_back({status, problem});
      return status;
    }
    {
      std::lock_guard<std::mutex> lk(h->mu_);
      if (h->lose_next_ > 0) {
        --h->lose_next_;
        const tp_status lost = h->lose_next_status_;
        std::thread([done, user, lost, reported = h->losses_] {
          done(user, lost, tp_str{"harness lost the unit", 21});
          reported->add();
        }).detach();
        return TP_OK;
      }
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
  // Shared with the detached threads that report losses, which may outlive the harness.
  struct LossCount {
    void add() {
      {
        std::lock_guard<std::mutex> lk(mu);
        ++n;
      }
      cv.notify_all();
    }
    bool wait_for(size_t want, std::chrono::milliseconds timeout) {
      std::unique_lock<std::mutex> lk(mu);
      return cv.wait_for(lk, timeout, [&] { return n >= want; });
    }
    std::mutex mu;
    std::condition_variable cv;
    size_t n = 0;
  };
  std::shared_ptr<LossCount> losses_ = std::make_shared<LossCount>();
  size_t lose_next_ = 0;  // guarded by mu_, like the one below
  tp_status lose_next_status_ = TP_STATUS_RETRYABLE;
  size_t refuse_next_ = 0;  // guarded by mu_, like the two below
  tp_status refuse_next_status_ = TP_OK;
  std::string refuse_next_message_;
  std::vector<Refusal> refusals_;
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
