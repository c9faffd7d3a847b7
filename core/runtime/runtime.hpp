#pragma once
// The hub process: opens the store and the journal, replays what is not yet
// applied, starts every pipeline's plugin instances, the applier and the
// admin endpoint, then serves signals until asked to stop.
//
// Start-up order guarantees that a source sees its checkpoint only after the
// journal has been fully applied, so checkpoints are never behind the store.
// Shutdown order (SIGTERM): sources stop taking input and finish in-flight
// emits, the applier drains the journal into the store, sinks finish their
// current batch, then the journal closes.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/admin_server.hpp"
#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "journal/journal.hpp"
#include "pipeline/applier.hpp"
#include "pipeline/sink_worker.hpp"
#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_loader.hpp"
#include "store/sqlite_store.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

class Runtime {
 public:
  explicit Runtime(HubConfig config);
  ~Runtime();

  /// Runs until SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  struct Running {
    PipelinePtr def;
    std::shared_ptr<PluginInstance> source;
    std::vector<std::shared_ptr<PluginInstance>> sinks;
    std::vector<std::unique_ptr<SinkWorker>> workers;
  };

  /// Takes the data directory's exclusive lock (flock on <data_dir>/touchpoint.lock),
  /// so two hubs never share one journal and store. Released when the process ends.
  bool lock_data_dir();
  void start_pipeline(const PipelinePtr& p, const std::map<std::string, std::string>& checkpoints);
  void stop_pipeline(Running& r);
  void update_routes();
  void reload();
  void shutdown();
  void publish_gauges();
  std::string status_json();

  HubConfig config_;
  int lock_fd_ = -1;
  Metrics metrics_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<PluginLoader> loader_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<AdminServer> admin_;
  boost::asio::io_context io_;

  std::mutex running_mu_;
  std::map<std::string, Running> running_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> reload_requested_{false};
};

}  // namespace touchpoint::core
