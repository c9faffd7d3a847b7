#pragma once
// Delivers one sink's outbox: fetches due items, calls the sink plugin's
// write() on the plugin's own thread, and settles each item atomically:
// delivered (deleted), retry later (exponential backoff with jitter), or
// dead-lettered (permanent error or attempts exhausted). Each sink has its
// own worker, so one slow or failing sink never stalls another pipeline.
//
// The worker owns its plugin instance. A write() that misses its deadline
// leaves the instance stuck: the worker abandons it, counts the batch as a
// failed attempt, and opens a fresh instance (with backoff while that fails).

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/pipeline_config.hpp"
#include "plugin/plugin_instance.hpp"
#include "store/store.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

/// Delay before attempt `attempt` (1-based count of failures so far).
int64_t backoff_ms(const RetryPolicy& policy, int attempt, double random01);

class SinkWorker {
 public:
  using Factory = std::function<std::shared_ptr<PluginInstance>()>;

  /// `instance` is open already; `factory` makes (unopened) replacements.
  SinkWorker(std::shared_ptr<PluginInstance> instance, Factory factory, SinkUse sink, std::string pipeline,
             Store& store, Metrics& metrics);
  ~SinkWorker();

  void start();
  /// Finishes the batch in progress (bounded by the call deadline), closes
  /// the instance, then stops. Undelivered items stay in the outbox.
  void stop();
  void notify();

  const std::string& name() const noexcept { return sink_.plugin.instance; }
  /// The current instance (may change after a restart; null while down).
  std::shared_ptr<PluginInstance> instance() const;
  /// For /status: restarts after a stuck instance, the last write error.
  struct Health {
    uint64_t restarts = 0;
    uint64_t failed_writes = 0;
    std::string last_error;
  };
  Health health() const;

 private:
  void loop();
  /// On start: what a previous run left marked sending (channel sinks only).
  void settle_in_doubt();
  size_t deliver_once();
  /// Replaces a stuck instance; false while the new one cannot open.
  bool ensure_instance();
  void note_failure(const std::string& error);

  std::shared_ptr<PluginInstance> instance_;  // replaced by the worker thread; read under instance_mu_
  mutable std::mutex instance_mu_;
  Factory factory_;
  SinkUse sink_;
  std::string pipeline_;
  Store& store_;
  Metrics& metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int reopen_failures_ = 0;
  int64_t next_reopen_ms_ = 0;  // steady_ms()
  mutable std::mutex health_mu_;
  Health health_;
  int64_t last_logged_ms_ = 0;  // steady_ms()
  uint64_t unlogged_failures_ = 0;
};

}  // namespace touchpoint::core
