#include "runtime/runtime.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "runtime/systemd_notify.hpp"
#include "runtime/validation.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace asio = boost::asio;
namespace fs = std::filesystem;

Runtime::Runtime(HubConfig config) : config_(std::move(config)) {}

Runtime::~Runtime() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool Runtime::lock_data_dir() {
  const fs::path file = config_.data_dir / "touchpoint.lock";
  lock_fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    std::cerr << "touchpoint: cannot open " << file.string() << ": " << std::strerror(errno) << "\n";
    return false;
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    std::ifstream in(file);
    std::getline(in, holder);
    if (err == EWOULDBLOCK)
      std::cerr << "touchpoint: data directory " << config_.data_dir.string() << " is in use by another hub"
                << (holder.empty() ? std::string() : " (pid " + holder + ")") << "; not starting\n";
    else
      std::cerr << "touchpoint: cannot lock " << file.string() << ": " << std::strerror(err) << "\n";
    ::close(lock_fd_);
    lock_fd_ = -1;
    return false;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 ||
      ::pwrite(lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    log::warn("runtime", "cannot write the pid to " + file.string());
  return true;
}

void Runtime::start_pipeline(const PipelinePtr& p, const std::map<std::string, std::string>& checkpoints) {
  HostServices services{journal_.get(), &metrics_, &config_};
  Running r;
  r.def = p;
  try {
    for (const SinkUse& s : p->sinks) {
      auto inst = std::make_shared<PluginInstance>(loader_->get(s.plugin.plugin), s.plugin, services, "");
      inst->open();
      r.sinks.push_back(inst);
      r.workers.push_back(std::make_unique<SinkWorker>(inst, s, p->name, *store_, metrics_));
    }
    auto cp = checkpoints.find(p->source.instance);
    r.source = std::make_shared<PluginInstance>(loader_->get(p->source.plugin), p->source, services,
                                                cp == checkpoints.end() ? std::string() : cp->second);
    r.source->open();
  } catch (...) {
    stop_pipeline(r);
    throw;
  }
  for (auto& w : r.workers) w->start();
  r.source->start_reading();
  log::info("runtime",
            "pipeline '" + p->name + "' started (" + p->source.plugin + " -> " + std::to_string(p->steps.size()) +
                " steps -> " + (p->to_store ? "store" : "") +
                (p->sinks.empty() ? "" : (p->to_store ? " + " : "") + std::to_string(p->sinks.size()) + " sinks") +
                ")");
  std::lock_guard<std::mutex> lk(running_mu_);
  running_[p->name] = std::move(r);
}

void Runtime::stop_pipeline(Running& r) {
  if (r.source) r.source->close();
  for (auto& w : r.workers) w->stop();
  for (auto& s : r.sinks) s->close();
  r.source.reset();
  r.workers.clear();
  r.sinks.clear();
}

void Runtime::update_routes() {
  std::map<std::string, PipelinePtr> routes;
  std::vector<SinkWorker*> workers;
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_) {
      routes[r.def->source.instance] = r.def;
      for (auto& w : r.workers) workers.push_back(w.get());
    }
  }
  applier_->set_pipelines(std::move(routes));
  applier_->set_outbox_listener([this] {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_)
      for (auto& w : r.workers) w->notify();
  });
}

