#include "pipeline/applier.hpp"

#include <chrono>

#include "journal/journal_reader.hpp"
#include "journal/unit_codec.hpp"
#include "pipeline/step_runner.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace {

constexpr size_t kReplayBatch = 256;

Record to_record(const journal::RecordView& v, std::string_view source) {
  Record r;
  r.id = std::string(v.id);
  r.type = std::string(v.type);
  r.source = std::string(source);
  r.key = std::string(v.key);
  r.ts_ms = v.ts_ms;
  r.data = Json::parse(v.data);
  r.meta = v.meta.empty() ? Json::object() : Json::parse(v.meta);
  return r;
}

/// Counts per (pipeline, step, outcome), flushed to Metrics once per batch.
class BatchCounters {
 public:
  void step_outcome(const Pipeline& p, const StepOutcome& o) {
    size_t kept_steps = o.kind == StepResult::Kind::keep ? p.steps.size() : o.step_index;
    for (size_t i = 0; i < kept_steps; ++i) ++counts_[key(p, i, "kept")];
    if (o.kind == StepResult::Kind::drop) ++counts_[key(p, o.step_index, "dropped")];
    if (o.kind == StepResult::Kind::reject) ++counts_[key(p, o.step_index, "rejected")];
  }
  void add(const std::string& name, const std::string& labels, double n = 1) { other_[{name, labels}] += n; }
  void flush(Metrics& m) {
    for (const auto& [labels, n] : counts_) m.counter_add("touchpoint_step_records_total", labels, double(n));
    for (const auto& [k, n] : other_) m.counter_add(k.first, k.second, n);
  }

 private:
  static std::string key(const Pipeline& p, size_t i, const char* outcome) {
    return "pipeline=" + p.name + ",step=" + p.steps[i].name + ",outcome=" + outcome;
  }
  std::map<std::string, uint64_t> counts_;
  std::map<std::pair<std::string, std::string>, double> other_;
};

/// Routes one record that is ready for its pipeline into the batch.
void route(const Pipeline& p, Record rec, std::string_view original_envelope, ApplyBatch& batch,
           BatchCounters& counters, int prior_attempts, int64_t first_ms) {
  StepOutcome o = run_steps(p, rec);
  counters.step_outcome(p, o);
  const int64_t now = now_ms();
  if (o.kind == StepResult::Kind::drop) return;
  if (o.kind == StepResult::Kind::reject) {
    DeadLetter d;
    d.record_id = rec.id;
    d.pipeline = p.name;
    d.step = p.steps[o.step_index].name;
    d.error_class = "rejected";
    d.reason = o.reason;
    d.payload = std::string(original_envelope);
    d.attempts = prior_attempts + 1;
    d.first_ms = first_ms ? first_ms : now;
    d.last_ms = now;
    batch.dead_letters.push_back(std::move(d));
    counters.add("touchpoint_dead_letters_total", "pipeline=" + p.name + ",step=" + p.steps[o.step_index].name);
    return;
  }
  if (!p.sinks.empty()) {
    std::string envelope = to_json(rec).dump();
    for (const SinkUse& s : p.sinks) {
      OutboxItem item;
      item.sink = s.plugin.instance;
      item.pipeline = p.name;
      item.record_id = rec.id;
      item.envelope = envelope;
      item.next_ms = now;
      item.first_ms = now;
      batch.outbox.push_back(std::move(item));
    }
  }
  counters.add("touchpoint_records_out_total", "pipeline=" + p.name);
  if (p.to_store) batch.records.push_back({std::move(rec), p.name});
}

DeadLetter dead_letter(std::string record_id, std::string pipeline, std::string step, std::string cls,
                       std::string reason, std::string payload) {
  DeadLetter d;
  d.record_id = std::move(record_id);
  d.pipeline = std::move(pipeline);
  d.step = std::move(step);
  d.error_class = std::move(cls);
  d.reason = std::move(reason);
  d.payload = std::move(payload);
  d.first_ms = d.last_ms = now_ms();
  return d;
}

}  // namespace

Applier::Applier(journal::Journal& journal, Store& store, Metrics& metrics, size_t batch_records)
    : journal_(journal), store_(store), metrics_(metrics), batch_records_(batch_records) {
  applied_seq_ = store_.journal_position();
}

Applier::~Applier() { stop(false); }

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

