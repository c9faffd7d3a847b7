#include "pipeline/sink_worker.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "util/clock.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace {

constexpr int64_t kFailureLogIntervalMs = 10'000;

double random01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

int64_t backoff_ms(const RetryPolicy& policy, int attempt, double r01) {
  double base = double(policy.initial_backoff_ms) * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, double(policy.max_backoff_ms));
  double jittered = base * (1.0 + policy.jitter * (2.0 * r01 - 1.0));
  return std::max<int64_t>(1, static_cast<int64_t>(jittered));
}

SinkWorker::SinkWorker(std::shared_ptr<PluginInstance> instance, Factory factory, SinkUse sink, std::string pipeline,
                       Store& store, Metrics& metrics)
    : instance_(std::move(instance)),
      factory_(std::move(factory)),
      sink_(std::move(sink)),
      pipeline_(std::move(pipeline)),
      store_(store),
      metrics_(metrics) {}

SinkWorker::~SinkWorker() { stop(); }

void SinkWorker::start() {
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void SinkWorker::stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::shared_ptr<PluginInstance> last;
  {
    std::lock_guard<std::mutex> lk(instance_mu_);
    last = std::move(instance_);
  }
  if (last && !last->close()) PluginInstance::abandon(last);
}

void SinkWorker::notify() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

std::shared_ptr<PluginInstance> SinkWorker::instance() const {
  std::lock_guard<std::mutex> lk(instance_mu_);
  return instance_;
}

SinkWorker::Health SinkWorker::health() const {
  std::lock_guard<std::mutex> lk(health_mu_);
  return health_;
}

void SinkWorker::note_failure(const std::string& error) {
  {
    std::lock_guard<std::mutex> lk(health_mu_);
    ++health_.failed_writes;
    health_.last_error = error;
  }
  metrics_.counter_add("touchpoint_sink_write_failures_total", "pipeline=" + pipeline_ + ",sink=" + name(), 1);
  // One line per interval per sink: a sink failing every batch must not flood the journal.
  const int64_t now = steady_ms();
  ++unlogged_failures_;
  if (now - last_logged_ms_ < kFailureLogIntervalMs) return;
  log::warn("sink",
            name() + " (pipeline " + pipeline_ + "): write failed" +
                (unlogged_failures_ > 1 ? " (" + std::to_string(unlogged_failures_) + " times since the last report)"
                                        : std::string()) +
                ": " + error);
  last_logged_ms_ = now;
  unlogged_failures_ = 0;
}

bool SinkWorker::ensure_instance() {
  if (instance_ && !instance_->stuck()) return true;
  if (instance_) {
    std::shared_ptr<PluginInstance> stuck;
    {
      std::lock_guard<std::mutex> lk(instance_mu_);
      stuck = std::move(instance_);
    }
    PluginInstance::abandon(std::move(stuck));
    std::lock_guard<std::mutex> lk(health_mu_);
    ++health_.restarts;
  }
  const int64_t now = steady_ms();  // a backoff, not a date: immune to clock steps
  if (now < next_reopen_ms_) return false;
  try {
    auto fresh = factory_();
    fresh->open();
    {
      std::lock_guard<std::mutex> lk(instance_mu_);
      instance_ = std::move(fresh);
    }
    reopen_failures_ = 0;
    log::info("sink", name() + ": instance restarted");
    metrics_.counter_add("touchpoint_plugin_restarts_total", "pipeline=" + pipeline_ + ",sink=" + name(), 1);
    return true;
  } catch (const std::exception& e) {
    ++reopen_failures_;
    next_reopen_ms_ = now + backoff_ms(sink_.retry, reopen_failures_, random01());
    note_failure(std::string("cannot restart the instance: ") + e.what());
    return false;
  }
}

void SinkWorker::settle_in_doubt() {
  // Items a previous run marked sending and never settled: perhaps the
  // provider has them, perhaps not (docs/channels.md, at most once).
  for (;;) {
    std::vector<OutboxItem> items = store_.outbox_in_doubt(name(), 256);
    if (items.empty()) return;
    OutboxSettlement s;
    const int64_t now = now_ms();
    for (OutboxItem& it : items) {
      const bool resend = sink_.in_doubt == SinkUse::InDoubt::resend;
      if (resend) {
        try {
          Json env = Json::parse(it.envelope);
          env["meta"]["in_doubt"] = true;  // the sink may ask the provider, or reuse the provider key
          it.envelope = env.dump();
        } catch (const std::exception&) {
          // left as it is: delivery dead-letters an unreadable envelope anyway
        }
        it.next_ms = now;
        s.retry.push_back(it);
        s.retry.back().last_error = "in doubt after a restart: sent again";
      } else {
        DeadLetter d;
        d.record_id = it.record_id;
        d.pipeline = it.pipeline;
        d.step = "sink:" + it.sink;
        d.error_class = "in_doubt";
        d.reason = "the hub stopped while this was being handed to the sink; not sent again (at most once)";
        d.payload = it.envelope;
        d.attempts = it.attempts + 1;
        d.first_ms = it.first_ms;
        d.last_ms = now;
        s.dead.emplace_back(it.id, std::move(d));
      }
      if (!it.contact_id.empty())
        s.contacts.push_back(ContactUpdate{it.contact_id, resend ? "queued" : "in_doubt", "",
                                           ContactEventRow{"", now, resend ? "resend_in_doubt" : "in_doubt", "{}"}});
    }
    store_.outbox_settle(s);
    metrics_.counter_add("touchpoint_sink_in_doubt_total", "pipeline=" + pipeline_ + ",sink=" + name(),
                         double(items.size()));
    log::warn("sink", name() + ": " + std::to_string(items.size()) + " contacts were in doubt after a restart (" +
                          (sink_.in_doubt == SinkUse::InDoubt::resend ? "sent again" : "dead-lettered") + ")");
  }
}