int Runtime::run() {
  log::Level level;
  if (log::parse_level(config_.log_level, level)) log::set_level(level);
  // Take over SIGINT/SIGTERM/SIGHUP before anything else: a signal that
  // arrives during start-up (systemctl reload right after start, a stop
  // during a long journal replay) is queued and handled once the loop runs,
  // instead of killing the process with the default action.
  asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  fs::create_directories(config_.data_dir);

  loader_ = std::make_unique<PluginLoader>(config_.plugin_dir, config_.plugin_owner, PluginInstance::host_api());
  ValidationResult v = validate_pipelines(config_, *loader_);
  for (const std::string& w : v.warnings) log::warn("config", w);
  if (!v.ok()) {
    for (const std::string& e : v.errors) std::cerr << e << "\n";
    std::cerr << "touchpoint: configuration invalid, not starting\n";
    return 2;
  }

  // One hub per data directory: a second one would append to the same journal.
  if (!lock_data_dir()) return 1;

  // Before anything starts: an unusable token file stops start-up cleanly.
  std::string token;
  try {
    token = load_or_create_token(config_.admin_token_file.string());
  } catch (const std::exception& e) {
    std::cerr << "touchpoint: " << e.what() << "\n";
    log::error("runtime", std::string("start-up failed: ") + e.what());
    return 1;
  }

  store_ = std::make_unique<SqliteStore>(config_.store_path);
  log::info("store", "sqlite store " + config_.store_path.string() + " at schema version " +
                         std::to_string(store_->schema_version()));

  journal::JournalOptions jo;
  jo.dir = config_.data_dir / "journal";
  jo.segment_bytes = config_.journal_segment_bytes;
  jo.max_bytes = config_.journal_max_bytes;
  jo.fsync = config_.journal_fsync;
  jo.min_last_seq = store_->journal_position();
  journal_ = std::make_unique<journal::Journal>(jo);
  const auto& rec = journal_->recovery();
  log::info("journal", "recovered " + std::to_string(rec.entries) + " entries in " + std::to_string(rec.segments) +
                           " segments (last seq " + std::to_string(rec.last_seq) + ")");
  if (rec.advanced_from)
    log::warn("journal", "journal ended at seq " + std::to_string(*rec.advanced_from) +
                             " but the store has applied up to " + std::to_string(jo.min_last_seq) +
                             " (journal emptied or restored?); continuing after the store's position");
  for (const auto& q : rec.quarantined) {
    log::error("journal", "quarantined " + std::to_string(q.bytes) + " bytes of " + q.segment + " at offset " +
                              std::to_string(q.offset) + " (" + q.reason + "), saved as " + q.saved_as);
    metrics_.counter_add("touchpoint_journal_quarantined_total", "", 1);
  }

  applier_ = std::make_unique<Applier>(*journal_, *store_, metrics_, config_.apply_batch_records);
  {
    std::map<std::string, PipelinePtr> routes;
    for (const PipelinePtr& p : v.pipelines) routes[p->source.instance] = p;
    applier_->set_pipelines(routes);
  }
  // Replay before any source starts, so checkpoints match the journal.
  systemd::status("replaying journal");
  applier_->catch_up();
  log::info("applier", "journal applied up to seq " + std::to_string(applier_->applied_seq()));

  const auto checkpoints = store_->checkpoints();
  try {
    for (const PipelinePtr& p : v.pipelines) start_pipeline(p, checkpoints);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    log::error("runtime", std::string("start-up failed: ") + e.what());
    shutdown();
    return 1;
  }
  update_routes();
  applier_->start();

  AdminHandlers h;
  h.ready = [this] { return ready_.load(); };
  h.metrics = [this] {
    publish_gauges();
    return metrics_.render();
  };
  h.status_json = [this] { return status_json(); };
  h.dlq_json = [this](const std::string& pipeline, size_t limit) {
    DlqFilter f;
    if (!pipeline.empty()) f.pipeline = pipeline;
    f.limit = limit;
    Json out = Json::array();
    for (const DeadLetter& d : store_->dlq_list(f)) out.push_back(dead_letter_json(d));
    return out.dump();
  };
  h.dlq_replay = [this](const std::string& id, const std::string& pipeline) {
    DlqFilter f;
    if (!id.empty()) f.id = std::stoll(id);
    if (!pipeline.empty()) f.pipeline = pipeline;
    size_t n = store_->dlq_request_replay(f);
    applier_->wake();
    return n;
  };
  h.reload = [this] { asio::post(io_, [this] { reload(); }); };
  try {
    admin_ = std::make_unique<AdminServer>(config_.admin_listen, token, config_.admin_public_health, std::move(h));
    admin_->start();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    shutdown();
    return 1;
  }
  {
    // Written atomically: whoever polls for it never reads a partial address.
    const fs::path addr_file = config_.data_dir / "admin.addr";
    const fs::path tmp = config_.data_dir / "admin.addr.tmp";
    {
      std::ofstream addr(tmp, std::ios::trunc);
      addr << admin_->address() << "\n";
    }
    std::error_code ec;
    fs::rename(tmp, addr_file, ec);
    if (ec) log::warn("runtime", "cannot write " + addr_file.string() + ": " + ec.message());
  }
  ready_ = true;
  const std::string summary = std::to_string(v.pipelines.size()) + " pipelines running";
  systemd::ready(summary);
  log::info("runtime", "ready: " + summary + "; store " + config_.store_path.string() + "; admin http://" +
                           admin_->address() + " (token in " + config_.admin_token_file.string() + ")");
  std::cerr << "\nTouchpoint is running.\n"
            << "  store:     " << config_.store_path.string() << "\n"
            << "  admin:     http://" << admin_->address() << "/status  (Authorization: Bearer $(cat "
            << config_.admin_token_file.string() << "))\n"
            << "  pipelines: " << config_.pipelines_dir.string() << "\n"
            << "  stop:      Ctrl-C or kill -TERM " << ::getpid() << "\n\n";

  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                             int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      signals.async_wait(on_signal);
      return;
    }
    log::info("runtime", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    io_.stop();
  };
  signals.async_wait(on_signal);

  asio::steady_timer tick(io_);
  auto wd = systemd::watchdog_interval();
  auto period =
      wd.count() > 0 ? std::chrono::duration_cast<std::chrono::milliseconds>(wd / 2) : std::chrono::milliseconds(5000);
  std::function<void(const boost::system::error_code&)> on_tick = [&](const boost::system::error_code& ec) {
    if (ec) return;
    systemd::watchdog();
    publish_gauges();
    systemd::status(summary + ", applied seq " + std::to_string(applier_->applied_seq()) + ", journal " +
                    std::to_string(journal_->bytes_on_disk() >> 20) + " MiB");
    tick.expires_after(period);
    tick.async_wait(on_tick);
  };
  tick.expires_after(period);
  tick.async_wait(on_tick);

  io_.run();
  shutdown();
  log::info("runtime", "stopped cleanly");
  return 0;
}