size_t Applier::apply_one_batch() {
  const auto routes = pipelines();
  BatchCounters counters;
  ApplyBatch batch;
  size_t work = 0;

  // Replays requested with `touchpoint dlq replay` ride along in the same transaction.
  for (DeadLetter& d : store_.dlq_replay_requests(kReplayBatch)) {
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
    route(*it->second, std::move(rec), d.payload, batch, counters, d.attempts, d.first_ms);
  }

  if (!reader_) reader_ = std::make_unique<journal::JournalReader>(journal_, applied_seq_.load());
  size_t records_in_batch = 0;
  uint64_t last_seq = 0;
  while (records_in_batch < batch_records_ && reader_->next()) {
    ++work;
    last_seq = reader_->seq();
    journal::UnitView u;
    try {
      u = journal::decode_unit(reader_->payload());
    } catch (const std::exception& e) {
      batch.dead_letters.push_back(dead_letter("", "", "journal", "malformed",
                                               "undecodable journal entry " + std::to_string(last_seq) + ": " + e.what(), ""));
      continue;
    }
    const std::string source(u.source);
    auto it = routes.find(source);
    for (const journal::RecordView& v : u.records) {
      ++records_in_batch;
      Record rec;
      try {
        rec = to_record(v, u.source);
      } catch (const std::exception& e) {
        batch.dead_letters.push_back(dead_letter(std::string(v.id), source, "decode", "malformed", e.what(), std::string(v.data)));
        continue;
      }
      if (it == routes.end()) {
        batch.dead_letters.push_back(dead_letter(rec.id, source, "route", "no_pipeline",
                                                 "pipeline '" + source + "' is not configured (removed?); restore it and replay",
                                                 to_json(rec).dump()));
        continue;
      }
      const Pipeline& p = *it->second;
      // Keep the untouched envelope only for the rare reject: replay must start from the original.
      std::string original;
      if (!p.steps.empty()) original = to_json(rec).dump();
      route(p, std::move(rec), original, batch, counters, 0, 0);
    }
    for (const journal::RejectView& r : u.rejects) {
      DeadLetter d = dead_letter("", source, "source", "malformed", std::string(r.reason), std::string(r.raw));
      d.location = std::string(r.location);
      batch.dead_letters.push_back(std::move(d));
      counters.add("touchpoint_dead_letters_total", "pipeline=" + source + ",step=source");
    }
    if (!u.cursor.empty()) batch.checkpoints[source] = std::string(u.cursor);
  }
  if (work == 0) return 0;
  batch.journal_seq = last_seq;

  auto start = std::chrono::steady_clock::now();
  ApplyStats stats;
  try {
    stats = store_.apply(batch);
  } catch (...) {
    reader_.reset();  // re-read from the last committed position next time
    throw;
  }
  metrics_.observe("touchpoint_store_apply_seconds", "", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (last_seq != 0) {
    applied_seq_ = last_seq;
    journal_.release_until(last_seq);
  }
  counters.add("touchpoint_store_records_applied_total", "", double(stats.applied));
  counters.add("touchpoint_store_duplicates_total", "", double(stats.duplicates));
  counters.add("touchpoint_store_profiles_created_total", "", double(stats.profiles_created));
  counters.add("touchpoint_store_identity_conflicts_total", "", double(stats.identity_conflicts));
  counters.flush(metrics_);
  metrics_.gauge_set("touchpoint_journal_bytes", "", double(journal_.bytes_on_disk()));
  metrics_.gauge_set("touchpoint_store_apply_lag_entries", "", double(journal_.durable_seq() - applied_seq_.load()));
  if (!batch.outbox.empty()) {
    std::function<void()> listener;
    {
      std::lock_guard<std::mutex> lk(mu_);
      listener = outbox_listener_;
    }
    if (listener) listener();
  }
  return work;
}

void Applier::catch_up() {
  while (apply_one_batch() > 0) {
  }
}

void Applier::start() {
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Applier::loop() {
  int failures = 0;
  while (true) {
    if (stop_ && !drain_) return;
    size_t done = 0;
    try {
      done = apply_one_batch();
      failures = 0;
    } catch (const std::exception& e) {
      ++failures;
      metrics_.counter_add("touchpoint_store_apply_failures_total", "", 1);
      log::error("applier", std::string("store apply failed (will retry): ") + e.what());
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(std::min(100 << std::min(failures, 6), 5000)), [&] { return stop_.load(); });
      if (stop_ && !drain_) return;
      continue;
    }
    if (done > 0) continue;
    if (stop_) return;  // drained: everything durable is applied
    // Idle: wait for new durable entries or a wake-up (replay requests are polled).
    journal_.wait_beyond(applied_seq_.load(), std::chrono::milliseconds(500));
    std::lock_guard<std::mutex> lk(mu_);
    wake_ = false;
  }
}

void Applier::stop(bool drain) {
  drain_ = drain;
  stop_ = true;
  cv_.notify_all();
  journal_.notify_waiters();
  if (thread_.joinable()) thread_.join();
}

}  // namespace touchpoint::core
