#include "runtime/runtime.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "admin/customer_routes.hpp"
#include "admin/hub_routes.hpp"
#include "admin/report_routes.hpp"
#include "admin/tap_routes.hpp"
#include "journal/unit_codec.hpp"
#include "pipeline/tap.hpp"
#include "plugin/isolation/isolated_plugin.hpp"
#include "runtime/systemd_notify.hpp"
#include "runtime/validation.hpp"
#include "store/store_factory.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr auto kSuperviseInterval = std::chrono::seconds(1);
/// After the drain deadline, how long the applier gets to notice it should stop.
constexpr auto kAbandonGrace = std::chrono::seconds(2);
/// A batch in preparation longer than this is reported as a stall in /status.
constexpr auto kStallReport = std::chrono::seconds(10);

}  // namespace

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

std::shared_ptr<PluginInstance> Runtime::make_instance(const PluginUse& use, std::string checkpoint) {
  HostServices services{journal_.get(), &metrics_, &config_};
  BoundPlugin bound = bind_plugin(*loader_, use, config_.plugin_host);
  for (const std::string& w : bound.plugin->warnings) log::warn("plugin", use.instance + ": " + w);
  return std::make_shared<PluginInstance>(std::move(bound.plugin), std::move(bound.use), services,
                                          std::move(checkpoint));
}

std::string Runtime::resume_cursor(const std::string& instance) {
  if (auto it = last_cursors_.find(instance); it != last_cursors_.end()) return it->second;
  if (auto it = recovered_cursors_.find(instance); it != recovered_cursors_.end()) return it->second;
  const auto cps = store_->checkpoints();
  auto it = cps.find(instance);
  return it == cps.end() ? std::string() : it->second;
}

void Runtime::start_pipeline(const PipelinePtr& p, const std::string& checkpoint) {
  Running r;
  r.def = p;
  try {
    for (const SinkUse& s : p->sinks) {
      auto inst = make_instance(s.plugin, "");
      try {
        inst->open();
      } catch (...) {
        if (inst->stuck()) PluginInstance::abandon(inst);
        throw;
      }
      PluginUse use = s.plugin;
      r.workers.push_back(std::make_unique<SinkWorker>(
          inst, [this, use] { return make_instance(use, ""); }, s, p->name, *store_, metrics_));
    }
    r.source = make_instance(p->source, checkpoint);
    try {
      r.source->open();
    } catch (...) {
      if (r.source->stuck()) PluginInstance::abandon(r.source);
      r.source.reset();
      throw;
    }
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

bool Runtime::stop_pipeline(Running& r) {
  bool clean = true;
  if (r.source) {
    if (!r.source->close()) {
      PluginInstance::abandon(r.source);
      clean = false;
    }
    last_cursors_[r.source->name()] = r.source->durable_cursor();
  }
  for (auto& w : r.workers) w->stop();  // abandons a stuck sink instance itself
  r.source.reset();
  r.workers.clear();
  return clean;
}

void Runtime::set_loop_sinks(const std::vector<PipelinePtr>& pipelines) {
  std::map<std::string, std::string> channel_sinks;
  std::vector<std::string> feedback_sinks;
  for (const PipelinePtr& p : pipelines)
    for (const SinkUse& s : p->sinks)
      if (!s.channel.empty())
        channel_sinks[s.channel] = s.plugin.instance;
      else if (s.feedback)
        feedback_sinks.push_back(s.plugin.instance);
  contact_loop_->set_channel_sinks(std::move(channel_sinks));
  contact_loop_->set_feedback_sinks(std::move(feedback_sinks));
}

void Runtime::update_routes() {
  std::map<std::string, PipelinePtr> routes;
  std::vector<PipelinePtr> running;
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_) {
      routes[r.def->source.instance] = r.def;
      running.push_back(r.def);
    }
  }
  set_loop_sinks(running);
  applier_->set_pipelines(std::move(routes));
  applier_->set_outbox_listener([this] {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_)
      for (auto& w : r.workers) w->notify();
  });
}

void Runtime::request_reload() {
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    reload_requested_ = true;
  }
  control_cv_.notify_all();
}

void Runtime::control_loop() {
  for (;;) {
    bool reload_now = false;
    {
      std::unique_lock<std::mutex> lk(control_mu_);
      control_cv_.wait_for(lk, kSuperviseInterval, [&] { return control_stop_ || reload_requested_; });
      if (control_stop_) return;
      reload_now = reload_requested_;
      reload_requested_ = false;
    }
    try {
      if (reload_now) reload();
      supervise();
    } catch (const std::exception& e) {
      log::error("runtime", std::string("control thread: ") + e.what());
    }
  }
}

