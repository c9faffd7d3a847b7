#pragma once
// The applier moves journaled units into the central store: it runs each
// record through its pipeline's transforms, then writes the surviving
// records, the dead letters, the sink outbox entries, the source checkpoints
// and the new journal position in ONE store transaction. A crash at any
// point replays from the last committed position; the store ignores record
// ids it already has, so nothing is lost or duplicated.
//
// Two threads: a preparer reads and transforms batch N+1 from the journal
// (batch_builder.cpp) while the applier thread commits batch N. Batches are
// committed strictly in journal order; a prepared batch that was not
// committed is simply read again after a restart.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/pipeline_config.hpp"
#include "customer/customer_store.hpp"
#include "journal/journal.hpp"
#include "journal/journal_reader.hpp"
#include "pipeline/batch_builder.hpp"
#include "store/store.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

class Applier {
 public:
  Applier(journal::Journal& journal, customer::CustomerStore& customers, Metrics& metrics, size_t batch_records);
  ~Applier();

  /// Replaces the routing table (source instance -> pipeline). Thread-safe;
  /// takes effect at the next batch.
  void set_pipelines(std::map<std::string, PipelinePtr> by_source);

  /// Applies everything durable now, on the calling thread (start-up replay).
  void catch_up();
  void start();
  /// Stops the threads after applying what is durable (drain), or at once.
  /// Waits at most `timeout`; false if a thread has not finished by then
  /// (stuck in a transform or the store): it is left running and the Applier
  /// must not be destroyed (the process ends with _exit instead).
  bool stop(bool drain, std::chrono::milliseconds timeout = std::chrono::milliseconds::max());
  /// Turns a draining stop() into an immediate one (a shutdown deadline
  /// passed). Safe from any thread; what is left stays in the journal.
  void abandon_drain();

  uint64_t applied_seq() const noexcept { return applied_seq_.load(); }
  /// How long the preparer has been working on the batch in hand (0: idle),
  /// and the journal position it started after: /status shows a stall.
  std::chrono::milliseconds preparing_for() const;
  uint64_t preparing_after() const noexcept { return preparing_after_.load(); }
  /// Called by sink workers' owner to learn that new outbox rows exist.
  void set_outbox_listener(std::function<void()> fn);
  /// Wakes the loop (e.g. after `dlq replay` was requested through the admin API).
  void wake();

 private:
  /// Applies up to one batch on the calling thread. Returns the number of
  /// journal entries consumed plus replayed dead letters (0: nothing to do).
  size_t apply_one_batch();
  /// Adds the requested dead-letter replays to a prepared batch and commits
  /// it with the journal position. On failure the batch is left as it came.
  size_t commit(PreparedBatch& prepared);
  void loop();  // applier thread: commits
  void commit_loop();
  void prepare_loop();  // preparer thread: reads + transforms ahead
  void backoff(int failures);
  std::map<std::string, PipelinePtr> pipelines();

  journal::Journal& journal_;
  customer::CustomerStore& customers_;
  Store& store_;
  Metrics& metrics_;
  size_t batch_records_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, PipelinePtr> by_source_;
  std::function<void()> outbox_listener_;
  bool wake_ = false;
  std::unique_ptr<PreparedBatch> ready_;  // handed from the preparer to the applier thread
  bool preparer_done_ = false;

  std::unique_ptr<journal::JournalReader> reader_;  // catch_up only
  std::atomic<uint64_t> applied_seq_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> drain_{true};
  std::atomic<int64_t> preparing_since_ns_{0};
  std::atomic<uint64_t> preparing_after_{0};
  int exited_ = 0;  // threads that returned (guarded by mu_)
  std::thread thread_;
  std::thread preparer_;
};

}  // namespace touchpoint::core
