#include "pipeline/applier.hpp"

#include <chrono>

#include "journal/journal_reader.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace {

constexpr size_t kReplayBatch = 256;
constexpr auto kIdlePoll = std::chrono::milliseconds(500);

/// Replays requested with `touchpoint dlq replay` ride along in the batch's transaction.
size_t add_replays(Store& store, const Routes& routes, ApplyBatch& batch, BatchCounters& counters) {
  size_t work = 0;
  for (DeadLetter& d : store.dlq_replay_requests(kReplayBatch)) {
    ++work;
    batch.resolved_dead_letters.push_back(d.id);
    if (d.step.rfind("sink:", 0) == 0) {
      OutboxItem item;
      item.sink = d.step.substr(5);
      item.pipeline = d.pipeline;
      item.record_id = d.record_id;
      item.envelope = d.payload;
      item.next_ms = item.first_ms = now_ms();
      batch.outbox.push_back(std::move(item));
      continue;
    }
    auto it = routes.find(d.pipeline);
    Record rec;
    try {
      rec = record_from_json(Json::parse(d.payload));
    } catch (const std::exception& e) {
      d.attempts += 1;
      d.last_ms = now_ms();
      d.reason = std::string("replay impossible: ") + e.what();
      batch.dead_letters.push_back(d);
      continue;
    }
    if (it == routes.end()) {
      d.attempts += 1;
      d.last_ms = now_ms();
      d.reason = "pipeline '" + d.pipeline + "' is not configured";
      batch.dead_letters.push_back(d);
      continue;
    }
    route(
        it->second, std::move(rec), [&] { return d.payload; }, batch, counters, d.attempts, d.first_ms);
  }
  return work;
}

}  // namespace

Applier::Applier(journal::Journal& journal, customer::CustomerStore& customers, Metrics& metrics, size_t batch_records)
    : journal_(journal),
      customers_(customers),
      store_(customers.store()),
      metrics_(metrics),
      batch_records_(batch_records) {
  applied_seq_ = store_.journal_position();
}

Applier::~Applier() { stop(false); }

std::chrono::milliseconds Applier::preparing_for() const {
  const int64_t since = preparing_since_ns_.load();
  if (since == 0) return std::chrono::milliseconds(0);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(now - since));
}

void Applier::set_pipelines(std::map<std::string, PipelinePtr> by_source) {
  std::lock_guard<std::mutex> lk(mu_);
  by_source_ = std::move(by_source);
}

std::map<std::string, PipelinePtr> Applier::pipelines() {
  std::lock_guard<std::mutex> lk(mu_);
  return by_source_;
}

void Applier::set_outbox_listener(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(mu_);
  outbox_listener_ = std::move(fn);
}

void Applier::wake() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  journal_.notify_waiters();
}

size_t Applier::commit(PreparedBatch& prepared) {
  ApplyBatch& batch = prepared.batch;
  const size_t n_records = batch.records.size(), n_dead = batch.dead_letters.size(), n_outbox = batch.outbox.size(),
               n_resolved = batch.resolved_dead_letters.size();
  BatchCounters replay_counters;
  const size_t work = prepared.entries + add_replays(store_, pipelines(), batch, replay_counters);
  if (work == 0) return 0;

  auto start = std::chrono::steady_clock::now();
  ApplyStats stats;
  try {
    stats = customers_.apply(batch);
  } catch (...) {
    // Leave the batch as prepared: the replays are fetched again on retry.
    batch.records.resize(n_records);
    batch.dead_letters.resize(n_dead);
    batch.outbox.resize(n_outbox);
    batch.resolved_dead_letters.resize(n_resolved);
    throw;
  }
  metrics_.observe("touchpoint_store_apply_seconds", "",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (prepared.entries > 0) {
    applied_seq_ = batch.journal_seq;
    journal_.release_until(batch.journal_seq);
  }
  BatchCounters& counters = prepared.counters;
  counters.add("touchpoint_store_records_applied_total", "", double(stats.applied));
  counters.add("touchpoint_store_duplicates_total", "", double(stats.duplicates));
  counters.add("touchpoint_store_profiles_created_total", "", double(stats.profiles_created));
  counters.add("touchpoint_store_identity_conflicts_total", "", double(stats.identity_conflicts));
  counters.add("touchpoint_store_blocked_identities_total", "", double(stats.blocked_identities));
  counters.flush(metrics_);
  replay_counters.flush(metrics_);
  metrics_.gauge_set("touchpoint_journal_bytes", "", double(journal_.bytes_on_disk()));
  metrics_.gauge_set("touchpoint_store_apply_lag_entries", "", double(journal_.durable_seq() - applied_seq_.load()));
  if (!batch.outbox.empty() || stats.contacts_queued > 0) {
    std::function<void()> listener;
    {
      std::lock_guard<std::mutex> lk(mu_);
      listener = outbox_listener_;
    }
    if (listener) listener();
  }
  return work;
}

size_t Applier::apply_one_batch() {
  if (!reader_) reader_ = std::make_unique<journal::JournalReader>(journal_, applied_seq_.load());
  PreparedBatch prepared;
  try {
    read_journal(*reader_, pipelines(), batch_records_, prepared);
    return commit(prepared);
  } catch (...) {
    reader_.reset();  // re-read from the last committed position next time
    throw;
  }
}

void Applier::catch_up() {
  reader_.reset();  // a stopped pipeline may have read ahead of what was committed
  while (apply_one_batch() > 0) {
  }
  reader_.reset();
}

void Applier::start() {
  stop_ = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    ready_.reset();
    preparer_done_ = false;
    exited_ = 0;
  }
  preparer_ = std::thread([this] { prepare_loop(); });
  thread_ = std::thread([this] { loop(); });
}