void Runtime::reports_loop() {
  const auto interval = std::chrono::seconds(config_.reports_quality_refresh_s);
  for (;;) {
    try {
      reports_->refresh_quality();
    } catch (const std::exception& e) {
      log::warn("reports", std::string("data-quality refresh failed: ") + e.what());
    }
    std::unique_lock<std::mutex> lk(control_mu_);
    if (control_cv_.wait_for(lk, interval, [&] { return control_stop_; })) return;
  }
}

Json Runtime::pipelines_report() {
  Json outbox = Json::object();
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (const auto& [name, r] : running_)
      for (const SinkUse& s : r.def->sinks) outbox[s.plugin.instance] = store_->outbox_depth(s.plugin.instance);
  }
  publish_gauges();
  Json metrics = Json::object();
  for (const auto& [name, series] : metrics_.values()) metrics[name] = series;
  return Json{{"report", "pipelines"}, {"status", status()}, {"outbox", outbox}, {"metrics", metrics}};
}

void Runtime::supervise() {
  // Sources: a read() (or commit) past its deadline isolates the instance;
  // a replacement resumes at the newest durable cursor. Sinks heal
  // themselves in their worker.
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_) names.push_back(name);
  }
  for (const std::string& name : names) {
    std::shared_ptr<PluginInstance> old;
    PipelinePtr def;
    {
      std::lock_guard<std::mutex> lk(running_mu_);
      auto it = running_.find(name);
      if (it == running_.end()) continue;
      Running& r = it->second;
      def = r.def;
      if (r.source && !r.source->check_deadline()) continue;
      if (!r.source && steady_ms() < r.next_restart_ms) continue;
      old = std::move(r.source);
    }
    std::string cursor = old ? old->durable_cursor() : resume_cursor(def->source.instance);
    if (old) {
      last_cursors_[def->source.instance] = cursor;
      PluginInstance::abandon(old);
    }
    std::shared_ptr<PluginInstance> fresh;
    std::string error;
    try {
      fresh = make_instance(def->source, cursor);
      fresh->open();
      fresh->start_reading();
      log::warn("runtime", "pipeline '" + name + "': source instance restarted");
      metrics_.counter_add("touchpoint_plugin_restarts_total", "pipeline=" + name + ",source=" + def->source.plugin, 1);
    } catch (const std::exception& e) {
      if (fresh && fresh->stuck()) PluginInstance::abandon(fresh);
      fresh.reset();
      error = e.what();
      log::error("runtime", "pipeline '" + name + "': source cannot be restarted yet: " + error);
    }
    std::lock_guard<std::mutex> lk(running_mu_);
    auto it = running_.find(name);
    if (it == running_.end()) continue;
    Running& r = it->second;
    ++r.source_restarts;
    r.source = fresh;
    r.source_error = error;
    const int64_t delay = std::min<int64_t>(60'000, 1000LL << std::min<uint64_t>(r.source_restarts, 6));
    r.next_restart_ms = steady_ms() + delay;  // monotonic: a clock step must not delay it
  }
}