void SinkWorker::loop() {
  if (!sink_.channel.empty()) {
    try {
      settle_in_doubt();
    } catch (const std::exception& e) {
      log::error("sink", name() + ": cannot settle in-doubt contacts: " + e.what());
    }
  }
  while (!stop_) {
    size_t n = 0;
    try {
      if (ensure_instance()) n = deliver_once();
    } catch (const std::exception& e) {
      log::error("sink", name() + ": delivery round failed: " + e.what());
    }
    if (n > 0) continue;
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(250), [&] { return stop_.load() || pending_; });
    pending_ = false;
  }
}

size_t SinkWorker::deliver_once() {
  const int64_t now = now_ms();
  // The furthest any backoff schedules an item; beyond it the clock jumped back.
  const int64_t latest =
      now + static_cast<int64_t>(double(sink_.retry.max_backoff_ms) * (1.0 + sink_.retry.jitter)) + 1000;
  std::vector<OutboxItem> items = store_.outbox_due(name(), now, latest, sink_.batch_size);
  if (items.empty()) return 0;
  const bool channel = !sink_.channel.empty();
  // At most once: the store knows these are being handed over before the
  // plugin sees them; a crash from here on leaves them in doubt.
  if (channel) store_.outbox_mark_sending(items, now);

  std::vector<SinkBatch::Item> batch_items(items.size());
  std::vector<bool> parse_failed(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      Record r = record_from_json(Json::parse(items[i].envelope));
      batch_items[i] = SinkBatch::Item{r.id, r.type, r.key, r.source, r.data.dump(), r.meta.dump(), r.ts_ms};
    } catch (const std::exception&) {
      parse_failed[i] = true;
    }
  }
  auto batch = std::make_shared<SinkBatch>(std::move(batch_items));
  CallResult overall = instance_->write(batch);
  if (overall.status != TP_OK)
    note_failure(overall.error.empty() ? "status " + std::to_string(overall.status) : overall.error);
  if (channel && overall.timed_out) {
    // The stuck write may still hand the batch over: these contacts are in
    // doubt exactly as after a crash, and the sink's in_doubt policy decides.
    settle_in_doubt();
    return items.size();
  }

  OutboxSettlement s;
  size_t ok = 0, retried = 0, dead = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    // A call that missed its deadline has no trustworthy per-record outcomes.
    auto reported = overall.timed_out ? std::nullopt : batch->reported(i);
    tp_status st = reported ? reported->first : overall.status;
    std::string msg = reported ? reported->second : overall.error;
    if (parse_failed[i]) {
      st = TP_STATUS_PERMANENT;
      msg = "outbox envelope is not a valid record";
    }
    if (st == TP_OK) {
      s.delivered.push_back(items[i].id);
      if (!items[i].contact_id.empty()) {
        // The provider's id, as the sink reported it (ABI 1.1), bounded like a record id.
        std::string provider = reported ? reported->second.substr(0, TP_MAX_ID_BYTES) : std::string();
        Json detail = Json::object();
        if (!provider.empty()) detail["provider_id"] = provider;
        s.contacts.push_back(
            ContactUpdate{items[i].contact_id, "sent", provider, ContactEventRow{"", now_ms(), "sent", detail.dump()}});
      }
      ++ok;
      continue;
    }
    OutboxItem& it = items[i];
    it.attempts += 1;
    it.last_error = msg;
    bool permanent = st != TP_STATUS_RETRYABLE && st != TP_STATUS_BACKPRESSURE && st != TP_STATUS_SHUTTING_DOWN &&
                     st != TP_STATUS_INTERNAL;
    const bool gives_up = permanent || it.attempts >= sink_.retry.max_attempts;
    if (!it.contact_id.empty())
      s.contacts.push_back(
          ContactUpdate{it.contact_id, gives_up ? "failed" : "queued", "",
                        ContactEventRow{"", now_ms(), gives_up ? "failed" : "retry",
                                        Json{{"error", msg.substr(0, 1024)}, {"attempts", it.attempts}}.dump()}});
    if (gives_up) {
      DeadLetter d;
      d.record_id = it.record_id;
      d.pipeline = it.pipeline;
      d.step = "sink:" + it.sink;
      d.error_class = permanent ? "permanent" : "retries_exhausted";
      d.reason = msg.empty() ? "sink reported status " + std::to_string(st) : msg;
      d.payload = it.envelope;
      d.attempts = it.attempts;
      d.first_ms = it.first_ms;
      d.last_ms = now;
      s.dead.emplace_back(it.id, std::move(d));
      ++dead;
    } else {
      it.next_ms = now + backoff_ms(sink_.retry, it.attempts, random01());
      s.retry.push_back(it);
      ++retried;
    }
  }
  store_.outbox_settle(s);
  const std::string labels = "pipeline=" + pipeline_ + ",sink=" + name();
  if (ok) metrics_.counter_add("touchpoint_sink_delivered_total", labels, double(ok));
  if (retried) metrics_.counter_add("touchpoint_sink_retries_total", labels, double(retried));
  if (dead)
    metrics_.counter_add("touchpoint_dead_letters_total", "pipeline=" + pipeline_ + ",step=sink:" + name(),
                         double(dead));
  // If nothing went through, let the backoff pass instead of spinning.
  return (ok + dead) > 0 ? items.size() : 0;
}

}  // namespace touchpoint::core
