#pragma once
// Delivers one sink's outbox: fetches due items, calls the sink plugin's
// write() on the plugin's own thread, and settles each item atomically:
// delivered (deleted), retry later (exponential backoff with jitter), or
// dead-lettered (permanent error or attempts exhausted). Each sink has its
// own worker, so one slow or failing sink never stalls another pipeline.

#include <atomic>
#include <condition_variable>
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
  SinkWorker(std::shared_ptr<PluginInstance> instance, SinkUse sink, std::string pipeline, Store& store,
             Metrics& metrics);
  ~SinkWorker();

  void start();
  /// Finishes the batch in progress, then stops. Undelivered items stay in the outbox.
  void stop();
  void notify();

  const std::string& name() const noexcept { return sink_.plugin.instance; }

 private:
  void loop();
  size_t deliver_once();

  std::shared_ptr<PluginInstance> instance_;
  SinkUse sink_;
  std::string pipeline_;
  Store& store_;
  Metrics& metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace touchpoint::core