int Runtime::run() {
  log::Level level;
  if (log::parse_level(config_.log_level, level)) log::set_level(level);
  // Take over SIGINT/SIGTERM/SIGHUP before anything else: a signal that
  // arrives during start-up (systemctl reload right after start, a stop
  // during a long recovery) is queued and handled once the loop runs,
  // instead of killing the process with the default action.
  asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  fs::create_directories(config_.data_dir);

  PluginLoader::Options lo;
  lo.dir = config_.plugin_dir;
  lo.trusted_owner = config_.plugin_owner;
  lo.sha256 = config_.plugin_sha256;
  loader_ = std::make_unique<PluginLoader>(lo, PluginInstance::host_api());
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
    store_ = open_store(config_);
    customers_ = std::make_unique<customer::CustomerStore>(
        *store_, config_.customer, customer::load_or_create_tombstone_key(config_.customer.tombstone_key_file),
        &metrics_);
    decider_ = std::make_unique<contact::Decider>(*customers_, nullptr);
    contact_loop_ = std::make_unique<contact::ContactLoop>(*decider_, config_.customer.contacts);
    customers_->set_loop_handler(contact_loop_.get());
    if (!load_rulebook(true)) return 2;
  } catch (const std::exception& e) {
    std::cerr << "touchpoint: " << e.what() << "\n";
    log::error("runtime", std::string("start-up failed: ") + e.what());
    return 1;
  }
  log::info("store", store_->describe());

  journal::JournalOptions jo;
  jo.dir = config_.data_dir / "journal";
  jo.segment_bytes = config_.journal_segment_bytes;
  jo.max_bytes = config_.journal_max_bytes;
  jo.fsync = config_.journal_fsync;
  jo.min_last_seq = store_->journal_position();
  // The newest cursor of each source among the frames the store has not
  // applied yet: sources resume there, not at the (older) store checkpoint.
  jo.on_recovered_frame = [this, applied = jo.min_last_seq](uint64_t seq, std::string_view payload) {
    if (seq <= applied) return;
    try {
      journal::UnitHeader h = journal::decode_unit_header(payload);
      if (!h.cursor.empty()) recovered_cursors_[std::string(h.source)] = std::string(h.cursor);
    } catch (const std::exception&) {
      // An undecodable unit is dead-lettered by the applier; it has no cursor to offer.
    }
  };
  jo.on_fatal = [this](const std::string& reason) {
    log::error("journal", "FATAL: " + reason +
                              "; no further records are acknowledged. The hub stops so that a restart recovers "
                              "from what is on disk.");
    metrics_.counter_add("touchpoint_journal_fatal_total", "", 1);
    journal_failed_ = true;
    asio::post(io_, [this] { io_.stop(); });
  };
  try {
    journal_ = std::make_unique<journal::Journal>(jo);
  } catch (const std::exception& e) {
    std::cerr << "touchpoint: cannot open the journal: " << e.what() << "\n";
    log::error("runtime", std::string("cannot open the journal: ") + e.what());
    return 1;
  }
  const auto& rec = journal_->recovery();
  log::info("journal", "recovered " + std::to_string(rec.entries) + " entries in " + std::to_string(rec.segments) +
                           " segments (last seq " + std::to_string(rec.last_seq) + "); " +
                           std::to_string(rec.last_seq > jo.min_last_seq ? rec.last_seq - jo.min_last_seq : 0) +
                           " to apply, in the background");
  if (rec.advanced_from)
    log::warn("journal", "journal ended at seq " + std::to_string(*rec.advanced_from) +
                             " but the store has applied up to " + std::to_string(jo.min_last_seq) +
                             " (journal emptied or restored?); continuing after the store's position");
  for (const auto& q : rec.quarantined) {
    log::error("journal", "quarantined " + std::to_string(q.bytes) + " bytes of " + q.segment + " at offset " +
                              std::to_string(q.offset) + " (" + q.reason + "), saved as " + q.saved_as);
    metrics_.counter_add("touchpoint_journal_quarantined_total", "", 1);
  }

  applier_ = std::make_unique<Applier>(*journal_, *customers_, metrics_, config_.apply_batch_records);
  {
    std::map<std::string, PipelinePtr> routes;
    for (const PipelinePtr& p : v.pipelines) routes[p->source.instance] = p;
    applier_->set_pipelines(routes);
  }
  // Before the replay: a contact request or response replayed from the journal
  // must find its channel and feedback sinks.
  set_loop_sinks(v.pipelines);
  applier_->start();  // replays what the store has not applied yet, then follows the journal

  try {
    for (const PipelinePtr& p : v.pipelines) start_pipeline(p, resume_cursor(p->source.instance));
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    log::error("runtime", std::string("start-up failed: ") + e.what());
    return shutdown() ? 1 : (std::fflush(nullptr), std::_Exit(1), 1);
  }
  update_routes();

  HubRouteHandlers h;
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
    return out.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  h.dlq_replay = [this](const std::string& id, const std::string& pipeline) {
    DlqFilter f;
    if (!id.empty()) f.id = std::stoll(id);
    if (!pipeline.empty()) f.pipeline = pipeline;
    size_t n = store_->dlq_request_replay(f);
    applier_->wake();
    return n;
  };
  h.reload = [this] { request_reload(); };
  auto h_audit = [this](const AdminRequest& r, const std::string& action, const Json& detail) {
    customers_->audit(customer::Actor{r.token_name, r.remote}, action, "", detail);
  };
  h.audit = h_audit;
  try {
    AdminOptions ao;
    ao.listen = config_.admin_listen;
    ao.tokens.push_back(AdminToken{"admin", token, "admin"});
    for (const HubConfig::ExtraToken& t : config_.admin_tokens)
      ao.tokens.push_back(AdminToken{t.name, load_token(t.file.string()), t.role});
    ao.public_health = config_.admin_public_health;
    ao.tls_cert_file = config_.admin_tls_cert_file;
    ao.tls_key_file = config_.admin_tls_key_file;
    ao.allow_insecure_remote = config_.admin_allow_insecure_remote;
    admin_ = std::make_unique<AdminServer>(ao);
    add_hub_routes(*admin_, std::move(h));
    TapRouteHandlers taps;
    taps.pipeline = [this](const std::string& name) -> PipelinePtr {
      std::lock_guard<std::mutex> lk(running_mu_);
      auto it = running_.find(name);
      return it == running_.end() ? nullptr : it->second.def;
    };
    taps.audit = h_audit;
    add_tap_routes(*admin_, std::move(taps));
    add_customer_routes(*admin_, *customers_, *decider_,
                        [this](const customer::EraseResult& e) { return erase_in_connectors(e); });
    reports_ = std::make_unique<report::ReportService>(*store_, config_.customer.conversions);
    ReportRouteHandlers rh;
    rh.reports = reports_.get();
    rh.pipelines = [this] { return pipelines_report(); };
    add_report_routes(*admin_, std::move(rh));
    admin_->start();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    log::error("runtime", std::string("start-up failed: ") + e.what());
    return shutdown() ? 1 : (std::fflush(nullptr), std::_Exit(1), 1);
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
  control_ = std::thread([this] { control_loop(); });
  if (config_.reports_quality_refresh_s > 0) reports_thread_ = std::thread([this] { reports_loop(); });
  ready_ = true;
  const std::string summary = std::to_string(v.pipelines.size()) + " pipelines running";
  systemd::ready(summary);
  log::info("runtime", "ready: " + summary + "; store " + config_.store_path.string() + "; admin " + admin_->url() +
                           " (token in " + config_.admin_token_file.string() + ")");
  std::cerr << "\nTouchpoint is running.\n"
            << "  store:     " << config_.store_path.string() << "\n"
            << "  admin:     " << admin_->url() << "/status  (Authorization: Bearer $(cat "
            << config_.admin_token_file.string() << "))\n"
            << "  pipelines: " << config_.pipelines_dir.string() << "\n"
            << "  stop:      Ctrl-C or kill -TERM " << ::getpid() << "\n\n";

  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                             int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      request_reload();
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
    const uint64_t lag = journal_->durable_seq() - std::min(journal_->durable_seq(), applier_->applied_seq());
    systemd::status(summary + ", applied seq " + std::to_string(applier_->applied_seq()) + " (lag " +
                    std::to_string(lag) + "), journal " + std::to_string(journal_->bytes_on_disk() >> 20) + " MiB");
    tick.expires_after(period);
    tick.async_wait(on_tick);
  };
  tick.expires_after(period);
  tick.async_wait(on_tick);

  io_.run();
  const bool clean = shutdown();
  const int rc = journal_failed_ ? kExitJournalFailed : 0;
  if (!clean) {
    // A thread is still inside plugin or transform code: destroying what it
    // uses would be undefined behaviour. Everything acknowledged is in the
    // journal, and the store is transactional, so ending here loses nothing.
    log::warn("runtime", "exiting without waiting for the abandoned threads");
    std::fflush(nullptr);
    std::_Exit(rc);
  }
  log::info("runtime", rc == 0 ? "stopped cleanly" : "stopped after a fatal journal error");
  return rc;
}

