#pragma once
// One running instance of a plugin: its own thread (a single-threaded Asio
// io_context, so calls into the instance are serialized), the host services
// it sees through the ABI, and its source read loop. A slow or stuck plugin
// only ever blocks its own thread.

#include <touchpoint/abi.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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

class PluginInstance {
 public:
  PluginInstance(std::shared_ptr<const LoadedPlugin> plugin, PluginUse use, HostServices services,
                 std::string checkpoint);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  /// Calls the plugin's open() on the instance thread. Throws PluginError.
  void open();
  /// Starts the source read loop (sources only).
  void start_reading();
  /// Sink write on the instance thread; blocks the caller until it returns.
  tp_status write(const tp_batch& batch, const tp_outcome_sink& outcomes, std::string& error);
  /// The plugin's check(); returns "" when fine, else the message.
  std::string check();
  /// Graceful stop: refuse new emits, wait for in-flight ones to become
  /// durable (and their commits to run), then the plugin's close(), then join.
  void close();

  const std::string& name() const noexcept { return use_.instance; }
  const LoadedPlugin& plugin() const noexcept { return *plugin_; }
  const PluginUse& use() const noexcept { return use_; }

  /// The host API table every instance is given (host_api.cpp).
  static const tp_host_api* host_api();

 private:
  friend struct HostApiImpl;

  template <typename F>
  auto run_sync(F&& f) -> decltype(f());
  bool post(std::function<void()> fn);
  void read_once();
  void schedule_read(int64_t delay_ms);
  void observe_call(const char* verb, std::chrono::steady_clock::time_point start);

  // ---- used by the host API (any thread) ----
  tp_status emit(const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err);
  void log(int32_t level, std::string_view message) const;
  std::string next_record_id();

  std::shared_ptr<const LoadedPlugin> plugin_;
  PluginUse use_;
  HostServices services_;
  std::string labels_;  // "plugin=..,instance=.."

  tp_instance* self_ = nullptr;
  std::string config_json_;

  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::steady_timer> read_timer_;
  std::thread thread_;

  std::atomic<bool> closing_{false};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> emits_since_read_{0};
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  uint64_t inflight_ = 0;

  std::mutex strings_mu_;
  std::list<std::string> kept_strings_;  // host strings handed out until close()
  std::string checkpoint_;
  std::string id_prefix_;
  std::atomic<uint64_t> id_counter_{0};
};

}  // namespace touchpoint::core