void Runtime::reload() {
  systemd::reloading();
  log::info("runtime", "reloading pipelines from " + config_.pipelines_dir.string());
  ValidationResult v = validate_pipelines(config_, *loader_);
  for (const std::string& w : v.warnings) log::warn("config", w);
  if (!v.ok()) {
    for (const std::string& e : v.errors) log::error("config", e);
    log::error("runtime", "reload refused: new configuration is invalid; the running configuration stays");
    metrics_.counter_add("touchpoint_reloads_total", "result=rejected", 1);
    systemd::ready("reload rejected (invalid config); previous configuration running");
    return;
  }
  std::map<std::string, PipelinePtr> wanted;
  for (const PipelinePtr& p : v.pipelines) wanted[p->name] = p;

  // Stop what was removed or changed. Their journaled records are applied
  // first, with the old definition, before the route disappears.
  std::vector<std::string> to_stop;
  std::map<std::string, PipelinePtr> previous;  // changed pipelines: rolled back if the new version cannot start
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_) {
      auto it = wanted.find(name);
      if (it == wanted.end() || it->second->fingerprint != r.def->fingerprint) to_stop.push_back(name);
      if (it != wanted.end() && it->second->fingerprint != r.def->fingerprint) previous[name] = r.def;
    }
  }
  for (const std::string& name : to_stop) {
    Running r;
    {
      std::lock_guard<std::mutex> lk(running_mu_);
      r = std::move(running_[name]);
      running_.erase(name);
    }
    if (r.source) r.source->close();
    uint64_t target = journal_->durable_seq();
    for (int i = 0; i < 600 && applier_->applied_seq() < target; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop_pipeline(r);
    log::info("runtime", "pipeline '" + name + "' stopped for reload");
  }
  update_routes();
  const auto checkpoints = store_->checkpoints();
  size_t started = 0, failed = 0;
  for (const auto& [name, p] : wanted) {
    {
      std::lock_guard<std::mutex> lk(running_mu_);
      if (running_.count(name)) continue;
    }
    try {
      start_pipeline(p, checkpoints);
      ++started;
    } catch (const std::exception& e) {
      ++failed;
      log::error("runtime", "pipeline '" + name + "' failed to start after reload: " + e.what());
      // A changed pipeline whose new version cannot start (port taken, sink
      // unreachable, ...) goes back to the version that was running.
      auto prev = previous.find(name);
      if (prev == previous.end()) continue;
      try {
        start_pipeline(prev->second, checkpoints);
        log::warn("runtime", "pipeline '" + name + "' keeps running its previous configuration");
      } catch (const std::exception& e2) {
        log::error("runtime", "pipeline '" + name +
                                  "' could not be restarted with its previous configuration either: " + e2.what());
      }
    }
  }
  update_routes();
  metrics_.counter_add("touchpoint_reloads_total", failed ? "result=partial" : "result=ok", 1);
  systemd::ready("reloaded: " + std::to_string(started) + " pipelines (re)started, " + std::to_string(failed) +
                 " failed");
}