bool Runtime::load_rulebook(bool initial) {
  if (config_.customer.rulebook.empty()) {
    if (initial) log::warn("rules", "no rulebook configured (customer.rulebook): every decision suppresses");
    return true;
  }
  try {
    auto rb = std::make_shared<const rules::Rulebook>(rules::Rulebook::load(config_.customer.rulebook));
    const auto old = decider_->rulebook();
    decider_->set_rulebook(rb);
    if (!old || old->version() != rb->version())
      log::info("rules", "rulebook " + rb->file() + " " + rb->version() + " loaded (" +
                             std::to_string(rb->rule_names().size()) + " rules)");
    metrics_.gauge_set("touchpoint_rulebook_rules", "", double(rb->rule_names().size()));
    return true;
  } catch (const std::exception& e) {
    if (initial) {
      std::cerr << e.what() << "\ntouchpoint: rulebook invalid, not starting\n";
      log::error("rules", e.what());
      return false;
    }
    log::error("rules", std::string(e.what()) + "; the running rulebook stays");
    metrics_.counter_add("touchpoint_reloads_total", "result=rulebook_rejected", 1);
    return false;
  }
}

Json Runtime::erase_in_connectors(const customer::EraseResult& e) {
  Json identities = Json::array();
  for (const customer::IdentityKey& k : e.erased_identities)
    identities.push_back({{"kind", k.kind}, {"value", k.value}});
  const std::string subject = Json{{"profile", e.profile_id}, {"identities", identities}}.dump();
  std::vector<std::shared_ptr<PluginInstance>> instances;
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (auto& [name, r] : running_) {
      if (r.source) instances.push_back(r.source);
      for (auto& w : r.workers)
        if (auto i = w->instance()) instances.push_back(i);
    }
  }
  Json receipts = Json::array();
  for (const auto& inst : instances) {
    const tp_plugin_vtable* vt = inst->plugin().vtable;
    const bool has_verb = TP_HAS_FIELD(vt, tp_plugin_vtable, erase) && vt->erase != nullptr;
    CallResult c = inst->erase(subject);
    // A plugin without the verb cannot say whether it holds personal data:
    // the data-protection officer must check that connector by hand.
    const char* status = !has_verb                           ? "no_erase_verb"
                         : c.status == TP_OK                 ? "erased"
                         : c.status == TP_STATUS_UNSUPPORTED ? "holds_no_data"
                                                             : "failed";
    Json receipt{{"connector", inst->name()}, {"plugin", inst->plugin().name}, {"status", status}};
    if (c.status != TP_OK && !c.error.empty()) receipt["detail"] = c.error;
    receipts.push_back(std::move(receipt));
  }
  return receipts;
}

