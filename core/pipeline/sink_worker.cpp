#include "pipeline/sink_worker.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "util/clock.hpp"
#include "util/log.hpp"

namespace touchpoint::core {

int64_t backoff_ms(const RetryPolicy& policy, int attempt, double random01) {
  double base = double(policy.initial_backoff_ms) * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, double(policy.max_backoff_ms));
  double jittered = base * (1.0 + policy.jitter * (2.0 * random01 - 1.0));
  return std::max<int64_t>(1, static_cast<int64_t>(jittered));
}

SinkWorker::SinkWorker(std::shared_ptr<PluginInstance> instance, SinkUse sink, std::string pipeline, Store& store,
                       Metrics& metrics)
    : instance_(std::move(instance)),
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
}

void SinkWorker::notify() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void SinkWorker::loop() {
  while (!stop_) {
    size_t n = 0;
    try {
      n = deliver_once();
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
  std::vector<OutboxItem> items = store_.outbox_due(name(), now_ms(), sink_.batch_size);
  if (items.empty()) return 0;

  // Parse envelopes; keep strings alive for the borrowed tp_records.
  struct Owned {
    std::string id, type, key, source, data, meta;
    int64_t ts = 0;
  };
  std::vector<Owned> owned(items.size());
  std::vector<tp_record> records(items.size());
  std::vector<bool> parse_failed(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      Record r = record_from_json(Json::parse(items[i].envelope));
      owned[i] = Owned{r.id, r.type, r.key, r.source, r.data.dump(), r.meta.dump(), r.ts_ms};
    } catch (const std::exception&) {
      parse_failed[i] = true;
    }
    tp_record& t = records[i];
    t.size = sizeof(tp_record);
    t.id = {owned[i].id.data(), owned[i].id.size()};
    t.type = {owned[i].type.data(), owned[i].type.size()};
    t.key = {owned[i].key.data(), owned[i].key.size()};
    t.source = {owned[i].source.data(), owned[i].source.size()};
    t.data = {owned[i].data.data(), owned[i].data.size()};
    t.meta = {owned[i].meta.data(), owned[i].meta.size()};
    t.ts_ms = owned[i].ts;
    t.encoding = TP_ENCODING_JSON_UTF8;
  }

  struct Reported {
    std::vector<tp_status> status;
    std::vector<std::string> message;
    std::vector<bool> set;
  } rep{std::vector<tp_status>(items.size(), TP_OK), std::vector<std::string>(items.size()),
        std::vector<bool>(items.size(), false)};
  tp_outcome_sink sink{sizeof(tp_outcome_sink), &rep, [](void* ctx, size_t i, tp_status st, tp_str m) {
                         auto* r = static_cast<Reported*>(ctx);
                         if (i >= r->status.size()) return;
                         r->status[i] = st;
                         r->message[i] = m.len && m.data ? std::string(m.data, m.len) : std::string();
                         r->set[i] = true;
                       }};
  tp_batch batch{sizeof(tp_batch), records.data(), records.size()};
  std::string error;
  tp_status overall = instance_->write(batch, sink, error);

  OutboxSettlement s;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  const int64_t now = now_ms();
  size_t ok = 0, retried = 0, dead = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    tp_status st = rep.set[i] ? rep.status[i] : overall;
    std::string msg = rep.set[i] ? rep.message[i] : error;
    if (parse_failed[i]) {
      st = TP_STATUS_PERMANENT;
      msg = "outbox envelope is not a valid record";
    }
    if (st == TP_OK) {
      s.delivered.push_back(items[i].id);
      ++ok;
      continue;
    }
    OutboxItem& it = items[i];
    it.attempts += 1;
    it.last_error = msg;
    bool permanent = st != TP_STATUS_RETRYABLE && st != TP_STATUS_BACKPRESSURE && st != TP_STATUS_SHUTTING_DOWN &&
                     st != TP_STATUS_INTERNAL;
    if (permanent || it.attempts >= sink_.retry.max_attempts) {
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
      it.next_ms = now + backoff_ms(sink_.retry, it.attempts, uni(rng));
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
