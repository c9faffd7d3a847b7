// faulty: a connector for the fault-injection tests (tests/fault). It is a
// plain SDK plugin (touchpoint/plugin.hpp) that misbehaves on request.
//
// Sink (used under `sinks:`): every delivered record is appended to
// `out_file` as one JSON line {"id":"<record id>","data":{...}}, one write(2)
// per batch. Faults, counted per out_file over the whole process (so a fresh
// instance after a restart continues the count; a new hub process restarts it):
//   fail_first: K        write() calls 1..K fail as retryable, writing nothing
//   hang_in_write: N     write() call N sleeps hang_ms, writes nothing, then
//                        fails as retryable (if anyone is still waiting)
//   crash_in_write: N    write() call N aborts the process. With
//                        crash_point "after" (default) the batch is appended
//                        first; with "before" nothing is.
//   crash_once_file      required with crash_in_write: the crash happens only
//                        while this file does not exist. It is created right
//                        before the crash and holds the ids of the batch in
//                        flight, one per line.
//   hang_once_file       optional: the same once-guard for hang_in_write
//                        (and for hang_in_read of a source).
//   crash_signal         "abort" (default) or "segv": how crash_in_write
//                        ends the process (SIGABRT, or SIGSEGV with the
//                        default action, past any sanitizer's handler).
//   leak_mb_per_write: N every write() allocates and touches N MiB that it
//                        never frees (for the memory limit of isolated plugins).
//
// Source (used as `source:`, enabled by `records`): emits profile records
// "<id_prefix>-<i>" (key = id, data {customer_id, email, n}) for i in
// [0, records), `unit_records` per unit, with the cursor "<next i>".
// read() waits until its unit is durable before it returns, so a refused or
// failed unit is simply emitted again. A replaced instance resumes at the
// host's checkpoint. Faults:
//   hang_in_read: N      read() call N (counted per id_prefix over the
//                        process) sleeps hang_ms and emits nothing.
//   hang_file            instead of a call number: the first read() (or, for
//                        a sink, write()) that finds this file hangs, once
//                        per process. Lets a test choose the moment.
//
// Both: `open_fail_file`: open() fails (retryable) while this file exists.
// `hang_ms` defaults to 60000. Every fault is logged through the host with the
// prefix "faulty:", so the hub log shows when it fired.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <touchpoint/plugin.hpp>
#include <vector>

