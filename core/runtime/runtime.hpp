#pragma once
// The hub process: opens the store and the journal, starts the applier,
// every pipeline's plugin instances and the admin endpoint, then serves
// signals until asked to stop.
//
// Start-up does not wait for the journal to be applied: the applier replays
// it in the background while sources already take input, so one hostile or
// slow record can never keep the hub from becoming ready. A restarted source
// resumes at its newest *durable* cursor, which recovery reads from the
// journal itself (the store's checkpoint may lag behind the replay).
//
// Threads: the main thread runs signals and the systemd watchdog only; the
// control thread runs reloads and the supervisor (stuck plugin instances
// are isolated and replaced); nothing slow ever runs on the main thread.
//
// Shutdown order (SIGTERM): sources stop taking input and finish in-flight
// emits, the applier drains the journal into the store (bounded by
// apply.shutdown_timeout_ms), sinks finish their current batch, the journal
// closes. Every wait is bounded; what could not finish is logged by name and
// stays in the journal/outbox for the next start.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin_server.hpp"
#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "contact/contact_loop.hpp"
#include "contact/decider.hpp"
#include "customer/customer_store.hpp"
#include "journal/journal.hpp"
#include "pipeline/applier.hpp"
#include "pipeline/sink_worker.hpp"
#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_loader.hpp"
#include "report/report_service.hpp"
#include "store/store.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

/// `touchpoint run` exit codes beyond the CLI's 0/1/2.
inline constexpr int kExitJournalFailed = 4;  ///< the journal hit an I/O error: restart to recover

class Runtime {
 public:
  explicit Runtime(HubConfig config);
  ~Runtime();

  /// Runs until SIGTERM/SIGINT (or a fatal journal error). Returns the
  /// process exit code. When something had to be abandoned on the way out
  /// (a stuck thread), it ends the process itself with _exit instead.
  int run();

 private:
  struct Running {
    PipelinePtr def;
    std::shared_ptr<PluginInstance> source;
    std::vector<std::unique_ptr<SinkWorker>> workers;
    uint64_t source_restarts = 0;
    std::string source_error;     // why the source is down (empty: running)
    int64_t next_restart_ms = 0;  // steady_ms()
  };

  /// Takes the data directory's exclusive lock (flock on <data_dir>/touchpoint.lock),
  /// so two hubs never share one journal and store. Released when the process ends.
  bool lock_data_dir();
  std::shared_ptr<PluginInstance> make_instance(const PluginUse& use, std::string checkpoint);
  void start_pipeline(const PipelinePtr& p, const std::string& checkpoint);
  /// Stops the source, the sinks; false if an instance had to be abandoned.
  bool stop_pipeline(Running& r);
  /// The source's newest durable cursor: the instance's if it ran, else recovery's, else the store's.
  std::string resume_cursor(const std::string& instance);
  /// The contact loop's channel and feedback sinks, from these pipelines' definitions.
  void set_loop_sinks(const std::vector<PipelinePtr>& pipelines);
  void update_routes();
  void reload();
  void supervise();
  void control_loop();
  void request_reload();
  /// Bounded; returns false when something was abandoned.
  bool shutdown();
  void publish_gauges();
  /// Sends an erase request to every running plugin instance; one receipt each.
  Json erase_in_connectors(const customer::EraseResult& e);
  /// (Re)loads customer.rulebook; the old one stays when the new one is invalid.
  bool load_rulebook(bool initial);
  /// GET /status: pipelines, journal, applier, store.
  Json status();
  std::string status_json();
  /// The "pipelines" report: status, sink backlogs and the hub's metrics.
  Json pipelines_report();
  /// Recomputes the data-quality report every reports.quality_refresh_s.
  void reports_loop();

  HubConfig config_;
  int lock_fd_ = -1;
  Metrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<customer::CustomerStore> customers_;
  std::unique_ptr<contact::Decider> decider_;
  std::unique_ptr<contact::ContactLoop> contact_loop_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<PluginLoader> loader_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<report::ReportService> reports_;
  boost::asio::io_context io_;

  std::mutex running_mu_;  // running_ is changed by the control thread only; readers lock
  std::map<std::string, Running> running_;
  std::map<std::string, std::string> recovered_cursors_;  // source -> newest cursor in the journal
  std::map<std::string, std::string> last_cursors_;       // source -> cursor of a stopped instance
  std::atomic<bool> ready_{false};
  std::atomic<bool> journal_failed_{false};

  std::mutex control_mu_;
  std::condition_variable control_cv_;
  bool reload_requested_ = false;
  bool control_stop_ = false;
  std::thread control_;
  std::thread reports_thread_;
};

}  // namespace touchpoint::core