void Applier::backoff(int failures) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(std::min(100 << std::min(failures, 6), 5000)),
               [&] { return stop_.load() && !drain_.load(); });
}

void Applier::prepare_loop() {
  uint64_t handed = applied_seq_.load();  // position after the last batch handed over
  std::unique_ptr<journal::JournalReader> reader;
  int failures = 0;
  while (!(stop_ && !drain_)) {
    auto prepared = std::make_unique<PreparedBatch>();
    try {
      if (!reader) reader = std::make_unique<journal::JournalReader>(journal_, handed);
      preparing_after_ = reader->seq();
      preparing_since_ns_ =
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
              .count();
      read_journal(*reader, pipelines(), batch_records_, *prepared);
      preparing_since_ns_ = 0;
      failures = 0;
    } catch (const std::exception& e) {
      preparing_since_ns_ = 0;
      reader.reset();  // read again from the last batch handed over
      metrics_.counter_add("touchpoint_store_apply_failures_total", "", 1);
      log::error("applier", std::string("reading the journal failed (will retry): ") + e.what());
      backoff(++failures);
      continue;
    }
    if (prepared->entries == 0) {
      if (stop_) break;  // drained: everything durable is handed over
      journal_.wait_beyond(reader->seq(), kIdlePoll);
      continue;
    }
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !ready_ || (stop_ && !drain_); });
    if (stop_ && !drain_) break;
    handed = prepared->batch.journal_seq;
    ready_ = std::move(prepared);
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lk(mu_);
  preparer_done_ = true;
  ++exited_;
  cv_.notify_all();
}

void Applier::loop() {
  commit_loop();
  std::lock_guard<std::mutex> lk(mu_);
  ++exited_;
  cv_.notify_all();
}

void Applier::commit_loop() {
  int failures = 0;
  std::unique_ptr<PreparedBatch> pending;  // taken over, not yet committed
  while (true) {
    if (stop_ && !drain_) return;
    bool drained = false;
    if (!pending) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_for(lk, kIdlePoll, [&] { return ready_ || wake_ || preparer_done_ || (stop_ && !drain_); });
      wake_ = false;
      pending = std::move(ready_);
      drained = !pending && preparer_done_;
      cv_.notify_all();  // the preparer may hand over the next one
    }
    PreparedBatch idle;  // nothing from the journal: still poll the replay requests
    try {
      commit(pending ? *pending : idle);
      pending.reset();
      failures = 0;
    } catch (const std::exception& e) {
      ++failures;
      metrics_.counter_add("touchpoint_store_apply_failures_total", "", 1);
      log::error("applier", std::string("store apply failed (will retry): ") + e.what());
      backoff(failures);
      continue;
    }
    if (drained) return;  // drained: everything durable is applied
    if (stop_ && !drain_) return;
  }
}

void Applier::abandon_drain() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    drain_ = false;
  }
  cv_.notify_all();
  journal_.notify_waiters();
}

bool Applier::stop(bool drain, std::chrono::milliseconds timeout) {
  drain_ = drain;
  {
    std::lock_guard<std::mutex> lk(mu_);  // no waiter misses the flag between its check and its wait
    stop_ = true;
  }
  cv_.notify_all();
  journal_.notify_waiters();
  const int running = int(preparer_.joinable()) + int(thread_.joinable());
  if (running == 0) return true;
  {
    std::unique_lock<std::mutex> lk(mu_);
    auto finished = [&] { return exited_ >= running; };
    if (timeout == std::chrono::milliseconds::max())
      cv_.wait(lk, finished);
    else if (!cv_.wait_for(lk, timeout, finished))
      return false;
  }
  if (preparer_.joinable()) preparer_.join();
  if (thread_.joinable()) thread_.join();
  exited_ = 0;
  return true;
}

}  // namespace touchpoint::core