namespace faulty {
namespace {

using json = nlohmann::json;
using touchpoint::ConfigError;
using touchpoint::RetryableError;

struct Config {
  // sink
  std::string out_file;
  uint64_t fail_first = 0;
  uint64_t hang_in_write = 0;
  std::string hang_once_file;
  uint64_t crash_in_write = 0;
  std::string crash_once_file;
  bool crash_after_write = true;
  bool crash_segv = false;
  uint64_t leak_mb_per_write = 0;
  // source
  uint64_t records = 0;
  uint64_t unit_records = 10;
  std::string id_prefix = "f";
  uint64_t hang_in_read = 0;
  std::string hang_file;
  // both
  uint64_t hang_ms = 60000;
  std::string open_fail_file;
};

uint64_t get_count(const json& v, const std::string& key) {
  if (!v.is_number_unsigned()) throw ConfigError("faulty: " + key + " must be a non-negative integer");
  return v.get<uint64_t>();
}

std::string get_text(const json& v, const std::string& key) {
  if (!v.is_string()) throw ConfigError("faulty: " + key + " must be a string");
  return v.get<std::string>();
}

Config parse_config(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) throw ConfigError("faulty: config must be an object");
  Config c;
  for (const auto& [key, v] : doc.items()) {
    if (key == "out_file")
      c.out_file = get_text(v, key);
    else if (key == "fail_first")
      c.fail_first = get_count(v, key);
    else if (key == "hang_in_write")
      c.hang_in_write = get_count(v, key);
    else if (key == "hang_once_file")
      c.hang_once_file = get_text(v, key);
    else if (key == "crash_in_write")
      c.crash_in_write = get_count(v, key);
    else if (key == "crash_once_file")
      c.crash_once_file = get_text(v, key);
    else if (key == "crash_point") {
      const std::string p = get_text(v, key);
      if (p != "before" && p != "after") throw ConfigError("faulty: crash_point must be before or after");
      c.crash_after_write = p == "after";
    } else if (key == "crash_signal") {
      const std::string sig = get_text(v, key);
      if (sig != "abort" && sig != "segv") throw ConfigError("faulty: crash_signal must be abort or segv");
      c.crash_segv = sig == "segv";
    } else if (key == "leak_mb_per_write")
      c.leak_mb_per_write = get_count(v, key);
    else if (key == "records")
      c.records = get_count(v, key);
    else if (key == "unit_records")
      c.unit_records = std::max<uint64_t>(1, get_count(v, key));
    else if (key == "id_prefix")
      c.id_prefix = get_text(v, key);
    else if (key == "hang_in_read")
      c.hang_in_read = get_count(v, key);
    else if (key == "hang_file")
      c.hang_file = get_text(v, key);
    else if (key == "hang_ms")
      c.hang_ms = get_count(v, key);
    else if (key == "open_fail_file")
      c.open_fail_file = get_text(v, key);
    else
      throw ConfigError("faulty: unknown config key '" + key + "'");
  }
  if (c.crash_in_write > 0 && c.crash_once_file.empty())
    throw ConfigError("faulty: crash_in_write needs crash_once_file (or every restart would crash again)");
  return c;
}

/// Process-wide call counters (never destroyed: abandoned instances may still run).
uint64_t next_call(const std::string& counter) {
  static std::mutex mu;
  static auto* counts = new std::map<std::string, uint64_t>();
  std::lock_guard<std::mutex> lk(mu);
  return ++(*counts)[counter];
}

bool exists(const std::string& path) { return !path.empty() && ::access(path.c_str(), F_OK) == 0; }

/// hang_file: true for the first caller that finds the file (once per process and file).
bool hang_file_fires(const std::string& path) {
  if (!exists(path)) return false;
  static std::mutex mu;
  static auto* fired = new std::set<std::string>();
  std::lock_guard<std::mutex> lk(mu);
  return fired->insert(path).second;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw RetryableError(std::string("faulty: write: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
}

/// The once-guard: true (and `content` stored durably) if `path` did not exist.
bool claim_once(const std::string& path, const std::string& content) {
  if (path.empty()) return true;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  write_all(fd, content);
  ::fsync(fd);
  ::close(fd);
  return true;
}

void sleep_ms(uint64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

class FaultyConnector : public touchpoint::Connector {
 public:
  FaultyConnector(touchpoint::Host host, std::string_view config_json)
      : Connector(host), config_(parse_config(config_json)) {
    if (exists(config_.open_fail_file))
      throw RetryableError("faulty: open() fails while " + config_.open_fail_file + " exists");
    const std::string cp = this->host().checkpoint();
    if (!cp.empty()) next_ = std::strtoull(cp.c_str(), nullptr, 10);
    if (config_.records > 0)
      this->host().info("faulty: source starts at record " + std::to_string(next_) + " of " +
                        std::to_string(config_.records));
  }

  static void validate_config(std::string_view config_json) { (void)parse_config(config_json); }

  void read() override {
    const uint64_t call = next_call("read:" + config_.id_prefix);
    if (((config_.hang_in_read > 0 && call == config_.hang_in_read) || hang_file_fires(config_.hang_file)) &&
        claim_once(config_.hang_once_file, "hang\n")) {
      host().warn("faulty: hanging in read() #" + std::to_string(call) + " for " + std::to_string(config_.hang_ms) +
                  " ms");
      sleep_ms(config_.hang_ms);
      return;
    }
    if (next_ >= config_.records) return;
    const uint64_t end = std::min(config_.records, next_ + config_.unit_records);
    touchpoint::EmitUnit unit;
    for (uint64_t i = next_; i < end; ++i) {
      touchpoint::Record r;
      r.id = config_.id_prefix + "-" + std::to_string(i);
      r.type = "profile";
      r.key = r.id;
      r.data = json{{"customer_id", r.id}, {"email", r.id + "@faulty.example.com"}, {"n", i}}.dump();
      unit.records.push_back(std::move(r));
    }
    unit.cursor = std::to_string(end);
    struct Wait {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      tp_status status = TP_STATUS_INTERNAL;
    };
    auto w = std::make_shared<Wait>();
    std::string refused;
    tp_status st = host().emit(
        unit,
        [w](tp_status s, std::string_view) {
          std::lock_guard<std::mutex> lk(w->mu);
          w->done = true;
          w->status = s;
          w->cv.notify_all();
        },
        &refused);
    if (st != TP_OK) throw RetryableError("faulty: emit refused (" + std::to_string(st) + "): " + refused);
    std::unique_lock<std::mutex> lk(w->mu);
    if (!w->cv.wait_for(lk, std::chrono::seconds(20), [&] { return w->done; }))
      throw RetryableError("faulty: unit not durable after 20 s");
    if (w->status != TP_OK) throw RetryableError("faulty: unit failed (" + std::to_string(w->status) + ")");
    next_ = end;
  }

  void write(touchpoint::RecordSpan batch, touchpoint::Outcomes& /*outcomes*/) override {
    if (config_.out_file.empty()) throw touchpoint::PermanentError("faulty: a sink needs out_file");
    const uint64_t call = next_call("write:" + config_.out_file);
    if (call <= config_.fail_first)
      throw RetryableError("faulty: write #" + std::to_string(call) + " fails (fail_first " +
                           std::to_string(config_.fail_first) + ")");
    if (((config_.hang_in_write > 0 && call == config_.hang_in_write) || hang_file_fires(config_.hang_file)) &&
        claim_once(config_.hang_once_file, "hang\n")) {
      host().warn("faulty: hanging in write() #" + std::to_string(call) + " (" + std::to_string(batch.size()) +
                  " records) for " + std::to_string(config_.hang_ms) + " ms");
      sleep_ms(config_.hang_ms);
      throw RetryableError("faulty: write #" + std::to_string(call) + " hung and wrote nothing");
    }
    std::string lines;
    std::string ids;
    for (const touchpoint::RecordView& r : batch) {
      const std::string id = json(std::string(r.id)).dump();
      lines += "{\"id\":" + id + ",\"data\":" + std::string(r.data.empty() ? "null" : r.data) + "}\n";
      ids += std::string(r.id) + "\n";
    }
    const bool crash =
        config_.crash_in_write > 0 && call == config_.crash_in_write && claim_once(config_.crash_once_file, ids);
    if (config_.leak_mb_per_write > 0) leak(config_.leak_mb_per_write);
    if (crash) host().error("faulty: aborting the process in write() #" + std::to_string(call));
    if (crash && !config_.crash_after_write) die();
    int fd = ::open(config_.out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw RetryableError("faulty: cannot open " + config_.out_file + ": " + std::strerror(errno));
    try {
      write_all(fd, lines);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (crash) {
      ::fsync(fd);
      die();
    }
    ::close(fd);
  }

 private:
  [[noreturn]] void die() const {
    if (config_.crash_segv) {
      std::signal(SIGSEGV, SIG_DFL);
      std::raise(SIGSEGV);
    }
    std::abort();
  }
  static void leak(uint64_t mb) {
    static auto* kept = new std::vector<std::unique_ptr<char[]>>();  // never freed, on purpose
    const size_t bytes = static_cast<size_t>(mb) << 20;
    kept->push_back(std::make_unique<char[]>(bytes));
    std::memset(kept->back().get(), 0x5a, bytes);
  }

  Config config_;
  uint64_t next_ = 0;  // source: the next record index
};

}  // namespace
}  // namespace faulty

TOUCHPOINT_PLUGIN(faulty::FaultyConnector, "faulty", "1.0.0", "Fault-injection test connector (tests/fault)",
                  TP_CAP_SOURCE | TP_CAP_SINK)