void Runtime::reload() {
  systemd::reloading();
  load_rulebook(false);
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
    if (r.source && !r.source->close()) PluginInstance::abandon(r.source);
    const uint64_t target = journal_->durable_seq();
    for (int i = 0; i < 600 && applier_->applied_seq() < target && !journal_failed_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop_pipeline(r);
    log::info("runtime", "pipeline '" + name + "' stopped for reload");
  }
  update_routes();
  size_t started = 0, failed = 0;
  for (const auto& [name, p] : wanted) {
    {
      std::lock_guard<std::mutex> lk(running_mu_);
      if (running_.count(name)) continue;
    }
    try {
      start_pipeline(p, resume_cursor(p->source.instance));
      ++started;
    } catch (const std::exception& e) {
      ++failed;
      log::error("runtime", "pipeline '" + name + "' failed to start after reload: " + e.what());
      // A changed pipeline whose new version cannot start (port taken, sink
      // unreachable, ...) goes back to the version that was running.
      auto prev = previous.find(name);
      if (prev == previous.end()) continue;
      try {
        start_pipeline(prev->second, resume_cursor(prev->second->source.instance));
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

bool Runtime::shutdown() {
  ready_ = false;
  systemd::stopping();
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    control_stop_ = true;
  }
  control_cv_.notify_all();
  if (control_.joinable()) control_.join();  // a reload in progress is bounded by the plugin call deadlines
  if (reports_thread_.joinable()) reports_thread_.join();  // a quality scan in progress ends with its query

  std::map<std::string, Running> running;
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    running.swap(running_);
  }
  std::vector<std::string> abandoned;
  // 1. Sources stop taking input; accepted emits become durable first.
  for (auto& [name, r] : running)
    if (r.source && !r.source->close()) {
      PluginInstance::abandon(r.source);
      abandoned.push_back("source of pipeline '" + name + "'");
    }
  // 2. Apply everything durable, within apply.shutdown_timeout_ms. Whatever
  // is left stays in the journal and is applied at the next start.
  bool applier_stopped = true;
  if (applier_) {
    if (!applier_->stop(true, std::chrono::milliseconds(config_.shutdown_timeout_ms))) {
      log::warn("runtime", "drain did not finish within apply.shutdown_timeout_ms (" +
                               std::to_string(config_.shutdown_timeout_ms) +
                               " ms); the rest stays in the journal for the next start");
      applier_->abandon_drain();
      applier_stopped = applier_->stop(false, kAbandonGrace);
      if (!applier_stopped) {
        const auto busy = applier_->preparing_for();
        abandoned.push_back("the applier (busy " + std::to_string(busy.count()) +
                            " ms on the batch after journal seq " + std::to_string(applier_->preparing_after()) + ")");
      }
    }
    const uint64_t left = journal_->durable_seq() - std::min(journal_->durable_seq(), applier_->applied_seq());
    if (left > 0)
      log::warn("runtime", std::to_string(left) + " journal entries not applied yet (applied up to seq " +
                               std::to_string(applier_->applied_seq()) + "); they are applied at the next start");
  }
  // 3. Sinks finish their current batch; the rest stays in the outbox.
  for (auto& [name, r] : running) {
    for (auto& w : r.workers) w->stop();
    r.workers.clear();
    r.source.reset();
  }
  if (admin_) admin_->stop();
  if (journal_) journal_->stop();
  const size_t stuck = PluginInstance::abandoned_count();
  if (stuck > 0) abandoned.push_back(std::to_string(stuck) + " stuck plugin instance(s)");
  if (abandoned.empty()) return true;
  std::string list;
  for (const std::string& a : abandoned) list += (list.empty() ? "" : "; ") + a;
  log::warn("runtime", "shutdown abandoned: " + list);
  if (!applier_stopped) (void)applier_.release();  // its threads still use it: never destroy it
  return false;
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

std::string Runtime::status_json() { return status().dump(-1, ' ', false, Json::error_handler_t::replace); }

Json Runtime::status() {
  Json pipelines = Json::array();
  {
    std::lock_guard<std::mutex> lk(running_mu_);
    for (const auto& [name, r] : running_) {
      Json sinks = Json::array();
      for (size_t i = 0; i < r.def->sinks.size(); ++i) {
        const SinkUse& s = r.def->sinks[i];
        Json sink{{"name", s.name}, {"plugin", s.plugin.plugin}};
        if (i < r.workers.size()) {
          SinkWorker::Health h = r.workers[i]->health();
          sink["restarts"] = h.restarts;
          sink["failed_writes"] = h.failed_writes;
          if (!h.last_error.empty()) sink["last_error"] = h.last_error;
        }
        sinks.push_back(std::move(sink));
      }
      Json steps = Json::array();
      for (const Step& s : r.def->steps) steps.push_back(s.name);
      Json source{{"plugin", r.def->source.plugin}, {"running", r.source != nullptr}, {"restarts", r.source_restarts}};
      if (!r.source_error.empty()) source["error"] = r.source_error;
      if (r.source) {
        if (auto b = r.source->busy(); b && b->second > std::chrono::seconds(1))
          source["busy"] = Json{{"call", b->first}, {"ms", b->second.count()}};
      }
      pipelines.push_back(Json{{"name", name},
                               {"file", r.def->file.string()},
                               {"source", source},
                               {"steps", steps},
                               {"store", r.def->to_store},
                               {"sinks", sinks}});
    }
  }
  StoreStats s = store_->stats();
  const uint64_t durable = journal_->durable_seq(), applied = applier_->applied_seq();
  Json applier{{"applied_seq", applied}, {"lag_entries", durable - std::min(durable, applied)}};
  if (auto busy = applier_->preparing_for(); busy > kStallReport)
    applier["stalled"] = Json{{"ms", busy.count()}, {"after_seq", applier_->preparing_after()}};
  Json journal{{"bytes", journal_->bytes_on_disk()}, {"durable_seq", durable}};
  if (std::string f = journal_->failure(); !f.empty()) journal["failed"] = f;
  Json taps = Json::array();
  for (const auto& t : TapHub::process().list())
    taps.push_back(Json{{"pipeline", t->options().pipeline},
                        {"step", t->options().point},
                        {"pii", t->options().allow_pii ? "shown" : "masked"},
                        {"dropped", t->dropped()}});
  return Json{{"ready", ready_.load()},
              {"pipelines", pipelines},
              {"journal", journal},
              {"applier", applier},
              {"abandoned_plugin_instances", PluginInstance::abandoned_count()},
              {"isolated_plugins", isolated_plugins_status()},
              {"taps", taps},
              {"store",
               {{"path", config_.store_path.string()},
                {"applied_seq", applied},
                {"profiles", s.profiles},
                {"records", s.records},
                {"dead_letters", s.dead_letters},
                {"outbox", s.outbox}}}};
}

}  // namespace touchpoint::core