void Runtime::shutdown() {
  ready_ = false;
  systemd::stopping();
  std::map<std::string, Running> running;
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    running.swap(running_);
  }
  // 1. Sources stop taking input; accepted emits become durable first.
  for (auto& [name, r] : running)
    if (r.source) r.source->close();
  // 2. Apply everything durable, within apply.shutdown_timeout_ms. Whatever
  // is left stays in the journal and is applied at the next start.
  if (applier_) {
    std::mutex mu;
    std::condition_variable cv;
    bool drained = false, abandoned = false;
    std::thread deadline([&] {
      std::unique_lock<std::mutex> lk(mu);
      if (cv.wait_for(lk, std::chrono::milliseconds(config_.shutdown_timeout_ms), [&] { return drained; })) return;
      abandoned = true;
      log::warn("runtime", "drain did not finish within apply.shutdown_timeout_ms (" +
                               std::to_string(config_.shutdown_timeout_ms) +
                               " ms); the rest stays in the journal for the next start");
      applier_->abandon_drain();
    });
    applier_->stop(true);
    {
      std::lock_guard<std::mutex> lk(mu);
      drained = true;
    }
    cv.notify_all();
    deadline.join();
    if (!abandoned) applier_->catch_up();
  }
  // 3. Sinks finish their current batch; the rest stays in the outbox.
  for (auto& [name, r] : running) stop_pipeline(r);
  if (admin_) admin_->stop();
  if (journal_) journal_->stop();
}

void Runtime::publish_gauges() {
  if (!journal_ || !store_) return;
  metrics_.gauge_set("touchpoint_journal_bytes", "", double(journal_->bytes_on_disk()));
  metrics_.gauge_set("touchpoint_journal_durable_seq", "", double(journal_->durable_seq()));
  metrics_.gauge_set("touchpoint_store_applied_seq", "", double(applier_ ? applier_->applied_seq() : 0));
  StoreStats s = store_->stats();
  metrics_.gauge_set("touchpoint_dlq_size", "", double(s.dead_letters));
  metrics_.gauge_set("touchpoint_outbox_size", "", double(s.outbox));
  metrics_.gauge_set("touchpoint_store_profiles", "", double(s.profiles));
}

std::string Runtime::status_json() {
  Json pipelines = Json::array();
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (const auto& [name, r] : running_) {
      Json sinks = Json::array();
      for (const SinkUse& s : r.def->sinks) sinks.push_back(Json{{"name", s.name}, {"plugin", s.plugin.plugin}});
      Json steps = Json::array();
      for (const Step& s : r.def->steps) steps.push_back(s.name);
      pipelines.push_back(Json{{"name", name},
                               {"file", r.def->file.string()},
                               {"source", r.def->source.plugin},
                               {"steps", steps},
                               {"store", r.def->to_store},
                               {"sinks", sinks}});
    }
  }
  StoreStats s = store_->stats();
  return Json{{"ready", ready_.load()},
              {"pipelines", pipelines},
              {"journal", {{"bytes", journal_->bytes_on_disk()}, {"durable_seq", journal_->durable_seq()}}},
              {"store",
               {{"path", config_.store_path.string()},
                {"applied_seq", applier_->applied_seq()},
                {"profiles", s.profiles},
                {"records", s.records},
                {"dead_letters", s.dead_letters},
                {"outbox", s.outbox}}}}
      .dump();
}

}  // namespace touchpoint::core
