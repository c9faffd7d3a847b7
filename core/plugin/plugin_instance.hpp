#pragma once
// One running instance of a plugin: its own thread (a single-threaded Asio
// io_context, so calls into the instance are serialized), the host services
// it sees through the ABI, and its source read loop. A slow or stuck plugin
// only ever blocks its own thread.
//
// Every call into the plugin has a deadline (PluginUse::call_timeout_ms).
// A call that misses it is abandoned: the caller gets TP_STATUS_RETRYABLE
// and the instance is *stuck* from then on (every later call fails at once).
// The data the plugin may still be reading belongs to the call, not to the
// caller, so nothing dangles. The owner replaces a stuck instance and hands
// it to abandon(): it is kept alive (never destroyed) for the rest of the
// process, because its thread may still be running plugin code that calls
// back into the host.

#include <touchpoint/abi.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "plugin/plugin_loader.hpp"

namespace touchpoint::core {

class Metrics;
namespace journal {
class Journal;
}

/// What the runtime lends every instance.
struct HostServices {
  journal::Journal* journal = nullptr;
  Metrics* metrics = nullptr;
  const HubConfig* hub = nullptr;
};

/// One write() call's records and per-record outcomes. Shared by the caller
/// and the instance thread, so a call that outlives its deadline still reads
/// valid memory. Outcomes reported after the deadline are ignored.
class SinkBatch {
 public:
  struct Item {
    std::string id, type, key, source, data, meta;
    int64_t ts_ms = 0;
  };
  explicit SinkBatch(std::vector<Item> items);

  size_t size() const noexcept { return items_.size(); }
  const tp_batch& batch() const noexcept { return batch_; }
  const tp_outcome_sink& outcomes() noexcept { return sink_; }
  /// The outcome reported for item i, if any (read after write() returned in time).
  std::optional<std::pair<tp_status, std::string>> reported(size_t i) const;
  /// Stops recording outcomes (the caller gave up on the call).
  void seal();

 private:
  static void report(void* ctx, size_t index, tp_status status, tp_str message);

  std::vector<Item> items_;
  std::vector<tp_record> records_;
  tp_batch batch_{};
  tp_outcome_sink sink_{};
  mutable std::mutex mu_;
  bool sealed_ = false;
  std::vector<std::optional<std::pair<tp_status, std::string>>> reported_;
};

/// The result of one call into the plugin.
struct CallResult {
  tp_status status = TP_OK;
  std::string error;
  bool timed_out = false;
};

class PluginInstance {
 public:
  PluginInstance(std::shared_ptr<const LoadedPlugin> plugin, PluginUse use, HostServices services,
                 std::string checkpoint);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  /// Calls the plugin's open() on the instance thread. Throws PluginError
  /// (also when open() misses its deadline: the instance is then stuck).
  void open();
  /// Starts the source read loop (sources only).
  void start_reading();
  /// Sink write on the instance thread; waits at most the call deadline.
  CallResult write(const std::shared_ptr<SinkBatch>& batch);
  /// The plugin's check(); returns "" when fine, else the message.
  std::string check();
  /// The plugin's discover() document in *json (at most kMaxDiscoverBytes).
  /// TP_STATUS_UNSUPPORTED for plugins without the verb.
  CallResult discover(std::string* json);
  static constexpr size_t kMaxDiscoverBytes = 1 << 20;
  /// GDPR erasure (ABI 1.1). TP_STATUS_UNSUPPORTED for plugins without the verb.
  CallResult erase(const std::string& subject_json);
  /// Graceful stop: refuse new emits, wait (bounded) for in-flight ones to
  /// become durable and their commits to run, then the plugin's close(),
  /// then join. A stuck instance is not waited for: close() reports false
  /// and the caller must abandon() it.
  bool close();

  /// True once a call missed its deadline (or close could not finish).
  bool stuck() const noexcept { return stuck_.load(); }
  /// The verb and how long the call in progress has run, if one is running.
  std::optional<std::pair<std::string, std::chrono::milliseconds>> busy() const;
  /// Marks a running call that is over its deadline as stuck (used by the
  /// runtime's supervisor for read(), which nobody waits for). True if stuck.
  bool check_deadline();
  /// Stops accepting emits at once (before a replacement instance opens).
  void refuse_emits() noexcept { closing_ = true; }
  /// The cursor of the newest unit that became durable (or the checkpoint
  /// the instance was opened with): where a replacement resumes.
  std::string durable_cursor() const;

  /// Keeps a stuck instance alive for the rest of the process.
  static void abandon(std::shared_ptr<PluginInstance> instance);
  /// Instances abandoned so far (the process must then end with _exit).
  static size_t abandoned_count();

  const std::string& name() const noexcept { return use_.instance; }
  const LoadedPlugin& plugin() const noexcept { return *plugin_; }
  const PluginUse& use() const noexcept { return use_; }

  /// The host API table every instance is given (host_api.cpp).
  static const tp_host_api* host_api();

 private:
  friend struct HostApiImpl;
  struct Call;

  /// Runs fn on the instance thread with the call deadline. fn must own (or
  /// share) everything it touches, because it may outlive this call.
  CallResult call(const char* verb, std::function<tp_status(tp_error*)> fn);
  bool post(std::function<void()> fn);
  void read_once();
  void schedule_read(int64_t delay_ms);
  void begin_call(const char* verb);
  void end_call(const char* verb, std::chrono::steady_clock::time_point start);
  void mark_stuck(const std::string& verb, std::chrono::milliseconds after);

  // ---- used by the host API (any thread) ----
  tp_status emit(const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err);
  void log(int32_t level, std::string_view message) const;
  std::string next_record_id();
  /// A stable copy of a host setting, valid until the instance is destroyed
  /// (one per key: repeated calls do not grow memory).
  std::optional<tp_str> setting(std::string_view key);

  std::shared_ptr<const LoadedPlugin> plugin_;
  PluginUse use_;
  HostServices services_;
  std::string labels_;  // "plugin=..,instance=.."
  std::chrono::milliseconds deadline_;

  tp_instance* self_ = nullptr;  // instance thread only after open()
  std::string config_json_;

  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::steady_timer> read_timer_;
  std::thread thread_;

  std::atomic<bool> closing_{false};
  std::atomic<bool> closed_{false};
  std::atomic<bool> stuck_{false};
  std::atomic<int64_t> busy_since_ns_{0};  // steady clock; 0: idle
  std::atomic<const char*> busy_verb_{nullptr};
  std::atomic<uint64_t> emits_since_read_{0};
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  uint64_t inflight_ = 0;

  std::mutex strings_mu_;
  std::map<std::string, std::string, std::less<>> settings_;  // config_get values, one per key
  const std::string checkpoint_;
  mutable std::mutex cursor_mu_;
  std::string durable_cursor_;
  std::string id_prefix_;
  std::atomic<uint64_t> id_counter_{0};
};

}  // namespace touchpoint::core
