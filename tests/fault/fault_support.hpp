#pragma once
// Helpers for the fault-injection tests of the real hub binary: a private
// mount namespace for tmpfs/loop mounts, a store write lock, concurrent
// webhook clients that remember what was acknowledged, and the exact-count
// checks every test ends with. Builds on tests/integration/support.hpp.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

struct sqlite3;

namespace tp_fault {

namespace fs = std::filesystem;
using tp_it::HttpResponse;
using tp_it::StoreReader;

// ---- mounts -----------------------------------------------------------------

/// Called from main() before any thread starts: gives the test process its
/// own mount namespace, so tmpfs and loop mounts are private to it (and to the
/// hubs it spawns), and vanish with it even after a crash. As root this is
/// unshare(CLONE_NEWNS); otherwise a user namespace mapping the caller to root.
void setup_mount_namespace();
/// Empty when tmpfs mounts work; else why not (for GTEST_SKIP).
const std::string& mount_unavailable();
/// True when the process is root in the initial user namespace (loop devices).
bool real_root();

bool mount_tmpfs(const fs::path& dir, uint64_t bytes, std::string& error);
bool resize_tmpfs(const fs::path& dir, uint64_t bytes, std::string& error);
/// Lazy unmount; ignores errors.
void unmount(const fs::path& dir);
/// Bytes used / available on the file system holding `dir`.
uint64_t fs_used(const fs::path& dir);
uint64_t fs_available(const fs::path& dir);

// ---- the store --------------------------------------------------------------

/// Holds SQLite's write lock on the hub's store (BEGIN IMMEDIATE from another
/// connection), so the hub's applier cannot commit: a store that hangs.
class StoreWriteLock {
 public:
  explicit StoreWriteLock(const fs::path& db);
  ~StoreWriteLock();
  StoreWriteLock(const StoreWriteLock&) = delete;
  StoreWriteLock& operator=(const StoreWriteLock&) = delete;
  void release();

 private:
  sqlite3* db_ = nullptr;
};

/// record id -> number of rows, for one pipeline.
std::map<std::string, int64_t> stored_ids(StoreReader& db, const std::string& pipeline);
/// record id -> number of lines in a faulty sink's out_file.
std::map<std::string, int64_t> sink_deliveries(const fs::path& out_file);

// ---- clients ----------------------------------------------------------------

/// The JSON array body for these record ids (profile records with an e-mail).
std::string records_body(const std::vector<std::string>& ids);
std::vector<std::string> make_ids(const std::string& prefix, size_t from, size_t count);

/// Concurrent webhook clients posting batches of fresh records until stopped.
/// Thread-safe accessors; ids are "<prefix>-<client>-<request>-<j>".
class Poster {
 public:
  Poster(std::function<std::string()> url, std::string prefix, int clients, int batch);
  ~Poster();
  void start();
  void stop();
  /// From now on, responses are also counted in late_statuses().
  void mark();

  size_t acked_count() const { return acked_count_.load(); }
  size_t request_count() const { return requests_.load(); }
  std::set<std::string> acked() const;
  std::set<std::string> posted() const;
  std::map<long, size_t> statuses() const;
  std::map<long, size_t> late_statuses() const;

 private:
  void run(int client);

  std::function<std::string()> url_;
  std::string prefix_;
  int clients_, batch_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> marked_{false};
  std::atomic<size_t> acked_count_{0};
  std::atomic<size_t> requests_{0};
  mutable std::mutex mu_;
  std::set<std::string> acked_, posted_;
  std::map<long, size_t> statuses_, late_statuses_;
  std::vector<std::thread> threads_;
};

// ---- the fixture ------------------------------------------------------------

class FaultTest : public tp_it::HubTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Writes the whole hub config (HubTest's has fixed journal/apply blocks).
  void write_config(
      const std::string& journal = "{ segment_size: 1MiB }",
      const std::string& apply = "{ batch_records: 1024, poll_interval_ms: 50, shutdown_timeout_ms: 10000 }",
      const std::string& extra = "");
  /// A webhook `source:` block (port 0, port file data/<name>.port).
  std::string webhook_source(const std::string& name, const std::string& extra_config = "");
  /// A `sinks:` list entry for the faulty plugin. `config` is a JSON object.
  std::string faulty_sink(const std::string& name, const nlohmann::json& config, int64_t call_timeout_ms = 500,
                          int batch_size = 50,
                          const std::string& retry =
                              "{ max_attempts: 100, initial_backoff_ms: 50, "
                              "max_backoff_ms: 200, jitter: 0.2 }");
  void write_pipeline(const std::string& name, const std::string& source_yaml, const std::string& sinks_yaml = "");

  /// Starts the hub with extra environment variables (e.g. LD_PRELOAD).
  void start_hub_env(const std::vector<std::pair<std::string, std::string>>& env);
  /// GET /status, parsed; null when the hub does not answer.
  nlohmann::json status();
  /// Waits until the applier has applied everything durable.
  bool wait_applied(std::chrono::milliseconds timeout);
  /// POSTs these ids to pipeline `name`'s webhook.
  HttpResponse post_ids(const std::string& name, const std::vector<std::string>& ids);
  /// `requests` posts of `batch` new ids each to pipeline "web"; the ids acknowledged with 202.
  std::set<std::string> post_batches(const std::string& prefix, int requests, size_t batch);
  /// Waits until every id reached the faulty sink's out_file and the outbox is empty.
  bool wait_delivered(const fs::path& out, const std::set<std::string>& ids, std::chrono::milliseconds timeout);

  /// The final exact count: every acknowledged id is stored exactly once for
  /// `pipeline`, nothing is stored that was not posted, and the store's row
  /// count, distinct ids and profiles agree.
  /// `profiles`: the records carry an e-mail (webhook records from records_body()).
  void expect_exactly_once(StoreReader& db, const std::string& pipeline, const std::set<std::string>& acked,
                           const std::set<std::string>& posted, bool profiles = true);

  /// Where tests put mounts; unmounted in TearDown.
  std::vector<fs::path> mounts_;
  std::chrono::steady_clock::time_point started_;
};

/// GTEST_SKIP()s with the reason when tmpfs mounts are not possible.
#define TP_REQUIRE_MOUNTS()                                                          \
  do {                                                                               \
    if (!::tp_fault::mount_unavailable().empty())                                    \
      GTEST_SKIP() << "needs tmpfs mounts (root, or unprivileged user namespaces): " \
                   << ::tp_fault::mount_unavailable();                               \
  } while (0)

}  // namespace tp_fault
